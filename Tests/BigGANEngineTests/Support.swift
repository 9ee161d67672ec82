import Foundation
@testable import BigGANEngine

/// NHWC `[B, H, W, C]` → NCHW `[B, C, H, W]`.
func toNCHW(_ x: Tensor) -> Tensor {
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let out = Tensor(shape: [b, c, h, w])
    for n in 0..<b { for y in 0..<h { for xx in 0..<w { for k in 0..<c {
        out[((n * c + k) * h + y) * w + xx] = x[((n * h + y) * w + xx) * c + k]
    } } } }
    return out
}

/// Direct NCHW reference convolution (stride 1, zero "same" padding), for checking the fast kernels.
func referenceConv(_ xNHWC: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    let (b, h, w, ci) = (xNHWC.shape[0], xNHWC.shape[1], xNHWC.shape[2], xNHWC.shape[3])
    let (co, k) = (weight.shape[0], weight.shape[2])
    let pad = k / 2
    let out = Tensor(shape: [b, h, w, co])
    for n in 0..<b { for y in 0..<h { for xx in 0..<w { for o in 0..<co {
        var s = Double(bias?[o] ?? 0)
        for i in 0..<ci { for ky in 0..<k { for kx in 0..<k {
            let sy = y + ky - pad, sx = xx + kx - pad
            if sy < 0 || sy >= h || sx < 0 || sx >= w { continue }
            s += Double(xNHWC[((n * h + sy) * w + sx) * ci + i]) * Double(weight[((o * ci + i) * k + ky) * k + kx])
        } } }
        out[((n * h + y) * w + xx) * co + o] = Float(s)
    } } } }
    return out
}
