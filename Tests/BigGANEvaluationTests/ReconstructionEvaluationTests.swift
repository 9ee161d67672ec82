import BigGANDatasets
import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANEvaluation

/// `Evaluator.reconstructionRow` on the unconditional RGB BigBiGAN fixture: the share of kept
/// classes and the pixel distance equal a direct computation (encoder, generator, classifier);
/// a model without an encoder is refused.
@Suite struct ReconstructionEvaluationTests {
    @Test func reconstructionRowMatchesADirectComputation() throws {
        let model = try GeneratorLoader.load(path: TestPaths.fixture("bigbigan-32-rgb.safetensors"))
        var rng = NoiseGenerator(seed: 5)
        let classifier = try randomClassifier(ClassifierConfig(resolution: 32, inChannels: 3, channels: [4, 8], featureDim: 6,
                                                               classNames: ["a", "b", "c"]), rng: &rng)
        let n = 7
        let pixels = (0..<(n * 32 * 32 * 3)).map { _ in UInt8(truncatingIfNeeded: rng.nextUInt64()) }
        let labels = (0..<n).map { $0 % 3 }
        let test = ImageDataset(width: 32, height: 32, channels: 3, pixels: pixels, labels: labels, classNames: ["a", "b", "c"], source: "random")
        let ev = Evaluator(classifier: classifier, test: test)
        let sampler = Sampler(generator: model)
        let row = try ev.reconstructionRow(sampler, count: 100, batch: 3)
        #expect(row.count == n)
        // Directly: x → E → z_mean → G → classifier.
        let x = test.batch(Array(0..<n)).images
        let z = try sampler.encode(x).zMean
        // An unconditional BigGAN has one class: its embedding row conditions every image.
        let row0 = model.conditioning(forClass: 0)
        let images = model.forward(z: z, conditioning: Tensor(shape: [n, row0.count], values: Array((0..<n).map { _ in row0 }.joined())), truncation: nil)
        let (_, logits) = classifier.run(images)
        let kept = (0..<n).filter { i in (0..<3).max { logits[i * 3 + $0] < logits[i * 3 + $1] } == labels[i] }.count
        #expect(abs(row.accuracy - Double(kept) / Double(n)) < 1e-12)
        for c in 0..<3 {
            let mine = (0..<n).filter { labels[$0] == c }
            let keptHere = mine.filter { i in (0..<3).max { logits[i * 3 + $0] < logits[i * 3 + $1] } == c }.count
            #expect(row.perClass[c] == Double(keptHere) / Double(mine.count), "class \(c)")
        }
        var se = 0.0
        for k in 0..<x.count { let d = Double(images[k]) - Double(x[k]); se += d * d }
        #expect(abs(row.pixelMSE - se / Double(x.count)) < 1e-6 * max(1, row.pixelMSE))
        let plain = try GeneratorLoader.load(path: TestPaths.fixture("biggan-32.safetensors"))
        #expect(throws: SamplingError.self) { _ = try ev.reconstructionRow(Sampler(generator: plain), count: 3) }
    }
}
