import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANCLI
@testable import BigGANEngine
@testable import BigGANImage

/// The StyleGAN flags of `sample`, `interpolate` and `mix`: `--psi`, `--cutoff`, `--noise-mode`,
/// `--truncation-target`, `--seed-mode`, `--space` (issue 14).
@Suite(.serialized) struct StyleGANCLITests {
    let dir: URL
    let sg = TestPaths.fixture("stylegan-32-cond.safetensors")

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("biggan-cli-sg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    func run(_ args: [String]) throws {
        var cmd = try BigGANCommand.parseAsRoot(args)
        try cmd.run()
    }

    func failure(_ args: [String]) -> String? {
        do { try run(args); return nil } catch { return BigGANCommand.message(for: error) }
    }

    /// Writes `args` + `--out NAME` and returns the image.
    func image(_ name: String, _ args: [String]) throws -> Image8 {
        let path = dir.appendingPathComponent(name).path
        try run(args + ["--out", path])
        return try PNGCodec.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test func truncationTargetAndCutoffFlagsReachTheEngine() throws {
        let base = ["sample", "--model", sg, "--class", "3", "--psi", "0", "--cutoff", "8"]
        let byClass = try image("c.png", base + ["--seed", "1", "--truncation-target", "class"])
        #expect(try image("c2.png", base + ["--seed", "2"]) == byClass, "class is the default target; at ψ = 0 every seed is the centroid")
        #expect(try image("a.png", base + ["--seed", "1", "--truncation-target", "average"]) != byClass)
        // The same image as the engine's, through the same request.
        let sampler = Sampler(generator: try GeneratorLoader.load(path: sg))
        let expected = try sampler.images(for: .samples(class: 3, seed: 1, count: 1, truncation: 0, style: StyleOptions(cutoff: 8, truncationTarget: .class)))
        #expect(byClass.pixels == Image8(batch: expected, index: 0).pixels)
        #expect(failure(base + ["--seed", "1", "--cutoff", "9", "--out", dir.appendingPathComponent("x.png").path])?
            .contains("--cutoff must be between 1 and 8") == true)
        #expect(failure(["sample", "--model", TestPaths.fixture("stylegan-32.safetensors"), "--truncation-target", "class",
                         "--out", dir.appendingPathComponent("x.png").path])?.contains("--truncation-target class needs per-class W centroids") == true)
        #expect(failure(base + ["--truncation", "0.5", "--out", dir.appendingPathComponent("x.png").path])?.contains("give --psi or --truncation, not both") == true)
        #expect(failure(["sample", "--model", sg, "--psi", "nan", "--out", dir.appendingPathComponent("x.png").path])?.contains("--psi must be a number") == true)
        // ψ < 0 is a value StyleGAN users give as `--psi -0.5` (the other side of the centroid).
        let negative = try image("n.png", base.map { $0 == "0" ? "-0.5" : $0 } + ["--seed", "1"])
        let neg = try sampler.images(for: .samples(class: 3, seed: 1, count: 1, truncation: -0.5, style: StyleOptions(cutoff: 8, truncationTarget: .class)))
        #expect(negative.pixels == Image8(batch: neg, index: 0).pixels && negative.pixels != byClass.pixels)
    }

    @Test func noiseModeRandomIsSeededAndBigGANRefusesStyleFlags() throws {
        let a = try image("r1.png", ["sample", "--model", sg, "--class", "1", "--seed", "4", "--noise-mode", "random"])
        #expect(try image("r2.png", ["sample", "--model", sg, "--class", "1", "--seed", "4", "--noise-mode", "random"]) == a)
        #expect(try image("k.png", ["sample", "--model", sg, "--class", "1", "--seed", "4", "--noise-mode", "const"]) != a)
        let model = dir.appendingPathComponent("tiny.safetensors").path
        var cfg = ModelConfig.biggan(resolution: 32, ch: 2, dimZ: 8, sharedDim: 4, nClasses: 3, hier: true, attention: [16])!
        cfg.classNames = ["cat", "dog", "bird"]
        try GeneratorLoader.save(config: cfg, tensors: try GeneratorLoader.random(config: cfg, seed: 1).1, to: model)
        for (flag, value) in [("--noise-mode", "none"), ("--cutoff", "2"), ("--truncation-target", "average"), ("--seed-mode", "numpy"), ("--psi", "0.5")] {
            let msg = failure(["sample", "--model", model, flag, value, "--out", dir.appendingPathComponent("x.png").path])
            #expect(msg?.contains("is a StyleGAN option") == true && msg?.contains(flag) == true, "\(flag): \(msg ?? "succeeded")")
        }
        #expect(failure(["interpolate", "--model", model, "--kind", "latent", "--space", "w", "--out", dir.appendingPathComponent("x.png").path])?
            .contains("--space w needs a model with a W space") == true)
    }

    @Test func wSpaceInterpolationEndsAreTheEndSamples() throws {
        let strip = try image("w.png", ["interpolate", "--model", sg, "--kind", "latent", "--class", "2", "--seed-a", "3", "--seed-b", "4",
                                         "--steps", "3", "--space", "w", "--psi", "0.7"])
        for (tile, seed) in [(0, 3), (2, 4)] {
            let alone = try image("s\(seed).png", ["sample", "--model", sg, "--class", "2", "--seed", "\(seed)", "--psi", "0.7"])
            let x0: Int = tile * (32 + 2), w: Int = strip.width
            var cut: [UInt8] = []
            for y in 0..<32 {
                let start: Int = (y * w + x0) * 3
                cut += strip.pixels[start ..< start + 32 * 3]
            }
            #expect(cut == alone.pixels, "tile \(tile)")
        }
        #expect(failure(["interpolate", "--model", sg, "--kind", "latent", "--space", "w", "--spherical", "--out", dir.appendingPathComponent("x.png").path])?
            .contains("--spherical: 'method' must be linear with space=w") == true)
    }

    @Test func mixTakesTheStyleFlags() throws {
        let base = ["mix", "--model", sg, "--rows", "1,2", "--cols", "3", "--styles", "0-3", "--class", "1"]
        let random = try image("m1.png", base + ["--noise-mode", "random", "--psi", "0.5", "--cutoff", "2"])
        #expect(try image("m2.png", base + ["--noise-mode", "random", "--psi", "0.5", "--cutoff", "2"]) == random)
        #expect(try image("m3.png", base + ["--noise-mode", "random", "--psi", "0.5", "--cutoff", "2", "--truncation-target", "average"]) != random)
        #expect(failure(["mix", "--model", sg, "--rows", "1,x", "--cols", "3", "--styles", "0", "--out", dir.appendingPathComponent("x.png").path])?
            .contains("--rows: 'x' is not a seed") == true)
        #expect(failure(base + ["--seed-mode", "numpy", "--rows", "4294967296", "--out", dir.appendingPathComponent("x.png").path]) != nil)
    }
}
