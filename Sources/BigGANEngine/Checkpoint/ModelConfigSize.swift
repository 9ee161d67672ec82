/// Sizes implied by a `ModelConfig`, computed with overflow checks (nil / overflowed rather than
/// a trap), so that `validate` can refuse a configuration before anything is allocated.
extension ModelConfig {
    /// Stored scalars the generator will read: the same tensors, in the same shapes, as
    /// `BigGANGenerator` / `BigGANDeepGenerator` request. Nil when the count overflows `Int`.
    public var storedScalarCount: Int? { storedScalarTally.value }

    var storedScalarTally: SizeTally {
        var t = SizeTally()
        guard let first = blocks.first, let last = blocks.last else { return t }
        let bw = bottomWidth, cond = condDim, attentionAt = Set(attentionBlocks)
        func attention(_ c: Int) {
            t.add(c / 8, c); t.add(c / 8, c); t.add(c / 2, c); t.add(c, c / 2); t.add(1)
        }
        func conv(_ o: Int, _ i: Int, _ k: Int) { t.add(o, i, k, k); t.add(o) }
        func two(_ dims: Int...) { for _ in 0..<2 { t.add(dims) } }
        switch architecture {
        case .biggan:
            t.add(nClasses, sharedDim)
            t.add(first.inChannels, bw, bw, zChunk); t.add(first.inChannels, bw, bw)
            for (i, b) in blocks.enumerated() {
                let a = b.inChannels, o = b.outChannels
                two(a, cond); two(a)            // bn1: gain, bias; mean, var
                conv(o, a, 3)
                two(o, cond); two(o)            // bn2
                conv(o, o, 3)
                if a != o || b.up { conv(o, a, 1) }
                if attentionAt.contains(i) { attention(o) }
            }
            two(last.outChannels); two(last.outChannels)                    // output BN: weight, bias, mean, var
        case .bigganDeep:
            let n = nStats ?? 0
            t.add(sharedDim, nClasses)
            t.add(bw, bw, first.inChannels, cond); t.add(bw, bw, first.inChannels)
            for (i, b) in blocks.enumerated() {
                let a = b.inChannels, m = a / 4
                for c in [a, m, m, m] { two(c, cond); two(n, c) }
                conv(m, a, 1); conv(m, m, 3); conv(m, m, 3); conv(b.outChannels, m, 1)
                if attentionAt.contains(i) { attention(b.outChannels) }
            }
            two(last.outChannels); two(n, last.outChannels)
        }
        conv(outChannels, last.outChannels, 3)
        return t
    }

    /// Elements of the largest activation of one image: the first linear layer's output and,
    /// per block, its input upsampled to the block's output size with the wider channel count.
    /// Nil when it overflows `Int`.
    public var peakActivationElements: Int? {
        guard let first = blocks.first else { return 0 }
        var peak = SizeTally.product([bottomWidth, bottomWidth, first.inChannels])
        for (b, r) in zip(blocks, blockResolutions) {
            guard let p = peak, let here = SizeTally.product([r, r, max(b.inChannels, b.outChannels)]) else { return nil }
            peak = max(p, here)
        }
        return peak
    }
}
