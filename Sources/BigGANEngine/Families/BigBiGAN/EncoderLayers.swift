import Foundation

/// A pre-activation residual block (ResNet v2; He et al. 2016, "Identity mappings in deep residual
/// networks") in inference mode, on NHWC activations `[B, H, W, in]` → `[B, H', W', out]`:
///
/// ```
/// a   = relu(bn1(x))
/// r   = conv2(relu(bn2(conv1(a))))          conv1: 3×3, stride 2 when down by `.stride`
/// s   = conv_sc(a) if in ≠ out or down,     conv_sc: 1×1, stride 2 when down by `.stride`
///       else x
/// out = r + s, then 2×2 average pooling when down by `.avgpool`
/// ```
///
/// (pooling the sum equals pooling each branch: both are linear). BN uses stored running
/// statistics. bn2 + ReLU run as conv1's epilogue and the residual add as conv2's.
public struct PreActivationBlock: @unchecked Sendable {
    public let bn1: BatchNorm, conv1: Conv2D
    public let bn2: BatchNorm, conv2: Conv2D
    public let shortcut: Conv2D?
    /// Whether the block halves the resolution, and how.
    public let down: EncoderConfig.DownsamplingMethod?

    public init(bn1: BatchNorm, conv1: Conv2D, bn2: BatchNorm, conv2: Conv2D, shortcut: Conv2D?, down: EncoderConfig.DownsamplingMethod?) {
        self.bn1 = bn1; self.conv1 = conv1; self.bn2 = bn2; self.conv2 = conv2; self.shortcut = shortcut; self.down = down
    }

    /// Loads block `name` (`name.bn1`, `.conv1`, `.bn2`, `.conv2`, `.conv_sc`) for an input of
    /// `side × side`.
    static func load(_ name: String, _ spec: EncoderConfig.Block, downsample: EncoderConfig.DownsamplingMethod, side: Int, eps: Double,
                     from w: CountingSource) throws -> PreActivationBlock {
        let (i, o) = (spec.inChannels, spec.outChannels)
        let stride = spec.down && downsample == .stride ? 2 : 1
        let mid = stride == 2 ? side / 2 : side
        return PreActivationBlock(
            bn1: try w.batchNorm(name + ".bn1", channels: i, eps: eps),
            conv1: try w.conv(name + ".conv1", out: o, in: i, k: 3, side: side, stride: stride),
            bn2: try w.batchNorm(name + ".bn2", channels: o, eps: eps),
            conv2: try w.conv(name + ".conv2", out: o, in: o, k: 3, side: mid),
            shortcut: EncoderConfig.hasShortcut(spec) ? try w.conv(name + ".conv_sc", out: o, in: i, k: 1, side: side, stride: stride) : nil,
            down: spec.down ? downsample : nil)
    }

    /// `x` `[B, H, W, in]` → `[B, H', W', out]`. With `consuming` (and an identity shortcut) the
    /// result is written into `x`'s storage: pass it only for an `x` nothing reads afterwards.
    public func callAsFunction(_ x: Tensor, consuming: Bool = false) -> Tensor {
        let b = x.shape[0]
        let ss1 = bn1.scaleShift(batch: b, truncation: 1), ss2 = bn2.scaleShift(batch: b, truncation: 1)
        let a = profiledAffineReLU(x, ss1)
        let r = conv1.profiled(a, epilogue: .affineReLU(scale: ss2.scale, shift: ss2.shift))
        let s = shortcut.map { $0.profiled(a) } ?? (consuming ? x : x.copy())
        let out = conv2.profiled(r, epilogue: .accumulate(into: s))
        return down == .avgpool ? Profiler.measure("average pool 2x2") { avgPool2x2(out) } : out
    }
}

/// The encoder's head (BigBiGAN: "an MLP giving a Gaussian over z"): hidden layers
/// `Linear → ReLU`, then a linear layer to `2·z_dim` values: the first `z_dim` are `z_mean`, the
/// rest σ's parameter, turned into σ by `sigma` (`softplus`: σ = log(1 + eˣ); `logvar`:
/// σ = exp(x / 2)).
public struct GaussianHead: @unchecked Sendable {
    public let hidden: [Linear]
    public let output: Linear
    public let zDim: Int
    public let sigma: EncoderConfig.SigmaParameterisation

    public init(hidden: [Linear], output: Linear, zDim: Int, sigma: EncoderConfig.SigmaParameterisation) {
        precondition(output.outFeatures == 2 * zDim)
        self.hidden = hidden; self.output = output; self.zDim = zDim; self.sigma = sigma
    }

    /// `features` `[B, F]` → `z_mean` and σ, `[B, z_dim]` each.
    public func callAsFunction(_ features: Tensor) -> (zMean: Tensor, sigma: Tensor) {
        var h = features
        for layer in hidden {
            h = layer(h)
            for k in 0..<h.count { let v = h.data[k]; h.data[k] = v < 0 ? 0 : v }   // NaN propagates
        }
        let y = output(h)
        let b = y.shape[0]
        let mean = Tensor(uninitializedShape: [b, zDim]), s = Tensor(uninitializedShape: [b, zDim])
        for i in 0..<b {
            let row = y.data + i * 2 * zDim
            (mean.data + i * zDim).update(from: row, count: zDim)
            for j in 0..<zDim { s.data[i * zDim + j] = Self.sigma(row[zDim + j], sigma) }
        }
        return (mean, s)
    }

    /// σ from its parameter `x`. Softplus as PyTorch computes it (threshold 20: x itself above),
    /// `log1p(exp(x))` below.
    @inline(__always) static func sigma(_ x: Float, _ p: EncoderConfig.SigmaParameterisation) -> Float { p.sigma(x) }
}

/// Global average pooling: `[B, H, W, C]` → `[B, C]`, each channel's mean over its `H·W`
/// pixels, summed in pixel order in double precision.
public func globalAveragePool(_ x: Tensor) -> Tensor {
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let out = Tensor(uninitializedShape: [b, c])
    let n = h * w
    for i in 0..<b {
        var acc = [Double](repeating: 0, count: c)
        let src = x.data + i * n * c
        for p in 0..<n { for k in 0..<c { acc[k] += Double(src[p * c + k]) } }
        for k in 0..<c { out.data[i * c + k] = Float(acc[k] / Double(n)) }
    }
    return out
}
