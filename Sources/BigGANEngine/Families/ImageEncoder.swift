/// An encoder: images → a Gaussian over the generator's latent z and a pooled feature vector
/// (BigBiGAN's E). A generator that has one declares `ModelCapabilities.encoder` and conforms to
/// `EncodingGenerator`; routes and the CLI reach it through `Generator.imageEncoder`.
public protocol ImageEncoder: AnyObject, Sendable {
    /// What the encoder takes and gives.
    var encoderInfo: EncoderInfo { get }
    /// `images`: `[B, R, R, C]` NHWC in [−1, 1], with `R` and `C` from `encoderInfo`.
    func encode(_ images: Tensor) -> EncoderOutput
}

/// The shapes of an encoder's input and outputs (shown in `/v1/models` as `encoder`).
public struct EncoderInfo: Sendable, Equatable {
    /// Input images are `resolution × resolution × channels`.
    public var resolution: Int
    public var channels: Int
    /// Width of `z_mean` and σ (the generator's `dim_z`).
    public var dimZ: Int
    /// Width of the pooled features.
    public var featureWidth: Int
    /// `softplus` or `logvar` (see `EncoderConfig.SigmaParameterisation`).
    public var sigma: String
    /// Number of stored scalars of the encoder alone.
    public var parameterCount: Int

    public init(resolution: Int, channels: Int, dimZ: Int, featureWidth: Int, sigma: String, parameterCount: Int) {
        self.resolution = resolution; self.channels = channels; self.dimZ = dimZ; self.featureWidth = featureWidth
        self.sigma = sigma; self.parameterCount = parameterCount
    }
}

/// What an encoder gives for a batch of `B` images.
public struct EncoderOutput: @unchecked Sendable {
    /// The posterior mean `[B, dim_z]` (TF-Hub's `z_mean`).
    public let zMean: Tensor
    /// The posterior standard deviation `[B, dim_z]`, positive.
    public let sigma: Tensor
    /// Globally average-pooled features of the last block after its BN + ReLU, `[B, feature_width]`
    /// (TF-Hub's `avepool_feat`).
    public let features: Tensor

    public init(zMean: Tensor, sigma: Tensor, features: Tensor) { self.zMean = zMean; self.sigma = sigma; self.features = features }

    /// Row `i` of `zMean`.
    public func zMean(_ i: Int) -> [Float] { row(zMean, i) }
    /// Row `i` of `sigma`.
    public func sigma(_ i: Int) -> [Float] { row(sigma, i) }
    /// Row `i` of `features`.
    public func features(_ i: Int) -> [Float] { row(features, i) }

    /// The reparameterised sample of image `i`: `z_mean + σ · ε` with ε the standard normal draws
    /// of `seed` (`Truncation.latent(seed:…, truncation: nil)`: the same ε as the untruncated z
    /// of that seed, so the same image, seed and model give the same z on every machine).
    public func zSample(_ i: Int, seed: UInt64) -> [Float] {
        let mu = zMean(i), s = sigma(i)
        let eps = Truncation.latent(seed: seed, dim: mu.count, truncation: nil, convention: .resample)
        return (0..<mu.count).map { mu[$0] + s[$0] * eps[$0] }
    }

    private func row(_ t: Tensor, _ i: Int) -> [Float] {
        let w = t.shape[1]
        return Array(UnsafeBufferPointer(start: t.data + i * w, count: w))
    }
}

/// A generator with an encoder (BigBiGAN).
public protocol EncodingGenerator: Generator {
    var encoder: any ImageEncoder { get }
}

extension Generator {
    /// This model's encoder, or nil for a family without one.
    public var imageEncoder: (any ImageEncoder)? { (self as? any EncodingGenerator)?.encoder }
}
