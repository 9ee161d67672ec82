/// Sizes implied by a `ModelConfig`, computed with overflow checks (nil / overflowed rather than
/// a trap), so that `validate` can refuse a configuration before anything is allocated.
extension ModelConfig {
    /// Stored scalars the generator will read: the same tensors, in the same shapes, as
    /// the family's generator requests (`BigGANVariant.tallyStoredScalars`). Nil when the count overflows `Int`.
    public var storedScalarCount: Int? { storedScalarTally.value }

    var storedScalarTally: SizeTally {
        var t = SizeTally()
        guard !blocks.isEmpty, let variant else { return t }
        variant.tallyStoredScalars(self, &t)
        return t
    }

    /// Adds the tensors of a self-attention layer over `c` channels (θ, φ, g, o, γ).
    func tallyAttention(_ c: Int, _ t: inout SizeTally) {
        t.add(c / 8, c); t.add(c / 8, c); t.add(c / 2, c); t.add(c, c / 2); t.add(1)
    }

    /// Adds an `o × i × k × k` convolution with bias.
    func tallyConv(_ o: Int, _ i: Int, _ k: Int, _ t: inout SizeTally) { t.add(o, i, k, k); t.add(o) }

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
