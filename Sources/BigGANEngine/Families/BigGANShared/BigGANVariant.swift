import Foundation

/// What each BigGAN family (`biggan`, `biggan-deep`) adds to the shared `ModelConfig`: its
/// conditioning width, its extra config rules, the tensors it stores, its cost and its generator.
/// Implemented once per family folder; `ModelConfig` reaches it through the registry.
protocol BigGANVariant: GeneratorFamily {
    /// Width of the conditioning vector every conditional BN reads (saturating: the config may
    /// not be validated yet).
    static func conditioningWidth(_ c: ModelConfig) -> Int
    /// Rules beyond the shared ones; `fail` makes the error (it names the file).
    static func validate(_ c: ModelConfig, fail: (String) -> CheckpointError) throws
    /// Adds every tensor the generator requests, in the shapes it requests them (`c` validated
    /// up to its products; `blocks` not empty).
    static func tallyStoredScalars(_ c: ModelConfig, _ t: inout SizeTally)
    /// Nominal multiply-adds of one image (see `Generator.macsPerImage`).
    static func macsPerImage(_ c: ModelConfig) -> Int
    /// The generator for a validated `c`.
    static func makeGenerator(_ c: ModelConfig, weights: WeightSource) throws -> any Generator
}

extension BigGANVariant {
    /// Decodes and validates the shared config, then builds this family's generator.
    static func buildVariant(configJSON: String, weights: WeightSource, file: String) throws -> any Generator {
        let c = try ModelConfig.decode(json: configJSON, file: file)
        try c.validate(file: file)
        return try makeGenerator(c, weights: weights)
    }

    /// Multiply-adds of self-attention over `n` pixels of `c` channels (θ, φ, g, o projections;
    /// the 2×2-pooled φ and g, as in the reference).
    static func attentionMacs(pixels n: Int, channels c: Int) -> Int {
        let c8 = c / 8, c2 = c / 2
        return n * c * (2 * c8 + c2) + n * (n / 4) * (c8 + c2) + n * c2 * c
    }
}

extension ModelConfig {
    /// The capabilities every BigGAN family shares: class-conditional, z only, the config's
    /// truncation convention, no encoder.
    var bigganCapabilities: ModelCapabilities {
        ModelCapabilities(conditional: true, latentSpaces: [.z], truncation: truncation.rule, encoder: false)
    }
}

extension GeneratorLoader {
    /// Builds a BigGAN-family generator for `config` from any weight source.
    public static func build(config: ModelConfig, weights: WeightSource, file: String = "<random>") throws -> any Generator {
        try build(configJSON: config.jsonString(), weights: weights, file: file)
    }

    /// A BigGAN-family generator with seeded random weights, and its tensors (for saving).
    public static func random(config: ModelConfig, seed: UInt64 = 0) throws -> (any Generator, [(String, Tensor)]) {
        try random(configJSON: config.jsonString(), seed: seed)
    }

    /// Writes `tensors` with `config` as a checkpoint.
    public static func save(config: ModelConfig, tensors: [(String, Tensor)], to path: String) throws {
        try save(configJSON: config.jsonString(), tensors: tensors, to: path)
    }
}

/// A generator of a BigGAN family (`BigGANGenerator`, `BigGANDeepGenerator`): its shared config.
public protocol BigGANFamilyGenerator: Generator {
    var config: ModelConfig { get }
}

extension BigGANFamilyGenerator {
    /// Class-conditional, z only, the config's truncation convention, no encoder.
    public var capabilities: ModelCapabilities { config.bigganCapabilities }
    public var macsPerImage: Int { config.macsPerImage }

    /// `Truncation.latent` under the config's convention.
    public func latent(seed: UInt64, truncation: Double?) -> [Float] {
        Truncation.latent(seed: seed, dim: config.dimZ, truncation: truncation, convention: config.truncation)
    }
}

extension Generator {
    /// The BigGAN-family config of this generator, or nil for another family (training, export
    /// and tests read it; serving reads `info` and `capabilities`).
    public var bigganConfig: ModelConfig? { (self as? any BigGANFamilyGenerator)?.config }
}
