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
/// are bias-free linear maps of the conditioning vector `cond` (`[B, condDim]`), computed for
/// every BN that reads the same `cond` at once by a `ProjectionStack`. It produces per-sample
/// `scale` and `shift` (`[B, C]`) for `affineReLU` or a convolution's epilogue.
public struct ConditionalBatchNorm: @unchecked Sendable {
    public let channels: Int
    /// Where this BN's gains start in a row of its stack's output; its biases follow them.
    public let offset: Int
    public let statistics: NormStatistics
    public let eps: Float

    /// `projected`: the stack's output `[B, stack.outputs]` for the batch's conditioning vectors.
    public func scaleShift(projected: Tensor, truncation: Double) -> (scale: Tensor, shift: Tensor) {
        let (mean, variance) = statistics.select(truncation: truncation)
        let b = projected.shape[0], c = channels, width = projected.shape[1]
        let scale = Tensor(uninitializedShape: [b, c]), shift = Tensor(uninitializedShape: [b, c])
        for i in 0..<b {
            let g = projected.data + i * width + offset, s = g + c
            for k in 0..<c {
                let inv = 1 / (variance[k] + eps).squareRoot()
                let sc = (1 + g[k]) * inv
                scale[i * c + k] = sc
                shift[i * c + k] = s[k] - mean[k] * sc
            }
        }
        return (scale, shift)
    }
}

/// The gain and bias projections (PyTorch `Linear` weights `[C, condDim]`, no bias) of the
/// conditional BNs that read one conditioning vector, stacked row-wise into one `Linear`
/// `[Σ 2·C, condDim]` (each BN's gains, then its biases, at its `offset`): one weight-streaming
/// pass (`rowsTimesBlockedColumns`) computes all of them, instead of two small ones per BN.
public struct ProjectionStack: @unchecked Sendable {
    public let linear: Linear
    public var outputs: Int { linear.outFeatures }

    /// `projections`: each BN's `(gain, bias)` weights, `[C, condDim]` each; returns the stack and
    /// each BN's offset.
    public static func stacking(_ projections: [(gain: Tensor, bias: Tensor)]) -> (ProjectionStack, [Int]) {
        let cond = projections[0].gain.shape[1]
        let total = projections.reduce(0) { $0 + $1.gain.count + $1.bias.count } / cond
        let w = Tensor(uninitializedShape: [total, cond])
        var offsets: [Int] = [], row = 0
        for (g, b) in projections {
            precondition(g.shape == b.shape && g.shape[1] == cond, "projection shapes \(g.shape), \(b.shape)")
            offsets.append(row)
            (w.data + row * cond).update(from: g.data, count: g.count)
            (w.data + row * cond + g.count).update(from: b.data, count: b.count)
            row += 2 * g.shape[0]
        }
        return (ProjectionStack(linear: Linear(weight: w, bias: nil)), offsets)
    }

    /// `cond` `[B, condDim]` → `[B, outputs]`.
    public func callAsFunction(_ cond: Tensor) -> Tensor { linear(cond) }
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

/// `affineReLU(x, scale, shift)` and BigGAN-deep's residual from the same read of `x`: the first
/// `keep` channels of `x`, nearest-upsampled ×2 when `upsample`. `x` `[B, H, W, C]`; returns
/// `([B, H, W, C], [B, H', W', keep])`. (Two passes over `x` cost a read of it more; measured
/// 0.4 ms of BigGAN-deep-128's 42 at batch 1.)
public func affineReLUAndResidual(_ x: Tensor, scale: Tensor, shift: Tensor, keep: Int, upsample: Bool) -> (Tensor, Tensor) {
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    precondition(scale.count == b * c && shift.count == b * c && keep <= c, "affine: \(x.shape) vs scale \(scale.shape), keep \(keep)")
    let out = Tensor(uninitializedShape: x.shape)
    let f = upsample ? 2 : 1
    let res = Tensor(uninitializedShape: [b, f * h, f * w, keep])
    let src = x.data, dst = out.data, r = res.data, sc = scale.data, sh = shift.data
    Parallel.forRanges(b * h, minChunk: 8) { rows in
        for row in rows {
            let bi = row / h, y = row % h
            let a = sc + bi * c, o = sh + bi * c
            for xx in 0..<w {
                let p = row * w + xx
                let s = src + p * c, d = dst + p * c
                // `v < 0 ? 0 : v`, not `max(0, v)`: NaN propagates, as in PyTorch.
                for k in 0..<c { let v = s[k] * a[k] + o[k]; d[k] = v < 0 ? 0 : v }
                if upsample {
                    let base = ((bi * 2 * h + 2 * y) * 2 * w + 2 * xx) * keep, next = base + 2 * w * keep
                    for q in [base, base + keep, next, next + keep] { (r + q).update(from: s, count: keep) }
                } else {
                    (r + p * keep).update(from: s, count: keep)
                }
            }
        }
    }
    return (out, res)
}
