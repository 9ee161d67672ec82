import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANServer

/// Hostile model and classifier configurations (issue 10, B1): every one is refused with a
/// `CheckpointError` naming the file, never a trap, and one bad file never stops the others.
@Suite struct HostileConfigTests {
    static let root = TestPaths.repositoryRoot

    /// `(file name, metadata[key])` of every committed checkpoint holding `key`.
    /// The `key` metadata of every committed checkpoint, of the BigGAN families unless
    /// `architectures` names others.
    static func committedConfigs(_ key: String, architectures: Set<String> = ["biggan", "biggan-deep"]) throws -> [(String, String)] {
        let dirs = [root.appendingPathComponent("Tests/Fixtures"), root.appendingPathComponent("Models")]
        var out: [(String, String)] = []
        for dir in dirs {
            for f in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where f.hasSuffix(".safetensors") {
                guard let json = try SafeTensorsFile(path: dir.appendingPathComponent(f).path).metadata[key] else { continue }
                let architecture = (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["architecture"] as? String
                if key != "config" || architectures.contains(architecture ?? "") { out.append((f, json)) }
            }
        }
        return out
    }

    /// A config whose 63 upsampling blocks double 4 past `Int.max` (used to trap in `blockResolutions`).
    static var overflowConfig: ModelConfig {
        var c = TestServer.tinyConfig
        c.blocks = Array(repeating: .init(8, 8, up: true), count: 63)
        c.attention = []
        return c
    }

    @Test func overflowingBlockListIsRefused() {
        #expect(Self.overflowConfig.blockResolutions.last == Int.max)
        #expect(throws: CheckpointError.self) { try Self.overflowConfig.validate(file: "x") }
        var c = Self.overflowConfig
        c.blocks = Array(c.blocks.prefix(12))   // 4 · 2^12 = 16384 > 4096
        do { try c.validate(file: "x.safetensors"); Issue.record("validated") } catch let e as CheckpointError {
            #expect(e.description.contains("x.safetensors: config: block 10 upsamples past the largest resolution 4096"), "\(e)")
        } catch { Issue.record("\(error)") }
    }

    @Test func realArchitecturesStayValid() throws {
        // dim_z as released (hierarchical z needs it divisible by blocks + 1): 120, 140 at 256, 128 at 512.
        let dimZ = [32: 120, 64: 120, 128: 120, 256: 140, 512: 128]
        for r in [32, 64, 128, 256, 512] {
            try ModelConfig.biggan(resolution: r, dimZ: dimZ[r]!, attention: r >= 64 ? [64] : [])!.validate(file: "biggan-\(r)")
        }
        for r in [128, 256, 512] { try ModelConfig.bigganDeep(resolution: r)!.validate(file: "deep-\(r)") }
        // The largest real checkpoints are far inside the limits.
        let big = ModelConfig.biggan(resolution: 512, dimZ: 128)!, deep = ModelConfig.bigganDeep(resolution: 512)!
        for c in [big, deep] {
            #expect(c.storedScalarCount! < ConfigLimits.maxParameters / 8)
            #expect(c.peakActivationElements! < ConfigLimits.maxActivationElements / 4)
        }
        try ModelConfig.fashionMNIST32().validate(file: "fmnist")
        for (name, json) in try Self.committedConfigs("config") { try ModelConfig.decode(json: json, file: name).validate(file: name) }
    }

    /// The analytic count (used to bound a model before it is built) is the built model's.
    @Test func storedScalarCountMatchesBuiltModels() throws {
        var configs = try Self.committedConfigs("config").map { try ModelConfig.decode(json: $0.1, file: $0.0) }
        configs.append(ModelConfig.bigganDeep(resolution: 128, ch: 4, dimZ: 8, sharedDim: 8, nClasses: 3, attention: [64])!)
        for c in configs {
            let g = try GeneratorLoader.build(config: c, weights: RandomWeights(seed: 2))
            #expect(c.storedScalarCount == g.parameterCount, "\(c.architecture) \(c.resolution)")
        }
    }

    @Test func mutatedModelConfigsDecodeValidateAndBuildOrThrow() throws {
        let bases = try Self.committedConfigs("config")
        #expect(bases.count >= 5)
        var refused = 0, valid = 0, built = 0
        for (k, (name, json)) in bases.enumerated() {
            var m = JSONMutator(seed: UInt64(k + 1))
            for _ in 0..<1500 {
                let text = m.mutated(json)
                do {
                    let c = try ModelConfig.decode(json: text, file: name)
                    try c.validate(file: name)
                    valid += 1
                    let n = try #require(c.storedScalarCount)
                    #expect(n <= ConfigLimits.maxParameters)
                    if n < 300_000 {
                        let g = try GeneratorLoader.build(config: c, weights: RandomWeights(seed: 3), file: name)
                        #expect(g.parameterCount == n)
                        built += 1
                    }
                } catch let e as CheckpointError {
                    #expect(e.file == name)
                    refused += 1
                }
            }
        }
        #expect(refused > 1000 && valid > 20 && built > 10, "refused \(refused), valid \(valid), built \(built)")
    }

    /// StyleGAN configs, mutated: each decodes, validates and builds (when small) or is refused
    /// with a `CheckpointError` naming the file; never a crash, and the analytic count is exact.
    @Test func mutatedStyleGANConfigsDecodeValidateAndBuildOrThrow() throws {
        let bases = try Self.committedConfigs("config", architectures: ["stylegan"])
        #expect(bases.count >= 2)
        var refused = 0, built = 0
        for (k, (name, json)) in bases.enumerated() {
            var m = JSONMutator(seed: UInt64(200 + k))
            for _ in 0..<1500 {
                let text = m.mutated(json)
                do {
                    let c: StyleGANConfig
                    do { c = try JSONDecoder().decode(StyleGANConfig.self, from: Data(text.utf8)) } catch { refused += 1; continue }
                    try c.validate(file: name)
                    #expect(c.storedScalarCount <= ConfigLimits.maxParameters)
                    if c.storedScalarCount < 300_000, c.architecture == "stylegan" {
                        let g = try GeneratorLoader.build(configJSON: text, weights: RandomWeights(seed: 4), file: name)
                        #expect(g.parameterCount == c.storedScalarCount)
                        built += 1
                    }
                } catch let e as CheckpointError {
                    #expect(e.file == name)
                    refused += 1
                }
            }
        }
        #expect(refused > 500 && built > 50, "refused \(refused), built \(built)")
    }

    @Test func mutatedClassifierConfigsValidateAndBuildOrThrow() throws {
        var bases = try Self.committedConfigs("classifier_config")
        let small = ClassifierConfig(resolution: 32, inChannels: 3, channels: [4, 8], featureDim: 8, classNames: ["a", "b", "c"])
        bases.append(("small.safetensors", small.jsonStringForHash))
        var refused = 0, built = 0
        for (k, (name, json)) in bases.enumerated() {
            var m = JSONMutator(seed: UInt64(100 + k))
            for _ in 0..<1500 {
                do {
                    let c: ClassifierConfig
                    do { c = try JSONDecoder().decode(ClassifierConfig.self, from: Data(m.mutated(json).utf8)) } catch { refused += 1; continue }
                    try c.validate(file: name)
                    let shapes = c.tensorShapes
                    guard shapes.reduce(0, { $0 + $1.1.reduce(1, *) }) < 300_000 else { continue }
                    var tensors: [String: Tensor] = [:]
                    for (i, (t, shape)) in shapes.enumerated() { tensors[t] = randomTensor(shape, seed: UInt64(i)) }
                    _ = try Classifier(config: c, tensors: tensors, file: name)
                    built += 1
                } catch let e as CheckpointError {
                    #expect(e.file == name)
                    refused += 1
                }
            }
        }
        #expect(refused > 500 && built > 20, "refused \(refused), built \(built)")
    }

    @Test func registrySkipsAndNamesTheOverflowingCheckpoint() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("biggan-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try TestServer.writeTinyModel(to: dir.appendingPathComponent("good.safetensors").path)
        try SafeTensorsWriter.write([], metadata: ["config": Self.overflowConfig.jsonString()], to: dir.appendingPathComponent("a-overflow.safetensors").path)
        var hostileClassifier = ClassifierConfig(resolution: 32, inChannels: 1, classNames: ["a", "b"])
        hostileClassifier.channels = Array(repeating: 8, count: 64)   // 1 << 64 == 0: used to divide by zero
        try SafeTensorsWriter.write([], metadata: ["classifier_config": hostileClassifier.jsonStringForHash],
                                    to: dir.appendingPathComponent("b-classifier.safetensors").path)
        #expect(throws: CheckpointError.self) { try Classifier.load(path: dir.appendingPathComponent("b-classifier.safetensors").path) }
        let paths = ModelRegistry.checkpoints(in: dir.path)
        #expect(paths.map { ($0 as NSString).lastPathComponent } == ["a-overflow.safetensors", "good.safetensors"])
        let registry = ModelRegistry.load(paths: paths)
        #expect(registry.models.map(\.name) == ["good"])
        #expect(registry.failures.count == 1)
        #expect(registry.failures.first?.path.hasSuffix("a-overflow.safetensors") == true)
        #expect(registry.failures.first?.reason.contains("a-overflow.safetensors: config: block 10 upsamples past") == true,
                "\(registry.failures)")
    }
}

private func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = NoiseGenerator(seed: seed)
    let t = Tensor(shape: shape)
    for i in 0..<t.count { t[i] = rng.nextNormal() * 0.1 }
    return t
}
