/// BigBiGAN's encoder E (Donahue & Simonyan 2019) as specified by `EncoderConfig`: stem →
/// pre-activation residual blocks (`PreActivationBlock`) → BN → ReLU → global average pooling
/// (the features) → `GaussianHead` (`z_mean`, σ). Inference only: every BN uses its stored
/// running statistics. Activations are NHWC; weights are read in PyTorch layouts (convolutions
/// `[out, in, k, k]`, linear layers `[out, in]`) under the names of `EncoderConfig.tensorShapes`.
///
/// `scripts/bigbigan_ref.py` is the PyTorch reference of the same spec (parity: `BigBiGANParityTests`).
public final class BigBiGANEncoder: ImageEncoder, @unchecked Sendable {
    public let config: EncoderConfig
    public let encoderInfo: EncoderInfo
    let stem: Conv2D
    let blocks: [PreActivationBlock]
    let finalBN: BatchNorm
    let head: GaussianHead

    /// Reads the encoder's tensors from `weights` (names under `encoder.`).
    /// - Throws: `CheckpointError` for a missing or mis-shaped tensor.
    public convenience init(config: EncoderConfig, weights: WeightSource) throws {
        try self.init(config: config, counting: CountingSource(weights))
    }

    init(config c: EncoderConfig, counting w: CountingSource) throws {
        config = c
        let start = w.count
        stem = try w.conv("encoder.stem", out: c.stemChannels, in: c.inChannels, k: 3, side: c.resolution)
        blocks = try zip(c.blocks.indices, c.blockInputSides).map { i, side in
            try PreActivationBlock.load("encoder.blocks.\(i)", c.blocks[i], downsample: c.downsample, side: side, eps: c.bnEps, from: w)
        }
        finalBN = try w.batchNorm("encoder.bn", channels: c.featureWidth, eps: c.bnEps)
        var width = c.featureWidth
        var hidden: [Linear] = []
        for (i, m) in c.mlp.enumerated() {
            hidden.append(try w.linear("encoder.mlp.\(i)", out: m, in: width, bias: true))
            width = m
        }
        head = GaussianHead(hidden: hidden, output: try w.linear("encoder.head", out: 2 * c.zDim, in: width, bias: true),
                            zDim: c.zDim, sigma: c.sigma)
        encoderInfo = EncoderInfo(resolution: c.resolution, channels: c.inChannels, dimZ: c.zDim, featureWidth: c.featureWidth,
                                  sigma: c.sigma.rawValue, parameterCount: w.count - start)
    }

    /// `images` `[B, R, R, in_channels]` in [−1, 1] → `z_mean`, σ `[B, z_dim]` and the pooled
    /// features `[B, feature_width]`.
    public func encode(_ images: Tensor) -> EncoderOutput {
        let (r, ch) = (config.resolution, config.inChannels)
        precondition(images.shape.count == 4 && images.shape[1] == r && images.shape[2] == r && images.shape[3] == ch,
                     "the encoder takes [B, \(r), \(r), \(ch)], got \(images.shape)")
        let features = pooledFeatures(images)
        let (mean, sigma) = Profiler.measure("encoder head (MLP, sigma)") { head(features) }
        return EncoderOutput(zMean: mean, sigma: sigma, features: features)
    }

    /// The features alone: `[B, feature_width]` (for linear probes and neighbour search).
    public func pooledFeatures(_ images: Tensor) -> Tensor {
        var h = stem.profiled(images)
        for block in blocks { h = block(h, consuming: true) }
        let ss = finalBN.scaleShift(batch: h.shape[0], truncation: 1)
        let a = profiledAffineReLU(h, ss, inPlace: true)
        return Profiler.measure("global average pool") { globalAveragePool(a) }
    }
}
