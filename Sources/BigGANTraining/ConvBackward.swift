import BigGANEngine

// The transposes of the engine's convolution-plan kernels, for `ConvLayer.backward`: each
// undoes the data movement of one forward step (`ConvPiece.im2col`, `scatterPhase`,
// `ConvPlan.derive`, `ConvPlan.pack`) as an adjoint, accumulating where the forward copied.

extension ConvPiece {
    /// Scatter-adds a band's column gradient `dcol` (the layout `im2col` writes for output-grid
    /// rows `rows`, `[rows.count · gridW, taps · C]`) into `dx` (`[B, H, W, C]`), each entry back to
    /// the input pixel it was copied from. Written as a gather per *input* row, parallel over input
    /// rows, so no two threads add into the same element; bands run one after another.
    func col2im(_ dcol: UnsafePointer<Float>, gridH outH: Int, gridW outW: Int, rows: Range<Int>, into dx: Tensor) {
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

/// The adjoint of `scatterPhase` without bias: copies the output pixels `(2·oy + a, 2·ox + b)` of
/// `full` (`[B, 2·gridH, 2·gridW, C]`) for low-resolution rows `rows` (`r = b·gridH + oy`) into the
/// compact band `compact` (`[rows.count · gridW, C]`). Parallel over rows.
func gatherPhase(_ full: UnsafePointer<Float>, rows: Range<Int>, phase: (a: Int, b: Int), gridH: Int, gridW: Int,
                 channels c: Int, into compact: UnsafeMutablePointer<Float>) {
    Parallel.forRanges(rows.count, minChunk: 4) { local in
        for lr in local {
            let r = rows.lowerBound + lr
            let bi = r / gridH, oy = r % gridH
            let fullRow = full + ((bi * 2 * gridH + 2 * oy + phase.a) * 2 * gridW + phase.b) * c
            let compactRow = compact + lr * gridW * c
            for ox in 0..<gridW { (compactRow + ox * c).update(from: fullRow + 2 * ox * c, count: c) }
        }
    }
}

extension ConvPlan {
    /// The adjoint of `derive`: adds `Σ coefficient · dKernel[t·in + ci]` into row `tap·in + ci` of
    /// `dPacked` (`[k·k·in, out]`) for every term of piece `p`'s taps, in tap and term order.
    /// Parallel over input channels (distinct rows of `dPacked`).
    func underive(piece p: Int, _ dKernel: UnsafePointer<Float>, addingInto dPacked: UnsafeMutablePointer<Float>) {
        let (c, o) = (inChannels, outChannels)
        let taps = pieces[p].taps
        Parallel.forRanges(c, minChunk: 16) { channels in
            for ci in channels {
                for (t, tap) in taps.enumerated() {
                    let src = dKernel + (t * c + ci) * o
                    for term in tap.terms {
                        let d = dPacked + (term.tap * c + ci) * o, cf = term.coefficient
                        for e in 0..<o { d[e] += cf * src[e] }
                    }
                }
            }
        }
    }

    /// The inverse of `pack`: `weight[co, ci, ky, kx] = packed[(ky·k + kx)·in + ci, co]`
    /// for `weight` `[out, in, k, k]`.
    static func unpack(_ packed: Tensor, into weight: Tensor) {
        let (o, i) = (weight.shape[0], weight.shape[1])
        let kk = weight.shape[2] * weight.shape[3]
        let src = packed.data, dst = weight.data
        Parallel.forRanges(o, minChunk: 16) { outs in
            for co in outs {
                for ci in 0..<i { for tap in 0..<kk { dst[(co * i + ci) * kk + tap] = src[(tap * i + ci) * o + co] } }
            }
        }
    }
}
