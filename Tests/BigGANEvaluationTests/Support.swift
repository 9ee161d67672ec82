@testable import BigGANEngine

func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = NoiseGenerator(seed: seed)
    let t = Tensor(shape: shape)
    for i in 0..<t.count { t[i] = rng.nextNormal() }
    return t
}

func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
    var m: Float = 0
    for i in 0..<a.count { m = max(m, abs(a[i] - b[i])) }
    return m
}
