import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANCLI
@testable import BigGANEngine
@testable import BigGANImage

/// Runs `biggan` commands in-process, as a user would type them.
@Suite(.serialized) struct CLITests {
    let dir: URL
    let model: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("biggan-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        model = dir.appendingPathComponent("tiny.safetensors").path
        var cfg = ModelConfig.biggan(resolution: 32, ch: 2, dimZ: 8, sharedDim: 4, nClasses: 3, hier: true, attention: [16])!
        cfg.classNames = ["cat", "dog", "bird"]
        let (_, tensors) = try GeneratorLoader.random(config: cfg, seed: 1)
        try GeneratorLoader.save(config: cfg, tensors: tensors, to: model)
    }

    func run(_ args: [String]) throws {
        var cmd = try BigGANCommand.parseAsRoot(args)
        try cmd.run()
    }

    /// The message a user sees for `args`, or nil when the command succeeds.
    func failure(_ args: [String]) -> String? {
        do { try run(args); return nil } catch { return BigGANCommand.message(for: error) }
    }

    /// `biggan mix` on a StyleGAN fixture: the grid's layout, and clear errors.
    @Test func mixWritesNVlabsStyleGridAndRefusesBadInput() throws {
        let sg = TestPaths.fixture("stylegan-32-cond.safetensors")
        let out = dir.appendingPathComponent("mix.png").path
        try run(["mix", "--model", sg, "--rows", "1,2,3", "--cols", "4,5", "--styles", "0-3", "--truncation", "0.7", "--class", "2", "--out", out])
        let img = try png("mix.png")
        #expect(img.width == 3 * 32 + 2 * 2 && img.height == 4 * 32 + 3 * 2)
        #expect(img.pixels[0..<(32 * 3)].allSatisfy { $0 == 255 })   // the blank corner's first row
        #expect(failure(["mix", "--model", sg, "--rows", "1", "--cols", "2", "--styles", "0-9", "--class", "0", "--out", out])?
            .contains("--styles: layer 8 does not exist: this model's style layers are 0-7") == true)
        #expect(failure(["mix", "--model", sg, "--rows", "1", "--cols", "2", "--styles", "3-1", "--out", out])?
            .contains("--styles: '3-1' is not a layer number or a range") == true)
        #expect(failure(["mix", "--model", model, "--rows", "1", "--cols", "2", "--styles", "0", "--out", out])?
            .contains("biggan mix needs a StyleGAN model") == true)
        #expect(failure(["mix", "--model", TestPaths.fixture("stylegan-32.safetensors"), "--rows", "1", "--cols", "2", "--styles", "0",
                         "--noise-mode", "const", "--out", out])?.contains("--noise-mode const needs stored noise maps") == true)
    }

    /// `--seed-mode numpy`: z is NumPy's RandomState(seed).randn, the same as passing it with --z.
    @Test func numpySeedModeEqualsExplicitNumPyLatents() throws {
        let sg = TestPaths.fixture("stylegan-32-cond.safetensors")
        try run(["sample", "--model", sg, "--class", "1", "--seed", "639", "--n", "2", "--seed-mode", "numpy", "--truncation", "0.7",
                 "--out", dir.appendingPathComponent("np.png").path])
        let z = [639, 640].map { NumPyRandomState.randn(seed: UInt32($0), count: 32).map(Float.init) }
        let json = dir.appendingPathComponent("z.json")
        try JSONEncoder().encode(z).write(to: json)
        try run(["sample", "--model", sg, "--class", "1", "--z", json.path, "--truncation", "0.7", "--out", dir.appendingPathComponent("z.png").path])
        #expect(try png("np.png") == png("z.png"))
        #expect(try png("np.png") != { try run(["sample", "--model", sg, "--class", "1", "--seed", "639", "--n", "2", "--truncation", "0.7",
                                                  "--out", dir.appendingPathComponent("engine.png").path]); return try png("engine.png") }())
        #expect(failure(["sample", "--model", sg, "--seed", "4294967295", "--n", "2", "--seed-mode", "numpy", "--out", dir.appendingPathComponent("x.png").path])?
            .contains("below 2^32") == true)
    }

    func png(_ name: String) throws -> Image8 {
        try PNGCodec.decode(Array(try Data(contentsOf: dir.appendingPathComponent(name))))
    }

    @Test func sampleWritesOneImage() throws {
        try run(["sample", "--model", model, "--class", "dog", "--seed", "3", "--out", dir.appendingPathComponent("one.png").path])
        let img = try png("one.png")
        #expect(img.width == 32 && img.height == 32)
        #expect(Set(img.pixels).count > 10)
    }

    @Test func sampleWritesAGridAndIsDeterministic() throws {
        let a = dir.appendingPathComponent("a.png").path, b = dir.appendingPathComponent("b.png").path
        try run(["sample", "--model", model, "--class", "1", "--n", "4", "--truncation", "0.7", "--out", a])
        try run(["sample", "--model", model, "--class", "1", "--n", "4", "--truncation", "0.7", "--batch", "1", "--out", b])
        #expect(try png("a.png").width == 2 * 32 + 2)
        #expect(try png("a.png") == png("b.png"))
    }

    @Test func processMemoryReadsThisProcess() throws {
        let before = try #require(ProcessMemory.current())
        #expect(before.residentBytes > 1 << 20 && before.residentBytes <= before.peakResidentBytes)
        // Touching 32 MiB of fresh pages raises the peak and the fault count.
        let n = 32 << 20
        let p = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 4096)
        defer { p.deallocate() }
        for i in stride(from: 0, to: n, by: 4096) { p.storeBytes(of: UInt8(1), toByteOffset: i, as: UInt8.self) }
        let after = try #require(ProcessMemory.current())
        #expect(after.peakResidentBytes >= before.residentBytes + n / 2)
        #expect(after.minorPageFaults >= before.minorPageFaults + n / 4096 / 2)
    }

    @Test func sampleSheetHasOneRowPerClass() throws {
        try run(["sample", "--model", model, "--class", "all", "--n", "2", "--seed", "5", "--out", dir.appendingPathComponent("sheet.png").path])
        let sheet = try png("sheet.png")
        #expect(sheet.width == 2 * 32 + 2 && sheet.height == 3 * 32 + 2 * 2)
        // Row 1 (dog), column 1 is the single dog sample with seed 6.
        try run(["sample", "--model", model, "--class", "dog", "--seed", "6", "--out", dir.appendingPathComponent("dog6.png").path])
        let one = try png("dog6.png")
        let c = sheet.channels
        #expect(c == one.channels)
        var same = true
        for y in 0..<32 { for x in 0..<32 { for k in 0..<c {
            if sheet.pixels[((34 + y) * sheet.width + 34 + x) * c + k] != one.pixels[(y * 32 + x) * c + k] { same = false }
        } } }
        #expect(same)
        #expect(failure(["sample", "--model", model, "--class", "all", "--out-dir", dir.path, "--count", "2"])?
            .contains("--class all writes one sheet") == true)
        #expect(failure(["sample", "--model", model, "--class", "all", "--columns", "3", "--out", dir.appendingPathComponent("c.png").path])?
            .contains("--columns does not apply") == true)
    }

    @Test func sampleWritesManyFiles() throws {
        let out = dir.appendingPathComponent("many").path
        try run(["sample", "--model", model, "--class", "2", "--seed", "10", "--out-dir", out, "--count", "5", "--batch", "2"])
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(files == ["2-10.png", "2-11.png", "2-12.png", "2-13.png", "2-14.png"])
        // File 2-12 is the same image as a single sample with seed 12.
        try run(["sample", "--model", model, "--class", "2", "--seed", "12", "--out", dir.appendingPathComponent("s12.png").path])
        #expect(try png("many/2-12.png") == png("s12.png"))
    }

    /// `--shard K/M` writes its share; the M shards together equal the unsharded run, file for
    /// file and byte for byte (with another batch size, too); bad shards are refused.
    @Test func shardsTogetherEqualTheUnshardedRun() throws {
        let whole = dir.appendingPathComponent("whole").path, parts = dir.appendingPathComponent("parts").path
        try run(["sample", "--model", model, "--class", "1", "--seed", "5", "--out-dir", whole, "--count", "11", "--batch", "4"])
        var seen: [String] = []
        for k in 0..<3 {
            let shardDir = parts + "-\(k)"
            try run(["sample", "--model", model, "--class", "1", "--seed", "5", "--out-dir", shardDir, "--count", "11", "--shard", "\(k)/3", "--batch", "3"])
            let files = try FileManager.default.contentsOfDirectory(atPath: shardDir).sorted()
            #expect(files.count == [3, 4, 4][k])
            for f in files { #expect(FileManager.default.contents(atPath: shardDir + "/" + f) == FileManager.default.contents(atPath: whole + "/" + f), "\(f)") }
            seen += files
        }
        #expect(seen.sorted() == (try FileManager.default.contentsOfDirectory(atPath: whole)).sorted())
        for bad in ["3/3", "-1/3", "1/0", "1", "a/b", "0/12"] {
            let message = failure(["sample", "--model", model, "--out-dir", parts, "--count", "11", "--shard", bad])
            #expect(message?.contains("--shard") == true, "\(bad): \(message ?? "accepted")")
        }
        #expect(failure(["sample", "--model", model, "--out", dir.appendingPathComponent("x.png").path, "--shard", "0/2"])?.contains("--shard") == true)
    }

    @Test func explicitLatents() throws {
        let zPath = dir.appendingPathComponent("z.json").path
        try Data("[[0,0,0,0,0,0,0,0],[1,1,1,1,1,1,1,1]]".utf8).write(to: URL(fileURLWithPath: zPath))
        try run(["sample", "--model", model, "--z", zPath, "--out", dir.appendingPathComponent("z.png").path])
        #expect(try png("z.png").width == 66)
        try Data("[[0,0]]".utf8).write(to: URL(fileURLWithPath: zPath))
        #expect(failure(["sample", "--model", model, "--z", zPath, "--out", dir.appendingPathComponent("z2.png").path])?
            .contains("--z: z[0] has 2 entries; this model needs 8") == true)
    }

    @Test func interpolateWritesStrips() throws {
        try run(["interpolate", "--model", model, "--kind", "latent", "--class", "cat", "--seed-a", "1", "--seed-b", "2",
                 "--steps", "5", "--spherical", "--out", dir.appendingPathComponent("l.png").path])
        #expect(try png("l.png").width == 5 * 32 + 4 * 2)
        try run(["interpolate", "--model", model, "--kind", "class", "--class-a", "cat", "--class-b", "bird",
                 "--steps", "3", "--out", dir.appendingPathComponent("c.png").path])
        #expect(try png("c.png").height == 32)
    }

    @Test func infoAndInitCommands() throws {
        try run(["info", model])
        // A BigBiGAN file: one encoder line, describing the encoder.
        let (status, text) = try Executables.run("biggan", ["info", TestPaths.fixture("bigbigan-32-grey.safetensors")])
        #expect(status == 0 && text.split(separator: "\n").filter { $0.hasPrefix("encoder:") } == ["encoder:       yes: 32² × 1 → z 20, 32 pooled features, σ by softplus"], "\(text)")
        let out = dir.appendingPathComponent("r.safetensors").path
        try run(["init", "--preset", "deep-128", "--ch", "8", "--classes", "4", "--out", out])
        let g = try GeneratorLoader.load(path: out)
        #expect(g.info.architecture == "biggan-deep" && g.info.nClasses == 4)
        #expect(failure(["init", "--preset", "deep-99", "--out", out])?.contains("unknown preset") == true)
    }

    @Test(arguments: [
        (["--n", "0"], "--n must be between 1 and 256"),
        (["--n", "1000"], "--n must be between 1 and 256"),
        (["--truncation", "nan"], "--truncation must be a positive number or 'none', got 'nan'"),
        (["--truncation=-0.5"], "--truncation must be a positive number or 'none', got '-0.5'"),
        (["--truncation", "abc"], "truncation"),
        (["--class", "zebra"], "--class: unknown class name 'zebra'"),
        (["--class", "7"], "--class: class 7 is out of range: this model has classes 0...2"),
        (["--seed=-4"], "--seed must be a non-negative integer"),
        (["--truncation", "0.001"], "--truncation must be at least 0.01, got 0.001"),
        // A negative value after a space reaches the validation (not "Missing value for '--class'").
        (["--class", "-1"], "--class: class -1 is out of range: this model has classes 0...2"),
        (["--seed", "-4"], "--seed must be a non-negative integer, got '-4'"),
        (["--truncation", "-0.5"], "--truncation must be a positive number or 'none', got '-0.5'"),
    ])
    func badSampleArguments(extra: [String], message: String) {
        let msg = failure(["sample", "--model", model, "--out", dir.appendingPathComponent("x.png").path] + extra)
        #expect(msg?.contains(message) == true, "\(msg ?? "succeeded")")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.png").path))
    }

    @Test func badCommandLines() throws {
        #expect(failure(["sample", "--model", model])?.contains("give --out FILE.png or --out-dir DIR") == true)
        #expect(failure(["sample", "--model", model, "--out-dir", dir.path])?.contains("--out-dir needs --count") == true)
        #expect(failure(["sample", "--model", dir.appendingPathComponent("nope.safetensors").path, "--out", "x.png"])?
            .contains("model file not found") == true)
        let bad = dir.appendingPathComponent("bad.safetensors").path
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: bad))
        #expect(failure(["sample", "--model", bad, "--out", "x.png"])?.contains("bad.safetensors: truncated") == true)
        #expect(failure(["interpolate", "--model", model, "--kind", "class", "--out", "x.png"])?
            .contains("--kind class needs --class-a and --class-b") == true)
        #expect(failure(["interpolate", "--model", model, "--kind", "latent", "--steps", "1", "--out", "x.png"])?
            .contains("--steps must be between 2 and 64") == true)
        #expect(failure(["interpolate", "--model", model, "--kind", "sideways", "--out", "x.png"]) != nil)
        // Options of the other kind are refused, not ignored (as the HTTP route does).
        #expect(failure(["interpolate", "--model", model, "--kind", "latent", "--seed", "3", "--out", "x.png"])?
            .contains("--seed does not apply to --kind latent") == true)
        #expect(failure(["interpolate", "--model", model, "--kind", "class", "--class-a", "0", "--class-b", "1", "--seed-a", "2", "--out", "x.png"])?
            .contains("--seed-a does not apply to --kind class") == true)
        #expect(failure(["sample", "--model", model, "--n", "4", "--columns", "9", "--out", "x.png"])?
            .contains("--columns must be between 1 and --n (4), got 9") == true)
    }
}

extension CLITests {
    /// A folder data set `dir/<name>/<class>/<i>.png`: the tiny model's 3 classes × `perClass`
    /// random 32×32 RGB images.
    func writeRandomFolder(_ name: String, perClass: Int, rng: inout NoiseGenerator) throws {
        try RandomImageFolder.write(at: dir.appendingPathComponent(name), classes: ["cat", "dog", "bird"], perClass: perClass, size: 32, rng: &rng)
    }

    @Test func neighboursRow() throws {
        var rng = NoiseGenerator(seed: 4)
        try writeRandomFolder("data", perClass: 4, rng: &rng)
        let out = dir.appendingPathComponent("nn.png").path
        try run(["neighbours", "--model", model, "--class", "dog", "--seed", "2", "--k", "3", "--data", "folder:" + dir.path + "/data", "--out", out])
        #expect(try png("nn.png").width == 4 * 32 + 3 * 2)
        #expect(failure(["neighbours", "--model", model, "--out", out])?.contains("names no training data set") == true)
        #expect(failure(["neighbours", "--model", model, "--k", "0", "--out", out])?.contains("--k must be between 1 and 64") == true)
        #expect(failure(["neighbours", "--model", model, "--space", "feature", "--data", "folder:" + dir.path + "/data", "--out", out])?
            .contains("no classifier") == true)
    }
}

extension CLITests {
    /// A folder data set (3 classes × 5 random 32×32 RGB images) and a random classifier.
    func evalFixtures() throws -> (data: String, classifier: String) {
        var rng = NoiseGenerator(seed: 8)
        try writeRandomFolder("evaldata", perClass: 5, rng: &rng)
        let cfg = ClassifierConfig(resolution: 32, inChannels: 3, channels: [4, 8], featureDim: 6, classNames: ["cat", "dog", "bird"])
        let path = dir.appendingPathComponent("cls.safetensors").path
        try randomClassifier(cfg, rng: &rng).save(to: path)
        return ("folder:" + dir.path + "/evaldata", path)
    }

    /// `biggan eval --encoder` on the RGB BigBiGAN fixture: four probes, the ceiling and the
    /// reconstruction line, and encoder.json; a model without an encoder is refused.
    @Test func evalEncoderWritesProbesAndReconstructions() throws {
        let (data, cls) = try evalFixtures()
        let out = dir.appendingPathComponent("enc").path
        try run(["eval", "--model", TestPaths.fixture("bigbigan-32-rgb.safetensors"), "--classifier", cls, "--data", data,
                 "--encoder", "--per-class", "2", "--probe-epochs", "3", "--out", out])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/encoder.json"))) as! [String: Any]
        let probes = try #require(json["probes"] as? [[String: Any]])
        #expect(probes.map { $0["features"] as? String } == ["raw pixels (baseline)", "z_mean", "pooled features", "pooled, BN+CReLU"])
        #expect(probes.map { $0["width"] as? Int } == [32 * 32 * 3, 16, 24, 48])
        #expect(probes.allSatisfy { (0...1).contains(($0["test_accuracy"] as? Double) ?? -1) })
        let recon = try #require(json["reconstruction"] as? [String: Any])
        #expect((recon["images"] as? Int) ?? 0 > 0 && (0...1).contains((recon["class_kept"] as? Double) ?? -1))
        let byClass = try #require(recon["class_kept_by_class"] as? [String: Double])
        #expect(!byClass.isEmpty && Set(byClass.keys).isSubset(of: ["cat", "dog", "bird"]) && byClass.values.allSatisfy { (0...1).contains($0) })
        #expect(failure(["eval", "--model", model, "--classifier", cls, "--data", data, "--encoder"])?.contains("no encoder") == true)
    }

    @Test func evalSweepWritesCSVAndPlot() throws {
        let (data, cls) = try evalFixtures()
        let out = dir.appendingPathComponent("eval").path
        try run(["eval", "--model", model, "--classifier", cls, "--data", data, "--per-class", "4", "--sweep", "0.5:1.0:0.25", "--out", out])
        let csv = try String(contentsOfFile: out + "/sweep.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.first == "truncation,inception_score,inception_std,frechet_distance,accuracy")
        // The untruncated model first, then the sweep.
        #expect(csv.count == 5 && csv.dropFirst().allSatisfy { $0.split(separator: ",").count == 5 })
        #expect(csv.dropFirst().map { String($0.split(separator: ",")[0]) } == ["none", "0.5000", "0.7500", "1.0000"])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/results.json"))) as? [String: Any]
        #expect((json?["rows"] as? [[String: Any]])?.count == 5)
        #expect(try String(contentsOfFile: out + "/sweep.svg", encoding: .utf8).contains("<polyline"))
        // Deterministic for a given seed.
        try run(["eval", "--model", model, "--classifier", cls, "--data", data, "--per-class", "4", "--sweep", "0.5:1.0:0.25", "--out", out + "2"])
        #expect(try String(contentsOfFile: out + "/sweep.csv", encoding: .utf8) == String(contentsOfFile: out + "2/sweep.csv", encoding: .utf8))
    }

    @Test func evalErrors() throws {
        #expect(failure(["eval", "--model", model])?.contains("names no classifier") == true)
        #expect(failure(["eval", "--model", model, "--classifier", "/nope.safetensors"])?.contains("classifier not found") == true)
        #expect(failure(["eval", "--model", model, "--sweep", "2:1:0.1"])?.contains("--sweep must be START:STOP:STEP") == true)
        #expect(failure(["eval", "--model", model, "--per-class", "0"])?.contains("--per-class must be between") == true)
    }
}

/// Issue 10 A2 and A4 in the CLI: a non-finite output exits non-zero and writes nothing; an
/// omitted truncation is untruncated.
@Suite struct CLISamplingSemanticsTests {
    @Test func nonFiniteOutputFailsAndWritesNothing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("biggan-cli-nan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var cfg = ModelConfig.biggan(resolution: 32, ch: 2, dimZ: 8, sharedDim: 4, nClasses: 3, hier: true, attention: [16])!
        cfg.classNames = ["cat", "dog", "bird"]
        let weights = RandomWeights(seed: 3, scale: 1e20)
        _ = try GeneratorLoader.build(config: cfg, weights: weights)
        let model = dir.appendingPathComponent("overflow.safetensors").path
        try GeneratorLoader.save(config: cfg, tensors: weights.generated, to: model)
        let out = dir.appendingPathComponent("x.png").path
        do {
            var cmd = try BigGANCommand.parseAsRoot(["sample", "--model", model, "--class", "0", "--seed", "1", "--out", out])
            try cmd.run()
            Issue.record("a non-finite sample was written")
        } catch let e as NonFiniteOutputError {
            #expect(e.description.contains("non-finite"))
            #expect(BigGANCommand.exitCode(for: e).rawValue != 0)
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func omittedTruncationMatchesNone() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("biggan-cli-t-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("m.safetensors").path
        var cfg = ModelConfig.biggan(resolution: 32, ch: 2, dimZ: 8, sharedDim: 4, nClasses: 3, hier: true, attention: [16])!
        cfg.classNames = ["cat", "dog", "bird"]
        let (_, tensors) = try GeneratorLoader.random(config: cfg, seed: 1)
        try GeneratorLoader.save(config: cfg, tensors: tensors, to: model)
        func sample(_ extra: [String]) throws -> Data {
            let out = dir.appendingPathComponent("s\(extra.count).png").path
            var cmd = try BigGANCommand.parseAsRoot(["sample", "--model", model, "--class", "1", "--seed", "4", "--n", "4", "--out", out] + extra)
            try cmd.run()
            return try Data(contentsOf: URL(fileURLWithPath: out))
        }
        let omitted = try sample([]), none = try sample(["--truncation", "none"]), one = try sample(["--truncation", "1.0"])
        #expect(omitted == none)
        #expect(omitted != one)
    }
}
