import BigGANEngine

/// Trainable 2-D convolution, stride 1, "same" zero padding (`k` = 1 or 3), on NHWC activations,
/// with an optional bias, optional spectral norm, and an optional ×2 resampling folded in
/// (`Resampling`: `conv(up2(x))` or `avgpool2(conv(x))`, computed without the resampled tensor).
/// It executes through the engine's `ConvPlan`, as the inference `Conv2D` does.
///
/// - Input `x`: `[B, H, W, in]`; output `y`: `[B, H, W, out]` (`[B, 2H, 2W, out]` when upsampling
///   the input, `[B, H/2, W/2, out]` when pooling the output).
/// - `weight`: PyTorch layout `[out, in, k, k]`; `bias`: `[out]`.
/// - On every forward pass the effective weight (`W/σ` with spectral norm) is packed
///   (`ConvPlan.pack`, `[k·k·in, out]`) and each plan piece's kernel `P[taps·in, out]`
///   derived from it (`ConvPlan.derive`); `ConvPlan.forward` then runs `y = col · P (+ bias)`
///   per piece and band (upsampling has four pieces, the output phases; the others one).
/// - Backward, per piece and band of output rows: `dP += colᵀ · dY`, `dcol = dY · Pᵀ`,
///   `dX += col2im(dcol)` (scatter-add of each column entry back to the input pixel it was copied
///   from); `db = Σ_pixels dY`; `dW` = the transpose of the packing applied to every `dP`
///   (`ConvPlan.underive`, `ConvPlan.unpack`).
/// - 1×1 layers skip im2col: in NHWC the activation already is the `[pixels, in]` matrix.
///
/// im2col and col2im run in bands of output rows (`ConvBanding`, across images) so the column
/// buffers stay within `columnBudget` floats. All GEMMs are issued from the calling thread
/// (engine workers inside them); only the copy loops use `Parallel`, between GEMMs.
public final class ConvLayer: ParameterContainer {
    public let name: String
    public let plan: ConvPlan
    public var kernelSize: Int { plan.kernelSize }
    public var inChannels: Int { plan.inChannels }
    public var outChannels: Int { plan.outChannels }
    public var resampling: Resampling { plan.resampling }
    public let weight: Parameter
    public let bias: Parameter?
    public let spectralNorm: SpectralNorm?
    /// The effective weight packed (`ConvPlan.pack`), `[k·k·in, out]`, by the latest forward pass.
    let packed: Tensor
    /// Each piece's kernel `[plan.columnCount, out]` from the latest forward pass (`packed`
    /// itself without resampling), read again by backward.
    let kernels: [Tensor]
    /// The input of the latest forward pass (for backward).
    var input: Tensor?

    /// Column buffers hold at most this many floats per band (2 MiB): small enough that the
    /// im2col output is still in cache when the GEMM reads it (measured ~20% faster per training
    /// iteration than 16 MiB bands), large enough for efficient GEMMs. Variable only so tests
    /// and benchmarks can change it.
    nonisolated(unsafe) static var columnBudget = 1 << 19

    /// Bands of `columnBudget` floats across images, one GEMM each.
    var banding: ConvBanding { ConvBanding(columnBudget: Self.columnBudget, perImage: false) }

    public init(name: String, inChannels: Int, outChannels: Int, kernelSize: Int, bias: Bool = true,
                spectralNorm: Bool = true, snEps: Float = 1e-6, resampling: Resampling = .none) {
        precondition(kernelSize == 1 || kernelSize == 3, "only 1×1 and 3×3 convolutions")
        self.name = name
        let plan = ConvPlan(kernelSize: kernelSize, inChannels: inChannels, outChannels: outChannels, resampling: resampling)
        self.plan = plan
        weight = Parameter(name: name + ".weight", shape: [outChannels, inChannels, kernelSize, kernelSize])
        self.bias = bias ? Parameter(name: name + ".bias", shape: [outChannels]) : nil
        self.spectralNorm = spectralNorm ? SpectralNorm(weight: weight, eps: snEps) : nil
        packed = Tensor(shape: [kernelSize * kernelSize * inChannels, outChannels])
        kernels = resampling == .none ? [packed] : plan.pieces.map { _ in Tensor(shape: [plan.columnCount, outChannels]) }
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
    public var buffers: [Buffer] { spectralNorm.map { [Buffer(name: name + ".u", value: $0.u)] } ?? [] }
    public var spectralNorms: [SpectralNorm] { spectralNorm.map { [$0] } ?? [] }

    /// The weight the layer computes with, `[out, in, k, k]`: `W/σ` (σ from one power
    /// iteration in `mode`) with spectral norm, else `W`.
    func effectiveWeight(mode: Mode) -> Tensor {
        spectralNorm?.normalize(mode: mode) ?? weight.value
    }

    /// Profiler kind of this layer's passes.
    private func kind(_ pass: String) -> String { (kernelSize == 1 ? "conv1x1 " : "conv3x3 ") + pass }

    /// `y = conv(x) + bias` (with the layer's resampling). Caches `x` for `backward`.
    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[3] == inChannels, "\(name): expects [B,H,W,\(inChannels)], got \(x.shape)")
        precondition(resampling != .averagePoolOutput || (x.shape[1] % 2 == 0 && x.shape[2] % 2 == 0),
                     "\(name): pooling needs even sizes, got \(x.shape)")
        Profiler.measure("spectral norm + pack") {
            ConvPlan.pack(effectiveWeight(mode: mode), into: packed.data)
            if resampling != .none { for p in plan.pieces.indices { plan.derive(piece: p, from: packed.data, into: kernels[p].data) } }
        }
        input = x
        let (_, gh, gw) = plan.geometry(x.shape)
        return Profiler.measure(kind("forward"), macs: plan.macs(gridPixels: x.shape[0] * gh * gw)) {
            plan.forward(x, kernels: .pieces(kernels.map { UnsafePointer($0.data) }), bias: bias.map { UnsafePointer($0.value.data) },
                         banding: banding, label: kind("forward"))
        }
    }

    /// Given `dy` (the output's shape), accumulates the weight and bias gradients (through σ with
    /// spectral norm) when `parameterGradients`, and returns `dx` (`x`'s shape) when `inputGradient`.
    @discardableResult
    public func backward(_ dy: Tensor, inputGradient: Bool = true, parameterGradients: Bool = true) -> Tensor? {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        let (outShape, gh, gw) = plan.geometry(x.shape)
        precondition(dy.shape == outShape, "\(name): gradient \(dy.shape) for output \(outShape)")
        let dKernels = parameterGradients ? kernels.map { Tensor(shape: $0.shape) } : []
        let dx = inputGradient ? Tensor(shape: x.shape) : nil
        Profiler.measure(kind("backward"), macs: plan.macs(gridPixels: x.shape[0] * gh * gw) * ((parameterGradients ? 1 : 0) + (inputGradient ? 1 : 0))) {
            if kernelSize == 1 {
                backward1x1(x, dy, dKernel: dKernels.first, dx: dx)
            } else if parameterGradients || inputGradient {
                backwardBands(x, dy, gridH: gh, gridW: gw, dKernels: dKernels, dx: dx)
            }
        }
        if parameterGradients {
            if let bias {
                let s = Profiler.measure("conv bias gradient") { Reduce.columnSums(dy.data, rows: dy.count / outChannels, cols: outChannels) }
                for c in 0..<outChannels { bias.grad[c] += Float(s[c]) }
            }
            Profiler.measure("spectral norm backward + unpack") {
                let dW = Tensor(uninitializedShape: weight.value.shape)
                if resampling == .none {
                    ConvPlan.unpack(dKernels[0], into: dW)
                } else {
                    let dPacked = Tensor(shape: packed.shape)
                    for (p, dP) in dKernels.enumerated() { plan.underive(piece: p, dP.data, addingInto: dPacked.data) }
                    ConvPlan.unpack(dPacked, into: dW)
                }
                if let sn = spectralNorm { sn.backward(dW) } else { addInPlace(weight.grad, dW) }
            }
        }
        return dx
    }

    /// 1×1: `dP = xᵀ · dY` (`[in, out]`) and `dX = dY · Pᵀ`, one GEMM each over all pixels.
    private func backward1x1(_ x: Tensor, _ dy: Tensor, dKernel dP: Tensor?, dx: Tensor?) {
        let (o, ci, pixels) = (outChannels, inChannels, dy.count / outChannels)
        if let dP {
            Profiler.measure(kind("backward: dW GEMM"), macs: pixels * o * ci) {
                sgemm(transA: true, m: ci, n: o, k: pixels, a: x.data, lda: ci, b: dy.data, ldb: o, c: dP.data, ldc: o)
            }
        }
        if let dx {
            Profiler.measure(kind("backward: dX GEMM"), macs: pixels * o * ci) {
                sgemm(transB: true, m: pixels, n: ci, k: o, a: dy.data, lda: o, b: kernels[0].data, ldb: o, c: dx.data, ldc: ci)
            }
        }
    }

    /// 3×3, per piece and band (pieces outer, bands inner, so `dX` sums in a fixed order):
    /// `dP += colᵀ · dY_band`, `dcol = dY_band · Pᵀ`, `dX += col2im(dcol)`. An upsampling phase
    /// first gathers its output pixels of `dY` into a compact band `[band·gridW, out]`.
    private func backwardBands(_ x: Tensor, _ dy: Tensor, gridH gh: Int, gridW gw: Int, dKernels: [Tensor], dx: Tensor?) {
        let (o, kk) = (outChannels, plan.columnCount)
        let rowFloats = gw * kk, images = x.shape[0]
        let bandRows = banding.bandRows(images: images, height: gh, rowFloats: rowFloats)
        let col = Tensor(uninitializedShape: [bandRows * rowFloats])
        let staging = plan.pieces[0].phase == nil ? nil : Tensor(uninitializedShape: [bandRows * gw, o])
        for (pi, piece) in plan.pieces.enumerated() {
            for band in banding.bands(images: images, height: gh, rowFloats: rowFloats) {
                var dyBand = UnsafePointer(dy.data + band.lowerBound * gw * o)
                if let staging, let phase = piece.phase {
                    Profiler.measure(kind("backward: phase gather")) {
                        gatherPhase(dy.data, rows: band, phase: phase, gridH: gh, gridW: gw, channels: o, into: staging.data)
                    }
                    dyBand = UnsafePointer(staging.data)
                }
                if !dKernels.isEmpty {
                    Profiler.measure(kind("backward: im2col")) { piece.im2col(x, gridH: gh, gridW: gw, rows: band, into: col.data) }
                    Profiler.measure(kind("backward: dW GEMM"), macs: band.count * gw * o * kk) {
                        sgemm(transA: true, m: kk, n: o, k: band.count * gw, a: col.data, lda: kk, b: dyBand, ldb: o,
                              beta: 1, c: dKernels[pi].data, ldc: o)
                    }
                }
                if let dx {
                    Profiler.measure(kind("backward: dX GEMM"), macs: band.count * gw * o * kk) {
                        sgemm(transB: true, m: band.count * gw, n: kk, k: o, a: dyBand, lda: o, b: kernels[pi].data, ldb: o,
                              c: col.data, ldc: kk)
                    }
                    Profiler.measure(kind("backward: col2im")) { piece.col2im(col.data, gridH: gh, gridW: gw, rows: band, into: dx) }
                }
            }
        }
    }
}
