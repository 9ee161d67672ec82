extension ConvPlan {
    /// Where a forward pass gets each piece's kernel `[columnCount, out]` (row `t·in + ci`).
    public enum Kernels {
        /// Ready kernels, one per piece (training derives them on every pass and keeps them for backward).
        case pieces([UnsafePointer<Float>])
        /// The packed `k×k` weights `[k·k·in, out]` (`pack`): the kernel itself without
        /// resampling; otherwise each piece's kernel is derived from them during the pass, so that
        /// only the `k×k` weights stay resident (the four phase kernels of an upsampling layer
        /// would cost 16/9 of its weights).
        case derived(from: UnsafePointer<Float>)
    }

    /// Kernels derived during one pass (`Kernels.derived` with resampling) that together fit in
    /// this many floats (4 MiB) are derived all at once; larger ones one piece at a time.
    public static let allPiecesBudget = 1 << 20

    /// `y = conv(x) + bias` with this plan's resampling: `x` `[B, H, W, in]` → `y`
    /// `geometry(x.shape).out`; `bias` `[out]` (nil: none).
    ///
    /// - 1×1 (no resampling): one GEMM `y[pixels, out] = x[pixels, in] × kernel + bias`; in NHWC
    ///   the activation already is the `[pixels, in]` matrix.
    /// - Otherwise, per band of output-grid rows (`banding`) and piece: `im2col` → GEMM with the
    ///   piece's kernel. A piece without a phase adds into the output grid, which was filled with
    ///   the bias first; an upsampling phase's GEMM writes a staging buffer `[band·gridW, out]` that
    ///   `scatterPhase` moves (plus the bias) to the phase's output pixels.
    /// - Kernels ready or derived all at once run bands outer, pieces inner, so the pieces reuse
    ///   each band's input rows while they are in cache; kernels derived one at a time (large
    ///   weights, small images: usually one band) run pieces outer, each derived once.
    ///
    /// The profiler times the parts as `<label>: bias fill`, `: derive kernels`, `: im2col`,
    /// `: GEMM` (with its multiply-adds) and `: phase scatter`.
    public func forward(_ x: Tensor, kernels: Kernels, bias: UnsafePointer<Float>?, banding: ConvBanding,
                        label: @autoclosure () -> String) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[3] == inChannels, "conv expects [B,H,W,\(inChannels)], got \(x.shape)")
        let (outShape, gh, gw) = geometry(x.shape)
        let (b, o) = (x.shape[0], outChannels)
        let out = Tensor(uninitializedShape: outShape)
        let phased = pieces[0].phase != nil
        if !phased { Profiler.measure(label() + ": bias fill") { fillRows(out.data, rows: out.count / o, with: bias, count: o) } }
        if kernelSize == 1 {
            let kernel: UnsafePointer<Float>
            switch kernels { case .pieces(let k): kernel = k[0]; case .derived(let k): kernel = k }
            Profiler.measure(label() + ": GEMM", macs: out.count * inChannels) {
                banding.gemm(rows: 0..<b * gh, height: gh, width: gw, n: o, k: inChannels, a: x.data, b: kernel, beta: 1, c: out.data)
            }
            return out
        }
        let kk = columnCount, rowFloats = gw * kk
        let bandRows = banding.bandRows(images: b, height: gh, rowFloats: rowFloats)
        let bands = banding.bands(images: b, height: gh, rowFloats: rowFloats)
        let col = Tensor(uninitializedShape: [bandRows * rowFloats])
        let staging = phased ? Tensor(uninitializedShape: [bandRows * gw * o]) : nil
        func run(_ p: Int, rows r: Range<Int>, kernel: UnsafePointer<Float>) {
            let piece = pieces[p]
            Profiler.measure(label() + ": im2col") { piece.im2col(x, gridH: gh, gridW: gw, rows: r, into: col.data) }
            Profiler.measure(label() + ": GEMM", macs: r.count * gw * kk * o) {
                banding.gemm(rows: r, height: gh, width: gw, n: o, k: kk, a: col.data, b: kernel, beta: staging == nil ? 1 : 0,
                             c: staging?.data ?? out.data + r.lowerBound * gw * o)
            }
            if let staging, let phase = piece.phase {
                Profiler.measure(label() + ": phase scatter") {
                    scatterPhase(staging.data, rows: r, phase: phase, gridH: gh, gridW: gw, channels: o, bias: bias, into: out.data)
                }
            }
        }
        switch kernels {
        case .pieces(let ks):
            for r in bands { for p in pieces.indices { run(p, rows: r, kernel: ks[p]) } }
        case .derived(let base) where resampling == .none:
            for r in bands { run(0, rows: r, kernel: base) }
        case .derived(let base) where pieces.count * kk * o <= Self.allPiecesBudget:
            let all = Tensor(uninitializedShape: [pieces.count, kk, o])
            Profiler.measure(label() + ": derive kernels") {
                for p in pieces.indices { derive(piece: p, from: base, into: all.data + p * kk * o) }
            }
            for r in bands { for p in pieces.indices { run(p, rows: r, kernel: all.data + p * kk * o) } }
        case .derived(let base):
            let one = Tensor(uninitializedShape: [kk, o])
            for p in pieces.indices {
                Profiler.measure(label() + ": derive kernels") { derive(piece: p, from: base, into: one.data) }
                for r in bands { run(p, rows: r, kernel: one.data) }
            }
        }
        return out
    }
}
