import Foundation

/// One synthesis layer's epilogue, in NVlabs' order: `x + noise·w_noise` → `+ bias` →
/// LeakyReLU(0.2) → instance norm (`eps`, NVlabs 1e-8; no affine) → StyleMod `x·(1 + y_s) + y_b`.
///
/// `x` `[B, H, W, C]` NHWC, changed in place; `noise(i)`: image `i`'s map `[H, W]`, or nil for
/// none; `noiseWeight`, `bias` `[C]`; `style` `[B, 2C]` (scales, then shifts). `biasMask` `[H·W]`,
/// when given, multiplies the bias per pixel: `+ bias·M[p]` (`blurredOnes`: a bias added before the
/// blur, as rosinality adds it; nil: the NVlabs loop, unchanged). Parallel over images, and over
/// channel blocks when there are fewer images than workers (each channel's statistics are summed
/// in pixel order whatever the split, so results do not depend on it).
func styleEpilogue(_ x: Tensor, noise: (Int) -> UnsafePointer<Float>?, noiseWeight: Tensor, bias: Tensor, style: Tensor,
                   biasMask: UnsafePointer<Float>? = nil, eps: Double = 1e-8) {
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let pixels = h * w
    let split = b < Parallel.workers ? min(c / 8, (Parallel.workers + b - 1) / b) : 1
    let block = (c + max(split, 1) - 1) / max(split, 1)
    let blocks = (c + block - 1) / block
    let nw = noiseWeight.data, bp = bias.data
    Parallel.forRanges(b * blocks) { tasks in
        var mean = [Double](repeating: 0, count: block), square = [Double](repeating: 0, count: block)
        // (`block` may be all the channels: one image per task)
        for task in tasks {
            let i = task / blocks, k0 = (task % blocks) * block, n = min(block, c - k0)
            let img = x.data + i * pixels * c + k0, map = noise(i)
            for k in 0..<n { mean[k] = 0; square[k] = 0 }
            for p in 0..<pixels {
                let px = img + p * c, noiseValue = map?[p] ?? 0
                if let biasMask {
                    let m = biasMask[p]
                    for k in 0..<n {
                        var v = px[k] + noiseValue * nw[k0 + k] + bp[k0 + k] * m
                        v = v < 0 ? 0.2 * v : v
                        px[k] = v
                        mean[k] += Double(v)
                    }
                } else {
                    for k in 0..<n {
                        var v = px[k] + noiseValue * nw[k0 + k] + bp[k0 + k]
                        v = v < 0 ? 0.2 * v : v
                        px[k] = v
                        mean[k] += Double(v)
                    }
                }
            }
            for k in 0..<n { mean[k] /= Double(pixels) }
            for p in 0..<pixels {
                let px = img + p * c
                for k in 0..<n { let d = Double(px[k]) - mean[k]; square[k] += d * d }
            }
            let s = style.data + i * 2 * c
            for k in 0..<n {
                let inv = 1 / (square[k] / Double(pixels) + eps).squareRoot()
                // x·(1 + y_s) + y_b after normalising: one multiply-add per element.
                let scale = Float(inv) * (1 + s[k0 + k])
                square[k] = Double(scale)
                mean[k] = Double(s[c + k0 + k]) - mean[k] * Double(scale)
            }
            for p in 0..<pixels {
                let px = img + p * c
                for k in 0..<n { px[k] = px[k] * Float(square[k]) + Float(mean[k]) }
            }
        }
    }
}

/// `M` `[side·side]` (row-major): `blur121` of a ones map `[side, side]` with zero padding, so that
/// `blur121(x + b) = blur121(x) + b·M` for a per-channel constant `b`. Separable: per axis 3/4 on
/// the first and last row or column and 1 inside (exact in Float); 9/16 in the corners. `side` ≥ 2.
public func blurredOnes(side: Int) -> Tensor {
    precondition(side >= 2, "blurredOnes needs a side of at least 2")
    let m = Tensor(uninitializedShape: [side * side])
    for y in 0..<side {
        let my: Float = y == 0 || y == side - 1 ? 0.75 : 1
        for x in 0..<side { m.data[y * side + x] = my * (x == 0 || x == side - 1 ? 0.75 : 1) }
    }
    return m
}

/// The [1,2,1]⊗[1,2,1]/16 blur of NVlabs' `blur2d`, depthwise, zero padding 1, on NHWC `[B, H, W, C]`
/// (a new tensor). Separable: rows, then columns, each pass parallel over the image rows.
public func blur121(_ x: Tensor) -> Tensor {
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let out = Tensor(uninitializedShape: x.shape), tmp = Tensor(uninitializedShape: x.shape)
    let row = w * c
    Parallel.forRanges(b * h, minChunk: 4) { rows in
        for r in rows {
            let src = x.data + r * row, dst = tmp.data + r * row
            for xx in 0..<w {
                let d = dst + xx * c, m = src + xx * c
                let l = xx > 0 ? m - c : nil, rt = xx + 1 < w ? m + c : nil
                for k in 0..<c { d[k] = (2 * m[k] + (l?[k] ?? 0) + (rt?[k] ?? 0)) * 0.25 }
            }
        }
    }
    Parallel.forRanges(b * h, minChunk: 4) { rows in
        for r in rows {
            let y = r % h, m = tmp.data + r * row, dst = out.data + r * row
            let u = y > 0 ? m - row : nil, dn = y + 1 < h ? m + row : nil
            for e in 0..<row { dst[e] = (2 * m[e] + (u?[e] ?? 0) + (dn?[e] ?? 0)) * 0.25 }
        }
    }
    return out
}
