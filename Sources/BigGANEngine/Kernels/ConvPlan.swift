/// How a 3×3 convolution is combined with a ×2 resampling, and the exact rewrites a `ConvPlan` uses:
///
/// - `none`: `y = conv_k×k(x)`.
/// - `upsampleInput`: `y = conv3×3(up2(x))` for nearest ×2 upsampling. Output pixel `(2i+a, 2j+b)`
///   only sees the 2×2 low-resolution pixels at rows `i+a−1, i+a` and columns `j+b−1, j+b`, so each
///   of the four output phases `(a, b)` is a 2×2 convolution of `x` whose taps are sums of 3×3 taps
///   (rows: a = 0 → {w0 | w1+w2}, a = 1 → {w0+w1 | w2}; columns alike): 16 instead of 36
///   multiply-adds per input pixel and channel pair, and no upsampled tensor.
/// - `averagePoolOutput`: `y = avgpool2(conv3×3(x))` is a stride-2 4×4 convolution with padding 1
///   whose tap `(u, v)` is `¼ Σ_{a,b∈{0,1}} w[u−a, v−b]`: 16 instead of 36 multiply-adds per
///   output pixel and channel pair, and no full-resolution output.
///
/// All three are exact rewrites (equal in exact arithmetic), with the same bias.
public enum Resampling: Sendable {
    case none
    case upsampleInput
    case averagePoolOutput
}

/// One GEMM-shaped piece of a convolution plan: an im2col over an output grid with `stride`, whose
/// tap `t` reads input pixel `(oy·stride + taps[t].dy, ox·stride + taps[t].dx)` (zero outside the
/// image), and whose kernel `[taps·in, out]` (row `t·in + ci`) holds the linear combinations
/// `taps[t].terms` of the layer's `k×k` kernel taps (index `ky·k + kx`). `phase` places the output
/// of an upsampling phase at `(2·oy + a, 2·ox + b)`; `nil` writes the output grid directly.
public struct ConvPiece: Sendable {
    public struct Tap: Sendable {
        public let dy: Int, dx: Int
        public let terms: [(tap: Int, coefficient: Float)]
    }
    public let taps: [Tap]
    public let stride: Int
    public let phase: (a: Int, b: Int)?
}

/// The one description of a convolution that inference (`Conv2D`) and training (`ConvLayer`)
/// both execute: a `k×k` convolution (k odd: 1 and 3 in every model here), stride 1, "same" zero padding, on NHWC
/// activations, with an optional ×2 `Resampling` folded in, as a list of `ConvPiece`s.
///
/// - Input `[B, H, W, in]`; output `[B, H, W, out]`, `[B, 2H, 2W, out]` (`upsampleInput`) or
///   `[B, H/2, W/2, out]` (`averagePoolOutput`); see `geometry`.
/// - Weights in PyTorch layout `[out, in, k, k]` are packed (`pack`,
///   `[k·k·in, out]`, row `(ky·k + kx)·in + ci`); each piece's kernel `[taps·in, out]` is
///   derived from that (`derive`). For `none` the one piece's kernel *is* the packed weight.
/// - Each piece is `y = col · kernel (+ bias)` with `col` the piece's im2col matrix
///   (`ConvPiece.im2col`), run in bands of output-grid rows (`ConvBanding`, `forward`).
public struct ConvPlan: Sendable {
    public let kernelSize: Int
    public let inChannels: Int
    public let outChannels: Int
    public let resampling: Resampling
    public let pieces: [ConvPiece]

    public init(kernelSize k: Int, inChannels: Int, outChannels: Int, resampling: Resampling = .none) {
        precondition(k >= 1 && k % 2 == 1, "\(k)×\(k) convolution: odd kernel sizes only")
        precondition(resampling == .none || k == 3, "resampling needs a 3×3 kernel")
        kernelSize = k; self.inChannels = inChannels; self.outChannels = outChannels; self.resampling = resampling
        pieces = Self.pieces(kernelSize: k, resampling: resampling)
    }

    /// Columns of every piece's im2col matrix (all pieces of a plan have the same number of taps).
    public var columnCount: Int { pieces[0].taps.count * inChannels }

    /// Output shape for an input `[B, H, W, in]`, and the output grid `(rows per image, columns)`
    /// that each piece computes.
    public func geometry(_ inputShape: [Int]) -> (out: [Int], gridH: Int, gridW: Int) {
        let (b, h, w) = (inputShape[0], inputShape[1], inputShape[2])
        switch resampling {
        case .none: return ([b, h, w, outChannels], h, w)
        case .upsampleInput: return ([b, 2 * h, 2 * w, outChannels], h, w)
        case .averagePoolOutput:
            precondition(h % 2 == 0 && w % 2 == 0, "pooling convolution needs even sizes, got \(inputShape)")
            return ([b, h / 2, w / 2, outChannels], h / 2, w / 2)
        }
    }

    /// Multiply-adds actually performed for an output grid of `gridPixels` pixels (all images):
    /// `k²` per output pixel and channel pair without resampling, 16 per input pixel when
    /// upsampling (four 2×2 phases), 16 per output pixel when pooling (one 4×4 stride-2 piece).
    public func macs(gridPixels: Int) -> Int { gridPixels * pieces.count * columnCount * outChannels }

    /// The pieces of a `k×k` convolution with `resampling` (see `Resampling`).
    static func pieces(kernelSize k: Int, resampling: Resampling) -> [ConvPiece] {
        switch resampling {
        case .none:
            let pad = k / 2
            var taps: [ConvPiece.Tap] = []
            for ky in 0..<k { for kx in 0..<k { taps.append(.init(dy: ky - pad, dx: kx - pad, terms: [(tap: ky * k + kx, coefficient: Float(1))])) } }
            return [ConvPiece(taps: taps, stride: 1, phase: nil)]
        case .upsampleInput:
            // Per phase a: the low-resolution row offset of each 2×2 tap and the 3×3 rows summed into it.
            let rows: [[(offset: Int, ks: [Int])]] = [[(-1, [0]), (0, [1, 2])], [(0, [0, 1]), (1, [2])]]
            return (0..<4).map { p in
                let (a, b) = (p / 2, p % 2)
                var taps: [ConvPiece.Tap] = []
                for r in rows[a] {
                    for c in rows[b] {
                        var terms: [(tap: Int, coefficient: Float)] = []
                        for ky in r.ks { for kx in c.ks { terms.append((ky * 3 + kx, 1)) } }
                        taps.append(.init(dy: r.offset, dx: c.offset, terms: terms))
                    }
                }
                return ConvPiece(taps: taps, stride: 1, phase: (a, b))
            }
        case .averagePoolOutput:
            var taps: [ConvPiece.Tap] = []
            for u in 0..<4 {
                for v in 0..<4 {
                    var terms: [(tap: Int, coefficient: Float)] = []
                    for a in 0..<2 { for b in 0..<2 {
                        let (ky, kx) = (u - a, v - b)
                        if (0..<3).contains(ky) && (0..<3).contains(kx) { terms.append((ky * 3 + kx, 0.25)) }
                    } }
                    taps.append(.init(dy: u - 1, dx: v - 1, terms: terms))
                }
            }
            return [ConvPiece(taps: taps, stride: 2, phase: nil)]
        }
    }

    // MARK: Kernels

    /// Packs a PyTorch-layout weight `[out, in, k, k]` into `dst` `[k·k·in, out]` (the im2col row order):
    /// `dst[(ky·k + kx)·in + ci, co] = weight[co, ci, ky, kx]`. Parallel over rows of `dst`.
    public static func pack(_ weight: Tensor, into dst: UnsafeMutablePointer<Float>) {
        precondition(weight.shape.count == 4 && weight.shape[2] == weight.shape[3])
        let (o, i) = (weight.shape[0], weight.shape[1])
        let kk = weight.shape[2] * weight.shape[3]
        let src = weight.data
        Parallel.forRanges(kk * i, minChunk: 64) { rows in
            for r in rows {
                let tap = r / i, ci = r % i
                let d = dst + r * o
                for co in 0..<o { d[co] = src[(co * i + ci) * kk + tap] }
            }
        }
    }

    /// Writes piece `p`'s kernel `[taps·in, out]` into `dst` from the packed weights
    /// `base` (`[k·k·in, out]`): row `t·in + ci` is `Σ_terms coefficient · base[tap·in + ci]`,
    /// summed in term order. Parallel over rows of `dst`.
    public func derive(piece p: Int, from base: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        let c = inChannels, o = outChannels
        let taps = pieces[p].taps
        Parallel.forRanges(taps.count * c, minChunk: 16) { rows in
            for r in rows {
                let terms = taps[r / c].terms, ci = r % c
                let d = dst + r * o
                if terms.isEmpty { d.update(repeating: 0, count: o); continue }
                for (n, term) in terms.enumerated() {
                    let s = base + (term.tap * c + ci) * o, cf = term.coefficient
                    switch (n == 0, cf == 1) {
                    case (true, true): d.update(from: s, count: o)
                    case (true, false): for e in 0..<o { d[e] = cf * s[e] }
                    case (false, true): for e in 0..<o { d[e] += s[e] }
                    case (false, false): for e in 0..<o { d[e] += cf * s[e] }
                    }
                }
            }
        }
    }
}
