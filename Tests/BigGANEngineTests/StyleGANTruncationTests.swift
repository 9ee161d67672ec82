import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine

/// Truncation targets, cutoffs, W blends and NumPy seeds of `StyleGANGenerator` through
/// `Sampler` (issue 14, item 2).
@Suite struct StyleGANTruncationTests {
    static let path = TestPaths.fixture("stylegan-32-cond.safetensors")

    /// `[1, L, w_dim]` with `w` on every layer.
    static func everyLayer(_ w: [Float], layers: Int = 8) -> Tensor {
        Tensor(shape: [1, layers, w.count], values: Array(repeating: w, count: layers).flatMap { $0 })
    }

    @Test func classTargetAtPsiZeroIsExactlyTheClassCentroidsImage() throws {
        let g = try #require(try GeneratorLoader.load(path: Self.path) as? StyleGANGenerator)
        let file = try SafeTensorsFile(path: Self.path)
        let centroids = try file.tensor("dlatent_class_avg"), average = try file.tensor("dlatent_avg").array
        #expect(centroids.shape == [5, 32])
        let centroid3 = Array(centroids.array[3 * 32 ..< 4 * 32])
        let sampler = Sampler(generator: g)
        func image(_ target: StyleOptions.TruncationTarget?, cutoff: Int? = 8, seed: UInt64 = 11) throws -> [Float] {
            try sampler.images(for: .samples(class: 3, seed: seed, count: 1, truncation: 0,
                                             style: StyleOptions(cutoff: cutoff, truncationTarget: target))).array
        }
        let byClass = try image(.class)
        #expect(byClass == g.synthesis(ws: Self.everyLayer(centroid3), noise: .stored).array)
        #expect(try image(nil) == byClass, "the class centroid is the default target of a checkpoint that stores them")
        #expect(try image(.class, seed: 12) == byClass, "at ψ = 0 every seed gives the centroid's image")
        let byAverage = try image(.average)
        #expect(byAverage == g.synthesis(ws: Self.everyLayer(average), noise: .stored).array)
        #expect(byAverage != byClass)
        // Another class's centroid gives another image.
        let other = try sampler.images(for: .samples(class: 1, seed: 11, count: 1, truncation: 0, style: StyleOptions(cutoff: 8))).array
        #expect(other != byClass)
    }

    @Test func cutoffLimitsPsiToTheLeadingLayers() throws {
        let g = try #require(try GeneratorLoader.load(path: Self.path) as? StyleGANGenerator)
        let z = Tensor(shape: [1, 32], values: g.latent(seed: 5, truncation: nil))
        let labels = Tensor(shape: [1, 5], values: g.conditioning(forClass: 2))
        let caps = try #require(g.capabilities.style)
        #expect(caps.layers == 8 && caps.defaultCutoff == 4 && caps.storedNoise && caps.classCentroids)
        let free = g.styles(z: z, labels: labels, truncation: nil).array
        for cutoff in [1, 3, 8] {
            let ws = g.styles(z: z, labels: labels, truncation: 0.5, style: try caps.resolve(StyleOptions(cutoff: cutoff))).array
            for layer in 0..<8 {
                let same = ws[layer * 32 ..< (layer + 1) * 32] == free[layer * 32 ..< (layer + 1) * 32]
                #expect(same == (layer >= cutoff), "cutoff \(cutoff), layer \(layer)")
            }
        }
        #expect(throws: SamplingError(parameter: "cutoff", "'cutoff' must be between 1 and 8 (this model's synthesis layers), got 9")) {
            try caps.resolve(StyleOptions(cutoff: 9))
        }
        #expect(throws: SamplingError.self) { try caps.resolve(StyleOptions(cutoff: 0)) }
    }

    @Test func wInterpolationEndsAreTheEndSamplesAndMiddleIsLinearInW() throws {
        let g = try #require(try GeneratorLoader.load(path: Self.path) as? StyleGANGenerator)
        let sampler = Sampler(generator: g)
        let strip = try sampler.images(for: GenerationRequest(.latentInterpolation(class: 1, seedA: 3, seedB: 4, steps: 3, method: .linear, space: .w),
                                                              truncation: 0.7))
        let ends = try sampler.images(for: GenerationRequest(.samples(classes: [1], latents: .seeds([3, 4])), truncation: 0.7))
        let per = strip.count / 3
        #expect(Array(strip.array[0..<per]) == Array(ends.array[0..<per]))
        #expect(Array(strip.array[2 * per ..< 3 * per]) == Array(ends.array[per ..< 2 * per]))
        // The middle image is the synthesis of the mean of the two ends' truncated per-layer W.
        let z = Tensor(shape: [2, 32], values: g.latent(seed: 3, truncation: nil) + g.latent(seed: 4, truncation: nil))
        let labels = Tensor(shape: [2, 5], values: g.conditioning(forClass: 1) + g.conditioning(forClass: 1))
        let ws = g.styles(z: z, labels: labels, truncation: 0.7).array
        let per1 = 8 * 32
        let mid: [Float] = (0..<per1).map { (k: Int) -> Float in
            let a = Double(ws[k]), b = Double(ws[per1 + k])
            return Float(0.5 * a + 0.5 * b)
        }
        #expect(Array(strip.array[per ..< 2 * per]) == g.synthesis(ws: Tensor(shape: [1, 8, 32], values: mid), noise: .stored).array)
        #expect(throws: SamplingError.self) {
            try sampler.prepare(GenerationRequest(.latentInterpolation(class: 1, seedA: 3, seedB: 4, steps: 3, method: .spherical, space: .w), truncation: nil))
        }
    }

    @Test func numpySeedsAreNumPysLatentsAndStyleOptionsNeedAStyleModel() throws {
        let sampler = Sampler(generator: try GeneratorLoader.load(path: Self.path))
        let batch = try sampler.prepare(.samples(class: 0, seed: 639, count: 2, truncation: nil, seedMode: .numpy))
        #expect(batch.latents == [639, 640].map { NumPyRandomState.randn(seed: UInt32($0), count: 32).map(Float.init) })
        #expect(throws: SamplingError.self) { try sampler.prepare(.samples(class: 0, seed: 1 << 32, count: 1, truncation: nil, seedMode: .numpy)) }
        var cfg = ModelConfig.biggan(resolution: 32, ch: 2, dimZ: 8, sharedDim: 4, nClasses: 3, hier: true, attention: [16])!
        cfg.classNames = ["a", "b", "c"]
        let biggan = Sampler(generator: try GeneratorLoader.random(config: cfg, seed: 1).0)
        #expect(throws: SamplingError(parameter: "noise_mode", "'noise_mode' is a StyleGAN option; biggan models do not take it")) {
            try biggan.prepare(.samples(class: 0, seed: 1, count: 1, truncation: nil, style: StyleOptions(noise: .random)))
        }
        #expect(throws: SamplingError.self) { try biggan.prepare(.samples(class: 0, seed: 1, count: 1, truncation: nil, seedMode: .numpy)) }
    }
}
