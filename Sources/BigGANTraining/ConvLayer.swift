import BigGANEngine

/// Trainable 2-D convolution, stride 1, "same" zero padding (`k` = 1 or 3), on NHWC activations,
/// with an optional bias, optional spectral norm, and an optional ×2 resampling folded in
/// (`Resampling`: `conv(up2(x))` or `avgpool2(conv(x))`, computed without the resampled tensor).
///
/// - Input `x`: `[B, H, W, in]`; output `y`: `[B, H, W, out]` (`[B, 2H, 2W, out]` when upsampling
///   the input, `[B, H/2, W/2, out]` when pooling the output).
/// - `weight`: PyTorch layout `[out, in, k, k]`; `bias`: `[out]`.
/// - The effective weight (`W/σ` with spectral norm) is packed on every forward pass into each
///   `SubConvolution`'s `P[taps·in, out]` (row `t·in + ci`). With the im2col matrix
///   `col[pixels, taps·in]` of the input over that piece's output grid, the piece is the GEMM
///   `y = col · P (+ bias)`; upsampling has four pieces (the output phases), the others one.
/// - Backward, per piece and band of output rows: `dP += colᵀ · dY`, `dcol = dY · Pᵀ`,
///   `dX += col2im(dcol)` (scatter-add of each column entry back to the input pixel it was copied
///   from); `db = Σ_pixels dY`; `dW` = the transpose of the packing applied to every `dP`.
/// - 1×1 layers skip im2col: in NHWC the activation already is the `[pixels, in]` matrix.
///
/// im2col and col2im run in bands of output rows so the column buffers stay within
/// `columnBudget` floats. All GEMMs are issued from the calling thread (engine workers inside
/// them); only the copy loops use `Parallel`, between GEMMs.
public final class ConvLayer: ParameterContainer {
    public let name: String
    public let kernelSize: Int, inChannels: Int, outChannels: Int
    public let resampling: Resampling
    public let weight: Parameter
    public let bias: Parameter?
    public let spectralNorm: SpectralNorm?
    let pieces: [SubConvolution]
    /// The input of the latest forward pass (for backward).
    var input: Tensor?

    /// Column buffers hold at most this many floats per band (2 MiB): small enough that the
    /// im2col output is still in cache when the GEMM reads it (measured ~20% faster per training
    /// iteration than 16 MiB bands), large enough for efficient GEMMs. Variable only so tests
    /// and benchmarks can change it.
    nonisolated(unsafe) static var columnBudget = 1 << 19

    public init(name: String, inChannels: Int, outChannels: Int, kernelSize: Int, bias: Bool = true,
                spectralNorm: Bool = true, snEps: Float = 1e-6, resampling: Resampling = .none) {
        precondition(kernelSize == 1 || kernelSize == 3, "only 1×1 and 3×3 convolutions")
        precondition(resampling == .none || kernelSize == 3, "resampling needs a 3×3 kernel")
        self.name = name
        self.kernelSize = kernelSize; self.inChannels = inChannels; self.outChannels = outChannels
        self.resampling = resampling
        weight = Parameter(name: name + ".weight", shape: [outChannels, inChannels, kernelSize, kernelSize])
        self.bias = bias ? Parameter(name: name + ".bias", shape: [outChannels]) : nil
        self.spectralNorm = spectralNorm ? SpectralNorm(weight: weight, eps: snEps) : nil
        pieces = SubConvolution.plan(kernelSize: kernelSize, resampling: resampling, inChannels: inChannels, outChannels: outChannels)
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
    public var buffers: [Buffer] { spectralNorm.map { [Buffer(name: name + ".u", value: $0.u)] } ?? [] }
    public var spectralNorms: [SpectralNorm] { spectralNorm.map { [$0] } ?? [] }

    /// The weight the layer computes with, `[out, in, k, k]`: `W/σ` (σ from one power
    /// iteration in `mode`) with spectral norm, else `W`.
    func effectiveWeight(mode: Mode) -> Tensor {
        spectralNorm?.normalize(mode: mode) ?? weight.value
    }

    /// Output shape for an input `[B, H, W, in]`, and the output grid `(rows per image, columns)`
    /// of each piece.
    func geometry(_ x: Tensor) -> (out: [Int], gridH: Int, gridW: Int) {
        let (b, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        switch resampling {
        case .none: return ([b, h, w, outChannels], h, w)
        case .upsampleInput: return ([b, 2 * h, 2 * w, outChannels], h, w)
        case .averagePoolOutput:
            precondition(h % 2 == 0 && w % 2 == 0, "\(name): pooling needs even sizes, got \(x.shape)")
            return ([b, h / 2, w / 2, outChannels], h / 2, w / 2)
        }
    }

    /// `y = conv(x) + bias` (with the layer's resampling). Caches `x` for `backward`.
    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[3] == inChannels, "\(name): expects [B,H,W,\(inChannels)], got \(x.shape)")
        TrainingProfiler.measure("spectral norm + pack") {
            let w = effectiveWeight(mode: mode)
            for piece in pieces { piece.pack(w) }
        }
        input = x
        let (outShape, gh, gw) = geometry(x)
        let o = outChannels
        let out = Tensor(uninitializedShape: outShape)
        let outPixels = out.count / o
        if let bias {
            let bp = bias.value.data, dst = out.data
            TrainingProfiler.measure("conv bias fill") {
                Parallel.forRanges(outPixels, minChunk: 4096) { r in for p in r { (dst + p * o).update(from: bp, count: o) } }
            }
        } else {
            out.data.update(repeating: 0, count: out.count)
        }
        if kernelSize == 1 {
            TrainingProfiler.measure("conv1x1 forward GEMM", flops: 2.0 * Double(outPixels * o * inChannels)) {
                sgemm(m: outPixels, n: o, k: inChannels, a: x.data, lda: inChannels, b: pieces[0].packed.data, ldb: o,
                      beta: 1, c: out.data, ldc: o)
            }
            return out
        }
        for piece in pieces {
            forEachBand(of: piece, rows: x.shape[0] * gh, gridW: gw) { band, kk, col, staging in
                let m = band.count * gw
                TrainingProfiler.measure("conv3x3 im2col") { piece.im2col(x, outH: gh, outW: gw, rows: band, into: col.data) }
                TrainingProfiler.measure("conv3x3 forward GEMM", flops: 2.0 * Double(m * o * kk)) {
                    if let staging {
                        sgemm(m: m, n: o, k: kk, a: col.data, lda: kk, b: piece.packed.data, ldb: o, c: staging.data, ldc: o)
                    } else {
                        sgemm(m: m, n: o, k: kk, a: col.data, lda: kk, b: piece.packed.data, ldb: o,
                              beta: 1, c: out.data + band.lowerBound * gw * o, ldc: o)
                    }
                }
                if let staging, let phase = piece.phase {
                    TrainingProfiler.measure("conv phase scatter") {
                        Self.phaseTransfer(staging.data, out.data, gridH: gh, gridW: gw, channels: o, rows: band, phase: phase, toPhase: true)
                    }
                }
            }
        }
        return out
    }

    /// Given `dy` (the output's shape), accumulates the weight and bias gradients (through σ with
    /// spectral norm) when `parameterGradients`, and returns `dx` (`x`'s shape) when `inputGradient`.
    @discardableResult
    public func backward(_ dy: Tensor, inputGradient: Bool = true, parameterGradients: Bool = true) -> Tensor? {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        let (outShape, gh, gw) = geometry(x)
        let o = outChannels, ci = inChannels
        precondition(dy.shape == outShape, "\(name): gradient \(dy.shape) for output \(outShape)")
        let outPixels = dy.count / o
        let dPacked = parameterGradients ? pieces.map { Tensor(shape: $0.packed.shape) } : []
        let dx = inputGradient ? Tensor(shape: x.shape) : nil
        if kernelSize == 1 {
            if let dP = dPacked.first {
                TrainingProfiler.measure("conv1x1 dW GEMM", flops: 2.0 * Double(outPixels * o * ci)) {
                    sgemm(transA: true, m: ci, n: o, k: outPixels, a: x.data, lda: ci, b: dy.data, ldb: o, c: dP.data, ldc: o)
                }
            }
            if let dx {
                TrainingProfiler.measure("conv1x1 dX GEMM", flops: 2.0 * Double(outPixels * o * ci)) {
                    sgemm(transB: true, m: outPixels, n: ci, k: o, a: dy.data, lda: o, b: pieces[0].packed.data, ldb: o,
                          c: dx.data, ldc: ci)
                }
            }
        } else if parameterGradients || inputGradient {
            for (pi, piece) in pieces.enumerated() {
                forEachBand(of: piece, rows: x.shape[0] * gh, gridW: gw) { band, kk, col, staging in
                    let m = band.count * gw
                    var dyBand = UnsafePointer(dy.data + band.lowerBound * gw * o)
                    if let staging, let phase = piece.phase {
                        TrainingProfiler.measure("conv phase gather") {
                            Self.phaseTransfer(staging.data, dy.data, gridH: gh, gridW: gw, channels: o, rows: band, phase: phase, toPhase: false)
                        }
                        dyBand = UnsafePointer(staging.data)
                    }
                    if parameterGradients {
                        TrainingProfiler.measure("conv3x3 im2col") { piece.im2col(x, outH: gh, outW: gw, rows: band, into: col.data) }
                        TrainingProfiler.measure("conv3x3 dW GEMM", flops: 2.0 * Double(m * o * kk)) {
                            sgemm(transA: true, m: kk, n: o, k: m, a: col.data, lda: kk, b: dyBand, ldb: o,
                                  beta: 1, c: dPacked[pi].data, ldc: o)
                        }
                    }
                    if let dx {
                        TrainingProfiler.measure("conv3x3 dX GEMM", flops: 2.0 * Double(m * o * kk)) {
                            sgemm(transB: true, m: m, n: kk, k: o, a: dyBand, lda: o, b: piece.packed.data, ldb: o, c: col.data, ldc: kk)
                        }
                        TrainingProfiler.measure("conv3x3 col2im") { piece.col2im(col.data, outH: gh, outW: gw, rows: band, into: dx) }
                    }
                }
            }
        }
        if parameterGradients {
            if let bias {
                let s = TrainingProfiler.measure("conv bias gradient") { Reduce.columnSums(dy.data, rows: outPixels, cols: o) }
                for c in 0..<o { bias.grad[c] += Float(s[c]) }
            }
            TrainingProfiler.measure("spectral norm backward + unpack") {
                let dW = Tensor(shape: weight.value.shape)
                for (piece, dP) in zip(pieces, dPacked) { piece.unpackAdding(dP, into: dW) }
                if let sn = spectralNorm { sn.backward(dW) } else { accumulate(weight.grad, dW) }
            }
        }
        return dx
    }

    /// Calls `body` for successive bands of the `rows` output-grid rows (batch × grid height), each
    /// at most `columnBudget` floats of im2col: the band's rows, the piece's column count `kk`,
    /// an im2col buffer `[band·gridW, kk]` and, for an upsampling phase, a staging buffer
    /// `[band·gridW, outChannels]` (nil otherwise). Both buffers are shared by all bands.
    private func forEachBand(of piece: SubConvolution, rows: Int, gridW gw: Int,
                             _ body: (_ band: Range<Int>, _ kk: Int, _ col: Tensor, _ staging: Tensor?) -> Void) {
        let kk = piece.taps.count * inChannels
        let band = max(1, min(rows, Self.columnBudget / max(gw * kk, 1)))
        let col = Tensor(uninitializedShape: [band * gw * kk])
        let staging = piece.phase == nil ? nil : Tensor(uninitializedShape: [band * gw, outChannels])
        for r0 in stride(from: 0, to: rows, by: band) { body(r0..<min(r0 + band, rows), kk, col, staging) }
    }

    /// Moves an upsampling phase between the compact `[rows·gridW, C]` band layout and the
    /// full-resolution tensor `[B, 2·gridH, 2·gridW, C]`: `toPhase` adds `compact` into the
    /// phase's pixels `(2·oy + a, 2·ox + b)` (row `r = b·gridH + oy`); otherwise it copies them out.
    static func phaseTransfer(_ compact: UnsafeMutablePointer<Float>, _ full: UnsafeMutablePointer<Float>, gridH: Int, gridW: Int,
                              channels c: Int, rows: Range<Int>, phase: (a: Int, b: Int), toPhase: Bool) {
        Parallel.forRanges(rows.count, minChunk: 4) { local in
            for lr in local {
                let r = rows.lowerBound + lr
                let bi = r / gridH, oy = r % gridH
                let fullRow = full + ((bi * 2 * gridH + 2 * oy + phase.a) * 2 * gridW + phase.b) * c
                let compactRow = compact + lr * gridW * c
                for ox in 0..<gridW {
                    let f = fullRow + 2 * ox * c, p = compactRow + ox * c
                    if toPhase { for j in 0..<c { f[j] += p[j] } } else { p.update(from: f, count: c) }
                }
            }
        }
    }
}
