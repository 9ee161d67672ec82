import Foundation
import Testing
@testable import BigGANEngine

/// Fixed vectors from `scripts/noise_reference.py` (an independent Python implementation).
struct NoiseFixture: Decodable {
    struct Latent: Decodable { let seed: UInt64; let dim: Int; let truncation: Double; let convention: String; let values: [Float] }
    let u64: [String: [String]]
    let normal: [String: [Float]]
    let latent: [Latent]

    static func load() throws -> NoiseFixture {
        try JSONDecoder().decode(NoiseFixture.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("noise.json"))))
    }
}

@Suite struct SamplingTests {
    @Test func integersMatchTheReferenceVectors() throws {
        let f = try NoiseFixture.load()
        #expect(f.u64.count == 4)
        for (seed, values) in f.u64 {
            var rng = NoiseGenerator(seed: UInt64(seed)!)
            #expect(values.map { UInt64($0)! } == (0..<values.count).map { _ in rng.nextUInt64() })
        }
    }

    @Test func normalsMatchTheReferenceVectorsExactly() throws {
        let f = try NoiseFixture.load()
        for (seed, values) in f.normal {
            var rng = NoiseGenerator(seed: UInt64(seed)!)
            #expect(values == (0..<values.count).map { _ in rng.nextNormal() })
        }
    }

    @Test func latentsMatchTheReferenceVectorsExactly() throws {
        let f = try NoiseFixture.load()
        #expect(f.latent.count == 4)
        for c in f.latent {
            let conv = ModelConfig.TruncationConvention(rawValue: c.convention)!
            #expect(Truncation.latent(seed: c.seed, dim: c.dim, truncation: c.truncation, convention: conv) == c.values)
        }
    }

    @Test func resampledEntriesStayInsideTheThreshold() {
        for seed in UInt64(0)..<20 {
            let z = Truncation.latent(seed: seed, dim: 128, truncation: 0.3, convention: .resample)
            #expect(z.allSatisfy { abs($0) <= 0.3 })
            #expect(Set(z).count == 128)
        }
    }

    @Test func truncnormScaledEntriesStayInsideTwiceTheScale() {
        let z = Truncation.latent(seed: 5, dim: 4096, truncation: 0.5, convention: .truncnormScaled)
        #expect(z.allSatisfy { abs($0) <= 1.0 })
        #expect(z.contains { abs($0) > 0.9 })
    }

    @Test func normalsHaveUnitMoments() {
        var rng = NoiseGenerator(seed: 99)
        let xs = (0..<200_000).map { _ in Double(rng.nextNormal()) }
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count)
        #expect(abs(mean) < 0.01)
        #expect(abs(variance - 1) < 0.01)
    }

    @Test func truncationValuesAreValidated() {
        #expect(throws: SamplingError.self) { try Truncation.validate(.nan, convention: .resample) }
        #expect(throws: SamplingError.self) { try Truncation.validate(-1, convention: .resample) }
        #expect(throws: SamplingError.self) { try Truncation.validate(0.001, convention: .resample) }
        #expect(throws: SamplingError.self) { try Truncation.validate(1.5, convention: .truncnormScaled) }
        #expect(throws: SamplingError.self) { try Truncation.validate(0, convention: .truncnormScaled) }
        #expect(throws: Never.self) { try Truncation.validate(2.5, convention: .resample) }
    }

    @Test func interpolationEndsAtItsInputs() {
        let a: [Float] = [1, 0, 0], b: [Float] = [0, 2, 0]
        for m in Interpolation.allCases {
            #expect(m.apply(a, b, 0) == a)
            #expect(zip(m.apply(a, b, 1), b).allSatisfy { abs($0 - $1) < 1e-6 })
        }
        #expect(Interpolation.linear.apply(a, b, 0.5) == [0.5, 1, 0])
        // Slerp between orthogonal a (norm 1) and b (norm 2) at t = 0.5: sin(45°)·a + sin(45°)·b.
        let mid = Interpolation.spherical.apply(a, b, 0.5)
        #expect(abs(mid[0] - Float(sin(Double.pi / 4))) < 1e-6 && abs(mid[1] - Float(2 * sin(Double.pi / 4))) < 1e-6)
        #expect(Interpolation.weights(steps: 5) == [0, 0.25, 0.5, 0.75, 1])
    }

    @Test func samplerIsDeterministicAndBatchIndependent() throws {
        let (g, _) = try GeneratorLoader.random(config: tinyConfig, seed: 2)
        let one = Sampler(generator: g, maxBatch: 1), many = Sampler(generator: g, maxBatch: 8)
        let a = try one.sample(classes: [0, 1, 2], seeds: [5, 6, 7], truncation: 0.8)
        let b = try many.sample(classes: [0, 1, 2], seeds: [5, 6, 7], truncation: 0.8)
        #expect(maxAbsDiff(a, b) < 1e-5)
        let c = try many.sample(classes: [1], seeds: [6], truncation: 0.8)
        #expect(maxAbsDiff(c, b.slice(first: 1, count: 1)) < 1e-5)
        #expect(a.shape == [3, 32, 32, 3])
    }

    @Test func interpolationStripsStartAndEndAtTheirSamples() throws {
        let (g, _) = try GeneratorLoader.random(config: tinyConfig, seed: 2)
        let s = Sampler(generator: g)
        let strip = try s.interpolateLatent(classIndex: 1, seedA: 3, seedB: 4, steps: 4, truncation: 1)
        let ends = try s.sample(classes: [1, 1], seeds: [3, 4], truncation: 1)
        #expect(maxAbsDiff(strip.slice(first: 0, count: 1), ends.slice(first: 0, count: 1)) < 1e-5)
        #expect(maxAbsDiff(strip.slice(first: 3, count: 1), ends.slice(first: 1, count: 1)) < 1e-5)
        let cls = try s.interpolateClass(seed: 9, classA: 0, classB: 2, steps: 3, truncation: 1)
        let cEnds = try s.sample(classes: [0, 2], seeds: [9, 9], truncation: 1)
        #expect(maxAbsDiff(cls.slice(first: 2, count: 1), cEnds.slice(first: 1, count: 1)) < 1e-5)
        #expect(maxAbsDiff(cls.slice(first: 1, count: 1), cEnds.slice(first: 0, count: 1)) > 1e-4)
    }

    @Test func badRequestsAreRejected() throws {
        let (g, _) = try GeneratorLoader.random(config: tinyConfig, seed: 2)
        let s = Sampler(generator: g)
        #expect(throws: SamplingError.self) { try s.sample(classes: [3], seeds: [0], truncation: 1) }
        #expect(throws: SamplingError.self) { try s.sample(classes: [-1], seeds: [0], truncation: 1) }
        #expect(throws: SamplingError("z[0] has 3 entries; this model needs 8")) {
            try s.sample(classes: [0], latents: [[1, 2, 3]], truncation: 1)
        }
        #expect(throws: SamplingError.self) { try s.sample(classes: [0], latents: [[Float](repeating: .nan, count: 8)], truncation: 1) }
    }

    @Test func classesResolveByIndexOrName() throws {
        #expect(try ClassResolver.resolve("2", config: tinyConfig) == 2)
        #expect(try ClassResolver.resolve("Dog", config: tinyConfig) == 1)
        #expect(throws: SamplingError.self) { try ClassResolver.resolve("3", config: tinyConfig) }
        do { _ = try ClassResolver.resolve("do", config: tinyConfig); Issue.record("expected error") }
        catch let e as SamplingError { #expect(e.message.contains("did you mean: 1 (dog)")) }
    }
}
