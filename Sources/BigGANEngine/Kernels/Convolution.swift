/// Inference 2-D convolution with stride 1 and "same" zero padding on NHWC activations, run by
/// oneDNN (`OneDNNConvolution`), optionally of the nearest-neighbour 2× upsampled input.
///
/// - Input `x`: `[B, H, W, inChannels]`.
/// - Output: `[B, H, W, outChannels]`, or `[B, 2H, 2W, outChannels]` for `.upsampled` layers.
/// - Weights are given in PyTorch layout `[out, in, k, k]`; oneDNN keeps one copy in its own layout.
public struct Conv2D: @unchecked Sendable {
    /// Whether the layer convolves its input as is or its nearest-neighbour 2× upsampling.
    public enum Input: Sendable { case same, upsampled }

    public let kernelSize: Int, inChannels: Int, outChannels: Int
    public let input: Input
    let engine: OneDNNConvolution

    /// - `weight`: `[out, in, k, k]`, `bias`: `[out]` or nil; `.upsampled` needs k = 3.
    /// - `size`: the input size `(H, W)` the model gives the layer, when known: oneDNN lays the
    ///   weights out for it (another size costs a second copy of the weights).
    public init(weight: Tensor, bias: Tensor?, input: Input = .same, size: (h: Int, w: Int)? = nil) {
        precondition(weight.shape.count == 4 && weight.shape[2] == weight.shape[3])
        let (o, i, k) = (weight.shape[0], weight.shape[1], weight.shape[2])
        precondition(input == .same || k == 3, "an upsampled-input convolution needs a 3×3 kernel")
        kernelSize = k; inChannels = i; outChannels = o; self.input = input
        engine = OneDNNConvolution(weight: weight, bias: bias ?? Tensor(shape: [o]), mode: input == .same ? .same : .upsampledInput, size: size)
    }

    /// Number of multiply-adds for one image of `outputPixels` output pixels, counted as the
    /// layer is defined (an upsampled layer as a 3×3 convolution of the upsampled input).
    public func macs(outputPixels: Int) -> Int { outputPixels * kernelSize * kernelSize * inChannels * outChannels }

    /// Output pixels per image for an input of `inputPixels` pixels.
    public func outputPixels(inputPixels: Int) -> Int { input == .same ? inputPixels : 4 * inputPixels }

    public typealias Epilogue = OneDNNConvolution.Epilogue

    /// The convolution of `x`, finished by `epilogue` (the next batch norm and ReLU, or the
    /// residual add) as oneDNN writes it.
    public func callAsFunction(_ x: Tensor, epilogue: Epilogue = .none) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[3] == inChannels, "conv expects [B,H,W,\(inChannels)], got \(x.shape)")
        return engine(x, epilogue: epilogue)
    }
}
