import BigGANEngine

/// A family added from outside the engine, the way a new one is added: this folder plus one
/// registration (`GeneratorFamilies.register`). An unconditional BigGAN is BigGAN's generator with
/// one class whose embedding is always used, declared unconditional, so that requests never name
/// a class. Its config is BigGAN's with `architecture: "biggan-unconditional"` and `n_classes: 1`.
enum UnconditionalBigGANFamily: GeneratorFamily {
    static let architecture = "biggan-unconditional"

    static func build(configJSON: String, weights: WeightSource, file: String) throws -> any Generator {
        var config = try ModelConfig.decode(json: configJSON, file: file)
        guard config.nClasses == 1 else {
            throw CheckpointError(file: file, "config: an unconditional BigGAN has n_classes 1, not \(config.nClasses)")
        }
        config.architecture = .biggan
        let inner = try BigGANFamily.build(configJSON: config.jsonString(), weights: weights, file: file)
        return UnconditionalGenerator(inner: inner, configJSON: configJSON)
    }
}

/// `inner` with its one class fixed and the capabilities of an unconditional model.
final class UnconditionalGenerator: Generator {
    let inner: any Generator
    let info: ModelInfo

    init(inner: any Generator, configJSON: String) {
        self.inner = inner
        var i = inner.info
        i.architecture = UnconditionalBigGANFamily.architecture
        i.configJSON = configJSON
        info = i
    }

    var capabilities: ModelCapabilities {
        var c = inner.capabilities
        c.conditional = false
        return c
    }
    var parameterCount: Int { inner.parameterCount }
    var macsPerImage: Int { inner.macsPerImage }
    func latent(seed: UInt64, truncation: Double?) -> [Float] { inner.latent(seed: seed, truncation: truncation) }
    func conditioning(forClass index: Int) -> [Float] { inner.conditioning(forClass: 0) }
    func batchKey(truncation: Double?) -> String { inner.batchKey(truncation: truncation) }
    func forward(z: Tensor, conditioning: Tensor, truncation: Double?) -> Tensor {
        inner.forward(z: z, conditioning: conditioning, truncation: truncation)
    }
}
