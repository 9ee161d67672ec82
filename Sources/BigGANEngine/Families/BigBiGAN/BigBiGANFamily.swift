import Foundation

/// Registry entry of the `bigbigan` family (BigBiGAN, Donahue & Simonyan 2019): a BigGAN-family
/// generator plus an encoder (`BigBiGANConfig`). The generator is built by its own family from
/// the nested `generator` config, so sampling, truncation and every route behave exactly as for
/// a plain BigGAN checkpoint; the encoder is `BigBiGANEncoder`.
public enum BigBiGANFamily: GeneratorFamily {
    public static let architecture = "bigbigan"
    /// The generator families a `bigbigan` checkpoint may hold.
    public static let generatorArchitectures = ["biggan", "biggan-deep"]

    public static func build(configJSON: String, weights: WeightSource, file: String) throws -> any Generator {
        let config = try BigBiGANConfig.decode(json: configJSON, file: file)
        try config.validate(file: file)
        return try BigBiGANModel(config: config, weights: weights, file: file)
    }
}

/// A `bigbigan` model: its generator (any BigGAN family, unconditional when it has one class)
/// and its encoder. Generation is delegated to the generator unchanged.
public final class BigBiGANModel: EncodingGenerator, BigGANFamilyGenerator, @unchecked Sendable {
    public let bigbiganConfig: BigBiGANConfig
    public let generator: any Generator
    public let encoder: any ImageEncoder
    public let info: ModelInfo
    public let parameterCount: Int

    /// The generator's config (what training, export and `bigganConfig` read).
    public var config: ModelConfig { bigbiganConfig.generator }

    init(config: BigBiGANConfig, weights: WeightSource, file: String) throws {
        bigbiganConfig = config
        generator = try GeneratorLoader.build(config: config.generator, weights: weights, file: file)
        let e = try BigBiGANEncoder(config: config.encoder, weights: weights)
        encoder = e
        var i = generator.info
        i.architecture = BigBiGANFamily.architecture
        i.configJSON = config.jsonString()
        info = i
        parameterCount = generator.parameterCount + e.encoderInfo.parameterCount
    }

    /// The generator's, unconditional when it has one class, with an encoder.
    public var capabilities: ModelCapabilities {
        var c = generator.capabilities
        c.conditional = bigbiganConfig.conditional
        c.encoder = true
        return c
    }
    /// The generator's (the encoder does not run when sampling).
    public var macsPerImage: Int { generator.macsPerImage }
    public func latent(seed: UInt64, truncation: Double?) -> [Float] { generator.latent(seed: seed, truncation: truncation) }
    /// Class `index`'s conditioning; class 0's (the one embedding row) when unconditional.
    public func conditioning(forClass index: Int) -> [Float] { generator.conditioning(forClass: bigbiganConfig.conditional ? index : 0) }
    public func batchKey(truncation: Double?) -> String { generator.batchKey(truncation: truncation) }
    public func forward(z: Tensor, conditioning: Tensor, truncation: Double?) -> Tensor {
        generator.forward(z: z, conditioning: conditioning, truncation: truncation)
    }
}
