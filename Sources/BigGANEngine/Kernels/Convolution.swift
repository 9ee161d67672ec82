/// Inference 2-D convolution with stride 1 and "same" zero padding on NHWC activations, run by
/// oneDNN (`OneDNNConvolution`), optionally of the nearest-neighbour 2× upsampled input.
///
/// - Input `x`: `[B, H, W, inChannels]`.
/// - Output: `[B, H, W, outChannels]`, or `[B, 2H, 2W, outChannels]` for `.upsampled` layers.
/// - Weights are given in PyTorch layout `[out, in, k, k]`; oneDNN keeps one copy in its own layout.
/// - 3×3 layers with at most `fewOutputs` outputs (the layer that makes the image) run
///   `forwardFewOutputs` instead: oneDNN's kernels block output channels by 16, wasting most of
///   their work at 3.
public struct Conv2D: @unchecked Sendable {
    /// Whether the layer convolves its input as is or its nearest-neighbour 2× upsampling.
    public enum Input: Sendable { case same, upsampled }

    public let kernelSize: Int, inChannels: Int, outChannels: Int
    public let input: Input
    /// Every layer but the few-output ones.
    let engine: OneDNNConvolution?
    /// For 3×3 layers with few outputs: weights `[in, 9*out]`, column `(ky*3 + kx)*out + co`.
    let tapMajor: Tensor?
    /// `[out]`, zeros when the layer has no bias (few-output layers).
    let bias: Tensor

    /// Layers with at most this many outputs skip oneDNN (see `forwardFewOutputs`).
    static let fewOutputs = 4

    /// - `weight`: `[out, in, k, k]`, `bias`: `[out]` or nil; `.upsampled` needs k = 3.
    public init(weight: Tensor, bias: Tensor?, input: Input = .same) {
        precondition(weight.shape.count == 4 && weight.shape[2] == weight.shape[3])
        let (o, i, k) = (weight.shape[0], weight.shape[1], weight.shape[2])
        precondition(input == .same || k == 3, "an upsampled-input convolution needs a 3×3 kernel")
        kernelSize = k; inChannels = i; outChannels = o; self.input = input
        if let bias { precondition(bias.count == o); self.bias = bias.copy() } else { self.bias = Tensor(shape: [o]) }
        if k == 3 && o <= Conv2D.fewOutputs && input == .same {
            let t = Tensor(shape: [i, 9 * o])
            for co in 0..<o { for ci in 0..<i { for tap in 0..<9 { t.data[ci * 9 * o + tap * o + co] = weight.data[(co * i + ci) * 9 + tap] } } }
            tapMajor = t
            engine = nil
        } else {
            tapMajor = nil
            engine = OneDNNConvolution(weight: weight, bias: self.bias, mode: input == .same ? .same : .upsampledInput)
        }
    }

    /// Number of multiply-adds for one image of `outputPixels` output pixels, counted as the
    /// layer is defined (an upsampled layer as a 3×3 convolution of the upsampled input).
    public func macs(outputPixels: Int) -> Int { outputPixels * kernelSize * kernelSize * inChannels * outChannels }

    /// Output pixels per image for an input of `inputPixels` pixels.
    public func outputPixels(inputPixels: Int) -> Int { input == .same ? inputPixels : 4 * inputPixels }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[3] == inChannels, "conv expects [B,H,W,\(inChannels)], got \(x.shape)")
        if tapMajor != nil { return forwardFewOutputs(x) }
        return engine!(x)
    }

    /// 3×3 convolution to very few output channels without im2col: one GEMM computes every
    /// tap's contribution at every input pixel, `Y[pixels, 9*out] = x[pixels, in] × tapMajor`,
    /// then each output pixel sums the 9 shifted contributions.
    func forwardFewOutputs(_ x: Tensor) -> Tensor {
        let (b, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let o = outChannels, n9 = 9 * o
        let y = Tensor(uninitializedShape: [b * h * w, n9])
        sgemmPerImage(images: b, rowsPerImage: h * w, n: n9, k: inChannels, a: x.data, lda: inChannels,
                      b: tapMajor!.data, ldb: n9, c: y.data, ldc: n9)
        let out = Tensor(uninitializedShape: [b, h, w, o])
        let ys = y.data, dst = out.data, bp = bias.data
        Parallel.forRanges(b * h, minChunk: 8) { rows in
            for r in rows {
                let bi = r / h, yy = r % h
                for xx in 0..<w {
                    let d = dst + (r * w + xx) * o
                    for co in 0..<o { d[co] = bp[co] }
                    for ky in 0..<3 {
                        let sy = yy + ky - 1   // input row whose tap ky lands on output row yy
                        if sy < 0 || sy >= h { continue }
                        for kx in 0..<3 {
                            let sx = xx + kx - 1
                            if sx < 0 || sx >= w { continue }
                            let src = ys + ((bi * h + sy) * w + sx) * n9 + (ky * 3 + kx) * o
                            for co in 0..<o { d[co] += src[co] }
                        }
                    }
                }
            }
        }
        return out
    }
}
