/// The BigGAN generator of ajbrock/BigGAN-PyTorch (paper, section 3 and appendix B).
///
/// `z` is split into `blocks + 1` chunks when `hier` (chunk 0 feeds the first linear layer,
/// chunk i+1 conditions block i, concatenated after the class embedding); otherwise the linear
/// layer takes all of `z` and every block is conditioned on the embedding alone.
/// Each block: `conv2(relu(bn2(conv1(up(relu(bn1(x))))))) + conv_sc(up(x))`; optional attention
/// after the block; then BN → ReLU → 3×3 conv → tanh. Activations are NHWC.
public final class BigGANGenerator: BigGANFamilyGenerator, @unchecked Sendable {
    struct Block {
        /// bn1's and bn2's gain and bias projections (the block's conditioning vector).
        let projections: ProjectionStack
        let bn1: ConditionalBatchNorm, conv1: Conv2D
        let bn2: ConditionalBatchNorm, conv2: Conv2D
        let shortcut: Conv2D?
        let up: Bool
        let attention: SelfAttention?
    }

    public let config: ModelConfig
    public let info: ModelInfo
    public let parameterCount: Int
    let shared: Tensor
    let linear: Linear
    let blocks: [Block]
    let outputBN: BatchNorm
    let outputConv: Conv2D

    init(config: ModelConfig, weights: WeightSource) throws {
        self.config = config
        info = config.info
        let w = CountingSource(weights)
        let bw = config.bottomWidth, c0 = config.blocks[0].inChannels
        shared = try w("shared.weight", [config.nClasses, config.sharedDim])
        let z0 = config.zChunk
        // Stored rows are channel-first (c*bw*bw + p); permute once to channel-last (p*C + c) so
        // the linear output already is the NHWC `[B, bw, bw, C]` tensor.
        let lw = try w("linear.weight", [c0 * bw * bw, z0]), lb = try w("linear.bias", [c0 * bw * bw])
        let pw = Tensor(shape: lw.shape), pb = Tensor(shape: lb.shape)
        for c in 0..<c0 { for p in 0..<(bw * bw) {
            (pw.data + (p * c0 + c) * z0).update(from: lw.data + (c * bw * bw + p) * z0, count: z0)
            pb[p * c0 + c] = lb[c * bw * bw + p]
        } }
        linear = Linear(weight: pw, bias: pb)
        let cond = config.condDim, eps = config.bnEps
        let attentionAt = Set(config.attentionBlocks)
        var blocks: [Block] = []
        var side = bw   // the block's input height and width
        for (i, b) in config.blocks.enumerated() {
            let p = "blocks.\(i)", out = b.up ? 2 * side : side
            let needsShortcut = b.inChannels != b.outChannels || b.up
            let (stack, bns) = try w.conditionalBNs([(p + ".bn1", b.inChannels), (p + ".bn2", b.outChannels)], cond: cond, nStats: nil, eps: eps)
            blocks.append(Block(
                projections: stack,
                bn1: bns[0],
                conv1: try w.conv(p + ".conv1", out: b.outChannels, in: b.inChannels, k: 3, input: b.up ? .upsampled : .same, side: side),
                bn2: bns[1],
                conv2: try w.conv(p + ".conv2", out: b.outChannels, in: b.outChannels, k: 3, side: out),
                shortcut: needsShortcut ? try w.conv(p + ".conv_sc", out: b.outChannels, in: b.inChannels, k: 1, side: side) : nil,
                up: b.up,
                attention: attentionAt.contains(i) ? try w.attention(p + ".attention", channels: b.outChannels, side: out) : nil))
            side = out
        }
        self.blocks = blocks
        let cl = config.blocks.last!.outChannels
        outputBN = BatchNorm(weight: try w("output.bn.weight", [cl]), bias: try w("output.bn.bias", [cl]),
                             statistics: try w.statistics("output.bn", channels: cl, nStats: nil),
                             eps: Float(config.outputBnEps ?? 1e-5))
        outputConv = try w.conv("output.conv", out: config.outChannels, in: cl, k: 3, side: side)
        parameterCount = w.count
    }

    /// Truncation changes only the latents: any truncations share a forward pass.
    public func batchKey(truncation: Double?) -> String { "" }

    /// Row `index` of `shared` (`[shared_dim]`).
    public func conditioning(forClass index: Int) -> [Float] {
        precondition(index >= 0 && index < config.nClasses)
        return Array(UnsafeBufferPointer(start: shared.data + index * config.sharedDim, count: config.sharedDim))
    }

    /// `conditioning` holds class embeddings `[B, shared_dim]`; `truncation` is unused (it only
    /// shapes the latents).
    public func forward(z: Tensor, conditioning embeddings: Tensor, truncation: Double?) -> Tensor {
        let b = z.shape[0], bw = config.bottomWidth
        precondition(z.count == b * config.dimZ && embeddings.count == b * config.sharedDim)
        let hier = config.hier ?? false, chunk = config.zChunk
        // Slot 0 of z for the linear layer; conditioning vectors per block.
        let zIn = hier ? columns(z, from: 0, count: chunk) : z
        func cond(_ i: Int) -> Tensor {
            hier ? concatColumns(embeddings, columns(z, from: (i + 1) * chunk, count: chunk)) : embeddings
        }
        var h = Profiler.measure("linear", macs: b * linear.inFeatures * linear.outFeatures) {
            linear(zIn).reshaped([b, bw, bw, config.blocks[0].inChannels])
        }
        for (i, blk) in blocks.enumerated() {
            let y = cond(i)
            let projected = Profiler.measure("conditional BN projections", macs: b * blk.projections.outputs * y.shape[1]) { blk.projections(y) }
            let (ss1, ss2) = Profiler.measure("conditional BN scale and shift") {
                (blk.bn1.scaleShift(projected: projected, truncation: 1), blk.bn2.scaleShift(projected: projected, truncation: 1))
            }
            // bn2 and its ReLU are conv1's epilogue; conv2 adds itself to the shortcut.
            let a = blk.conv1.profiled(profiledAffineReLU(h, ss1), epilogue: .affineReLU(scale: ss2.scale, shift: ss2.shift))
            // A 1×1 convolution commutes with nearest upsampling: convolve first (4× cheaper).
            var sc = h   // identity shortcut when the block keeps channels and size (h is not read again)
            if let shortcut = blk.shortcut { sc = shortcut.profiled(h) }
            if blk.up { sc = Profiler.measure("residual: upsample") { upsampleNearest2x(sc) } }
            h = blk.conv2.profiled(a, epilogue: .accumulate(into: sc))
            if let att = blk.attention {
                h = Profiler.measure("attention", macs: b * att.macs(pixels: h.shape[1] * h.shape[2], channels: h.shape[3])) { att(h, consuming: true) }
            }
        }
        let ss = outputBN.scaleShift(batch: b, truncation: 1)
        let out = outputConv.profiled(profiledAffineReLU(h, ss, inPlace: true))
        Profiler.measure("tanh") { tanhInPlace(out) }
        return out
    }
}
