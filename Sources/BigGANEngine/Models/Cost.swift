/// Nominal multiply-add count of one forward pass per image, as the reference implementations
/// compute it (convolutions after upsampling counted at the upsampled size, attention matmuls,
/// linear layers including the class-conditional BN projections). Used to report effective
/// GFLOP/s (2 FLOP per multiply-add) that compare across implementations; the engine itself does
/// fewer (see `Resampling`).
public enum Cost {
    public static func macsPerImage(_ c: ModelConfig) -> Int {
        var macs = 0
        var r = c.bottomWidth
        let attention = Set(c.attentionBlocks)
        let cond = c.condDim
        switch c.architecture {
        case .biggan:
            macs += c.zChunk * c.blocks[0].inChannels * r * r
            for (i, b) in c.blocks.enumerated() {
                if b.up { r *= 2 }
                let (ci, co) = (b.inChannels, b.outChannels)
                macs += 2 * cond * (ci + co)
                macs += 9 * ci * co * r * r + 9 * co * co * r * r
                if ci != co || b.up { macs += ci * co * r * r }
                if attention.contains(i) { macs += attentionMacs(pixels: r * r, channels: co) }
            }
        case .bigganDeep:
            macs += cond * c.blocks[0].inChannels * r * r
            for (i, b) in c.blocks.enumerated() {
                let (a, m, o) = (b.inChannels, b.inChannels / 4, b.outChannels)
                macs += 2 * cond * (a + 3 * m)
                macs += a * m * r * r
                if b.up { r *= 2 }
                macs += 2 * 9 * m * m * r * r + m * o * r * r
                if attention.contains(i) { macs += attentionMacs(pixels: r * r, channels: o) }
            }
        }
        macs += 9 * c.blocks.last!.outChannels * c.outChannels * r * r
        return macs
    }

    static func attentionMacs(pixels n: Int, channels c: Int) -> Int {
        let c8 = c / 8, c2 = c / 2
        return n * c * (2 * c8 + c2) + n * (n / 4) * (c8 + c2) + n * c2 * c
    }
}
