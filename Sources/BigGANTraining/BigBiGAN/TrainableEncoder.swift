import BigGANEngine
import Foundation

/// A trainable pre-activation residual block (ResNet v2), the training twin of the engine's
/// `PreActivationBlock` with 2×2 average-pooling downsampling:
///
///     a = relu(bn1(x));  r = conv2(relu(bn2(conv1(a))));  s = conv_sc(a) or x
///     out = r + s, average-pooled 2×2 when `down`
///
/// computed as `conv2` with its output pooled (`Resampling.averagePoolOutput`) plus
/// `conv_sc(pool(a))` (a 1×1 convolution commutes with pooling). `x` `[B, H, W, in]` NHWC →
/// `[B, H', W', out]`. Parameters under `<name>.bn1`, `.conv1`, `.bn2`, `.conv2`, `.conv_sc`.
public final class TrainablePreActivationBlock: ParameterContainer {
    let bn1: BatchNormLayer, conv1: ConvLayer, bn2: BatchNormLayer, conv2: ConvLayer
    let shortcut: ConvLayer?
    let down: Bool
    private var a: Tensor?, h2: Tensor?

    init(name: String, spec: EncoderConfig.Block, eps: Float) {
        let (i, o) = (spec.inChannels, spec.outChannels)
        down = spec.down
        bn1 = BatchNormLayer(name: name + ".bn1", channels: i, eps: eps)
        conv1 = ConvLayer(name: name + ".conv1", inChannels: i, outChannels: o, kernelSize: 3, spectralNorm: false)
        bn2 = BatchNormLayer(name: name + ".bn2", channels: o, eps: eps)
        conv2 = ConvLayer(name: name + ".conv2", inChannels: o, outChannels: o, kernelSize: 3, spectralNorm: false,
                          resampling: spec.down ? .averagePoolOutput : .none)
        shortcut = EncoderConfig.hasShortcut(spec) ? ConvLayer(name: name + ".conv_sc", inChannels: i, outChannels: o, kernelSize: 1, spectralNorm: false) : nil
    }

    public var parameters: [Parameter] { bn1.parameters + conv1.parameters + bn2.parameters + conv2.parameters + (shortcut?.parameters ?? []) }
    public var buffers: [Buffer] { bn1.buffers + bn2.buffers }
    public var spectralNorms: [SpectralNorm] { [] }

    func forward(_ x: Tensor, mode: Mode) -> Tensor {
        let a = Pointwise.relu(bn1.forward(x, mode: mode))
        let h2 = Pointwise.relu(bn2.forward(conv1.forward(a, mode: mode), mode: mode))
        let r = conv2.forward(h2, mode: mode)
        let s = shortcut.map { $0.forward(down ? Pointwise.averagePool(a) : a, mode: mode) } ?? x
        self.a = a; self.h2 = h2
        return adding(r, s)
    }

    /// `dx` for `dy` (the output's shape); accumulates every parameter gradient.
    func backward(_ dy: Tensor) -> Tensor {
        guard let a, let h2 else { preconditionFailure("encoder block: backward before forward") }
        let dh2 = conv2.backward(dy)!
        var da = conv1.backward(bn2.backward(Pointwise.reluBackward(dh2, output: h2)))!
        if let shortcut {
            let ds = shortcut.backward(dy)!
            da = adding(da, down ? Pointwise.averagePoolBackward(ds) : ds)
        }
        let dx = bn1.backward(Pointwise.reluBackward(da, output: a))
        return shortcut == nil ? adding(dx, dy) : dx
    }
}

/// BigBiGAN's encoder E in training (Donahue & Simonyan 2019), the twin of the engine's
/// `BigBiGANEncoder` (same `EncoderConfig`, same tensor names under `encoder.`): stem (3×3) →
/// pre-activation blocks (average-pooling downsampling only) → BN → ReLU → global average pool
/// (the features `[B, F]`) → MLP (Linear → ReLU) → head `[B, 2·z_dim]` → `z_mean` and σ
/// (softplus, or exp(x/2) of a log-variance). No spectral norm. BN layers use batch statistics
/// in `.training` mode and keep running averages (momentum 0.1) for export.
public final class TrainableEncoder: ParameterContainer {
    public let config: EncoderConfig
    let stem: ConvLayer
    let blocks: [TrainablePreActivationBlock]
    let finalBN: BatchNormLayer
    let mlp: [LinearLayer]
    let head: LinearLayer
    // Cache of the latest forward pass.
    private var activated: Tensor?
    private var hidden: [Tensor] = []
    private var headOut: Tensor?

    /// - Throws: `CheckpointError` when the config is invalid or downsamples by striding (only
    ///   average pooling trains here).
    public init(config c: EncoderConfig) throws {
        try c.validate(file: "<encoder config>", generatorDimZ: c.zDim)
        guard c.downsample == .avgpool else {
            throw CheckpointError(file: "<encoder config>", "encoder.downsample: training supports avgpool, got \(c.downsample.rawValue)")
        }
        config = c
        let eps = Float(c.bnEps)
        stem = ConvLayer(name: "encoder.stem", inChannels: c.inChannels, outChannels: c.stemChannels, kernelSize: 3, spectralNorm: false)
        blocks = c.blocks.enumerated().map { TrainablePreActivationBlock(name: "encoder.blocks.\($0.offset)", spec: $0.element, eps: eps) }
        finalBN = BatchNormLayer(name: "encoder.bn", channels: c.featureWidth, eps: eps)
        var width = c.featureWidth
        mlp = c.mlp.enumerated().map { j, m in
            defer { width = m }
            return LinearLayer(name: "encoder.mlp.\(j)", inFeatures: width, outFeatures: m, spectralNorm: false)
        }
        head = LinearLayer(name: "encoder.head", inFeatures: width, outFeatures: 2 * c.zDim, spectralNorm: false)
    }

    public var parameters: [Parameter] {
        var out = stem.parameters
        for b in blocks { out += b.parameters }
        out += finalBN.parameters
        for m in mlp { out += m.parameters }
        return out + head.parameters
    }
    public var buffers: [Buffer] { blocks.flatMap(\.buffers) + finalBN.buffers }
    public var spectralNorms: [SpectralNorm] { [] }

    /// `images` `[B, R, R, in_channels]` → `z_mean`, σ `[B, z_dim]` and the features `[B, F]`.
    public func forward(_ images: Tensor, mode: Mode) -> (zMean: Tensor, sigma: Tensor, features: Tensor) {
        var h = stem.forward(images, mode: mode)
        for b in blocks { h = b.forward(h, mode: mode) }
        let act = Pointwise.relu(finalBN.forward(h, mode: mode))
        let features = globalAveragePool(act)
        var x = features
        var hidden: [Tensor] = []
        for layer in mlp {
            x = Pointwise.relu(layer.forward(x, mode: mode))
            hidden.append(x)
        }
        let y = head.forward(x, mode: mode)
        activated = act; self.hidden = hidden; headOut = y
        let b = images.shape[0], z = config.zDim
        let mean = Tensor(uninitializedShape: [b, z]), sigma = Tensor(uninitializedShape: [b, z])
        for i in 0..<b {
            (mean.data + i * z).update(from: y.data + i * 2 * z, count: z)
            for j in 0..<z { sigma.data[i * z + j] = config.sigma.sigma(y.data[i * 2 * z + z + j]) }
        }
        return (mean, sigma, features)
    }

    /// Backward from the gradients of `z_mean` and σ (`[B, z_dim]`; either may be nil for zero):
    /// accumulates every parameter gradient (the images need none).
    public func backward(dZMean: Tensor?, dSigma: Tensor?) {
        guard let y = headOut, let act = activated else { preconditionFailure("encoder: backward before forward") }
        let b = y.shape[0], z = config.zDim
        let dy = Tensor(shape: [b, 2 * z])
        for i in 0..<b {
            for j in 0..<z {
                if let d = dZMean { dy.data[i * 2 * z + j] = d.data[i * z + j] }
                if let d = dSigma { dy.data[i * 2 * z + z + j] = d.data[i * z + j] * config.sigma.derivative(y.data[i * 2 * z + z + j]) }
            }
        }
        var g = head.backward(dy)!
        for (k, layer) in mlp.enumerated().reversed() {
            g = layer.backward(Pointwise.reluBackward(g, output: hidden[k]))!
        }
        // Global average pooling: every pixel gets its channel's gradient / (H·W).
        let (h, w, c) = (act.shape[1], act.shape[2], act.shape[3])
        let dAct = Tensor(uninitializedShape: act.shape)
        let inv = 1 / Float(h * w)
        for i in 0..<b { for p in 0..<(h * w) { for k in 0..<c { dAct.data[(i * h * w + p) * c + k] = g.data[i * c + k] * inv } } }
        var dh = finalBN.backward(Pointwise.reluBackward(dAct, output: act))
        for block in blocks.reversed() { dh = block.backward(dh) }
        stem.backward(dh, inputGradient: false)
    }
}
