import Foundation

/// SAGAN-style self-attention as in BigGAN, on NHWC activations `[B, H, W, C]` (H, W even).
///
/// `theta = θ(x)` `[N, C/8]`, `phi = maxpool2(φ(x))` `[N/4, C/8]`, `g = maxpool2(g(x))` `[N/4, C/2]`
/// with `N = H·W`; `beta = softmax over keys(theta · phiᵀ)` `[N, N/4]`;
/// `y = x + gamma · o(beta · g)`, `o`: C/2 → C. All four projections are bias-free 1×1 convolutions.
public struct SelfAttention: @unchecked Sendable {
    public let theta: Conv2D, phi: Conv2D, g: Conv2D, o: Conv2D
    public let gamma: Float
    /// Query rows per logits block (512 × 1024 floats = 2 MiB at 64×64).
    static let queryChunk = 512

    public init(theta: Conv2D, phi: Conv2D, g: Conv2D, o: Conv2D, gamma: Float) {
        self.theta = theta; self.phi = phi; self.g = g; self.o = o; self.gamma = gamma
    }

    public func macs(pixels n: Int, channels c: Int) -> Int {
        let c8 = theta.outChannels, c2 = g.outChannels
        return n * c * (2 * c8 + c2) + n * (n / 4) * (c8 + c2) + n * c2 * c
    }

    /// `x + γ·o(...)`; with `consuming`, written into `x` itself (for an `x` nothing reads later).
    public func callAsFunction(_ x: Tensor, consuming: Bool = false) -> Tensor {
        let (b, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let n = h * w, m = n / 4
        let th = Profiler.measure("attention: theta") { theta(x) }
        let ph = Profiler.measure("attention: phi+pool") { maxPool2x2(phi(x)) }
        let gg = Profiler.measure("attention: g+pool") { maxPool2x2(g(x)) }
        let y = consuming ? x : x.copy()
        let c8 = theta.outChannels, c2 = g.outChannels
        // Queries in chunks so the [chunk, N/4] logits stay in cache between the two products.
        let chunk = min(n, Self.queryChunk)
        let mixed = Tensor(uninitializedShape: [b, h, w, c2])
        let threads = OneDNN.threadsPerImage(b)
        OneDNN.forEachImage(b) { i in
            let logits = Tensor(uninitializedShape: [chunk, m])
            var q0 = 0
            while q0 < n {
                let rows = min(chunk, n - q0)
                Profiler.measure("attention: logits") {
                    OneDNNMatmul.cached(m: rows, k: c8, n: m, transposedB: true, threads: threads)(th.data + (i * n + q0) * c8, ph.data + i * m * c8, into: logits.data)
                }
                Profiler.measure("attention: softmax") { OneDNNSoftmax.cached(rows: rows, cols: m, threads: threads)(logits.data) }
                Profiler.measure("attention: mix") {
                    OneDNNMatmul.cached(m: rows, k: m, n: c2, threads: threads)(logits.data, gg.data + i * m * c2, into: mixed.data + (i * n + q0) * c2)
                }
                q0 += rows
            }
        }
        // o's epilogue adds γ·o(mixed) to the residual.
        return Profiler.measure("attention: o") { o(mixed, epilogue: .accumulate(into: y, scale: gamma)) }
    }
}

/// `x + gamma · y` as a new tensor with `x`'s shape (the attention residual).
public func addingScaled(_ x: Tensor, _ gamma: Float, _ y: Tensor) -> Tensor {
    precondition(x.count == y.count, "add: \(x.shape) vs \(y.shape)")
    let out = Tensor(uninitializedShape: x.shape)
    let s = x.data, a = y.data, d = out.data
    Parallel.forRanges(out.count, minChunk: 1 << 16) { r in for k in r { d[k] = s[k] + gamma * a[k] } }
    return out
}

/// Numerically stable softmax of each row of a row-major `[rows, cols]` matrix, in place:
/// `row ← exp(row − max(row)) / Σ exp(row − max(row))` (`fastExp`). Parallel over rows.
public func softmaxRows(_ p: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
    Parallel.forRanges(rows, minChunk: 64) { range in
        for r in range {
            let row = p + r * cols
            var mx = -Float.infinity
            for j in 0..<cols { mx = row[j] > mx ? row[j] : mx }
            for j in 0..<cols { row[j] = fastExp(row[j] - mx) }
            // Eight partial sums so the reduction vectorises.
            var acc = (Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0))
            var j = 0
            while j + 8 <= cols {
                acc.0 += row[j]; acc.1 += row[j + 1]; acc.2 += row[j + 2]; acc.3 += row[j + 3]
                acc.4 += row[j + 4]; acc.5 += row[j + 5]; acc.6 += row[j + 6]; acc.7 += row[j + 7]
                j += 8
            }
            var sum = ((acc.0 + acc.1) + (acc.2 + acc.3)) + ((acc.4 + acc.5) + (acc.6 + acc.7))
            while j < cols { sum += row[j]; j += 1 }
            let inv = 1 / sum
            for j in 0..<cols { row[j] *= inv }
        }
    }
}
