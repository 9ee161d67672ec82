import BigGANEngine

/// One residual block of the generator (ajbrock `GBlock`), activations NHWC:
///
///     h   = conv2(relu(bn2(conv1(up(relu(bn1(x, y)))), y)))      [B, s·H, s·W, out]
///     out = h + conv_sc(up(x))      (or + x when in == out and no upsampling)
///     out = attention(out)          (when configured)
///
/// `up` is nearest ×2 (s = 2) or nothing (s = 1); `y` is the block's conditioning vector
/// `[B, condDim]`. Two exact rewrites save work: `conv1(up(·))` runs as four 2×2 phase
/// convolutions on the low-resolution input (`Resampling.upsampleInput`), and the shortcut is
/// `up(conv_sc(x))` (a 1×1 convolution commutes with nearest upsampling).
public final class GeneratorBlock: ParameterContainer {
    public let bn1: ConditionalBNLayer, conv1: ConvLayer
    public let bn2: ConditionalBNLayer, conv2: ConvLayer
    public let shortcut: ConvLayer?
    public let up: Bool
    public let attention: AttentionLayer?
    // ReLU outputs saved by forward.
    var relu1: Tensor?, relu2: Tensor?

    init(index i: Int, spec: ModelConfig.Block, condDim: Int, bnEps: Float, snEps: Float, attention: Bool) {
        let p = "blocks.\(i)", (ci, co) = (spec.inChannels, spec.outChannels)
        bn1 = ConditionalBNLayer(name: p + ".bn1", channels: ci, conditionDim: condDim, eps: bnEps, snEps: snEps)
        conv1 = ConvLayer(name: p + ".conv1", inChannels: ci, outChannels: co, kernelSize: 3, snEps: snEps,
                          resampling: spec.up ? .upsampleInput : .none)
        bn2 = ConditionalBNLayer(name: p + ".bn2", channels: co, conditionDim: condDim, eps: bnEps, snEps: snEps)
        conv2 = ConvLayer(name: p + ".conv2", inChannels: co, outChannels: co, kernelSize: 3, snEps: snEps)
        shortcut = (ci != co || spec.up) ? ConvLayer(name: p + ".conv_sc", inChannels: ci, outChannels: co, kernelSize: 1, snEps: snEps) : nil
        up = spec.up
        self.attention = attention ? AttentionLayer(name: p + ".attention", channels: co, snEps: snEps) : nil
    }

    var layers: [ParameterContainer] {
        [bn1, conv1, bn2, conv2] + (shortcut.map { [$0] } ?? []) + (attention.map { [$0] } ?? [])
    }
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var buffers: [Buffer] { layers.flatMap(\.buffers) }
    public var spectralNorms: [SpectralNorm] { layers.flatMap(\.spectralNorms) }

    func forward(_ x: Tensor, condition y: Tensor, mode: Mode) -> Tensor {
        let r1 = Pointwise.relu(bn1.forward(x, condition: y, mode: mode))
        let c1 = conv1.forward(r1, mode: mode)   // conv1(up(r1)) when upsampling
        let r2 = Pointwise.relu(bn2.forward(c1, condition: y, mode: mode))
        var out = conv2.forward(r2, mode: mode)
        if let shortcut {
            let s = shortcut.forward(x, mode: mode)
            if up { addUpsampledInPlace(out, s) } else { addInPlace(out, s) }
        } else {
            addInPlace(out, x)
        }
        if let attention { out = attention.forward(out, mode: mode) }
        relu1 = r1; relu2 = r2
        return out
    }

    /// Returns `(dx, dy)`: the gradients into the block input and its conditioning vector.
    func backward(_ dOut: Tensor) -> (Tensor, Tensor) {
        guard let r1 = relu1, let r2 = relu2 else { preconditionFailure("generator block: backward before forward") }
        let d = attention?.backward(dOut) ?? dOut
        let dr2 = conv2.backward(d)!
        let (dc1, dy2) = bn2.backward(Pointwise.reluBackward(dr2, output: r2))
        let dr1 = conv1.backward(dc1)!
        let (dx, dy1) = bn1.backward(Pointwise.reluBackward(dr1, output: r1))
        if let shortcut {
            addInPlace(dx, shortcut.backward(up ? Pointwise.upsampleBackward(d) : d)!)
        } else {
            addInPlace(dx, d)
        }
        addInPlace(dy1, dy2)
        return (dx, dy1)
    }
}

/// The ajbrock BigGAN generator (`architecture: "biggan"`), trainable, with the semantics of the
/// engine's `BigGANGenerator` for the same `ModelConfig`:
///
/// - `z`: `[B, dim_z]`; with `hier` it is split into `blocks + 1` chunks of `zChunk`; chunk 0
///   feeds the first linear layer and block `i` is conditioned on
///   `y_i = concat(shared[label], chunk[i+1])` (`[B, condDim]`, embedding first); without `hier`
///   the linear layer takes all of `z` and every block gets the embedding alone.
/// - `linear` (SN, `[in0·bw·bw, z0]`) output index is channel-first, `c·bw² + p`, reshaped to
///   NHWC `[B, bw, bw, in0]`.
/// - Blocks (`GeneratorBlock`), then output BN → ReLU → 3×3 SN conv → tanh:
///   images `[B, R, R, out_channels]` in (−1, 1).
///
/// Parameter and buffer names follow `docs/CHECKPOINT_FORMAT.md` (`blocks.0.conv1.weight`,
/// `blocks.0.bn1.mean`, …), spectral-norm vectors are `<layer>.u`. Weights are stored raw
/// (un-normalised); `export()` bakes `W/σ`.
public final class TrainableGenerator: ParameterContainer {
    public let config: ModelConfig
    public let snEps: Float
    public let shared: EmbeddingLayer
    public let linear: LinearLayer
    public let blocks: [GeneratorBlock]
    public let outputBN: BatchNormLayer
    public let outputConv: ConvLayer
    // Saved by forward.
    var labels: [Int]?
    var outputReLU: Tensor?, image: Tensor?
    var batch = 0

    public init(config: ModelConfig, snEps: Float = 1e-6) throws {
        try config.validate(file: "<generator config>")
        guard config.architecture == .biggan else {
            throw CheckpointError(file: "<generator config>", "training supports architecture \"biggan\" only")
        }
        self.config = config
        self.snEps = snEps
        let bw = config.bottomWidth, c0 = config.blocks[0].inChannels
        shared = EmbeddingLayer(name: "shared", count: config.nClasses, dimension: config.sharedDim, spectralNorm: false,
                                orthogonalRegularised: false)
        linear = LinearLayer(name: "linear", inFeatures: config.zChunk, outFeatures: c0 * bw * bw, snEps: snEps)
        let attentionAt = Set(config.attentionBlocks)
        blocks = config.blocks.enumerated().map { i, spec in
            GeneratorBlock(index: i, spec: spec, condDim: config.condDim, bnEps: Float(config.bnEps), snEps: snEps,
                           attention: attentionAt.contains(i))
        }
        let cl = config.blocks[config.blocks.count - 1].outChannels
        outputBN = BatchNormLayer(name: "output.bn", channels: cl, eps: Float(config.outputBnEps ?? 1e-5))
        outputConv = ConvLayer(name: "output.conv", inChannels: cl, outChannels: config.outChannels, kernelSize: 3, snEps: snEps)
    }

    var layers: [ParameterContainer] { [shared, linear] + blocks + [outputBN, outputConv] }
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var buffers: [Buffer] { layers.flatMap(\.buffers) }
    public var spectralNorms: [SpectralNorm] { layers.flatMap(\.spectralNorms) }

    /// Images for latents `z` (`[B, dim_z]`) and class indices `labels` (`B` of them).
    public func forward(z: Tensor, labels: [Int], mode: Mode) -> Tensor {
        let e = shared.forward(labels, mode: mode)
        let out = forward(z: z, embeddings: e, mode: mode)
        self.labels = labels
        return out
    }

    /// Images for latents `z` (`[B, dim_z]`) and already-embedded classes (`[B, shared_dim]`),
    /// as the engine's `Generator.forward`. A later `backward` then leaves `shared` untouched.
    public func forward(z: Tensor, embeddings e: Tensor, mode: Mode) -> Tensor {
        let b = z.shape[0], bw = config.bottomWidth, c0 = config.blocks[0].inChannels
        precondition(z.count == b * config.dimZ && e.count == b * config.sharedDim, "generator: z \(z.shape), embeddings \(e.shape)")
        let hier = config.hier ?? false, chunk = config.zChunk
        labels = nil
        batch = b
        let lin = linear.forward(hier ? columns(z, from: 0, count: chunk) : z, mode: mode)
        var h = Self.channelFirstToNHWC(lin, batch: b, width: bw, channels: c0)
        for (i, blk) in blocks.enumerated() {
            let y = hier ? concatColumns(e, columns(z, from: (i + 1) * chunk, count: chunk)) : e
            h = blk.forward(h, condition: y, mode: mode)
        }
        let r = Pointwise.relu(outputBN.forward(h, mode: mode))
        let img = Pointwise.tanh(outputConv.forward(r, mode: mode))
        outputReLU = r; image = img
        return img
    }

    /// Backpropagates `dImage` (`[B, R, R, out_channels]`) through the latest forward pass,
    /// accumulating every parameter gradient (the shared embedding's only when that pass took
    /// labels). Returns the gradient with respect to the class embeddings, `[B, shared_dim]`.
    @discardableResult
    public func backward(_ dImage: Tensor) -> Tensor {
        guard let r = outputReLU, let img = image else { preconditionFailure("generator: backward before forward") }
        let b = batch, sd = config.sharedDim
        var d = outputConv.backward(Pointwise.tanhBackward(dImage, output: img))!
        d = outputBN.backward(Pointwise.reluBackward(d, output: r))
        let dEmbedding = Tensor(shape: [b, sd])
        let condDim = config.condDim
        for blk in blocks.reversed() {
            let (dx, dy) = blk.backward(d)
            for i in 0..<b { for j in 0..<sd { dEmbedding[i * sd + j] += dy[i * condDim + j] } }
            d = dx
        }
        let bw = config.bottomWidth
        linear.backward(Self.nhwcToChannelFirst(d, batch: b, width: bw, channels: config.blocks[0].inChannels), inputGradient: false)
        if labels != nil { shared.backward(dEmbedding) }
        return dEmbedding
    }

    /// `[B, C·bw·bw]` with index `c·bw² + p` → NHWC `[B, bw, bw, C]`.
    static func channelFirstToNHWC(_ x: Tensor, batch b: Int, width bw: Int, channels c: Int) -> Tensor {
        let p2 = bw * bw
        let out = Tensor(uninitializedShape: [b, bw, bw, c])
        for i in 0..<b { for ch in 0..<c { for p in 0..<p2 { out[(i * p2 + p) * c + ch] = x[i * c * p2 + ch * p2 + p] } } }
        return out
    }

    /// The inverse permutation of `channelFirstToNHWC`.
    static func nhwcToChannelFirst(_ x: Tensor, batch b: Int, width bw: Int, channels c: Int) -> Tensor {
        let p2 = bw * bw
        let out = Tensor(uninitializedShape: [b, c * p2])
        for i in 0..<b { for ch in 0..<c { for p in 0..<p2 { out[i * c * p2 + ch * p2 + p] = x[(i * p2 + p) * c + ch] } } }
        return out
    }
}
