import Foundation

/// One synthesis layer's epilogue, in NVlabs' order: `x + noise·w_noise` → `+ bias` →
/// LeakyReLU(0.2) → instance norm (`eps`, NVlabs 1e-8; no affine) → StyleMod `x·(1 + y_s) + y_b`.
///
/// `x` `[B, H, W, C]` NHWC, changed in place; `noise(i)`: image `i`'s map `[H, W]`, or nil for
/// none; `noiseWeight`, `bias` `[C]`; `style` `[B, 2C]` (scales, then shifts). `biasMask` `[H·W]`,
/// when given, multiplies the bias per pixel: `+ bias·M[p]` (`blurredOnes`: a bias added before the
/// blur, as rosinality adds it).
///
/// Two passes over memory, each parallel over fixed chunks of `epilogueChunk` pixels of every
/// image: the first applies noise, bias and LeakyReLU and sums each channel's values and squares
/// minus pixel 0's value (Float over 64 pixels, then Double); the chunks' sums are added in
/// chunk order, so the statistics do not depend on the thread count or the batch; the variance is
/// `E[d²] − E[d]²` in Double. The second applies the normalisation and style as one multiply-add.
func styleEpilogue(_ x: Tensor, noise: (Int) -> UnsafePointer<Float>?, noiseWeight: Tensor, bias: Tensor, style: Tensor,
                   biasMask: UnsafePointer<Float>? = nil, eps: Double = 1e-8) {
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let pixels = h * w, chunk = epilogueChunk
    let chunks = (pixels + chunk - 1) / chunk
    let nw = noiseWeight.data, bp = bias.data
    // Per (image, chunk): C sums then C sums of squares, of the values minus a per-image,
    // per-channel shift (the activated value of pixel 0), so that E[d²] − E[d]² does not cancel
    // when a channel's mean is large against its spread.
    let partial = UnsafeMutablePointer<Double>.allocate(capacity: b * chunks * 2 * c)
    defer { partial.deallocate() }
    let shift = UnsafeMutablePointer<Float>.allocate(capacity: b * c)
    defer { shift.deallocate() }
    for i in 0..<b {
        let px = x.data + i * pixels * c, n = noise(i)?[0] ?? 0, m = biasMask?[0] ?? 1
        for k in 0..<c { let v = px[k] + n * nw[k] + bp[k] * m; shift[i * c + k] = v < 0 ? 0.2 * v : v }
    }
    Parallel.forRanges(b * chunks) { tasks in
        let fs = UnsafeMutablePointer<Float>.allocate(capacity: 2 * c)
        defer { fs.deallocate() }
        for task in tasks {
            let i = task / chunks, p0 = (task % chunks) * chunk, p1 = min(pixels, p0 + chunk)
            let img = x.data + i * pixels * c, map = noise(i), v0 = shift + i * c
            let sum = partial + task * 2 * c, sq = sum + c
            for k in 0..<c { sum[k] = 0; sq[k] = 0 }
            var p = p0
            while p < p1 {
                let q = min(p1, p + 64)
                fs.update(repeating: 0, count: 2 * c)
                for pp in p..<q {
                    let px = img + pp * c, n = map?[pp] ?? 0, m = biasMask?[pp] ?? 1
                    for k in 0..<c {
                        var v = px[k] + n * nw[k] + bp[k] * m
                        v = v < 0 ? 0.2 * v : v
                        px[k] = v
                        let d = v - v0[k]
                        fs[k] += d
                        fs[c + k] += d * d
                    }
                }
                for k in 0..<c { sum[k] += Double(fs[k]); sq[k] += Double(fs[c + k]) }
                p = q
            }
        }
    }
    // Per image and channel: scale and shift of the second pass.
    let coef = UnsafeMutablePointer<Float>.allocate(capacity: b * 2 * c)
    defer { coef.deallocate() }
    for i in 0..<b {
        let st = style.data + i * 2 * c
        for k in 0..<c {
            var s1 = 0.0, s2 = 0.0
            for t in 0..<chunks { s1 += partial[(i * chunks + t) * 2 * c + k]; s2 += partial[(i * chunks + t) * 2 * c + c + k] }
            let meanShifted = s1 / Double(pixels), variance = max(s2 / Double(pixels) - meanShifted * meanShifted, 0)
            let mean = Double(shift[i * c + k]) + meanShifted
            let scale = (1 / (variance + eps).squareRoot()) * Double(1 + st[k])
            coef[i * 2 * c + k] = Float(scale)
            coef[i * 2 * c + c + k] = Float(Double(st[c + k]) - mean * scale)
        }
    }
    Parallel.forRanges(b * chunks) { tasks in
        for task in tasks {
            let i = task / chunks, p0 = (task % chunks) * chunk, p1 = min(pixels, p0 + chunk)
            let img = x.data + i * pixels * c, sc = coef + i * 2 * c, sh = sc + c
            for p in p0..<p1 {
                let px = img + p * c
                for k in 0..<c { px[k] = px[k] * sc[k] + sh[k] }
            }
        }
    }
}

/// Pixels per parallel task of `styleEpilogue` (fixed, so that results do not depend on threads).
let epilogueChunk = 4096

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
