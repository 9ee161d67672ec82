/// How a 3×3 convolution is combined with a ×2 resampling (training's `ConvLayer`; inference's
/// `Conv2D.Input.upsampled` is the first):
///
/// - `none`: `y = conv_k×k(x)`.
/// - `upsampleInput`: `y = conv3×3(up2(x))` for nearest ×2 upsampling, as one 2×2 convolution
///   to a phase grid (`PhaseGrid`).
/// - `averagePoolOutput`: `y = avgpool2(conv3×3(x))`, as one stride-2 4×4 convolution
///   (`PooledConvolution`).
///
/// Both rewrites are exact (equal in exact arithmetic), with the same bias, and need no resampled
/// tensor: 16 instead of 36 multiply-adds per low-resolution pixel and channel pair.
public enum Resampling: Sendable {
    case none
    case upsampleInput
    case averagePoolOutput
}

/// "Nearest 2× upsampling, then a 3×3 'same' convolution" as one 2×2 convolution of the
/// low-resolution input (`[B, H, W, in]` → `[B, 2H, 2W, out]`), used by inference
/// (`OneDNNConvolution`) and training (`ConvLayer`) alike.
///
/// Output pixel `(2i + a, 2j + b)` only sees input rows `i−1, i` (`a = 0`) or `i, i+1` (`a = 1`),
/// and likewise columns with `b`, so it is a 2×2 convolution around `(i, j)` with the phase kernel
/// of `(a, b)`: output row `2i` sees upsampled rows `2i−1, 2i, 2i+1` = input rows `i−1, i, i`, so
/// its taps are 3×3 row 0, then rows 1+2; row `2i+1` sees input rows `i, i, i+1`: rows 0+1, then
/// row 2. One convolution with padding 1 computes all four phases as `4·out` channels of an
/// `(H+1) × (W+1)` grid `Y[r, s, (2a + b)·out + c]`, and output pixel `(2i + a, 2j + b)` is
/// `Y[i + a, j + b, (2a + b)·out + c]`: 16 instead of 36 multiply-adds per input pixel and output
/// channel. Each function here has its adjoint next to it, for training.
public enum PhaseGrid {
    /// `[phase a][tap t]` → the 3×3 rows (or columns) that tap sums.
    static let sources: [[[Int]]] = [[[0], [1, 2]], [[0, 1], [2]]]

    /// 3×3 weights `[out, in, 3, 3]` → grid weights `[4·out, in, 2, 2]` (phase `2a + b` major).
    public static func kernel(_ w: Tensor) -> Tensor {
        let (o, i) = (w.shape[0], w.shape[1])
        precondition(w.shape == [o, i, 3, 3], "phase grid needs 3×3 weights, got \(w.shape)")
        let out = Tensor(uninitializedShape: [4 * o, i, 2, 2])
        let src = w.data, dst = out.data
        Parallel.forRanges(o * i, minChunk: 4096) { range in
            for p in range {
                let s = src + p * 9
                for phase in 0..<4 {
                    let (a, b) = (phase / 2, phase % 2), d = dst + (phase * o * i + p) * 4
                    for ty in 0..<2 { for tx in 0..<2 {
                        var v: Float = 0
                        for sy in sources[a][ty] { for sx in sources[b][tx] { v += s[sy * 3 + sx] } }
                        d[ty * 2 + tx] = v
                    } }
                }
            }
        }
        return out
    }

    /// The adjoint of `kernel`: grid weight gradients `[4·out, in, 2, 2]` → 3×3 `[out, in, 3, 3]`.
    public static func kernelAdjoint(_ g: Tensor, outChannels o: Int) -> Tensor {
        let i = g.shape[1]
        precondition(g.shape == [4 * o, i, 2, 2], "phase grid gradient \(g.shape) for \(o) outputs")
        let out = Tensor(uninitializedShape: [o, i, 3, 3])
        let src = g.data, dst = out.data
        Parallel.forRanges(o * i, minChunk: 4096) { range in
            for p in range {
                let d = dst + p * 9
                for k in 0..<9 { d[k] = 0 }
                for phase in 0..<4 {
                    let (a, b) = (phase / 2, phase % 2), s = src + (phase * o * i + p) * 4
                    for ty in 0..<2 { for tx in 0..<2 {
                        for sy in sources[a][ty] { for sx in sources[b][tx] { d[sy * 3 + sx] += s[ty * 2 + tx] } }
                    } }
                }
            }
        }
        return out
    }

    /// One image's grid `[H+1, W+1, 4·C]` → its output `[2H, 2W, C]`. Parallel over output rows.
    public static func gather(_ y: UnsafePointer<Float>, h: Int, w: Int, channels c: Int, into out: UnsafeMutablePointer<Float>) {
        let gw = w + 1, ow = 2 * w
        Parallel.forRanges(2 * h, minChunk: 8) { rows in
            for r in rows {
                let i = r / 2, a = r % 2
                for x in 0..<ow {
                    let j = x / 2, b = x % 2
                    (out + (r * ow + x) * c).update(from: y + ((i + a) * gw + j + b) * 4 * c + (2 * a + b) * c, count: c)
                }
            }
        }
    }

    /// The adjoint of `gather` for a batch: output gradients `[B, 2H, 2W, C]` → grid gradients
    /// `[B, H+1, W+1, 4·C]` (zero where no output pixel reads the grid).
    public static func scatter(_ dy: Tensor) -> Tensor {
        let (b, oh, ow, c) = (dy.shape[0], dy.shape[1], dy.shape[2], dy.shape[3])
        let (h, w) = (oh / 2, ow / 2), (gh, gw) = (h + 1, w + 1)
        let grid = Tensor(shape: [b, gh, gw, 4 * c])
        let src = dy.data, dst = grid.data
        Parallel.forRanges(b * oh, minChunk: 8) { rows in
            for row in rows {
                let n = row / oh, r = row % oh, i = r / 2, a = r % 2
                for x in 0..<ow {
                    let j = x / 2, bq = x % 2
                    (dst + ((n * gh + i + a) * gw + j + bq) * 4 * c + (2 * a + bq) * c).update(from: src + (row * ow + x) * c, count: c)
                }
            }
        }
        return grid
    }
}

/// `avgpool2(conv3×3(x))` with "same" padding as one convolution of `x` with stride 2, padding 1
/// and the 4×4 kernel `K[u, v] = ¼ Σ_{a,b ∈ {0,1}} w[u − a, v − b]` (terms outside the 3×3 kernel
/// left out): output pixel `(i, j)` averages full-resolution pixels `(2i + a, 2j + b)`, whose
/// 3×3 windows start at input row `2i + a − 1`, i.e. 4×4 window rows `u = ky + a` from `2i − 1`.
public enum PooledConvolution {
    /// 3×3 weights `[out, in, 3, 3]` → `[out, in, 4, 4]`.
    public static func kernel(_ w: Tensor) -> Tensor {
        let (o, i) = (w.shape[0], w.shape[1])
        precondition(w.shape == [o, i, 3, 3], "pooled convolution needs 3×3 weights, got \(w.shape)")
        let out = Tensor(shape: [o, i, 4, 4])
        let src = w.data, dst = out.data
        Parallel.forRanges(o * i, minChunk: 4096) { range in
            for p in range {
                let s = src + p * 9, d = dst + p * 16
                for a in 0..<2 { for b in 0..<2 { for ky in 0..<3 { for kx in 0..<3 {
                    d[(ky + a) * 4 + kx + b] += 0.25 * s[ky * 3 + kx]
                } } } }
            }
        }
        return out
    }

    /// The adjoint of `kernel`: `[out, in, 4, 4]` gradients → `[out, in, 3, 3]`.
    public static func kernelAdjoint(_ g: Tensor) -> Tensor {
        let (o, i) = (g.shape[0], g.shape[1])
        precondition(g.shape == [o, i, 4, 4], "pooled convolution gradient \(g.shape)")
        let out = Tensor(shape: [o, i, 3, 3])
        let src = g.data, dst = out.data
        Parallel.forRanges(o * i, minChunk: 4096) { range in
            for p in range {
                let s = src + p * 16, d = dst + p * 9
                for a in 0..<2 { for b in 0..<2 { for ky in 0..<3 { for kx in 0..<3 {
                    d[ky * 3 + kx] += 0.25 * s[(ky + a) * 4 + kx + b]
                } } } }
            }
        }
        return out
    }
}
