import BigGANEngine

/// Spectral normalisation as ajbrock's `layers.SN` applies it during training (one singular
/// value, one power iteration per forward pass).
///
/// The raw weight `W` (the parameter, any shape `[out, ...]`) is viewed as a matrix
/// `[out, in]` with `in = count / out`. Each forward pass starts from the persistent vector
/// `u` (`[out]`, ajbrock's `u0`) and computes, with `normalize(x) = x / max(‖x‖, eps)`:
///
///     v  = normalize(uᵀ W)      [in]
///     u' = normalize(W v)       [out]
///     σ  = u'ᵀ W v
///
/// and uses `W_sn = W / σ`. In training mode `u ← u'`; in evaluation mode nothing is stored.
/// σ of the latest pass is kept in `sigma` for logging (ajbrock's `sv0`).
///
/// Backward: u' and v come from a no-grad power iteration, so autograd treats them as constants
/// and `∂σ/∂W = u' vᵀ`. From `W_sn = W/σ`:
///
///     ∂L/∂W = (G − ⟨G, W_sn⟩ · u' vᵀ) / σ,   G = ∂L/∂W_sn,   ⟨A, B⟩ = Σ A ⊙ B.
public final class SpectralNorm {
    public let weight: Parameter
    /// The persistent left-vector estimate `[out]`.
    public let u: Tensor
    /// `u'` and `v` of the latest pass (`[out]`, `[in]`), the constants of the backward pass.
    let uNew: Tensor, v: Tensor
    /// `W / σ`, same shape as `weight`.
    public let normalized: Tensor
    /// σ from the latest power iteration (1 before the first forward pass).
    public private(set) var sigma: Float = 1
    public let eps: Float
    /// For gradient checks: reuse the stored `u'`, `v` instead of iterating (so σ = u'ᵀWv is an
    /// exact function of W with the constants the analytic gradient assumes).
    var frozen = false
    let rows: Int, cols: Int

    init(weight: Parameter, eps: Float) {
        self.weight = weight
        self.eps = eps
        rows = weight.value.shape[0]
        cols = weight.value.count / max(rows, 1)
        u = Tensor(shape: [rows])
        uNew = Tensor(shape: [rows])
        v = Tensor(shape: [cols])
        normalized = Tensor(shape: weight.value.shape)
    }

    /// Runs the power iteration and fills `normalized`; returns it.
    @discardableResult
    func normalize(mode: Mode) -> Tensor {
        let w = weight.value.data
        let (r, c) = (rows, cols)
        if !frozen {
            // v = normalize(uᵀ W)
            var vd = [Double](repeating: 0, count: c)
            for i in 0..<r {
                let ui = Double(u[i]), row = w + i * c
                if ui == 0 { continue }
                for j in 0..<c { vd[j] += ui * Double(row[j]) }
            }
            var nv = 0.0
            for j in 0..<c { nv += vd[j] * vd[j] }
            let sv = 1 / max(nv.squareRoot(), Double(eps))
            for j in 0..<c { v[j] = Float(vd[j] * sv) }
            // u' = normalize(W v)
            var wv = [Double](repeating: 0, count: r)
            var nu = 0.0
            for i in 0..<r {
                let row = w + i * c
                var s = 0.0
                for j in 0..<c { s += Double(row[j]) * Double(v[j]) }
                wv[i] = s
                nu += s * s
            }
            let su = 1 / max(nu.squareRoot(), Double(eps))
            for i in 0..<r { uNew[i] = Float(wv[i] * su) }
            if mode == .training { u.data.update(from: uNew.data, count: r) }
        }
        // σ = u'ᵀ W v (recomputed from the float vectors, as the reference does).
        var s = 0.0
        for i in 0..<r {
            let row = w + i * c
            var d = 0.0
            for j in 0..<c { d += Double(row[j]) * Double(v[j]) }
            s += d * Double(uNew[i])
        }
        sigma = Float(s)
        let inv = 1 / sigma
        let out = normalized.data
        for k in 0..<(r * c) { out[k] = w[k] * inv }
        return normalized
    }

    /// Accumulates `∂L/∂W` into `weight.grad` given `g = ∂L/∂W_sn` (same shape as the weight).
    func backward(_ g: Tensor) {
        precondition(g.count == weight.value.count)
        let (r, c) = (rows, cols)
        let dot = Reduce.dot(g.data, normalized.data, count: r * c)
        let inv = 1 / sigma, k = Float(dot)
        let dst = weight.grad.data, src = g.data
        for i in 0..<r {
            let ku = k * uNew[i]
            let d = dst + i * c, s = src + i * c
            for j in 0..<c { d[j] += (s[j] - ku * v[j]) * inv }
        }
    }
}
