/// Registry entry of the `biggan-deep` family: pytorch-pretrained-BigGAN's BigGAN-deep
/// (paper, appendix B, figure 16), with truncation-indexed batch-norm statistics.
public enum BigGANDeepFamily: GeneratorFamily, BigGANVariant {
    public static func build(configJSON: String, weights: WeightSource, file: String) throws -> any Generator {
        try buildVariant(configJSON: configJSON, weights: weights, file: file)
    }

    public static let architecture = "biggan-deep"

    /// `concat(z, embedding)`.
    static func conditioningWidth(_ c: ModelConfig) -> Int { ModelConfig.saturatingSum(c.dimZ, c.sharedDim) }

    static func validate(_ c: ModelConfig, fail: (String) -> CheckpointError) throws {
        guard let n = c.nStats, n >= 2 else { throw fail("biggan-deep needs n_stats ≥ 2") }
        for (i, b) in c.blocks.enumerated() {
            guard b.inChannels % 4 == 0, b.outChannels == b.inChannels || 2 * b.outChannels == b.inChannels else {
                throw fail("deep block \(i): in must be divisible by 4 and out must equal in or in/2 (the residual keeps the first half)")
            }
        }
    }

    static func tallyStoredScalars(_ c: ModelConfig, _ t: inout SizeTally) {
        let first = c.blocks[0], last = c.blocks[c.blocks.count - 1], bw = c.bottomWidth, cond = c.condDim
        let n = c.nStats ?? 0, attentionAt = Set(c.attentionBlocks)
        func two(_ dims: Int...) { for _ in 0..<2 { t.add(dims) } }
        t.add(c.sharedDim, c.nClasses)
        t.add(bw, bw, first.inChannels, cond); t.add(bw, bw, first.inChannels)
        for (i, b) in c.blocks.enumerated() {
            let a = b.inChannels, m = a / 4
            for ch in [a, m, m, m] { two(ch, cond); two(n, ch) }
            c.tallyConv(m, a, 1, &t); c.tallyConv(m, m, 3, &t); c.tallyConv(m, m, 3, &t); c.tallyConv(b.outChannels, m, 1, &t)
            if attentionAt.contains(i) { c.tallyAttention(b.outChannels, &t) }
        }
        two(last.outChannels); two(n, last.outChannels)
        c.tallyConv(c.outChannels, last.outChannels, 3, &t)
    }

    static func macsPerImage(_ c: ModelConfig) -> Int {
        var r = c.bottomWidth
        let attention = Set(c.attentionBlocks), cond = c.condDim
        var macs = cond * c.blocks[0].inChannels * r * r
        for (i, b) in c.blocks.enumerated() {
            let (a, m, o) = (b.inChannels, b.inChannels / 4, b.outChannels)
            macs += 2 * cond * (a + 3 * m)
            macs += a * m * r * r
            if b.up { r *= 2 }
            macs += 2 * 9 * m * m * r * r + m * o * r * r
            if attention.contains(i) { macs += attentionMacs(pixels: r * r, channels: o) }
        }
        return macs + 9 * c.blocks.last!.outChannels * c.outChannels * r * r
    }

    static func makeGenerator(_ c: ModelConfig, weights: WeightSource) throws -> any Generator {
        try BigGANDeepGenerator(config: c, weights: weights)
    }
}

extension ModelConfig.Architecture {
    /// pytorch-pretrained-BigGAN BigGAN-deep (`BigGANDeepFamily`).
    public static let bigganDeep = Self(rawValue: BigGANDeepFamily.architecture)
}
