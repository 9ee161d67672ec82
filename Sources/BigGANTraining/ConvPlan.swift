import BigGANEngine

/// How a 3×3 convolution is combined with a ×2 resampling, and the exact rewrites the layer uses:
///
/// - `none`: `y = conv3×3(x)`.
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

/// One GEMM-shaped piece of a (possibly resampled) convolution: an im2col over an output grid with
/// `stride`, whose tap `t` reads input pixel `(oy·stride + taps[t].dy, ox·stride + taps[t].dx)`
/// (zero outside the image), and whose packed weights `[taps·in, out]` (row `t·in + ci`) are the
/// linear combinations `taps[t].terms` of the layer's `k×k` kernel taps (index `ky·k + kx`).
/// `phase` places the output of an upsampling phase at `(2·oy + a, 2·ox + b)`; `nil` writes the
/// output grid directly.
struct SubConvolution {
    struct Tap {
        let dy: Int, dx: Int
        let terms: [(tap: Int, coefficient: Float)]
    }
    let taps: [Tap]
    let stride: Int
    let phase: (a: Int, b: Int)?
    /// `[taps.count * in, out]`, refreshed from the effective weight on every forward pass.
    let packed: Tensor

    /// The pieces of a `k×k` convolution (k = 1 or 3) with `resampling`.
    static func plan(kernelSize k: Int, resampling: Resampling, inChannels: Int, outChannels: Int) -> [SubConvolution] {
        func make(_ taps: [Tap], stride: Int, phase: (Int, Int)?) -> SubConvolution {
            SubConvolution(taps: taps, stride: stride, phase: phase.map { (a: $0.0, b: $0.1) },
                           packed: Tensor(shape: [taps.count * inChannels, outChannels]))
        }
        switch resampling {
        case .none:
            let pad = k / 2
            var taps: [Tap] = []
            for ky in 0..<k { for kx in 0..<k { taps.append(Tap(dy: ky - pad, dx: kx - pad, terms: [(ky * k + kx, 1)])) } }
            return [make(taps, stride: 1, phase: nil)]
        case .upsampleInput:
            precondition(k == 3, "upsampling convolution needs a 3×3 kernel")
            // Low-resolution row offset and the 3×3 rows summed into it, per phase a and tap t.
            let rows: [[(offset: Int, ks: [Int])]] = [[(-1, [0]), (0, [1, 2])], [(0, [0, 1]), (1, [2])]]
            var pieces: [SubConvolution] = []
            for a in 0..<2 {
                for b in 0..<2 {
                    var taps: [Tap] = []
                    for r in rows[a] {
                        for c in rows[b] {
                            var terms: [(tap: Int, coefficient: Float)] = []
                            for ky in r.ks { for kx in c.ks { terms.append((ky * 3 + kx, 1)) } }
                            taps.append(Tap(dy: r.offset, dx: c.offset, terms: terms))
                        }
                    }
                    pieces.append(make(taps, stride: 1, phase: (a, b)))
                }
            }
            return pieces
        case .averagePoolOutput:
            precondition(k == 3, "pooled convolution needs a 3×3 kernel")
            var taps: [Tap] = []
            for u in 0..<4 {
                for v in 0..<4 {
                    var terms: [(tap: Int, coefficient: Float)] = []
                    for a in 0..<2 { for b in 0..<2 {
                        let (ky, kx) = (u - a, v - b)
                        if (0..<3).contains(ky) && (0..<3).contains(kx) { terms.append((ky * 3 + kx, 0.25)) }
                    } }
                    taps.append(Tap(dy: u - 1, dx: v - 1, terms: terms))
                }
            }
            return [make(taps, stride: 2, phase: nil)]
        }
    }

    /// Fills `packed` from a weight `w` (`[out, in, k, k]`):
    /// `packed[t·in + ci, co] = Σ_terms coefficient · w[co, ci, tap]`.
    func pack(_ w: Tensor) {
        let (o, i) = (w.shape[0], w.shape[1])
        let kk = w.shape[2] * w.shape[3]
        let src = w.data, dst = packed.data
        for (t, tap) in taps.enumerated() {
            for c in 0..<i {
                let row = dst + (t * i + c) * o
                for co in 0..<o {
                    var s: Float = 0
                    for term in tap.terms { s += term.coefficient * src[(co * i + c) * kk + term.tap] }
                    row[co] = s
                }
            }
        }
    }

    /// The transpose of `pack`: adds `Σ coefficient · dPacked[t·in + ci, co]` into `dW[co, ci, tap]`.
    func unpackAdding(_ dPacked: Tensor, into dW: Tensor) {
        let (o, i) = (dW.shape[0], dW.shape[1])
        let kk = dW.shape[2] * dW.shape[3]
        let src = dPacked.data, dst = dW.data
        for (t, tap) in taps.enumerated() {
            for c in 0..<i {
                let row = src + (t * i + c) * o
                for term in tap.terms {
                    let cf = term.coefficient
                    for co in 0..<o { dst[(co * i + c) * kk + term.tap] += cf * row[co] }
                }
            }
        }
    }

    // MARK: im2col / col2im

    /// Writes the column matrix `[rows.count · outW, taps · C]` for output-grid rows `rows`
    /// (row `r = b·outH + oy`) of `x` (`[B, H, W, C]`): entry `(p, t·C + c)` is
    /// `x[b, oy·stride + dy_t, ox·stride + dx_t, c]`, zero outside the image. Parallel over rows.
    func im2col(_ x: Tensor, outH: Int, outW: Int, rows: Range<Int>, into col: UnsafeMutablePointer<Float>) {
        let (h, w, c) = (x.shape[1], x.shape[2], x.shape[3])
        let kk = taps.count * c, s = stride
        let src = x.data
        let offsets = taps.map { ($0.dy, $0.dx) }
        offsets.withUnsafeBufferPointer { tb in
            let tp = tb.baseAddress!, nt = tb.count
            Parallel.forRanges(rows.count, minChunk: 1) { local in
                for lr in local {
                    let r = rows.lowerBound + lr
                    let bi = r / outH, oy = r % outH
                    for ox in 0..<outW {
                        var dst = col + (lr * outW + ox) * kk
                        for t in 0..<nt {
                            let sy = oy * s + tp[t].0, sx = ox * s + tp[t].1
                            if sy < 0 || sy >= h || sx < 0 || sx >= w {
                                dst.update(repeating: 0, count: c)
                            } else {
                                dst.update(from: src + ((bi * h + sy) * w + sx) * c, count: c)
                            }
                            dst += c
                        }
                    }
                }
            }
        }
    }

    /// Scatter-adds a band's column gradient `dcol` (the layout `im2col` writes for output-grid
    /// rows `rows`) into `dx` (`[B, H, W, C]`), each entry back to the input pixel it was copied
    /// from. Written as a gather per *input* row, parallel over input rows, so no two threads add
    /// into the same element; bands run one after another.
    func col2im(_ dcol: UnsafePointer<Float>, outH: Int, outW: Int, rows: Range<Int>, into dx: Tensor) {
        let (h, w, c) = (dx.shape[1], dx.shape[2], dx.shape[3])
        let kk = taps.count * c, s = stride
        let offsets = taps.map { ($0.dy, $0.dx) }
        let minDy = offsets.map(\.0).min()!, maxDy = offsets.map(\.0).max()!
        // Input rows touched by this band (per image): from first row·s + minDy to last row·s + maxDy.
        let b0 = rows.lowerBound / outH, b1 = (rows.upperBound - 1) / outH
        var targets: [Int] = []
        for bi in b0...b1 {
            let oy0 = bi == b0 ? rows.lowerBound % outH : 0
            let oy1 = bi == b1 ? (rows.upperBound - 1) % outH : outH - 1
            let lo = max(0, oy0 * s + minDy), hi = min(h - 1, oy1 * s + maxDy)
            if lo <= hi { for sy in lo...hi { targets.append(bi * h + sy) } }
        }
        let dst = dx.data
        offsets.withUnsafeBufferPointer { tb in targets.withUnsafeBufferPointer { gb in
            let tp = tb.baseAddress!, nt = tb.count, gp = gb.baseAddress!
            Parallel.forRanges(gb.count, minChunk: 1) { local in
                for li in local {
                    let target = gp[li]
                    let bi = target / h, sy = target % h
                    let dstRow = dst + target * w * c
                    for t in 0..<nt {
                        let num = sy - tp[t].0
                        if num < 0 || num % s != 0 { continue }
                        let oy = num / s
                        if oy >= outH { continue }
                        let r = bi * outH + oy
                        if r < rows.lowerBound || r >= rows.upperBound { continue }
                        let srcRow = dcol + (r - rows.lowerBound) * outW * kk + t * c
                        for ox in 0..<outW {
                            let sx = ox * s + tp[t].1
                            if sx < 0 || sx >= w { continue }
                            let d = dstRow + sx * c, p = srcRow + ox * kk
                            for j in 0..<c { d[j] += p[j] }
                        }
                    }
                }
            }
        } }
    }
}
