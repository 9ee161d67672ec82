import BigGANEngine

/// Trainable 2-D convolution, stride 1, "same" zero padding (`k` = 1 or 3), on NHWC activations,
/// with an optional bias, optional spectral norm, and an optional ×2 resampling folded in
/// (`Resampling`: `conv(up2(x))` or `avgpool2(conv(x))`, computed without the resampled tensor).
/// Its three passes run on oneDNN (`OneDNNConvolutionPasses`), as inference's `Conv2D` does.
///
/// - Input `x`: `[B, H, W, in]`; output `y`: `[B, H, W, out]` (`[B, 2H, 2W, out]` when upsampling
///   the input, `[B, H/2, W/2, out]` when pooling the output).
/// - `weight`: PyTorch layout `[out, in, k, k]`; `bias`: `[out]`.
/// - On every forward pass the effective weight (`W/σ` with spectral norm) is rewritten for the
///   resampling (`PhaseGrid.kernel`, `PooledConvolution.kernel`) and handed to oneDNN; upsampling
///   gathers the phase grid into the output (`PhaseGrid.gather`).
/// - Backward: `dX` and `dW` by oneDNN's backward-data and backward-weights passes (after
///   `PhaseGrid.scatter` of `dY` when upsampling), `dW` mapped back through the rewrite's adjoint;
///   `db = Σ_pixels dY`.
public final class ConvLayer: ParameterContainer {
    public let name: String
    public let kernelSize: Int, inChannels: Int, outChannels: Int
    public let resampling: Resampling
    public let weight: Parameter
    public let bias: Parameter?
    public let spectralNorm: SpectralNorm?
    /// Equalised learning rate (Karras et al.; NVlabs `get_weight`): the stored weight is
    /// multiplied by `gain` at run time (`gain/√fan_in` with `use_wscale`), so `dW` is `gain` times
    /// the gradient with respect to the used weight. 1 for BigGAN.
    public let gain: Float
    /// oneDNN's convolution: the layer's own, the phase grid's (2×2, `4·out` outputs) or the
    /// pooled one's (4×4, stride 2).
    let passes: OneDNNConvolutionPasses
    /// The weight oneDNN computed with in the latest forward pass (rewritten for the resampling).
    private var used: Tensor?
    /// The input of the latest forward pass (for backward).
    var input: Tensor?

    public init(name: String, inChannels: Int, outChannels: Int, kernelSize: Int, bias: Bool = true,
                spectralNorm: Bool = true, snEps: Float = 1e-6, resampling: Resampling = .none, gain: Float = 1) {
        precondition(kernelSize == 1 || kernelSize == 3, "only 1×1 and 3×3 convolutions")
        precondition(gain == 1 || !spectralNorm, "a runtime weight gain with spectral norm")
        self.gain = gain
        precondition(resampling == .none || kernelSize == 3, "resampling needs a 3×3 convolution")
        self.name = name
        self.kernelSize = kernelSize; self.inChannels = inChannels; self.outChannels = outChannels; self.resampling = resampling
        weight = Parameter(name: name + ".weight", shape: [outChannels, inChannels, kernelSize, kernelSize])
        self.bias = bias ? Parameter(name: name + ".bias", shape: [outChannels]) : nil
        self.spectralNorm = spectralNorm ? SpectralNorm(weight: weight, eps: snEps) : nil
        switch resampling {
        case .none: passes = OneDNNConvolutionPasses(inChannels: inChannels, outChannels: outChannels, kernel: kernelSize, padding: kernelSize / 2)
        case .upsampleInput: passes = OneDNNConvolutionPasses(inChannels: inChannels, outChannels: 4 * outChannels, kernel: 2, padding: 1)
        case .averagePoolOutput: passes = OneDNNConvolutionPasses(inChannels: inChannels, outChannels: outChannels, kernel: 4, padding: 1, stride: 2)
        }
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
    public var buffers: [Buffer] { spectralNorm.map { [Buffer(name: name + ".u", value: $0.u)] } ?? [] }
    public var spectralNorms: [SpectralNorm] { spectralNorm.map { [$0] } ?? [] }

    /// The weight the layer computes with, `[out, in, k, k]`: `W/σ` (σ from one power
    /// iteration in `mode`) with spectral norm, else `gain·W`.
    func effectiveWeight(mode: Mode) -> Tensor {
        spectralNorm?.normalize(mode: mode) ?? scaledCopy(weight.value, gain)
    }

    /// Profiler kind of this layer's passes.
    private func kind(_ pass: String) -> String { (kernelSize == 1 ? "conv1x1 " : "conv3x3 ") + pass }

    /// Multiply-adds of one pass over `x`'s shape, as oneDNN computes it.
    private func macs(_ inputShape: [Int]) -> Int {
        let (oh, ow) = passes.outputSize(h: inputShape[1], w: inputShape[2])
        return inputShape[0] * oh * ow * passes.kernel * passes.kernel * inChannels * passes.outChannels
    }

    /// `y = conv(x) + bias` (with the layer's resampling). Caches `x` for `backward`.
    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[3] == inChannels, "\(name): expects [B,H,W,\(inChannels)], got \(x.shape)")
        precondition(resampling != .averagePoolOutput || (x.shape[1] % 2 == 0 && x.shape[2] % 2 == 0),
                     "\(name): pooling needs even sizes, got \(x.shape)")
        let w = Profiler.measure("spectral norm + rewrite") { () -> Tensor in
            let e = effectiveWeight(mode: mode)
            switch resampling {
            case .none: return e
            case .upsampleInput: return PhaseGrid.kernel(e)
            case .averagePoolOutput: return PooledConvolution.kernel(e)
            }
        }
        used = w
        input = x
        let b = bias?.value
        return Profiler.measure(kind("forward"), macs: macs(x.shape)) {
            guard resampling == .upsampleInput else { return passes.forward(x, weight: w, bias: b) }
            let (n, h, wd) = (x.shape[0], x.shape[1], x.shape[2])
            let grid = passes.forward(x, weight: w, bias: b.map { bb in Tensor(shape: [4 * outChannels], values: Array([bb.array, bb.array, bb.array, bb.array].joined())) })
            let y = Tensor(uninitializedShape: [n, 2 * h, 2 * wd, outChannels])
            let per = (h + 1) * (wd + 1) * 4 * outChannels, outPer = 4 * h * wd * outChannels
            for i in 0..<n { PhaseGrid.gather(grid.data + i * per, h: h, w: wd, channels: outChannels, into: y.data + i * outPer) }
            return y
        }
    }

    /// Given `dy` (the output's shape), accumulates the weight and bias gradients (through σ with
    /// spectral norm) when `parameterGradients`, and returns `dx` (`x`'s shape) when `inputGradient`.
    @discardableResult
    public func backward(_ dy: Tensor, inputGradient: Bool = true, parameterGradients: Bool = true) -> Tensor? {
        guard let x = input, let w = used else { preconditionFailure("\(name): backward before forward") }
        let (oh, ow) = passes.outputSize(h: x.shape[1], w: x.shape[2])
        let expected = resampling == .upsampleInput ? [x.shape[0], 2 * x.shape[1], 2 * x.shape[2], outChannels] : [x.shape[0], oh, ow, outChannels]
        precondition(dy.shape == expected, "\(name): gradient \(dy.shape) for output \(expected)")
        let dOut = resampling == .upsampleInput ? Profiler.measure(kind("backward: phase scatter")) { PhaseGrid.scatter(dy) } : dy
        var dx: Tensor?
        Profiler.measure(kind("backward"), macs: macs(x.shape) * ((parameterGradients ? 1 : 0) + (inputGradient ? 1 : 0))) {
            if inputGradient { dx = passes.backwardData(dOut, weight: w, inputShape: x.shape) }
            if parameterGradients {
                let dUsed = passes.backwardWeights(x, dOut)
                let dW: Tensor
                switch resampling {
                case .none: dW = dUsed
                case .upsampleInput: dW = PhaseGrid.kernelAdjoint(dUsed, outChannels: outChannels)
                case .averagePoolOutput: dW = PooledConvolution.kernelAdjoint(dUsed)
                }
                if let sn = spectralNorm { sn.backward(dW) } else { addInPlace(weight.grad, scaledCopy(dW, gain)) }
            }
        }
        if parameterGradients, let bias {
            let s = Profiler.measure("conv bias gradient") { Reduce.columnSums(dy.data, rows: dy.count / outChannels, cols: outChannels) }
            for c in 0..<outChannels { bias.grad[c] += Float(s[c]) }
        }
        return dx
    }
}
