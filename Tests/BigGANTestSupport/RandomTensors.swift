import BigGANEngine

/// A tensor of `offset + scale · N(0, 1)` values drawn from `NoiseGenerator(seed:)`.
public func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1, offset: Float = 0) -> Tensor {
    var rng = NoiseGenerator(seed: seed)
    let t = Tensor(shape: shape)
    for i in 0..<t.count { t[i] = offset + rng.nextNormal() * scale }
    return t
}

/// The largest element-wise difference of two tensors of the same size.
public func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.count == b.count, "\(a.shape) vs \(b.shape)")
    var m: Float = 0
    for i in 0..<a.count { m = max(m, abs(a[i] - b[i])) }
    return m
}
