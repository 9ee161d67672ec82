/// Encoding and reconstruction (BigBiGAN): `x → E(x)` and `x → G(E(x))`, for models whose
/// generator has an encoder (`Generator.imageEncoder`). Images are preprocessed by the caller
/// (`ImagePreprocessing` in BigGANImage) to the encoder's resolution and channels.
extension Sampler {
    /// Which latent of the encoder's Gaussian a reconstruction decodes.
    public enum ReconstructionLatent: Sendable, Equatable {
        /// `z_mean` (deterministic; the default).
        case mean
        /// `z_mean + σ·ε`, ε from `seed` (image `i` of a batch uses `seed + i`; see `EncoderOutput.zSample`).
        case sample(seed: UInt64)

        /// The latent of image `i` of `output`.
        public func latent(_ output: EncoderOutput, _ i: Int) -> [Float] {
            switch self {
            case .mean: return output.zMean(i)
            case .sample(let seed): return output.zSample(i, seed: seed &+ UInt64(i))
            }
        }
    }

    /// The model's encoder.
    /// - Throws: `SamplingError` (parameter `model`) when the model has none.
    public func encoder() throws -> any ImageEncoder {
        guard let e = generator.imageEncoder else {
            throw SamplingError(parameter: "model", "this model (\(info.architecture)) has no encoder; encoding needs a bigbigan model")
        }
        return e
    }

    /// Checks a reconstruction of `count` images of class `cls` (nil for unconditional models)
    /// and builds its batch with placeholder latents (`run(reconstruction:…)` fills them in), on
    /// the request's thread, before any compute.
    /// - Throws: `SamplingError`: no encoder; a class missing, refused or out of range.
    public func prepareReconstruction(class cls: Int?, count: Int) throws -> PreparedBatch {
        _ = try encoder()
        let zero = [Float](repeating: 0, count: info.dimZ)
        return try prepare(GenerationRequest(.samples(classes: cls.map { [$0] } ?? [], latents: .explicit(Array(repeating: zero, count: count))),
                                             truncation: nil))
    }

    /// `E(images)`: `images` `[B, R, R, C]` in [−1, 1] at the encoder's resolution and channels.
    /// - Throws: as `encoder()`; `NonFiniteOutputError` when an output holds NaN or infinity.
    public func encode(_ images: Tensor) throws -> EncoderOutput {
        let out = try encoder().encode(images)
        for t in [out.zMean, out.sigma, out.features] { _ = try finite(t.reshaped([t.shape[0], 1, 1, t.shape[1]])) }
        return out
    }

    /// `G(z)` with `z` from `E(images)` (`latent`), conditioned as `template`
    /// (`prepareReconstruction`). Returns the encoding, the latents used and the images
    /// `[B, R_G, R_G, C_G]` in [−1, 1].
    /// - Throws: as `encode`; `NonFiniteOutputError` when the generator overflows.
    public func reconstruct(_ images: Tensor, latent: ReconstructionLatent, template: PreparedBatch) throws
        -> (encoding: EncoderOutput, latents: [[Float]], images: Tensor) {
        let encoding = try encode(images)
        precondition(template.count == images.shape[0], "template for \(template.count) images, \(images.shape[0]) given")
        var batch = template
        batch.latents = (0..<images.shape[0]).map { latent.latent(encoding, $0) }
        return (encoding, batch.latents, try finite(run(batch)))
    }
}
