import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine

/// The `bigbigan` family against the PyTorch reference (`scripts/bigbigan_ref.py`; fixtures from
/// `scripts/make_bigbigan_fixtures.py`): the encoder's `z_mean`, σ and pooled features within
/// 1e-4, the seeded `z_sample`, the reconstruction G(E(x)) within the BigGAN parity tolerance, and
/// the generator part behaving exactly as a plain BigGAN checkpoint of the same tensors.
@Suite struct BigBiGANParityTests {
    static let cases = ["bigbigan-32-grey", "bigbigan-32-rgb"]

    func load(_ name: String) throws -> (any Generator, SafeTensorsFile) {
        (try GeneratorLoader.load(path: TestPaths.fixture(name + ".safetensors")), try SafeTensorsFile(path: TestPaths.fixture(name + "-io.safetensors")))
    }

    @Test(arguments: cases) func encoderMatchesReference(_ name: String) throws {
        let (g, io) = try load(name)
        let encoder = try #require(g.imageEncoder)
        let out = encoder.encode(try io.tensor("x"))
        for (got, key) in [(out.zMean, "z_mean"), (out.sigma, "sigma"), (out.features, "features")] {
            let expected = try io.tensor(key)
            #expect(got.shape == expected.shape, "\(key)")
            let err = maxAbsDiff(got, expected)
            #expect(err < 1e-4, "\(name) \(key): max abs error \(err)")
        }
        // z_sample = z_mean + σ·ε, ε = the engine's untruncated latent of seed 11 + i.
        let zSample = try io.tensor("z_sample"), d = g.info.dimZ
        for i in 0..<zSample.shape[0] {
            let z = Sampler.ReconstructionLatent.sample(seed: 11).latent(out, i)
            let ref = Array(zSample.array[(i * d)..<((i + 1) * d)])
            #expect(zip(z, ref).allSatisfy { abs($0 - $1) < 1e-4 }, "\(name) z_sample row \(i)")
        }
        #expect(out.sigma.array.allSatisfy { $0 > 0 })
        #expect(out.features.array.contains { $0 > 0.01 }, "features must not all be zero")
    }

    @Test(arguments: cases) func reconstructionMatchesReference(_ name: String) throws {
        let (g, io) = try load(name)
        let x = try io.tensor("x"), classes = try io.tensor("classes"), expected = try io.tensor("recon")
        let sampler = Sampler(generator: g)
        for i in 0..<x.shape[0] {
            let cls = g.capabilities.conditional ? Int(classes[i]) : nil
            let template = try sampler.prepareReconstruction(class: cls, count: 1)
            let (encoding, latents, images) = try sampler.reconstruct(x.slice(first: i, count: 1), latent: .mean, template: template)
            #expect(latents[0] == encoding.zMean(0))
            let err = maxAbsDiff(images, expected.slice(first: i, count: 1))
            #expect(err < 1e-3, "\(name) row \(i): max abs error \(err)")
        }
    }

    @Test func capabilitiesAndInfo() throws {
        let (grey, _) = try load("bigbigan-32-grey"), (rgb, _) = try load("bigbigan-32-rgb")
        #expect(grey.info.architecture == "bigbigan" && grey.capabilities.encoder && grey.capabilities.conditional)
        #expect(grey.info.classNames == ["circle", "square", "triangle"] && grey.info.channels == 1)
        #expect(!rgb.capabilities.conditional && rgb.capabilities.encoder && rgb.info.channels == 3)
        #expect(rgb.conditioning(forClass: 0) == rgb.conditioning(forClass: 5))
        let e = try #require(grey.imageEncoder).encoderInfo
        #expect(e == EncoderInfo(resolution: 32, channels: 1, dimZ: 20, featureWidth: 32, sigma: "softplus", parameterCount: e.parameterCount))
        #expect(try #require(rgb.imageEncoder).encoderInfo.sigma == "logvar")
        // Every stored scalar is counted: the generator's and the encoder's.
        let file = try SafeTensorsFile(path: TestPaths.fixture("bigbigan-32-grey.safetensors"))
        #expect(grey.parameterCount == file.entries.values.reduce(0) { $0 + $1.shape.reduce(1, *) })
        // No encoder elsewhere.
        let plain = try GeneratorLoader.load(path: TestPaths.fixture("biggan-32.safetensors"))
        #expect(plain.imageEncoder == nil && !plain.capabilities.encoder)
        #expect(throws: SamplingError.self) { try Sampler(generator: plain).prepareReconstruction(class: 0, count: 1) }
    }

    /// The generator part samples exactly as the same tensors loaded as a plain `biggan` checkpoint.
    @Test(arguments: cases) func generatorBehavesAsPlainBigGAN(_ name: String) throws {
        let (g, _) = try load(name)
        let file = try SafeTensorsFile(path: TestPaths.fixture(name + ".safetensors"))
        let config = try #require(g.bigganConfig)
        let tensors = try file.entries.keys.filter { !$0.hasPrefix("encoder.") }.map { ($0, try file.tensor($0)) }
        let plain = try GeneratorLoader.build(config: config, weights: NamedTensors(tensors))
        for t in [nil, 0.5] as [Double?] {
            let cls: Int? = g.capabilities.conditional ? 1 : nil
            let a = try Sampler(generator: g).images(for: .samples(class: cls, seed: 7, count: 3, truncation: t))
            let b = try Sampler(generator: plain).images(for: .samples(class: cls ?? 0, seed: 7, count: 3, truncation: t))
            #expect(a.array == b.array, "\(name) truncation \(String(describing: t))")
        }
    }

    /// A strided convolution equals the stride-1 convolution sampled every other pixel.
    @Test func stridedConvolutionMatchesSubsampledReference() throws {
        for (k, side) in [(3, 8), (1, 8), (3, 7)] {
            let x = randomTensor([2, side, side, 5], seed: 3), w = randomTensor([6, 5, k, k], seed: 4), bias = randomTensor([6], seed: 5)
            let full = referenceConv(x, weight: w, bias: bias)
            let got = Conv2D(weight: w, bias: bias, size: (side, side), stride: 2)(x)
            let o = (side - 1) / 2 + 1
            #expect(got.shape == [2, o, o, 6])
            var err: Float = 0
            for n in 0..<2 { for y in 0..<o { for xx in 0..<o { for c in 0..<6 {
                err = max(err, abs(got[((n * o + y) * o + xx) * 6 + c] - full[((n * side + 2 * y) * side + 2 * xx) * 6 + c]))
            } } } }
            #expect(err < 1e-4, "k \(k) side \(side): \(err)")
        }
    }
}
