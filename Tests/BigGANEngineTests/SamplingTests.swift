import BigGANTestSupport
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
        try JSONDecoder().decode(NoiseFixture.self, from: Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("noise.json"))))
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
            let conv = TruncationConvention(rawValue: c.convention)!
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
        #expect(throws: SamplingError.self) { try TruncationConvention.resample.rule.validate(.nan) }
        #expect(throws: SamplingError.self) { try TruncationConvention.resample.rule.validate(-1) }
        #expect(throws: SamplingError.self) { try TruncationConvention.resample.rule.validate(0.001) }
        #expect(throws: SamplingError.self) { try TruncationConvention.truncnormScaled.rule.validate(1.5) }
        #expect(throws: SamplingError.self) { try TruncationConvention.truncnormScaled.rule.validate(0) }
        #expect(throws: Never.self) { try TruncationConvention.resample.rule.validate(2.5) }
        #expect(throws: Never.self) { try TruncationConvention.truncnormScaled.rule.validate(1) }
        #expect(throws: Never.self) { try TruncationConvention.resample.rule.validate(nil) }
        #expect(TruncationConvention.resample.rule.rangeText == "[0.01, ∞)")
        #expect(TruncationConvention.truncnormScaled.rule.rangeText == "(0, 1]")
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
        let a = try one.images(for: GenerationRequest(.samples(classes: [0, 1, 2], latents: .seeds([5, 6, 7])), truncation: 0.8))
        let b = try many.images(for: GenerationRequest(.samples(classes: [0, 1, 2], latents: .seeds([5, 6, 7])), truncation: 0.8))
        #expect(maxAbsDiff(a, b) < 1e-5)
        let c = try many.images(for: GenerationRequest(.samples(classes: [1], latents: .seeds([6])), truncation: 0.8))
        #expect(maxAbsDiff(c, b.slice(first: 1, count: 1)) < 1e-5)
        #expect(a.shape == [3, 32, 32, 3])
    }

    @Test func interpolationStripsStartAndEndAtTheirSamples() throws {
        let (g, _) = try GeneratorLoader.random(config: tinyConfig, seed: 2)
        let s = Sampler(generator: g)
        let strip = try s.images(for: GenerationRequest(.latentInterpolation(class: 1, seedA: 3, seedB: 4, steps: 4, method: .linear), truncation: 1))
        let ends = try s.images(for: GenerationRequest(.samples(classes: [1, 1], latents: .seeds([3, 4])), truncation: 1))
        #expect(maxAbsDiff(strip.slice(first: 0, count: 1), ends.slice(first: 0, count: 1)) < 1e-5)
        #expect(maxAbsDiff(strip.slice(first: 3, count: 1), ends.slice(first: 1, count: 1)) < 1e-5)
        let cls = try s.images(for: GenerationRequest(.classInterpolation(seed: 9, classA: 0, classB: 2, steps: 3), truncation: 1))
        let cEnds = try s.images(for: GenerationRequest(.samples(classes: [0, 2], latents: .seeds([9, 9])), truncation: 1))
        #expect(maxAbsDiff(cls.slice(first: 2, count: 1), cEnds.slice(first: 1, count: 1)) < 1e-5)
        #expect(maxAbsDiff(cls.slice(first: 1, count: 1), cEnds.slice(first: 0, count: 1)) > 1e-4)
    }

    @Test func badRequestsAreRejected() throws {
        let (g, _) = try GeneratorLoader.random(config: tinyConfig, seed: 2)
        let s = Sampler(generator: g)
        #expect(throws: SamplingError.self) { try s.images(for: GenerationRequest(.samples(classes: [3], latents: .seeds([0])), truncation: 1)) }
        #expect(throws: SamplingError.self) { try s.images(for: GenerationRequest(.samples(classes: [-1], latents: .seeds([0])), truncation: 1)) }
        #expect(throws: SamplingError(parameter: "z[0]", "z[0] has 3 entries; this model needs 8")) {
            try s.images(for: GenerationRequest(.samples(classes: [0], latents: .explicit([[1, 2, 3]])), truncation: 1))
        }
        #expect(throws: SamplingError(parameter: "z[0]", "z[0] contains a non-finite value")) {
            try s.images(for: GenerationRequest(.samples(classes: [0], latents: .explicit([[Float](repeating: .nan, count: 8)])), truncation: 1))
        }
        // Every kind of bad request names its parameter.
        func parameter(_ r: GenerationRequest) -> String? {
            do { _ = try s.prepare(r); return nil } catch let e as SamplingError { return e.parameter } catch { return "\(error)" }
        }
        #expect(parameter(GenerationRequest(.samples(classes: [3], latents: .seeds([0])), truncation: nil)) == "class")
        #expect(parameter(GenerationRequest(.samples(classes: [0, 9], latents: .seeds([0, 1])), truncation: nil)) == "classes[1]")
        #expect(parameter(GenerationRequest(.samples(classes: [0, 1], latents: .seeds([0, 1, 2])), truncation: nil)) == "classes")
        #expect(parameter(GenerationRequest(.samples(classes: [], latents: .seeds([0])), truncation: nil)) == "class")
        #expect(parameter(GenerationRequest(.samples(classes: [0], latents: .seeds([0])), truncation: 0.001)) == "truncation")
        #expect(parameter(GenerationRequest(.latentInterpolation(class: 0, seedA: 0, seedB: 1, steps: 1, method: .linear), truncation: nil)) == "steps")
        #expect(parameter(GenerationRequest(.classInterpolation(seed: 0, classA: 0, classB: nil, steps: 3), truncation: nil)) == "class_b")
        #expect(parameter(GenerationRequest(.classInterpolation(seed: 0, classA: 7, classB: 1, steps: 3), truncation: nil)) == "class_a")
        #expect(parameter(GenerationRequest(.samples(classes: [0], latents: .seeds([])), truncation: nil)) == "n")
    }

    @Test func classesResolveByIndexOrName() throws {
        #expect(try ClassResolver.resolve("2", info: tinyConfig.info) == 2)
        #expect(try ClassResolver.resolve("Dog", info: tinyConfig.info) == 1)
        #expect(throws: SamplingError.self) { try ClassResolver.resolve("3", info: tinyConfig.info) }
        do { _ = try ClassResolver.resolve("do", info: tinyConfig.info); Issue.record("expected error") }
        catch let e as SamplingError { #expect(e.message.contains("did you mean: 1 (dog)")) }
    }
}

/// Colliding class names (issue 10 A3): ImageNet's own duplicates and case-only differences.
@Suite struct ClassNameCollisionTests {
    /// The ImageNet names the converters write (scripts/imagenet_classes.txt, torchvision's list,
    /// where `Cardigan` the dog and `cardigan` the sweater differ by case only), with 134
    /// and 639 renamed as in the Keras/TF-Hub list, where `crane` and `maillot` name two classes each.
    static let imagenet: ModelConfig = {
        let url = TestPaths.repositoryRoot
            .appendingPathComponent("scripts/imagenet_classes.txt")
        var names = try! String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        names[134] = "crane"; names[639] = "maillot"
        var c = tinyConfig
        c.nClasses = names.count; c.classNames = names
        return c
    }()

    static let cased: ModelConfig = {
        var c = tinyConfig
        c.nClasses = 4; c.classNames = ["Crane", "crane", "Bag", "bag:2"]
        return c
    }()

    @Test func duplicateNamesAreAmbiguousAndListTheCandidates() throws {
        #expect(Self.imagenet.nClasses == 1000)
        do { _ = try ClassResolver.resolve("crane", info: Self.imagenet.info); Issue.record("crane resolved silently") }
        catch let e as SamplingError { #expect(e.message.contains("crane:134") && e.message.contains("crane:517"), "\(e.message)") }
        do { _ = try ClassResolver.resolve("Maillot", info: Self.imagenet.info); Issue.record("maillot resolved silently") }
        catch let e as SamplingError { #expect(e.message.contains("maillot:638") && e.message.contains("maillot:639"), "\(e.message)") }
    }

    @Test func everyClassIsReachableByItsUniqueName() throws {
        for config in [Self.imagenet, Self.cased, tinyConfig] {
            for i in 0..<config.nClasses {
                let name = ClassResolver.uniqueName(i, info: config.info)
                #expect(try ClassResolver.resolve(name, info: config.info) == i, "\(name) should resolve to \(i)")
            }
        }
        #expect(ClassResolver.uniqueName(517, info: Self.imagenet.info) == "crane:517")
        #expect(try ClassResolver.resolve("CRANE:134", info: Self.imagenet.info) == 134)
        #expect(try ClassResolver.resolve("Cardigan", info: Self.imagenet.info) == 264)
        #expect(try ClassResolver.resolve("cardigan", info: Self.imagenet.info) == 474)
        #expect(throws: SamplingError.self) { try ClassResolver.resolve("CARDIGAN", info: Self.imagenet.info) }
    }

    @Test func exactMatchWinsOverCaseInsensitive() throws {
        #expect(try ClassResolver.resolve("Crane", info: Self.cased.info) == 0)
        #expect(try ClassResolver.resolve("crane", info: Self.cased.info) == 1)
        #expect(throws: SamplingError.self) { try ClassResolver.resolve("CRANE", info: Self.cased.info) }
        #expect(try ClassResolver.resolve("BAG", info: Self.cased.info) == 2)
        // A name containing a colon is matched whole before the NAME:INDEX form is tried.
        #expect(try ClassResolver.resolve("bag:2", info: Self.cased.info) == 3)
        #expect(try ClassResolver.resolve("Crane:1", info: Self.cased.info) == 1)
    }

    @Test func wrongNameIndexPairsAreRefused() {
        #expect(throws: SamplingError("class 134 is called 'crane', not 'goldfish'")) {
            try ClassResolver.resolve("goldfish:134", info: Self.imagenet.info)
        }
        #expect(throws: SamplingError.self) { try ClassResolver.resolve("crane:1000", info: Self.imagenet.info) }
    }

    @Test func nearMissesSuggestCloseNames() throws {
        var c = tinyConfig
        c.nClasses = 10
        c.classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        do { _ = try ClassResolver.resolve("Sneakr", info: c.info); Issue.record("expected error") }
        catch let e as SamplingError { #expect(e.message.contains("did you mean: 7 (Sneaker)"), "\(e.message)") }
        do { _ = try ClassResolver.resolve("zzzzzzzz", info: c.info); Issue.record("expected error") }
        catch let e as SamplingError { #expect(!e.message.contains("did you mean"), "\(e.message)") }
        // A huge name is cut short in the message.
        do { _ = try ClassResolver.resolve(String(repeating: "x", count: 1 << 20), info: c.info); Issue.record("expected error") }
        catch let e as SamplingError { #expect(e.message.count < 300) }
    }
}

/// `NoiseGenerator.shuffle` is the documented Fisher–Yates (position i, from the last down to 1,
/// swaps with `nextUInt64() % (i + 1)`): run orders, evaluation subsets and probe batches depend
/// on exactly this sequence, so resumed runs and re-run evaluations see the same images.
@Suite struct ShuffleTests {
    @Test func permutationIsTheDocumentedFisherYates() {
        var a = NoiseGenerator(seed: 3), b = NoiseGenerator(seed: 3)
        let p = a.permutation(50)
        var expected = Array(0..<50)
        for i in stride(from: 49, to: 0, by: -1) { let j = Int(b.nextUInt64() % UInt64(i + 1)); (expected[i], expected[j]) = (expected[j], expected[i]) }
        #expect(p == expected && p.sorted() == Array(0..<50) && p != Array(0..<50))
        #expect(a.state == b.state, "one draw per position")
        var c = NoiseGenerator(seed: 4)
        #expect(c.permutation(50) != p)
        var words = ["a", "b", "c"], d = NoiseGenerator(seed: 3), e = NoiseGenerator(seed: 3)
        d.shuffle(&words)
        #expect(words == e.permutation(3).map { ["a", "b", "c"][$0] })
    }
}
