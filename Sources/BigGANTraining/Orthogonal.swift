import BigGANEngine

/// Orthogonal initialisation and the BigGAN orthogonal regulariser.
public enum Orthogonal {
    /// Fills `t` (`[rows, ...]`, viewed `[rows, cols]`) like `torch.nn.init.orthogonal_`: a
    /// Gaussian matrix (from `rng`) made orthonormal by Gram–Schmidt in double precision (twice,
    /// for stability), giving orthonormal rows when `rows ≤ cols`, else orthonormal columns. This
    /// is the Q of a QR decomposition whose R has a positive diagonal, as torch's sign fix makes it.
    public static func initialise(_ t: Tensor, rng: inout NoiseGenerator, gain: Double = 1) {
        let rows = t.shape[0], cols = t.count / max(rows, 1)
        // Work on the tall matrix A [n, k] (n ≥ k), column-major storage: a[j*n + i] = A[i, j].
        let transposed = rows < cols
        let (n, k) = transposed ? (cols, rows) : (rows, cols)
        var g = [Double](repeating: 0, count: rows * cols)
        for i in 0..<(rows * cols) { g[i] = Double(rng.nextNormal()) }
        var a = [Double](repeating: 0, count: n * k)
        for r in 0..<rows {
            for c in 0..<cols {
                // Gaussian element (r, c) of the [rows, cols] matrix; column j of A is row j when transposed.
                if transposed { a[r * n + c] = g[r * cols + c] } else { a[c * n + r] = g[r * cols + c] }
            }
        }
        a.withUnsafeMutableBufferPointer { buf in
            let q = buf.baseAddress!
            for j in 0..<k {
                let v = q + j * n
                for _ in 0..<2 {
                    for i in 0..<j {
                        let u = q + i * n
                        var d = 0.0
                        for e in 0..<n { d += u[e] * v[e] }
                        for e in 0..<n { v[e] -= d * u[e] }
                    }
                }
                var norm = 0.0
                for e in 0..<n { norm += v[e] * v[e] }
                let inv = norm > 0 ? 1 / norm.squareRoot() : 0
                for e in 0..<n { v[e] *= inv }
            }
        }
        for r in 0..<rows {
            for c in 0..<cols {
                let q = transposed ? a[r * n + c] : a[c * n + r]
                t[r * cols + c] = Float(q * gain)
            }
        }
    }

    /// Adds the off-diagonal orthogonal regulariser's gradient (ajbrock `utils.ortho`) to every
    /// parameter with `orthogonalRegularised`:
    ///
    ///     grad += strength · 2 · ((W Wᵀ) ⊙ (1 − I)) · W,     W viewed [out, in]
    ///
    /// computed as written when `out ≤ in`, else as the equal `W (WᵀW) − diag(‖w_i‖²) W`, which
    /// needs an `[in, in]` instead of an `[out, out]` product. GEMMs from the calling thread.
    public static func addRegulariserGradient(_ parameters: [Parameter], strength: Float) {
        guard strength != 0 else { return }
        for p in parameters where p.orthogonalRegularised {
            let o = p.value.shape[0], i = p.value.count / max(o, 1)
            let w = p.value.data, g = p.grad.data
            if o <= i {
                let gram = Tensor(uninitializedShape: [o, o])
                sgemm(transB: true, m: o, n: o, k: i, a: w, lda: i, b: w, ldb: i, c: gram.data, ldc: o)
                for r in 0..<o { gram[r * o + r] = 0 }
                sgemm(m: o, n: i, k: o, alpha: 2 * strength, a: gram.data, lda: o, b: w, ldb: i, beta: 1, c: g, ldc: i)
            } else {
                let gram = Tensor(uninitializedShape: [i, i])
                sgemm(transA: true, m: i, n: i, k: o, a: w, lda: i, b: w, ldb: i, c: gram.data, ldc: i)
                let t = Tensor(uninitializedShape: [o, i])
                sgemm(m: o, n: i, k: i, a: w, lda: i, b: gram.data, ldb: i, c: t.data, ldc: i)
                let s = 2 * strength
                for r in 0..<o {
                    let row = w + r * i
                    var n2: Float = 0
                    for c in 0..<i { n2 += row[c] * row[c] }
                    let tr = t.data + r * i, gr = g + r * i
                    for c in 0..<i { gr[c] += s * (tr[c] - n2 * row[c]) }
                }
            }
        }
    }
}
