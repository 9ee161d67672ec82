import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANTraining

extension TrainingTests {
/// The training generator's export loads into the engine, whose inference forward pass equals
/// the training generator's own evaluation-mode forward pass.
@Suite struct ExportTests {
    @Test(arguments: [1, 3])
    func engineMatchesEvaluationForward(outChannels: Int) throws {
        let g = try TrainableGenerator(config: tinyGeneratorConfig(outChannels: outChannels))
        randomise(g, seed: 301)
        // A few training-mode passes move the running statistics and u vectors.
        for s in 0..<3 { _ = g.forward(z: randomTensor([4, 9], seed: 302 + UInt64(s)), labels: [0, 1, 2, 1], mode: .training) }
        let (tensors, cfg) = g.export()
        #expect(!tensors.contains { $0.0.hasSuffix(".u") })
        let source = NamedTensors(tensors)
        let engine = try GeneratorLoader.build(config: cfg, weights: source)
        try source.finish()   // every exported tensor was used
        let z = randomTensor([3, 9], seed: 310)
        let labels = [2, 0, 1]
        let embeddings = Tensor(shape: [3, cfg.sharedDim], values: labels.flatMap { engine.conditioning(forClass: $0) })
        let expected = g.forward(z: z, labels: labels, mode: .evaluation)
        let got = engine.forward(z: z, conditioning: embeddings, truncation: 1)
        #expect(got.shape == expected.shape)
        #expect(maxAbsDiff(got, expected) < 1e-4)
    }

    /// Export bakes W/σ (σ from one power step from the current u) and leaves u unchanged.
    @Test func bakesSpectralNorm() throws {
        let g = try TrainableGenerator(config: tinyGeneratorConfig())
        randomise(g, seed: 320)
        let u = g.linear.spectralNorm!.u.copy()
        let (tensors, _) = g.export()
        #expect(maxAbsDiff(u, g.linear.spectralNorm!.u) == 0)
        let w = try #require(tensors.first { $0.0 == "linear.weight" }?.1)
        let sigma = g.linear.spectralNorm!.sigma
        #expect(abs(w[5] - g.linear.weight.value[5] / sigma) < 1e-6)
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("g.safetensors").path
        try g.saveCheckpoint(to: path, provenance: "test")
        let loaded = try GeneratorLoader.load(path: path)
        #expect(loaded.info.provenance == "test")
    }
}
}
