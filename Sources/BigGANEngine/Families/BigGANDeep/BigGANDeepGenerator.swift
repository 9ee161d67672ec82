/// The BigGAN-deep generator of pytorch-pretrained-BigGAN (paper, appendix B, figure 16).
///
/// `cond = concat(z, embedding)` feeds the first linear layer and every conditional BN.
/// Each block is a bottleneck: `bn_0 → ReLU → 1×1 (A→A/4) → bn_1 → ReLU → [up] → 3×3 → bn_2 →
/// ReLU → 3×3 → bn_3 → ReLU → 1×1 (A/4→B)`, plus a residual that keeps the first B channels of
/// the input (upsampled with the block). BN statistics are indexed by truncation. Activations NHWC.
/// Each BN + ReLU after a convolution, and the residual add, run as that convolution's epilogue.
public final class BigGANDeepGenerator: BigGANFamilyGenerator, @unchecked Sendable {
    struct Block {
        let bns: [ConditionalBatchNorm]   // bn_0 ... bn_3, projected by the generator's `projections`
        let convs: [Conv2D]               // conv_0 ... conv_3
        let up: Bool
        let outChannels: Int
        let attention: SelfAttention?
    }

    public let config: ModelConfig
    public let info: ModelInfo
    public let parameterCount: Int
    let embeddings: Tensor   // [shared_dim, n_classes]
    let genZ: Linear
    let blocks: [Block]
    /// Every block's BN gain and bias projections (all read the same `cond`).
    let projections: ProjectionStack
    let outputBN: BatchNorm
    let outputConv: Conv2D

    init(config: ModelConfig, weights: WeightSource) throws {
        self.config = config
        info = config.info
        let w = CountingSource(weights)
        let cond = config.condDim, bw = config.bottomWidth, n = config.nStats!, eps = config.bnEps
        embeddings = try w("embeddings.weight", [config.sharedDim, config.nClasses])
        genZ = try w.linear("gen_z", out: bw * bw * config.blocks[0].inChannels, in: cond, bias: true)
        let attentionAt = Set(config.attentionBlocks)
        let (stack, allBNs) = try w.conditionalBNs(config.blocks.indices.flatMap { i -> [(name: String, channels: Int)] in
            let a = config.blocks[i].inChannels
            return [a, a / 4, a / 4, a / 4].enumerated().map { (name: "blocks.\(i).bn_\($0.offset)", channels: $0.element) }
        }, cond: cond, nStats: n, eps: eps)
        projections = stack
        var blocks: [Block] = []
        var side = bw   // the block's input height and width
        for (i, b) in config.blocks.enumerated() {
            let p = "blocks.\(i)", a = b.inChannels, m = a / 4, out = b.up ? 2 * side : side
            let bns = Array(allBNs[(4 * i)..<(4 * i + 4)])
            let convs = [
                try w.conv(p + ".conv_0", out: m, in: a, k: 1, side: side),
                try w.conv(p + ".conv_1", out: m, in: m, k: 3, input: b.up ? .upsampled : .same, side: side),
                try w.conv(p + ".conv_2", out: m, in: m, k: 3, side: out),
                try w.conv(p + ".conv_3", out: b.outChannels, in: m, k: 1, side: out),
            ]
            blocks.append(Block(bns: bns, convs: convs, up: b.up, outChannels: b.outChannels,
                                attention: attentionAt.contains(i) ? try w.attention(p + ".attention", channels: b.outChannels, side: out) : nil))
            side = out
        }
        self.blocks = blocks
        let cl = config.blocks.last!.outChannels
        outputBN = BatchNorm(weight: try w("output.bn.weight", [cl]), bias: try w("output.bn.bias", [cl]),
                             statistics: try w.statistics("output.bn", channels: cl, nStats: n), eps: Float(eps))
        outputConv = try w.conv("output.conv", out: config.outChannels, in: cl, k: 3, side: side)
        parameterCount = w.count
    }

    /// The truncation selects BN statistics: only equal truncations share a forward pass.
    public func batchKey(truncation: Double?) -> String { Truncation.describe(truncation) }

    /// Column `index` of `embeddings.weight` (`[shared_dim]`).
    public func conditioning(forClass index: Int) -> [Float] {
        precondition(index >= 0 && index < config.nClasses)
        return (0..<config.sharedDim).map { embeddings[$0 * config.nClasses + index] }
    }

    /// `conditioning` holds class embeddings `[B, shared_dim]`; `truncation` selects the BN
    /// statistics (`Truncation.statisticsThreshold`: 1.0 when untruncated).
    public func forward(z: Tensor, conditioning e: Tensor, truncation t: Double?) -> Tensor {
        let b = z.shape[0], bw = config.bottomWidth, truncation = Truncation.statisticsThreshold(t)
        precondition(z.count == b * config.dimZ && e.count == b * config.sharedDim)
        let cond = concatColumns(z, e)
        // gen_z rows are channel-last already (TF layout): the output is NHWC `[B, bw, bw, C]`.
        var h = Profiler.measure("linear", macs: b * genZ.inFeatures * genZ.outFeatures) {
            genZ(cond).reshaped([b, bw, bw, config.blocks[0].inChannels])
        }
        let projected = Profiler.measure("conditional BN projections", macs: b * projections.outputs * config.condDim) { projections(cond) }
        for blk in blocks {
            let ss = Profiler.measure("conditional BN scale and shift") {
                blk.bns.map { $0.scaleShift(projected: projected, truncation: truncation) }
            }
            // bn_0 on the block input and the residual (its first channels, upsampled with the
            // block) from one read of it; bn_1..3 and their ReLUs are the epilogues of conv_0..2;
            // conv_3 adds itself to the residual.
            // `consume` hands each input back to the buffer pool as soon as it is read, which keeps
            // a pass's working set (and the pool's idle set after it) smaller.
            let input = consume h
            let (x0, res) = Profiler.measure("batch norm + ReLU, residual") {
                affineReLUAndResidual(input, scale: ss[0].scale, shift: ss[0].shift, keep: blk.outChannels, upsample: blk.up)
            }
            _ = consume input
            var a = blk.convs[0].profiled(consume x0, epilogue: .affineReLU(scale: ss[1].scale, shift: ss[1].shift))
            a = blk.convs[1].profiled(a, epilogue: .affineReLU(scale: ss[2].scale, shift: ss[2].shift))
            a = blk.convs[2].profiled(a, epilogue: .affineReLU(scale: ss[3].scale, shift: ss[3].shift))
            h = blk.convs[3].profiled(a, epilogue: .accumulate(into: res))
            if let att = blk.attention {
                h = Profiler.measure("attention", macs: b * att.macs(pixels: h.shape[1] * h.shape[2], channels: h.shape[3])) { att(h, consuming: true) }
            }
        }
        let ss = outputBN.scaleShift(batch: b, truncation: truncation)
        let out = outputConv.profiled(profiledAffineReLU(h, ss, inPlace: true))
        Profiler.measure("tanh") { tanhInPlace(out) }
        return out
    }
}
