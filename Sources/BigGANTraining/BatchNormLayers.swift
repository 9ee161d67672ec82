import BigGANEngine

/// Batch normalisation followed by a per-sample affine map, the part shared by the generator's
/// conditional BN and its unconditional output BN.
///
/// - Input `x`: `[B, H, W, C]` (any `[B, ..., C]`); `N = B·H·W` values per channel.
/// - Training: `μ_c`, `σ²_c` are the batch mean and *biased* variance over the `N` values;
///   `x̂ = (x − μ) / sqrt(σ² + eps)`; running statistics move with momentum 0.1 towards `μ` and
///   the *unbiased* variance `σ²·N/(N−1)` (torch's `F.batch_norm`).
/// - Evaluation: `x̂ = (x − running_mean) / sqrt(running_var + eps)`.
/// - Output: `y[b, p, c] = x̂[b, p, c] · scale[b, c] + shift[b, c]` (`scale`, `shift`: `[B, C]`).
/// - Backward (training only), with `g = dY`:
///   `dscale[b, c] = Σ_p g·x̂`, `dshift[b, c] = Σ_p g`, and with `d = g·scale[b, c]` (the
///   gradient into `x̂`), `dx = invstd · (d − mean_N(d) − x̂ · mean_N(d·x̂))`; the two channel
///   means come from `dscale`/`dshift` weighted by `scale`, so backward reads `g` and `x̂` twice.
final class BatchNormCore {
    let channels: Int
    let eps: Float
    let momentum = 0.1
    /// Non-nil while standing statistics accumulate (`accumulateStandingStatistics`): the number
    /// of batches averaged so far; each training pass then moves the running statistics by
    /// `1/(count+1)`, so they end as the plain average over the passes.
    var standingCount: Int?
    /// Running statistics `[C]` (zeros and ones at start).
    let runningMean: Tensor, runningVar: Tensor
    /// Saved by a training forward pass: `x̂` (`x`'s shape), `1/sqrt(σ² + eps)` per channel, `scale`.
    var normalized: Tensor?
    var invStd: [Float] = []
    var scale: Tensor?

    init(channels: Int, eps: Float) {
        self.channels = channels; self.eps = eps
        runningMean = Tensor(shape: [channels])
        runningVar = Tensor(shape: [channels], values: [Float](repeating: 1, count: channels))
    }

    /// Two per-(sample, channel) sums over each sample's pixels: `body(b, p, s, t)` adds pixel
    /// `p` of sample `b` into the `[C]` accumulators `s` and `t`. Float partials over blocks of
    /// 64 pixels are added into `Double` totals. Returns `out[(b*C + c)*2 + {0, 1}]` (s, t).
    /// Parallel over samples (each sample summed by one thread, so the result is deterministic).
    private static func perSampleSums(
        batch b: Int, pixels: Int, channels c: Int,
        _ body: (Int, Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    ) -> [Double] {
        var out = [Double](repeating: 0, count: b * c * 2)
        out.withUnsafeMutableBufferPointer { buf in
            let base = buf.baseAddress!
            Parallel.forRanges(b, minChunk: 1) { r in
                let s = UnsafeMutablePointer<Float>.allocate(capacity: 2 * c)
                defer { s.deallocate() }
                let t = s + c
                for i in r {
                    let acc = base + i * c * 2
                    var p = 0
                    while p < pixels {
                        let end = min(pixels, p + 64)
                        s.update(repeating: 0, count: 2 * c)
                        for q in p..<end { body(i, q, s, t) }
                        for k in 0..<c { acc[2 * k] += Double(s[k]); acc[2 * k + 1] += Double(t[k]) }
                        p = end
                    }
                }
            }
        }
        return out
    }

    func forward(_ x: Tensor, scale: Tensor, shift: Tensor, mode: Mode) -> Tensor {
        Profiler.measure("batch norm forward") { forwardBody(x, scale: scale, shift: shift, mode: mode) }
    }

    private func forwardBody(_ x: Tensor, scale: Tensor, shift: Tensor, mode: Mode) -> Tensor {
        let c = channels, b = x.shape[0]
        let pixels = x.count / max(b * c, 1)
        precondition(x.shape.last == c && scale.count == b * c && shift.count == b * c, "batch norm: \(x.shape), scale \(scale.shape)")
        var mean = [Float](repeating: 0, count: c)
        var inv = [Float](repeating: 0, count: c)
        switch mode {
        case .training:
            let src = x.data
            // Sums of (x − K) and (x − K)² per sample and channel, K = the first pixel's value
            // (averaged over the ranks of a data-parallel job, so that every rank shifts alike),
            // which keeps the one-pass variance free of cancellation when |mean| ≫ std.
            var offset = Array(UnsafeBufferPointer(start: src, count: c))
            let world = Distributed.world
            if world.size > 1 { offset.withUnsafeMutableBufferPointer { world.average($0.baseAddress!, count: c) } }
            let sums = offset.withUnsafeBufferPointer { kb in
                let kp = kb.baseAddress!
                return Self.perSampleSums(batch: b, pixels: pixels, channels: c) { i, p, s, q in
                    let row = src + (i * pixels + p) * c
                    for k in 0..<c { let v = row[k] - kp[k]; s[k] += v; q[k] += v * v }
                }
            }
            // Cross-replica batch norm (the paper's appendix C): the statistics of the whole
            // global batch, the per-channel sums added over the ranks.
            let n = Double(b * pixels * world.size)
            var momentum = self.momentum
            if let k = standingCount { momentum = 1 / Double(k + 1); standingCount = k + 1 }
            var totals = [Double](repeating: 0, count: 2 * c)
            for k in 0..<c { for i in 0..<b { totals[k] += sums[(i * c + k) * 2]; totals[c + k] += sums[(i * c + k) * 2 + 1] } }
            if world.size > 1 { totals.withUnsafeMutableBufferPointer { world.sum($0.baseAddress!, count: 2 * c) } }
            for k in 0..<c {
                let s = totals[k], q = totals[c + k]
                let d = s / n
                let mu = Double(offset[k]) + d
                let variance = max(q / n - d * d, 0)
                mean[k] = Float(mu)
                inv[k] = Float(1 / (variance + Double(eps)).squareRoot())
                let unbiased = n > 1 ? variance * n / (n - 1) : variance
                runningMean[k] = Float((1 - momentum) * Double(runningMean[k]) + momentum * mu)
                runningVar[k] = Float((1 - momentum) * Double(runningVar[k]) + momentum * unbiased)
            }
        case .evaluation:
            for k in 0..<c {
                mean[k] = runningMean[k]
                inv[k] = 1 / (runningVar[k] + eps).squareRoot()
            }
        }
        let xhat = Tensor(uninitializedShape: x.shape)
        let out = Tensor(uninitializedShape: x.shape)
        let src = x.data, xh = xhat.data, dst = out.data, sc = scale.data, sh = shift.data
        mean.withUnsafeBufferPointer { mb in inv.withUnsafeBufferPointer { ib in
            let m = mb.baseAddress!, iv = ib.baseAddress!
            Parallel.forRanges(b * pixels, minChunk: 256) { r in
                for p in r {
                    let bi = p / pixels
                    let s = src + p * c, h = xh + p * c, d = dst + p * c, a = sc + bi * c, o = sh + bi * c
                    for k in 0..<c {
                        let v = (s[k] - m[k]) * iv[k]
                        h[k] = v
                        d[k] = v * a[k] + o[k]
                    }
                }
            }
        } }
        normalized = xhat; invStd = inv; self.scale = scale
        return out
    }

    /// Returns `(dx, dscale [B, C], dshift [B, C])` for `dy` (`x`'s shape).
    func backward(_ dy: Tensor) -> (Tensor, Tensor, Tensor) {
        Profiler.measure("batch norm backward") { backwardBody(dy) }
    }

    private func backwardBody(_ dy: Tensor) -> (Tensor, Tensor, Tensor) {
        guard let xhat = normalized, let scale else { preconditionFailure("batch norm: backward before forward") }
        let c = channels, b = xhat.shape[0]
        let pixels = xhat.count / max(b * c, 1)
        let g = dy.data, xh = xhat.data
        let sums = Self.perSampleSums(batch: b, pixels: pixels, channels: c) { i, p, s, t in
            let go = g + (i * pixels + p) * c, xo = xh + (i * pixels + p) * c
            for k in 0..<c { s[k] += go[k] * xo[k]; t[k] += go[k] }
        }
        let dScale = Tensor(uninitializedShape: [b, c]), dShift = Tensor(uninitializedShape: [b, c])
        var meanD = [Float](repeating: 0, count: c), meanDX = [Float](repeating: 0, count: c)
        let world = Distributed.world
        let n = Double(b * pixels * world.size)
        var totals = [Double](repeating: 0, count: 2 * c)   // Σ a·dy, Σ a·dy·x̂ per channel
        for k in 0..<c {
            for i in 0..<b {
                let ds = sums[(i * c + k) * 2], dt = sums[(i * c + k) * 2 + 1]
                dScale[i * c + k] = Float(ds); dShift[i * c + k] = Float(dt)
                let a = Double(scale[i * c + k])
                totals[c + k] += a * ds; totals[k] += a * dt
            }
        }
        // Cross-replica: the two channel means run over the whole global batch.
        if world.size > 1 { totals.withUnsafeMutableBufferPointer { world.sum($0.baseAddress!, count: 2 * c) } }
        for k in 0..<c { meanD[k] = Float(totals[k] / n); meanDX[k] = Float(totals[c + k] / n) }
        let dx = Tensor(uninitializedShape: xhat.shape)
        let dst = dx.data, sc = scale.data
        meanD.withUnsafeBufferPointer { mdb in meanDX.withUnsafeBufferPointer { mxb in invStd.withUnsafeBufferPointer { ib in
            let md = mdb.baseAddress!, mx = mxb.baseAddress!, iv = ib.baseAddress!
            Parallel.forRanges(b * pixels, minChunk: 256) { r in
                for p in r {
                    let bi = p / pixels
                    let go = g + p * c, xo = xh + p * c, d = dst + p * c, a = sc + bi * c
                    for k in 0..<c { d[k] = iv[k] * (go[k] * a[k] - md[k] - xo[k] * mx[k]) }
                }
            }
        } } }
        return (dx, dScale, dShift)
    }
}

/// ajbrock's class-conditional batch norm (`layers.ccbn` with a shared embedding):
/// `y = x̂ · (1 + gain(cond)) + bias(cond)`, where `gain` and `bias` are bias-free
/// spectral-norm linear maps `[C, condDim]` of the conditioning vector `cond` (`[B, condDim]`)
/// and `x̂` is `BatchNormCore`'s normalisation of `x` (`[B, H, W, C]`).
///
/// Backward returns `dx` and `dcond = dgain·Wg_sn + dbias·Wb_sn` (`[B, condDim]`) and accumulates
/// the two weights' gradients.
public final class ConditionalBNLayer: ParameterContainer {
    public let name: String
    public let gain: LinearLayer, bias: LinearLayer
    let core: BatchNormCore

    public init(name: String, channels: Int, conditionDim: Int, eps: Float, snEps: Float = 1e-6) {
        self.name = name
        gain = LinearLayer(name: name + ".gain", inFeatures: conditionDim, outFeatures: channels, bias: false, snEps: snEps)
        bias = LinearLayer(name: name + ".bias", inFeatures: conditionDim, outFeatures: channels, bias: false, snEps: snEps)
        core = BatchNormCore(channels: channels, eps: eps)
    }

    public var channels: Int { core.channels }
    public var runningMean: Tensor { core.runningMean }
    public var runningVar: Tensor { core.runningVar }
    public var parameters: [Parameter] { gain.parameters + bias.parameters }
    public var spectralNorms: [SpectralNorm] { gain.spectralNorms + bias.spectralNorms }
    public var buffers: [Buffer] {
        gain.buffers + bias.buffers + [Buffer(name: name + ".mean", value: core.runningMean), Buffer(name: name + ".var", value: core.runningVar)]
    }

    public func forward(_ x: Tensor, condition: Tensor, mode: Mode) -> Tensor {
        let g = gain.forward(condition, mode: mode)
        for i in 0..<g.count { g[i] += 1 }
        let s = bias.forward(condition, mode: mode)
        return core.forward(x, scale: g, shift: s, mode: mode)
    }

    /// Returns `(dx, dcond)`.
    public func backward(_ dy: Tensor, parameterGradients: Bool = true) -> (Tensor, Tensor) {
        let (dx, dScale, dShift) = core.backward(dy)
        let dc = gain.backward(dScale, parameterGradients: parameterGradients)!
        addInPlace(dc, bias.backward(dShift, parameterGradients: parameterGradients)!)
        return (dx, dc)
    }
}

/// Unconditional batch norm with a learned per-channel affine map (ajbrock's `layers.bn`, whose
/// parameters are named `gain` and `bias`; exported as `weight` and `bias`):
/// `y = x̂ · gain[c] + bias[c]`, `x`: `[B, H, W, C]`, `gain`, `bias`: `[C]` (ones, zeros).
/// Backward: `dgain[c] = Σ_{b,p} dY·x̂`, `dbias[c] = Σ_{b,p} dY`, `dx` as `BatchNormCore`.
public final class BatchNormLayer: ParameterContainer {
    public let name: String
    public let gain: Parameter, bias: Parameter
    let core: BatchNormCore

    public init(name: String, channels: Int, eps: Float) {
        self.name = name
        gain = Parameter(name: name + ".weight", shape: [channels])
        for i in 0..<channels { gain.value[i] = 1 }
        bias = Parameter(name: name + ".bias", shape: [channels])
        core = BatchNormCore(channels: channels, eps: eps)
    }

    public var channels: Int { core.channels }
    public var runningMean: Tensor { core.runningMean }
    public var runningVar: Tensor { core.runningVar }
    public var parameters: [Parameter] { [gain, bias] }
    public var spectralNorms: [SpectralNorm] { [] }
    public var buffers: [Buffer] { [Buffer(name: name + ".mean", value: core.runningMean), Buffer(name: name + ".var", value: core.runningVar)] }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        let b = x.shape[0], c = channels
        let sc = Tensor(uninitializedShape: [b, c]), sh = Tensor(uninitializedShape: [b, c])
        fillRows(sc.data, rows: b, with: gain.value.data, count: c)
        fillRows(sh.data, rows: b, with: bias.value.data, count: c)
        return core.forward(x, scale: sc, shift: sh, mode: mode)
    }

    public func backward(_ dy: Tensor, parameterGradients: Bool = true) -> Tensor {
        let (dx, dScale, dShift) = core.backward(dy)
        if parameterGradients {
            let b = dScale.shape[0], c = channels
            for k in 0..<c {
                var s: Float = 0, t: Float = 0
                for i in 0..<b { s += dScale[i * c + k]; t += dShift[i * c + k] }
                gain.grad[k] += s; bias.grad[k] += t
            }
        }
        return dx
    }
}
