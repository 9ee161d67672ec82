import Foundation

/// Nearest-neighbour ×2 upsampling. `[B, H, W, C]` → `[B, 2H, 2W, C]`.
public func upsampleNearest2x(_ x: Tensor) -> Tensor {
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let out = Tensor(uninitializedShape: [b, 2 * h, 2 * w, c])
    let src = x.data, dst = out.data
    Parallel.forRanges(b * h, minChunk: 4) { range in
        for r in range {
            let s = src + r * w * c
            let d0 = dst + (2 * r) * (2 * w) * c, d1 = d0 + 2 * w * c
            for j in 0..<w {
                (d0 + 2 * j * c).update(from: s + j * c, count: c)
                (d0 + (2 * j + 1) * c).update(from: s + j * c, count: c)
            }
            d1.update(from: d0, count: 2 * w * c)
        }
    }
    return out
}

/// The larger of `a` and `b`, NaN if either is (as PyTorch's max pooling), written as selects so
/// the loop vectorises (Swift's `max` does not).
@inline(__always) func nanMax(_ a: Float, _ b: Float) -> Float { a != a || a > b ? a : b }

/// 2×2 max pooling with stride 2. `[B, H, W, C]` → `[B, H/2, W/2, C]` (H, W even). Parallel over
/// output rows.
public func maxPool2x2(_ x: Tensor) -> Tensor {
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    precondition(h % 2 == 0 && w % 2 == 0, "max-pool needs even sizes, got \(x.shape)")
    let out = Tensor(uninitializedShape: [b, h / 2, w / 2, c])
    let src = x.data, dst = out.data
    Parallel.forRanges(b * h / 2, minChunk: 8) { rows in
        for r in rows {
            let bi = r / (h / 2), i = r % (h / 2)
            let s0 = src + ((bi * h + 2 * i) * w) * c, s1 = s0 + w * c
            let d = dst + r * (w / 2) * c
            for j in 0..<(w / 2) {
                let a = s0 + 2 * j * c, bq = a + c, cq = s1 + 2 * j * c, dq = cq + c
                for k in 0..<c { d[j * c + k] = nanMax(nanMax(a[k], bq[k]), nanMax(cq[k], dq[k])) }
            }
        }
    }
    return out
}

/// `x += y` elementwise; shapes must match.
public func addInPlace(_ x: Tensor, _ y: Tensor) {
    precondition(x.count == y.count, "add: \(x.shape) vs \(y.shape)")
    let a = x.data, b = y.data
    Parallel.forRanges(x.count, minChunk: 1 << 16) { r in for i in r { a[i] += b[i] } }
}

/// `tanh` in place (`fastTanh`: absolute error below 1e-6).
public func tanhInPlace(_ x: Tensor) {
    let a = x.data
    Parallel.forRanges(x.count, minChunk: 1 << 15) { r in for i in r { a[i] = fastTanh(a[i]) } }
}

/// `x += upsampleNearest2x(y)` without materialising the upsampled tensor.
/// `x`: `[B, 2H, 2W, C]`, `y`: `[B, H, W, C]`.
public func addUpsampledInPlace(_ x: Tensor, _ y: Tensor) {
    let (b, h, w, c) = (y.shape[0], y.shape[1], y.shape[2], y.shape[3])
    precondition(x.shape == [b, 2 * h, 2 * w, c], "add upsampled: \(x.shape) vs \(y.shape)")
    let dst = x.data, src = y.data
    Parallel.forRanges(b * 2 * h, minChunk: 8) { rows in
        for r in rows {
            let bi = r / (2 * h), yy = r % (2 * h)
            let s = src + (bi * h + yy / 2) * w * c
            let d = dst + r * 2 * w * c
            for j in 0..<(2 * w) {
                let sp = s + (j / 2) * c, dp = d + j * c
                for k in 0..<c { dp[k] += sp[k] }
            }
        }
    }
}

/// 2×2 average pooling with stride 2 (the discriminator's downsampling).
/// `[B, H, W, C]` → `[B, H/2, W/2, C]` (H, W even).
public func avgPool2x2(_ x: Tensor) -> Tensor {
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    precondition(h % 2 == 0 && w % 2 == 0, "average pool needs even sizes, got \(x.shape)")
    let out = Tensor(uninitializedShape: [b, h / 2, w / 2, c])
    let src = x.data, dst = out.data
    Parallel.forRanges(b * h / 2, minChunk: 8) { rows in
        for r in rows {
            let bi = r / (h / 2), i = r % (h / 2)
            let s0 = src + ((bi * h + 2 * i) * w) * c, s1 = s0 + w * c
            let d = dst + r * (w / 2) * c
            for j in 0..<(w / 2) {
                let a = s0 + 2 * j * c, b1 = s1 + 2 * j * c
                for k in 0..<c { d[j * c + k] = 0.25 * ((a[k] + a[c + k]) + (b1[k] + b1[c + k])) }
            }
        }
    }
    return out
}
