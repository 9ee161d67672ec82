import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANServer

/// Hostile `bigbigan` configs (issue 15, with issue 10's rules): each is refused with a
/// `CheckpointError` naming the file and the field, never a trap; valid mutations build.
@Suite struct HostileBigBiGANConfigTests {
    static let bases = try! HostileConfigTests.committedConfigs("config", architectures: ["bigbigan"])

    /// Stored scalars of a valid config: the generator's and the encoder's tensors.
    static func storedScalars(_ c: BigBiGANConfig) -> Int? {
        guard let g = c.generator.storedScalarCount else { return nil }
        return g + c.encoder.tensorShapes.reduce(0) { $0 + $1.1.reduce(1, *) }
    }

    @Test func committedConfigsValidate() throws {
        #expect(Self.bases.count == 2)
        for (name, json) in Self.bases { try BigBiGANConfig.decode(json: json, file: name).validate(file: name) }
    }

    /// The grey fixture's encoder with `key` set to the JSON `value`.
    @Test(arguments: [
        ("z_dim", "7", "encoder.z_dim 7 must equal the generator's dim_z 20"),
        ("blocks", #"[{"in":8,"out":16,"down":true},{"in":5,"out":16,"down":false}]"#, "encoder.blocks[1].in 5 must equal the previous block's out 16"),
        ("resolution", "6", "encoder.blocks[2] downsamples a 3×3 map"),
        ("in_channels", "9", "encoder.in_channels 9 out of range 1...4"),
        ("mlp", "[0]", "encoder.mlp[0] 0 out of range"),
        ("bn_eps", "0", "encoder.bn_eps must be in (0, 1)"),
        ("stem_channels", "1099511627776", "encoder.stem_channels 1099511627776 out of range"),
        ("blocks", "[" + Array(repeating: #"{"in":8,"out":8,"down":false}"#, count: 65).joined(separator: ",") + "]", "encoder.blocks (count) 65 out of range"),
        ("resolution", "4097", "encoder.resolution 4097 out of range"),
    ])
    func encoderFieldsAreNamed(key: String, value: String, message: String) throws {
        let (name, json) = Self.bases.first { $0.0 == "bigbigan-32-grey.safetensors" }!
        var config = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        var encoder = config["encoder"] as! [String: Any]
        encoder[key] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: [.fragmentsAllowed])
        config["encoder"] = encoder
        let text = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        do { _ = try GeneratorLoader.build(configJSON: text, weights: RandomWeights(seed: 1), file: name); Issue.record("\(key): built") }
        catch let e as CheckpointError { #expect(e.file == name && e.description.contains(message), "\(key): \(e)") }
    }

    @Test func activationLimitIsNamed() throws {
        let g = try BigBiGANConfig.decode(json: Self.bases[0].1, file: "x").generator
        let e = EncoderConfig(resolution: 4096, inChannels: 1, stemChannels: 16384, blocks: [], mlp: [], zDim: g.dimZ)
        #expect(throws: CheckpointError.self) { try BigBiGANConfig(generator: g, encoder: e).validate(file: "x") }
        do { try e.validate(file: "x", generatorDimZ: g.dimZ) } catch { #expect("\(error)".contains("encoder.resolution: activations of 4096² × 16384 channels exceed")) }
    }

    @Test(arguments: [
        (#""sigma":"softplus""#, #""sigma":"exp""#, "encoder.sigma"),
        (#""downsample":"avgpool""#, #""downsample":"maxpool""#, "encoder.downsample"),
        (#""z_dim":20"#, #""z_dim":"twenty""#, "wrong type at 'encoder.z_dim'"),
        (#""stem_channels":8,"#, "", "missing field 'encoder.stem_channels'"),
        (#""architecture":"biggan""#, #""architecture":"stylegan""#, "generator.architecture 'stylegan' is not a BigGAN family"),
        (#""n_classes":3"#, #""n_classes":0"#, "config: generator: n_classes 0 out of range"),
    ])
    func decodingErrorsNameTheField(from: String, to: String, message: String) throws {
        let (name, json) = Self.bases.first { $0.0 == "bigbigan-32-grey.safetensors" }!
        let compact = String(decoding: try JSONSerialization.data(withJSONObject: try JSONSerialization.jsonObject(with: Data(json.utf8)), options: [.sortedKeys]), as: UTF8.self)
        #expect(compact.contains(from), "fixture config changed: \(compact)")
        do { _ = try GeneratorLoader.build(configJSON: compact.replacingOccurrences(of: from, with: to), weights: RandomWeights(seed: 1), file: name); Issue.record("built") }
        catch let e as CheckpointError { #expect(e.file == name && e.description.contains(message), "\(e)") }
    }

    @Test func mutatedConfigsDecodeValidateAndBuildOrThrow() throws {
        var refused = 0, built = 0
        for (k, (name, json)) in Self.bases.enumerated() {
            var m = JSONMutator(seed: UInt64(300 + k))
            for _ in 0..<1500 {
                let text = m.mutated(json)
                do {
                    let c = try BigBiGANConfig.decode(json: text, file: name)
                    try c.validate(file: name)
                    let n = try #require(Self.storedScalars(c))
                    #expect(n <= 2 * ConfigLimits.maxParameters)
                    if n < 300_000 {
                        let g = try GeneratorLoader.build(configJSON: text, weights: RandomWeights(seed: 5), file: name)
                        #expect(g.parameterCount == n)
                        built += 1
                    }
                } catch let e as CheckpointError {
                    #expect(e.file == name)
                    refused += 1
                }
            }
        }
        #expect(refused > 500 && built > 15, "refused \(refused), built \(built)")
    }

    @Test func registrySkipsAndNamesABadBigBiGANFile() throws {
        let dir = temporaryDirectory("biggan-hostile-bbg")
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.safetensors").path
        try FileManager.default.copyItem(atPath: TestPaths.fixture("bigbigan-32-rgb.safetensors"), toPath: good)
        let file = try SafeTensorsFile(path: good)
        // The encoder's head tensor missing.
        let tensors = try file.entries.keys.sorted().filter { $0 != "encoder.head.bias" }.map { ($0, try file.tensor($0)) }
        try SafeTensorsWriter.write(tensors, metadata: file.metadata, to: dir.appendingPathComponent("a-missing.safetensors").path)
        let registry = ModelRegistry.load(paths: ModelRegistry.checkpoints(in: dir.path))
        #expect(registry.models.map(\.name) == ["good"])
        #expect(registry.failures.first?.reason.contains("a-missing.safetensors: tensor 'encoder.head.bias': missing tensor") == true, "\(registry.failures)")
    }
}
