/// Inference 2-D convolution with stride 1 and "same" zero padding on NHWC activations, executed
/// through a `ConvPlan` (im2col in batch-invariant bands of output rows feeding one sgemm per
/// image, see `ConvBanding`).
///
/// - Input `x`: `[B, H, W, inChannels]`.
/// - Output: `[B, H, W, outChannels]` (or `[B, 2H, 2W, outChannels]` for `forwardUpsampled`).
/// - Weights are given in PyTorch layout `[out, in, k, k]` and packed once at construction
///   into `[k*k*in, out]`, row `(ky*k + kx)*in + ci` (`ConvPlan.pack`), so that
///   the GEMM is `out[pixels, out] = col[pixels, k*k*in] × packed[k*k*in, out]`.
/// - 1×1 convolutions skip im2col: in NHWC the activation already is the `[pixels, in]` matrix.
public struct Conv2D: @unchecked Sendable {
    public let plan: ConvPlan
    /// `plan` with `Resampling.upsampleInput`, for 3×3 layers (`forwardUpsampled`).
    let upsampledPlan: ConvPlan?
    public var kernelSize: Int { plan.kernelSize }
    public var inChannels: Int { plan.inChannels }
    public var outChannels: Int { plan.outChannels }
    /// `[k*k*in, out]`.
    let packed: Tensor
    /// `[out]`, zeros when the layer has no bias.
    let bias: Tensor
    /// For 3×3 layers with few outputs (the layer that makes the image): weights
    /// `[in, 9*out]`, column `(ky*3 + kx)*out + co`, used by `forwardFewOutputs`.
    let tapMajor: Tensor?

    /// Layers with at most this many outputs skip im2col (see `forwardFewOutputs`).
    static let fewOutputs = 4

    /// Column buffers are limited to this many floats per band (4 MiB): small enough to keep
    /// BigGAN-deep-128's working set at batch 1 near 20 MiB, large enough that each band's GEMM
    /// has a few thousand rows (2 MiB bands made BigGAN-128 50% slower; 4 and 16 MiB run alike).
    nonisolated(unsafe) public static var columnBudget = 1 << 20

    /// Below this many input pixels per image (H·W) deriving the phase kernels costs more than the
    /// 2.25× larger GEMM of convolving the upsampled input directly (BigGAN's 4×4 layers). Per
    /// image, not per batch: the path, and so the rounding, must not depend on the batch.
    static let phaseMinimumPixels = 64

    /// Batch-invariant bands of `columnBudget` floats.
    var banding: ConvBanding { ConvBanding(columnBudget: Self.columnBudget, perImage: true) }

    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.shape.count == 4 && weight.shape[2] == weight.shape[3])
        let (o, i, k) = (weight.shape[0], weight.shape[1], weight.shape[2])
        plan = ConvPlan(kernelSize: k, inChannels: i, outChannels: o)
        upsampledPlan = k == 3 ? ConvPlan(kernelSize: k, inChannels: i, outChannels: o, resampling: .upsampleInput) : nil
        let p = Tensor(uninitializedShape: [k * k * i, o])
        ConvPlan.pack(weight, into: p.data)
        if let bias { precondition(bias.count == o); self.bias = bias.copy() } else { self.bias = Tensor(shape: [o]) }
        packed = p
        if k == 3 && o <= Conv2D.fewOutputs {
            let t = Tensor(shape: [i, 9 * o])
            for ci in 0..<i { for tap in 0..<9 { for co in 0..<o { t.data[ci * 9 * o + tap * o + co] = p.data[(tap * i + ci) * o + co] } } }
            tapMajor = t
        } else {
            tapMajor = nil
        }
    }

    /// Number of multiply-adds for one image of `h × w` output pixels.
    public func macs(outputPixels: Int) -> Int { outputPixels * kernelSize * kernelSize * inChannels * outChannels }

    public func callAsFunction(_ x: Tensor) -> Tensor { forward(x, label: "conv") }

    /// `self(x)`; the profiler names its parts after `label`.
    func forward(_ x: Tensor, label: @autoclosure () -> String) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[3] == inChannels, "conv expects [B,H,W,\(inChannels)], got \(x.shape)")
        if tapMajor != nil { return forwardFewOutputs(x) }
        return plan.forward(x, kernels: .derived(from: packed.data), bias: bias.data, banding: banding, label: label())
    }

    /// `self(upsampleNearest2x(x))` for a 3×3 layer, by the four-phase decomposition of
    /// `Resampling.upsampleInput` (phase kernels derived from the packed 3×3 weights on each
    /// call, see `ConvPlan.Kernels.derived`). Inputs of under `phaseMinimumPixels` pixels per
    /// image convolve the upsampled input instead.
    public func forwardUpsampled(_ x: Tensor) -> Tensor { forwardUpsampled(x, label: "conv after upsample") }

    func forwardUpsampled(_ x: Tensor, label: @autoclosure () -> String) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[3] == inChannels)
        guard let up = upsampledPlan, x.shape[1] * x.shape[2] >= Self.phaseMinimumPixels else {
            return forward(upsampleNearest2x(x), label: label())
        }
        return up.forward(x, kernels: .derived(from: packed.data), bias: bias.data, banding: banding, label: label())
    }

    /// 3×3 convolution to very few output channels without im2col: one GEMM computes every
    /// tap's contribution at every input pixel, `Y[pixels, 9*out] = x[pixels, in] × tapMajor`,
    /// then each output pixel sums the 9 shifted contributions. An im2col GEMM with N = 3 runs
    /// at a tenth of sgemm speed because it streams the 9×-inflated column matrix for 3 outputs.
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
