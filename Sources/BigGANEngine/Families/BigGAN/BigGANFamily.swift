/// Registry entry of the `biggan` family: ajbrock/BigGAN-PyTorch's generator (paper, section 3
/// and appendix B), with optional hierarchical z.
public enum BigGANFamily: GeneratorFamily, BigGANVariant {
    public static func build(configJSON: String, weights: WeightSource, file: String) throws -> any Generator {
        try buildVariant(configJSON: configJSON, weights: weights, file: file)
    }

    public static let architecture = "biggan"

    /// `shared_dim`, plus one z chunk when `hier` (the chunk is concatenated after the embedding).
    static func conditioningWidth(_ c: ModelConfig) -> Int {
        (c.hier ?? false) ? ModelConfig.saturatingSum(c.sharedDim, c.zChunk) : c.sharedDim
    }

    static func validate(_ c: ModelConfig, fail: (String) -> CheckpointError) throws {
        if c.hier ?? false, c.dimZ % (c.blocks.count + 1) != 0 {
            throw fail("hier needs dim_z divisible by \(c.blocks.count + 1) (blocks + 1), dim_z is \(c.dimZ)")
        }
    }

    static func tallyStoredScalars(_ c: ModelConfig, _ t: inout SizeTally) {
        let first = c.blocks[0], last = c.blocks[c.blocks.count - 1], bw = c.bottomWidth, cond = c.condDim
        let attentionAt = Set(c.attentionBlocks)
        func two(_ dims: Int...) { for _ in 0..<2 { t.add(dims) } }
        t.add(c.nClasses, c.sharedDim)
        t.add(first.inChannels, bw, bw, c.zChunk); t.add(first.inChannels, bw, bw)
        for (i, b) in c.blocks.enumerated() {
            let a = b.inChannels, o = b.outChannels
            two(a, cond); two(a)            // bn1: gain, bias; mean, var
            c.tallyConv(o, a, 3, &t)
            two(o, cond); two(o)            // bn2
            c.tallyConv(o, o, 3, &t)
            if a != o || b.up { c.tallyConv(o, a, 1, &t) }
            if attentionAt.contains(i) { c.tallyAttention(o, &t) }
        }
        two(last.outChannels); two(last.outChannels)                    // output BN: weight, bias, mean, var
        c.tallyConv(c.outChannels, last.outChannels, 3, &t)
    }

    /// Convolutions after upsampling counted at the upsampled size, as the reference runs them.
    static func macsPerImage(_ c: ModelConfig) -> Int {
        var r = c.bottomWidth
        let attention = Set(c.attentionBlocks), cond = c.condDim
        var macs = c.zChunk * c.blocks[0].inChannels * r * r
        for (i, b) in c.blocks.enumerated() {
            if b.up { r *= 2 }
            let (ci, co) = (b.inChannels, b.outChannels)
            macs += 2 * cond * (ci + co)
            macs += 9 * ci * co * r * r + 9 * co * co * r * r
            if ci != co || b.up { macs += ci * co * r * r }
            if attention.contains(i) { macs += attentionMacs(pixels: r * r, channels: co) }
        }
        return macs + 9 * c.blocks.last!.outChannels * c.outChannels * r * r
    }

    static func makeGenerator(_ c: ModelConfig, weights: WeightSource) throws -> any Generator {
        try BigGANGenerator(config: c, weights: weights)
    }
}

extension ModelConfig.Architecture {
    /// ajbrock BigGAN (`BigGANFamily`).
    public static let biggan = Self(rawValue: BigGANFamily.architecture)
}
