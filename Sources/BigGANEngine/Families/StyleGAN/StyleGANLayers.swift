import Foundation

/// One synthesis layer's epilogue, in NVlabs' order: `x + noise·w_noise` → `+ bias` →
/// LeakyReLU(0.2) → instance norm (eps 1e-8, no affine) → StyleMod `x·(1 + y_s) + y_b`.
///
/// `x` `[B, H, W, C]` NHWC, changed in place; `noise(i)`: image `i`'s map `[H, W]`, or nil for
/// none; `noiseWeight`, `bias` `[C]`; `style` `[B, 2C]` (scales, then shifts). Parallel over images.
func styleEpilogue(_ x: Tensor, noise: (Int) -> UnsafePointer<Float>?, noiseWeight: Tensor, bias: Tensor, style: Tensor) {
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let pixels = h * w
    let nw = noiseWeight.data, bp = bias.data
    Parallel.forRanges(b) { images in
        var mean = [Double](repeating: 0, count: c), square = [Double](repeating: 0, count: c)
        for i in images {
            let img = x.data + i * pixels * c, map = noise(i)
            for k in 0..<c { mean[k] = 0; square[k] = 0 }
            for p in 0..<pixels {
                let px = img + p * c, n = map?[p] ?? 0
                for k in 0..<c {
                    var v = px[k] + n * nw[k] + bp[k]
                    v = v < 0 ? 0.2 * v : v
                    px[k] = v
                    mean[k] += Double(v)
                }
            }
            for k in 0..<c { mean[k] /= Double(pixels) }
            for p in 0..<pixels {
                let px = img + p * c
                for k in 0..<c { let d = Double(px[k]) - mean[k]; square[k] += d * d }
            }
            let s = style.data + i * 2 * c
            for k in 0..<c {
                let inv = 1 / (square[k] / Double(pixels) + 1e-8).squareRoot()
                // x·(1 + y_s) + y_b after normalising: one multiply-add per element.
                let scale = Float(inv) * (1 + s[k])
                square[k] = Double(scale)
                mean[k] = Double(s[c + k]) - mean[k] * Double(scale)
            }
            for p in 0..<pixels {
                let px = img + p * c
                for k in 0..<c { px[k] = px[k] * Float(square[k]) + Float(mean[k]) }
            }
        }
    }
}

/// The [1,2,1]⊗[1,2,1]/16 blur of NVlabs' `blur2d`, depthwise, zero padding 1, on NHWC `[B, H, W, C]`
/// (a new tensor). Separable: rows, then columns. Parallel over images.
public func blur121(_ x: Tensor) -> Tensor {
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let out = Tensor(uninitializedShape: x.shape)
    Parallel.forRanges(b) { images in
        let tmp = UnsafeMutablePointer<Float>.allocate(capacity: h * w * c)
        defer { tmp.deallocate() }
        for i in images {
            let src = x.data + i * h * w * c, dst = out.data + i * h * w * c
            for y in 0..<h {
                for xx in 0..<w {
                    let d = tmp + (y * w + xx) * c, m = src + (y * w + xx) * c
                    let l = xx > 0 ? src + (y * w + xx - 1) * c : nil, r = xx + 1 < w ? src + (y * w + xx + 1) * c : nil
                    for k in 0..<c { d[k] = (2 * m[k] + (l?[k] ?? 0) + (r?[k] ?? 0)) * 0.25 }
                }
            }
            for y in 0..<h {
                for xx in 0..<w {
                    let d = dst + (y * w + xx) * c, m = tmp + (y * w + xx) * c
                    let u = y > 0 ? tmp + ((y - 1) * w + xx) * c : nil, dn = y + 1 < h ? tmp + ((y + 1) * w + xx) * c : nil
                    for k in 0..<c { d[k] = (2 * m[k] + (u?[k] ?? 0) + (dn?[k] ?? 0)) * 0.25 }
                }
            }
        }
    }
    return out
}
