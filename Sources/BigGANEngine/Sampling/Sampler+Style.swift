import Foundation

/// The parts of `Sampler.prepare` that style options and seed modes add: checking a request's
/// style options against the model, drawing z under the request's seed mode, and the noise seed
/// of an explicit latent.
extension Sampler {
    /// The request's style options with the model's defaults (nil for a model without style
    /// controls, which must then be given none).
    /// - Throws: `SamplingError` naming the first style parameter a model without style
    ///   controls was given (`psi`, `cutoff`, `noise_mode`, `truncation_target`, `seed_mode`), or the
    ///   parameter `StyleCapabilities.resolve` refuses.
    func resolveStyle(_ request: GenerationRequest) throws -> ResolvedStyle? {
        guard let style = generator.capabilities.style else {
            let given = (request.truncationParameter == "psi" ? ["psi"] : []) + request.style.givenParameters
                + (request.seedMode == .numpy ? ["seed_mode"] : [])
            if let first = given.first {
                throw SamplingError(parameter: first, "'\(first)' is a StyleGAN option; \(info.architecture) models do not take it")
            }
            return nil
        }
        return try style.resolve(request.style)
    }

    /// z for `seed` under the request's seed mode: the family's draw (`Generator.latent`), or
    /// NumPy's legacy `RandomState(seed).randn(dim_z)`.
    /// - Throws: `SamplingError` naming `parameter` for a NumPy seed of 2^32 or more.
    func latent(seed: UInt64, _ request: GenerationRequest, parameter: String) throws -> [Float] {
        switch request.seedMode {
        case .engine:
            return generator.latent(seed: seed, truncation: request.truncation)
        case .numpy:
            guard let s = UInt32(exactly: seed) else {
                throw SamplingError(parameter: parameter, "'\(parameter)': seed_mode=numpy takes seeds below 2^32 (NumPy's limit), got \(seed)")
            }
            return NumPyRandomState.randn(seed: s, count: info.dimZ).map(Float.init)
        }
    }

    /// The noise seed of an explicit latent: FNV-1a over its values' bit patterns, so the same z
    /// gets the same random noise maps.
    static func noiseSeed(latent z: [Float]) -> UInt64 {
        var h = FNV1a()
        for v in z { withUnsafeBytes(of: v.bitPattern.littleEndian) { h.mix($0) } }
        return h.value
    }
}
