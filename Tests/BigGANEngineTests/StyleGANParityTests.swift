import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine

/// StyleGAN v1 against the PyTorch reference of `scripts/stylegan_ref.py` (NVlabs operation order,
/// fused up-convolution computed as NVlabs does), fixtures from `scripts/make_stylegan_fixtures.py`.
@Suite struct StyleGANParityTests {
    /// `stylegan-32-cond-from-pickle` is `stylegan-32-cond` written as an NVlabs pickle and
    /// converted back by `scripts/checkpoint/convert_stylegan.py`.
    @Test(arguments: [("stylegan-32-cond", "stylegan-32-cond"), ("stylegan-32", "stylegan-32"),
                      ("stylegan-32-cond-from-pickle", "stylegan-32-cond")])
    func outputMatchesReference(name: String, ioName: String) throws {
        let g = try GeneratorLoader.load(path: TestPaths.fixture(name + ".safetensors"))
        let io = try SafeTensorsFile(path: TestPaths.fixture(ioName + "-io.safetensors"))
        let z = try io.tensor("z"), b = z.shape[0]
        let labels = g.capabilities.conditional ? try io.tensor("labels") : Tensor(shape: [b, 1])
        #expect(g.info.architecture == "stylegan" && g.capabilities.latentSpaces == [.z, .w])
        // out_psi07: towards the global dlatent_avg (NVlabs); out_psi07_class: towards each
        // image's class centroid (the default of checkpoints that store them).
        let style = try #require(g.capabilities.style)
        var cases: [(String, Double?, StyleOptions.TruncationTarget)] = [("out_psi1", nil, .average), ("out_psi07", 0.7, .average)]
        if io.entries["out_psi07_class"] != nil { cases.append(("out_psi07_class", 0.7, .class)) }
        #expect(style.classCentroids == g.capabilities.conditional && cases.count == (g.capabilities.conditional ? 3 : 2))
        for (key, psi, target) in cases {
            let expected = try io.tensor(key)
            let out = g.forward(ForwardInput(z: z, conditioning: labels, truncation: psi,
                                             style: try style.resolve(StyleOptions(truncationTarget: target))))
            let (h, w, c) = (out.shape[1], out.shape[2], out.shape[3])
            #expect(expected.shape == [b, c, h, w])
            var err: Float = 0, scale: Float = 0
            for n in 0..<b { for y in 0..<h { for x in 0..<w { for k in 0..<c {
                let e = expected[((n * c + k) * h + y) * w + x]
                err = max(err, abs(out[((n * h + y) * w + x) * c + k] - e)); scale = max(scale, abs(e))
            } } } }
            // Outputs are not clamped (|max| ~10 here): within one grey level of the [-1, 1] scale
            // at a tenth of it.
            #expect(err < 1e-3, "\(name) \(key): max abs error \(err) (|max| \(scale))")
        }
    }

    @Test func badConfigsAreRefusedNamingTheField() throws {
        let file = try SafeTensorsFile(path: TestPaths.fixture("stylegan-32.safetensors"))
        var config = try JSONSerialization.jsonObject(with: Data(file.metadata["config"]!.utf8)) as! [String: Any]
        config["channels"] = [32, 32, 16]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        #expect {
            try GeneratorLoader.build(configJSON: json, weights: CheckpointWeights(file: file), file: "x.safetensors")
        } throws: { ($0 as? CheckpointError)?.reason.contains("channels needs 4 entries") == true }
    }
}

/// Noise modes, per-layer styles and style mixing of `StyleGANGenerator`.
@Suite struct StyleGANSamplingTests {
    static func generator() throws -> StyleGANGenerator {
        try #require(try GeneratorLoader.load(path: TestPaths.fixture("stylegan-32-cond.safetensors")) as? StyleGANGenerator)
    }

    static func image(_ t: Tensor, _ i: Int) -> [Float] {
        let per = t.count / t.shape[0]
        return Array(UnsafeBufferPointer(start: t.data + i * per, count: per))
    }

    @Test func randomNoiseFollowsEachImagesSeedWhateverTheBatch() throws {
        let g = try Self.generator()
        let z = Tensor(shape: [2, 32], values: g.latent(seed: 1, truncation: nil) + g.latent(seed: 2, truncation: nil))
        let labels = Tensor(shape: [2, 5], values: g.conditioning(forClass: 1) + g.conditioning(forClass: 3))
        let ws = g.styles(z: z, labels: labels, truncation: 0.7)
        let pair = g.synthesis(ws: ws, noise: .random(seeds: [11, 12]))
        let alone = g.synthesis(ws: Tensor(shape: [1, 8, 32], values: Self.image(ws, 1)), noise: .random(seeds: [12]))
        #expect(Self.image(pair, 1) == alone.array)
        let other = g.synthesis(ws: ws, noise: .random(seeds: [11, 13]))
        #expect(Self.image(other, 0) == Self.image(pair, 0) && Self.image(other, 1) != Self.image(pair, 1))
        let none = g.synthesis(ws: ws, noise: .none), stored = g.synthesis(ws: ws, noise: .stored)
        #expect(none.array != stored.array && stored.array == g.forward(z: z, conditioning: labels, truncation: 0.7).array)
    }

    @Test func styleMixingTakesTheChosenLayersFromTheColumn() throws {
        let g = try Self.generator()
        let z = Tensor(shape: [2, 32], values: g.latent(seed: 5, truncation: nil) + g.latent(seed: 6, truncation: nil))
        let labels = Tensor(shape: [2, 5], values: g.conditioning(forClass: 0) + g.conditioning(forClass: 0))
        let ws = g.styles(z: z, labels: labels, truncation: nil)
        let per = 8 * 32
        func render(_ layers: Set<Int>) -> [Float] {
            g.synthesis(ws: Tensor(shape: [1, 8, 32], values: g.mixed(row: ws.data, column: ws.data + per, layers: layers)), noise: .stored).array
        }
        let both = g.synthesis(ws: ws, noise: .stored)
        #expect(render([]) == Self.image(both, 0))
        #expect(render(Set(0..<8)) == Self.image(both, 1))
        let coarse = render([0, 1, 2, 3])
        #expect(coarse != Self.image(both, 0) && coarse != Self.image(both, 1))
    }

    @Test func mixingGridCellsAreTheRowsStylesWithTheColumnsLayers() throws {
        let g = try Self.generator()
        let sampler = Sampler(generator: g, maxBatch: 4)
        func request(_ styles: Set<Int>, _ label: Int?) -> StyleMixRequest {
            StyleMixRequest(rowSeeds: [7, 8], columnSeeds: [9], styles: styles, class: label, truncation: nil, style: StyleOptions(noise: .const))
        }
        let grid = sampler.mixingGrid(try sampler.prepare(mix: request([2, 3], 1)))
        #expect(grid.shape[0] == 3 * 2)
        #expect(Self.image(grid, 0).allSatisfy { $0 == 1 })
        let z = Tensor(shape: [3, 32], values: [7, 8, 9].flatMap { g.latent(seed: $0, truncation: nil) })
        let labels = Tensor(shape: [3, 5], values: Array(repeating: g.conditioning(forClass: 1), count: 3).flatMap { $0 })
        let ws = g.styles(z: z, labels: labels, truncation: nil)
        let plain = g.synthesis(ws: ws, noise: .stored)
        #expect(Self.image(grid, 1) == Self.image(plain, 2))     // top row: the column's image
        #expect(Self.image(grid, 2) == Self.image(plain, 0))     // left column: the row's image
        let mixed = g.synthesis(ws: Tensor(shape: [1, 8, 32], values: g.mixed(row: ws.data + 8 * 32, column: ws.data + 2 * 8 * 32, layers: [2, 3])), noise: .stored)
        #expect(Self.image(grid, 5) == mixed.array)               // row 2 (seed 8) × column 1
        #expect(throws: SamplingError(parameter: "styles", "'styles': layer 8 does not exist: this model's style layers are 0-7")) {
            try sampler.prepare(mix: request([8], 0))
        }
        #expect(throws: SamplingError.self) { try sampler.prepare(mix: request([0], nil)) }
    }
}
