import Foundation

/// The encoder part of a `bigbigan` checkpoint's config (the `encoder` object; field meanings and
/// tensor names in `docs/CHECKPOINT_FORMAT.md`): a ResNet-v2-style convolutional network and an
/// MLP head giving a diagonal Gaussian over z (BigBiGAN, Donahue & Simonyan 2019, section 3;
/// ../shared/reference/stylegan-bigbigan-serving.md, section 2).
///
/// Network (`BigBiGANEncoder`): a 3×3 stem convolution `in_channels → stem_channels`; the
/// pre-activation residual `blocks` (BN → ReLU → conv, He et al. 2016, "Identity mappings");
/// a final BN → ReLU; global average pooling (the pooled features, TF-Hub's `avepool_feat`); the
/// hidden layers `mlp` (Linear → ReLU each); a linear head to `2·z_dim` values: `z_mean`, then
/// the σ parameter (`sigma`: `softplus` → σ = log(1 + eˣ); `logvar` → σ = exp(x/2)).
public struct EncoderConfig: Codable, Equatable, Sendable {
    public typealias Block = BlockSpec<BigGANEngine.Downsampling>

    /// How σ is read from the head's second half.
    public enum SigmaParameterisation: String, Codable, Sendable, CaseIterable {
        /// σ = softplus(x) = log(1 + eˣ).
        case softplus
        /// x is log σ²: σ = exp(x / 2).
        case logvar
    }

    /// How a block with `down: true` halves the resolution.
    public enum DownsamplingMethod: String, Codable, Sendable, CaseIterable {
        /// 2×2 average pooling of the block's output (residual and shortcut).
        case avgpool
        /// `conv1` and the 1×1 shortcut convolution run with stride 2.
        case stride
    }

    /// Input images are `resolution × resolution × in_channels` in [−1, 1].
    public var resolution: Int
    public var inChannels: Int
    /// Output channels of the 3×3 stem convolution (the first block's `in`).
    public var stemChannels: Int
    /// The residual blocks in order: `{"in", "out", "down"}` each; each block's `in` is the
    /// previous block's `out`. A block whose `in ≠ out` or that downsamples has a 1×1 shortcut
    /// convolution (of the pre-activated input); the others an identity shortcut.
    public var blocks: [Block]
    public var downsample: DownsamplingMethod
    /// Widths of the MLP's hidden layers, in order (may be empty: the head reads the features).
    public var mlp: [Int]
    /// Width of z; must equal the generator's `dim_z`.
    public var zDim: Int
    public var bnEps: Double
    public var sigma: SigmaParameterisation

    enum CodingKeys: String, CodingKey {
        case resolution, inChannels = "in_channels", stemChannels = "stem_channels", blocks, downsample, mlp
        case zDim = "z_dim", bnEps = "bn_eps", sigma
    }

    public init(resolution: Int, inChannels: Int, stemChannels: Int, blocks: [Block], downsample: DownsamplingMethod = .avgpool,
                mlp: [Int], zDim: Int, bnEps: Double = 1e-5, sigma: SigmaParameterisation = .softplus) {
        self.resolution = resolution; self.inChannels = inChannels; self.stemChannels = stemChannels; self.blocks = blocks
        self.downsample = downsample; self.mlp = mlp; self.zDim = zDim; self.bnEps = bnEps; self.sigma = sigma
    }

    /// Width of the pooled features: the last block's `out` (the stem's width without blocks).
    public var featureWidth: Int { blocks.last?.outChannels ?? stemChannels }

    /// The input side of each block (its output side is half of it when it downsamples).
    public var blockInputSides: [Int] {
        var side = resolution
        return blocks.map { b in defer { if b.down { side /= 2 } }; return side }
    }

    /// Side of the last feature map.
    public var finalSide: Int { blocks.reduce(resolution) { $1.down ? $0 / 2 : $0 } }

    /// Whether block `b` has a 1×1 shortcut convolution.
    public static func hasShortcut(_ b: Block) -> Bool { b.inChannels != b.outChannels || b.down }

    /// Every tensor the encoder reads, with its shape, in reading order (names under `encoder.`).
    public var tensorShapes: [(String, [Int])] {
        var out: [(String, [Int])] = []
        func bn(_ p: String, _ c: Int) { for s in ["weight", "bias", "mean", "var"] { out.append(("\(p).\(s)", [c])) } }
        func conv(_ p: String, _ o: Int, _ i: Int, _ k: Int) { out.append((p + ".weight", [o, i, k, k])); out.append((p + ".bias", [o])) }
        conv("encoder.stem", stemChannels, inChannels, 3)
        for (i, b) in blocks.enumerated() {
            let p = "encoder.blocks.\(i)"
            bn(p + ".bn1", b.inChannels)
            conv(p + ".conv1", b.outChannels, b.inChannels, 3)
            bn(p + ".bn2", b.outChannels)
            conv(p + ".conv2", b.outChannels, b.outChannels, 3)
            if Self.hasShortcut(b) { conv(p + ".conv_sc", b.outChannels, b.inChannels, 1) }
        }
        bn("encoder.bn", featureWidth)
        var width = featureWidth
        for (i, m) in mlp.enumerated() {
            out.append(("encoder.mlp.\(i).weight", [m, width])); out.append(("encoder.mlp.\(i).bias", [m]))
            width = m
        }
        out.append(("encoder.head.weight", [2 * zDim, width])); out.append(("encoder.head.bias", [2 * zDim]))
        return out
    }

    /// Most hidden MLP layers.
    public static let maxMLPLayers = 16
    /// Most input channels (grey, grey + alpha, RGB, RGBA).
    public static let maxInChannels = 4

    /// Refuses configs this engine cannot build, naming the field (`encoder.<field>`); every
    /// number is bounds-checked before any arithmetic uses it. `dimZ` is the generator's.
    /// - Throws: `CheckpointError` naming `file`.
    public func validate(file: String, generatorDimZ dimZ: Int) throws {
        func fail(_ m: String) -> CheckpointError { CheckpointError(file: file, "config: encoder." + m) }
        func within(_ v: Int, _ r: ClosedRange<Int>, _ field: String) throws {
            guard r.contains(v) else { throw fail("\(field) \(v) out of range \(r.lowerBound)...\(r.upperBound)") }
        }
        typealias L = ConfigLimits
        try within(resolution, 1...L.maxResolution, "resolution")
        try within(inChannels, 1...Self.maxInChannels, "in_channels")
        try within(stemChannels, 1...L.maxChannels, "stem_channels")
        try within(blocks.count, 0...L.maxBlocks, "blocks (count)")
        for (i, b) in blocks.enumerated() {
            try within(b.inChannels, 1...L.maxChannels, "blocks[\(i)].in")
            try within(b.outChannels, 1...L.maxChannels, "blocks[\(i)].out")
        }
        try within(mlp.count, 0...Self.maxMLPLayers, "mlp (layer count)")
        for (i, m) in mlp.enumerated() { try within(m, 1...L.maxVectorWidth, "mlp[\(i)]") }
        try within(zDim, 1...L.maxVectorWidth, "z_dim")
        guard bnEps.isFinite, bnEps > 0, bnEps < 1 else { throw fail("bn_eps must be in (0, 1), got \(bnEps)") }
        // Consistency.
        guard zDim == dimZ else { throw fail("z_dim \(zDim) must equal the generator's dim_z \(dimZ)") }
        var previous = stemChannels, side = resolution
        for (i, b) in blocks.enumerated() {
            guard b.inChannels == previous else {
                throw fail("blocks[\(i)].in \(b.inChannels) must equal the previous \(i == 0 ? "stem_channels" : "block's out") \(previous)")
            }
            if b.down {
                guard side % 2 == 0 else { throw fail("blocks[\(i)] downsamples a \(side)×\(side) map; its side must be even") }
                side /= 2
            }
            previous = b.outChannels
        }
        // Sizes (each factor is bounded above, so no product below overflows Int).
        var t = SizeTally()
        for (_, shape) in tensorShapes { t.add(shape) }
        guard let scalars = t.value, scalars <= L.maxParameters else {
            throw fail("blocks/mlp: more than \(L.maxParameters) stored scalars")
        }
        let widest = blocks.reduce(stemChannels) { max($0, $1.inChannels, $1.outChannels) }
        guard resolution * resolution * widest <= L.maxActivationElements else {
            throw fail("resolution: activations of \(resolution)² × \(widest) channels exceed the limit of \(L.maxActivationElements) elements")
        }
    }

    /// Nominal multiply-adds of one image (convolutions at their output size, the MLP and head).
    public var macsPerImage: Int {
        var macs = 9 * inChannels * stemChannels * resolution * resolution
        let strided = downsample == .stride
        for (b, side) in zip(blocks, blockInputSides) {
            let out = b.down ? side / 2 : side
            let conv1Side = b.down && strided ? out : side, conv2Side = b.down && strided ? out : side
            macs += 9 * b.inChannels * b.outChannels * conv1Side * conv1Side + 9 * b.outChannels * b.outChannels * conv2Side * conv2Side
            if Self.hasShortcut(b) { macs += b.inChannels * b.outChannels * conv1Side * conv1Side }
        }
        var width = featureWidth
        for m in mlp { macs += width * m; width = m }
        return macs + width * 2 * zDim
    }
}

extension EncoderConfig.SigmaParameterisation {
    /// σ from the head's parameter `x`: softplus as PyTorch computes it (threshold 20: `x`
    /// itself above, `log1p(exp(x))` below), or `exp(x/2)` of a log-variance.
    @inline(__always) public func sigma(_ x: Float) -> Float {
        switch self {
        case .softplus: return x > 20 ? x : Float(Foundation.log1p(Foundation.exp(Double(x))))
        case .logvar: return Float(Foundation.exp(Double(x) / 2))
        }
    }

    /// dσ/dx: the logistic sigmoid for softplus (1 above the threshold), σ/2 for a log-variance.
    public func derivative(_ x: Float) -> Float {
        switch self {
        case .softplus: return x > 20 ? 1 : Float(1 / (1 + Foundation.exp(-Double(x))))
        case .logvar: return sigma(x) / 2
        }
    }
}
