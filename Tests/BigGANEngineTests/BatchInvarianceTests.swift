import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine

/// Same request, same bytes (issue 10 A1): an image's pixels must not depend on what it is
/// batched with. Every architecture generates 16 images in one batch, then again in chunks of
/// every size 1…16, at 1 and 2 BLAS threads; every float must equal the 16-batch result at the
/// same thread count. (Large GEMMs are cut into one piece per thread, so results for different
/// counts may differ in the last bit; the server's ETags carry its thread count.)
@Suite(.serialized) struct BatchInvarianceTests {
    static let models = ["biggan-32", "biggan-32-grey", "biggan-128", "deep-128", "deep-256", "shipped", "stylegan-32", "stylegan-32-cond",
                         "stylegan-rosinality-128"]

    static func path(_ name: String) -> String {
        name == "shipped" ? TestPaths.repositoryRoot
            .appendingPathComponent("Models/fashion-mnist-32.safetensors").path : TestPaths.fixture(name + ".safetensors")
    }

    @Test(arguments: models)
    func imagesDoNotDependOnBatch(model: String) throws {
        let g = try GeneratorLoader.load(path: Self.path(model))
        let n = 16
        let t = g.capabilities.truncation.maximum == nil ? 1.0 : 0.4
        let batch = try Sampler(generator: g).prepare(GenerationRequest(
            .samples(classes: g.capabilities.conditional ? (0..<n).map { ($0 * 7) % g.info.nClasses } : [],
                     latents: .seeds((0..<n).map { UInt64(100 + $0) })), truncation: t))
        for threads in [1, 2] { BLAS.withThreads(threads) {
            var reference: [Float]?
            for b in 1...n {
                let out = Sampler(generator: g, maxBatch: b).run(batch).array
                if let ref = reference {
                    let per = out.count / n
                    let bad = (0..<n).filter { i in out[(i * per)..<((i + 1) * per)] != ref[(i * per)..<((i + 1) * per)] }
                    #expect(bad.isEmpty, "\(model): batch \(b), \(threads) BLAS threads: images \(bad) differ from batch 16")
                } else {
                    reference = Sampler(generator: g, maxBatch: n).run(batch).array
                    #expect(out == reference!, "\(model): batch 1, \(threads) BLAS threads: differs from batch 16")
                }
            }
        } }
    }
}
