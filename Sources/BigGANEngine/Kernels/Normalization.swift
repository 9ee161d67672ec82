import Foundation

/// Stored batch-norm statistics for inference.
public enum NormStatistics: @unchecked Sendable {
    /// One mean and variance per channel: `[C]` each.
    case fixed(mean: Tensor, variance: Tensor)
    /// BigGAN-deep: rows of statistics for truncations `k/(n-1)`, `k = 0..n-1`: `[n, C]` each.
    case truncationIndexed(means: Tensor, variances: Tensor)

    public var channels: Int {
        switch self {
        case .fixed(let m, _): return m.count
        case .truncationIndexed(let m, _): return m.shape[1]
        }
    }

    /// Mean and variance for `truncation`. Truncation-indexed statistics follow the reference
    /// (pytorch-pretrained-BigGAN) exactly, quirk included: `(coef, idx) = modf(t / step)` in double
    /// precision; `coef == 0` takes row `idx`, otherwise `row[idx]·coef + row[idx+1]·(1−coef)`.
    public func select(truncation: Double) -> (mean: [Float], variance: [Float]) {
        switch self {
        case .fixed(let m, let v):
            return (m.array, v.array)
        case .truncationIndexed(let ms, let vs):
            let n = ms.shape[0], c = ms.shape[1]
            let step = 1.0 / Double(n - 1)
            let q = truncation / step
            let idx = min(max(Int(q.rounded(.towardZero)), 0), n - 1)
            let coef = q - q.rounded(.towardZero)
            func row(_ t: Tensor, _ r: Int) -> [Float] { Array(UnsafeBufferPointer(start: t.data + r * c, count: c)) }
            if coef == 0 || idx + 1 >= n { return (row(ms, idx), row(vs, idx)) }
            let a = Float(coef), b = Float(1 - coef)
            let m0 = row(ms, idx), m1 = row(ms, idx + 1), v0 = row(vs, idx), v1 = row(vs, idx + 1)
            return ((0..<c).map { m0[$0] * a + m1[$0] * b }, (0..<c).map { v0[$0] * a + v1[$0] * b })
        }
    }
}

/// Class-conditional batch norm in inference mode:
/// `y = (x − mean) / sqrt(var + eps) · (1 + gain(cond)) + bias(cond)`, where `gain` and `bias`
/// are bias-free linear maps of the conditioning vector `cond` (`[B, condDim]`).
/// It produces per-sample `scale` and `shift` (`[B, C]`) for `affineReLU`.
public struct ConditionalBatchNorm: @unchecked Sendable {
    public let gain: Linear
    public let bias: Linear
    public let statistics: NormStatistics
    public let eps: Float

    public init(gain: Linear, bias: Linear, statistics: NormStatistics, eps: Float) {
        self.gain = gain; self.bias = bias; self.statistics = statistics; self.eps = eps
    }

    public func scaleShift(cond: Tensor, truncation: Double) -> (scale: Tensor, shift: Tensor) {
        let (mean, variance) = statistics.select(truncation: truncation)
        let g = gain(cond), s = bias(cond)
        let b = cond.shape[0], c = mean.count
        for i in 0..<b {
            for k in 0..<c {
                let inv = 1 / (variance[k] + eps).squareRoot()
                let scale = (1 + g.data[i * c + k]) * inv
                g.data[i * c + k] = scale
                s.data[i * c + k] -= mean[k] * scale
            }
        }
        return (g, s)
    }
}

/// Unconditional batch norm in inference mode with a per-channel `weight` and `bias` (`[C]`).
public struct BatchNorm: @unchecked Sendable {
    public let weight: Tensor
    public let bias: Tensor
    public let statistics: NormStatistics
    public let eps: Float

    public init(weight: Tensor, bias: Tensor, statistics: NormStatistics, eps: Float) {
        self.weight = weight; self.bias = bias; self.statistics = statistics; self.eps = eps
    }

    /// The same scale and shift for every sample: `[B, C]` each.
    public func scaleShift(batch: Int, truncation: Double) -> (scale: Tensor, shift: Tensor) {
        let (mean, variance) = statistics.select(truncation: truncation)
        let c = mean.count
        let sc = Tensor(shape: [batch, c]), sh = Tensor(shape: [batch, c])
        for k in 0..<c {
            let scale = weight[k] / (variance[k] + eps).squareRoot()
            let shift = bias[k] - mean[k] * scale
            for i in 0..<batch { sc[i * c + k] = scale; sh[i * c + k] = shift }
        }
        return (sc, sh)
    }
}

/// Fused per-sample affine transform and ReLU on NHWC activations:
/// `y[b, p, c] = max(0, x[b, p, c] · scale[b, c] + shift[b, c])`, NaN propagating (as PyTorch's ReLU).
/// `x`: `[B, H, W, C]`; `scale`, `shift`: `[B, C]`. Returns a new tensor, or `x` itself
/// overwritten when `inPlace` (for an input nothing else reads afterwards: saves a buffer).
public func affineReLU(_ x: Tensor, scale: Tensor, shift: Tensor, inPlace: Bool = false) -> Tensor {
    let b = x.shape[0], c = x.shape[3], pixels = x.count / max(b * c, 1)
    precondition(scale.count == b * c && shift.count == b * c, "affine: \(x.shape) vs scale \(scale.shape)")
    let out = inPlace ? x : Tensor(uninitializedShape: x.shape)
    let src = x.data, dst = out.data, sc = scale.data, sh = shift.data
    Parallel.forRanges(b * pixels, minChunk: 1024) { range in
        for p in range {
            let bi = p / pixels
            let s = src + p * c, d = dst + p * c, a = sc + bi * c, o = sh + bi * c
            // `v < 0 ? 0 : v`, not `max(0, v)`: Swift's max turns NaN into 0, which would hide
            // overflowing weights as a black image instead of a non-finite output.
            for k in 0..<c { let v = s[k] * a[k] + o[k]; d[k] = v < 0 ? 0 : v }
        }
    }
    return out
}
