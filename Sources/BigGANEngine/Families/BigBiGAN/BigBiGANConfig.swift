import Foundation

/// The config of a `bigbigan` checkpoint: a BigGAN generator and an encoder
/// (`docs/CHECKPOINT_FORMAT.md`, "bigbigan"). Stored as JSON in `__metadata__["config"]`:
///
/// ```json
/// {"format_version": 1, "architecture": "bigbigan",
///  "generator": { …a complete `biggan` (or `biggan-deep`) config… },
///  "encoder": { …`EncoderConfig`… }}
/// ```
///
/// The generator's tensors keep their BigGAN names (`shared.weight`, `blocks.0.conv1.weight`, …),
/// so the generator part of the file is exactly a BigGAN checkpoint; the encoder's are under
/// `encoder.`. A generator with `n_classes` 1 is unconditional (requests name no class; BigBiGAN
/// as in the paper, whose released G keeps a single class-embedding row).
public struct BigBiGANConfig: Codable, Equatable, Sendable {
    public var formatVersion: Int
    public var architecture: String
    public var generator: ModelConfig
    public var encoder: EncoderConfig

    enum CodingKeys: String, CodingKey { case formatVersion = "format_version", architecture, generator, encoder }

    public init(generator: ModelConfig, encoder: EncoderConfig) {
        formatVersion = 1; architecture = BigBiGANFamily.architecture
        self.generator = generator; self.encoder = encoder
    }

    /// Whether requests name a class: the generator has more than one.
    public var conditional: Bool { generator.nClasses > 1 }

    public func jsonString() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: try! enc.encode(self), as: UTF8.self)
    }

    /// Decodes the config; a missing or mistyped field is a `CheckpointError` naming it
    /// (`generator.dim_z`, `encoder.sigma`, …).
    public static func decode(json: String, file: String) throws -> BigBiGANConfig {
        func path(_ ctx: DecodingError.Context, _ key: CodingKey? = nil) -> String {
            (ctx.codingPath + (key.map { [$0] } ?? [])).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        do { return try JSONDecoder().decode(BigBiGANConfig.self, from: Data(json.utf8)) }
        catch let DecodingError.keyNotFound(key, ctx) { throw CheckpointError(file: file, "config: missing field '\(path(ctx, key))'") }
        catch let DecodingError.typeMismatch(_, ctx) { throw CheckpointError(file: file, "config: wrong type at '\(path(ctx))'") }
        catch let DecodingError.valueNotFound(_, ctx) { throw CheckpointError(file: file, "config: null at '\(path(ctx))'") }
        catch let DecodingError.dataCorrupted(ctx) {
            throw CheckpointError(file: file, "config: invalid value at '\(path(ctx))': \(ctx.debugDescription)")
        }
        catch { throw CheckpointError(file: file, "config: \(error)") }
    }

    /// Refuses configs this engine cannot build, naming the field: the generator's rules
    /// (`ModelConfig.validate`, its family's included), then the encoder's (`EncoderConfig.validate`).
    /// - Throws: `CheckpointError` naming `file`.
    public func validate(file: String) throws {
        func fail(_ m: String) -> CheckpointError { CheckpointError(file: file, "config: " + m) }
        guard formatVersion == 1 else { throw fail("format_version \(formatVersion) is not supported (expected 1)") }
        guard architecture == BigBiGANFamily.architecture else { throw fail("architecture must be 'bigbigan'") }
        let g = generator.architecture.rawValue
        guard BigBiGANFamily.generatorArchitectures.contains(g) else {
            throw fail("generator.architecture \(Echo.quoted(g)) is not a BigGAN family; use "
                       + BigBiGANFamily.generatorArchitectures.joined(separator: " or "))
        }
        do { try generator.validate(file: file) }
        catch let e as CheckpointError {
            throw CheckpointError(file: file, tensor: e.tensor, e.reason.replacingOccurrences(of: "config: ", with: "config: generator: "))
        }
        try encoder.validate(file: file, generatorDimZ: generator.dimZ)
    }
}
