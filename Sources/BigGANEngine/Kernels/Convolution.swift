/// Inference 2-D convolution with "same" zero padding (k/2) on NHWC activations, run by oneDNN
/// (`OneDNNConvolution`), optionally of the nearest-neighbour 2× upsampled input, or strided.
///
/// - Input `x`: `[B, H, W, inChannels]`.
/// - Output: `[B, H, W, outChannels]`, or `[B, 2H, 2W, outChannels]` for `.upsampled` layers, or
///   `[B, ⌊(H−1)/s⌋+1, ⌊(W−1)/s⌋+1, outChannels]` for stride s (PyTorch `padding=k//2`).
/// - Weights are given in PyTorch layout `[out, in, k, k]`; oneDNN keeps one copy in its own layout.
/// - 3×3 layers with at most `fewOutputs` outputs (the layer that makes the image) run
///   `forwardFewOutputs` instead: oneDNN's convolution blocks output channels by 16 and runs at
///   a fifth of its speed with 3 (deep-128's 128→3 layer: 1.3 ms, 0.5 ms this way).
public struct Conv2D: @unchecked Sendable {
    /// Whether the layer convolves its input as is or its nearest-neighbour 2× upsampling.
    public enum Input: Sendable { case same, upsampled }

    public let kernelSize: Int, inChannels: Int, outChannels: Int
    public let input: Input
    /// Step between output pixels in the input: 1, or more for a strided `.same` layer.
    public let stride: Int
    /// Every layer but the few-output ones.
    let engine: OneDNNConvolution?
    /// For 3×3 layers with few outputs: weights `[in, 9·out]`, column `(ky·3 + kx)·out + co`.
    let tapMajor: Tensor?
    /// `[out]` (zeros without bias), for `forwardFewOutputs`.
    let bias: Tensor?

    /// Layers with at most this many outputs run `forwardFewOutputs`.
    static let fewOutputs = 4

    /// An upsampled layer whose input has fewer pixels than this (BigGAN's 4×4 inputs) convolves
    /// the upsampled input instead of computing the phase grid: its weights are read once per
    /// image either way (the layer is bound by reading them), and the grid's are 16/9 as large
    /// (deep-128's 4×4 layer: 0.73 ms either way, 7 MiB less resident).
    static let phaseGridMinimumPixels = 64

    /// Whether this `.upsampled` layer upsamples its input first (see `phaseGridMinimumPixels`).
    let upsamplesFirst: Bool

    /// - `weight`: `[out, in, k, k]`, `bias`: `[out]` or nil; `.upsampled` needs k = 3.
    /// - `size`: the input size `(H, W)` the model gives the layer, when known: oneDNN lays the
    ///   weights out for it (another size costs a second copy of the weights).
    /// - `stride`: ≥ 1; above 1 only with `.same` input.
    public init(weight: Tensor, bias: Tensor?, input: Input = .same, size: (h: Int, w: Int)? = nil, stride: Int = 1) {
        precondition(weight.shape.count == 4 && weight.shape[2] == weight.shape[3])
        let (o, i, k) = (weight.shape[0], weight.shape[1], weight.shape[2])
        precondition(input == .same || k == 3, "an upsampled-input convolution needs a 3×3 kernel")
        precondition(stride >= 1 && (stride == 1 || input == .same), "only .same convolutions may be strided")
        kernelSize = k; inChannels = i; outChannels = o; self.input = input; self.stride = stride
        if k == 3 && o <= Self.fewOutputs && input == .same && stride == 1 {
            let t = Tensor(uninitializedShape: [i, 9 * o])
            for co in 0..<o { for ci in 0..<i { for tap in 0..<9 { t.data[ci * 9 * o + tap * o + co] = weight.data[(co * i + ci) * 9 + tap] } } }
            tapMajor = t
            self.bias = bias?.copy() ?? Tensor(shape: [o])
        } else {
            tapMajor = nil
            self.bias = nil
        }
        upsamplesFirst = input == .upsampled && (size.map { $0.h * $0.w < Self.phaseGridMinimumPixels } ?? false)
        if tapMajor == nil {
            let mode: OneDNNConvolution.Mode = input == .same || upsamplesFirst ? .same : .upsampledInput
            engine = OneDNNConvolution(weight: weight, bias: bias ?? Tensor(shape: [o]), mode: mode,
                                       size: upsamplesFirst ? size.map { (2 * $0.h, 2 * $0.w) } : size, stride: stride)
        } else {
            engine = nil
        }
    }

    /// Number of multiply-adds for one image of `outputPixels` output pixels, counted as the
    /// layer is defined (an upsampled layer as a 3×3 convolution of the upsampled input).
    public func macs(outputPixels: Int) -> Int { outputPixels * kernelSize * kernelSize * inChannels * outChannels }

    /// Output pixels per image for an input of `inputPixels` pixels (stride 1).
    public func outputPixels(inputPixels: Int) -> Int { input == .same ? inputPixels : 4 * inputPixels }

    /// Output height and width for an input of `h × w`.
    public func outputSize(h: Int, w: Int) -> (h: Int, w: Int) {
        input == .upsampled ? (2 * h, 2 * w) : ((h - 1) / stride + 1, (w - 1) / stride + 1)
    }

    public typealias Epilogue = OneDNNConvolution.Epilogue

    /// The convolution of `x`, finished by `epilogue` (the next batch norm and ReLU, or the
    /// residual add) as oneDNN writes it.
    public func callAsFunction(_ x: Tensor, epilogue: Epilogue = .none) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[3] == inChannels, "conv expects [B,H,W,\(inChannels)], got \(x.shape)")
        guard let engine else {
            let y = forwardFewOutputs(x)
            switch epilogue {
            case .none: return y
            case .affineReLU(let scale, let shift): return affineReLU(y, scale: scale, shift: shift, inPlace: true)
            case .accumulate(let into, let scale):
                precondition(into.shape == y.shape, "accumulate into \(into.shape), expected \(y.shape)")
                for k in 0..<y.count { into.data[k] += scale * y.data[k] }
                return into
            }
        }
        return engine(upsamplesFirst ? upsampleNearest2x(x) : x, epilogue: epilogue)
    }

    /// 3×3 convolution to very few output channels: one matrix product per image computes every
    /// tap's contribution at every input pixel, `Y[pixels, 9·out] = x[pixels, in] × tapMajor`
    /// (oneDNN matmul), then each output pixel sums its 9 shifted contributions in a fixed order.
    func forwardFewOutputs(_ x: Tensor) -> Tensor {
        let (b, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let o = outChannels, n9 = 9 * o
        let out = Tensor(uninitializedShape: [b, h, w, o])
        let product = OneDNNMatmul.cached(m: h * w, k: inChannels, n: n9, threads: OneDNN.threadsPerImage(b))
        let bp = bias!.data
        OneDNN.forEachImage(b) { i in
            let y = Tensor(uninitializedShape: [h * w, n9])
            let ys = y.data
            product(x.data + i * h * w * inChannels, tapMajor!.data, into: ys)
            let dst = out.data + i * h * w * o
            Parallel.forRanges(h, minChunk: 8) { rows in
                for yy in rows {
                    for xx in 0..<w {
                        let d = dst + (yy * w + xx) * o
                        for co in 0..<o { d[co] = bp[co] }
                        for ky in 0..<3 {
                            let sy = yy + ky - 1   // input row whose tap ky lands on output row yy
                            if sy < 0 || sy >= h { continue }
                            for kx in 0..<3 {
                                let sx = xx + kx - 1
                                if sx < 0 || sx >= w { continue }
                                let src = ys + (sy * w + sx) * n9 + (ky * 3 + kx) * o
                                for co in 0..<o { d[co] += src[co] }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
