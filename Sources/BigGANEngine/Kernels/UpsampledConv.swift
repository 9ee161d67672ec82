/// `conv3x3(upsampleNearest2x(x))` computed without materialising the upsampled tensor.
///
/// After nearest ×2 upsampling, output pixel `(2i+a, 2j+b)` only sees the 2×2 input pixels at
/// rows `i+a-1+dy`, columns `j+b-1+dx` (`dy, dx ∈ {0,1}`). Each of the four phases `(a, b)` is
/// therefore a 2×2 convolution whose taps are sums of 3×3 taps:
/// phase `a=0` row taps are `{w0 | w1+w2}`, phase `a=1` row taps are `{w0+w1 | w2}`; columns alike.
/// That is 16·C·Cout multiply-adds per input pixel instead of 36 (2.25× fewer).
///
/// - Input `[B, H, W, C]`, output `[B, 2H, 2W, Cout]`.
/// - Phase kernel `(a, b)`: `[4*C, Cout]`, row `(dy*2+dx)*C + ci`. Derived from the packed 3×3
///   weights on each call instead of stored: storing all four costs 16/9 of the layer's weights
///   (16 MiB more resident for BigGAN-deep-128); deriving them costs a pass over the weights per
///   phase (about 11 ms of a batch-1 BigGAN-deep-128 pass, see BENCHMARKS.md). Inputs of under
///   `phaseMinimumPixels` pixels per image skip the decomposition: there the derivation costs more than the
///   larger GEMM on the upsampled input.
enum UpsampledConv {
    /// Which 3×3 taps fold into 2×2 tap `d` for phase `a` (same table for rows and columns).
    static func taps(phase a: Int, tap d: Int) -> [Int] {
        a == 0 ? (d == 0 ? [0] : [1, 2]) : (d == 0 ? [0, 1] : [2])
    }

    /// Writes phase `(a, b)`'s kernel `[4*C, Cout]` from 3×3 weights packed `[9*C, Cout]`.
    static func phaseKernel(packed: UnsafePointer<Float>, inChannels c: Int, outChannels o: Int, a: Int, b: Int,
                            into dst: UnsafeMutablePointer<Float>) {
        Parallel.forRanges(4 * c, minChunk: 16) { rows in
            for r in rows {
                let t = r / c, ci = r % c, dy = t / 2, dx = t % 2
                let d = dst + r * o
                var first = true
                for ky in taps(phase: a, tap: dy) { for kx in taps(phase: b, tap: dx) {
                    let src = packed + ((ky * 3 + kx) * c + ci) * o
                    if first { d.update(from: src, count: o); first = false } else { for e in 0..<o { d[e] += src[e] } }
                } }
            }
        }
    }
}

extension Conv2D {
    /// Layers whose four phase kernels together fit in this many floats (4 MiB) derive them all
    /// at once; larger layers derive one phase kernel at a time.
    static let allPhasesBudget = 1 << 20

    /// Below this many input pixels per image (H·W) deriving the phase kernels costs more than the
    /// 2.25× larger GEMM of convolving the upsampled input directly (BigGAN's 4×4 layers). Per
    /// image, not per batch: the path, and so the rounding, must not depend on the batch.
    static let phaseMinimumPixels = 64

    /// `self(upsampleNearest2x(x))` for a 3×3 layer, by the four-phase decomposition above.
    public func forwardUpsampled(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[3] == inChannels)
        let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        guard kernelSize == 3, h * w >= Self.phaseMinimumPixels else { return self(upsampleNearest2x(x)) }
        let o = outChannels, kk = 4 * c
        let out = Tensor(uninitializedShape: [b, 2 * h, 2 * w, o])
        let band = min(b * h, Conv2D.bandRows(height: h, rowFloats: w * kk))
        let col = Tensor(uninitializedShape: [band * w * kk])
        let tmp = Tensor(uninitializedShape: [band * w * o])
        func runPhase(_ a: Int, _ bb: Int, rows r: Range<Int>, kernel: UnsafePointer<Float>) {
            phaseIm2col(x, rows: r, a: a, b: bb, into: col.data)
            Conv2D.bandGemm(rows: r, height: h, width: w, n: o, k: kk, col: col.data, weights: kernel, beta: 0, out: tmp.data)
            scatterPhase(tmp.data, rows: r, a: a, b: bb, height: h, width: w, into: out)
        }
        let bands = Conv2D.bands(images: b, height: h, rowFloats: w * kk)
        if 16 * c * o <= Self.allPhasesBudget {
            // Small weights (large images): derive the four phase kernels once and run bands outer,
            // so that the four phases reuse each band's input rows while they are in cache.
            let kernels = Tensor(uninitializedShape: [4, kk, o])
            for p in 0..<4 { UpsampledConv.phaseKernel(packed: packed.data, inChannels: c, outChannels: o, a: p / 2, b: p % 2, into: kernels.data + p * kk * o) }
            for r in bands { for p in 0..<4 { runPhase(p / 2, p % 2, rows: r, kernel: kernels.data + p * kk * o) } }
        } else {
            // Large weights (small images, usually one band): one phase kernel at a time, each derived once.
            let kernel = Tensor(uninitializedShape: [kk, o])
            for p in 0..<4 {
                UpsampledConv.phaseKernel(packed: packed.data, inChannels: c, outChannels: o, a: p / 2, b: p % 2, into: kernel.data)
                for r in bands { runPhase(p / 2, p % 2, rows: r, kernel: kernel.data) }
            }
        }
        return out
    }

    private func phaseIm2col(_ x: Tensor, rows: Range<Int>, a: Int, b: Int, into col: UnsafeMutablePointer<Float>) {
        let (h, w, c) = (x.shape[1], x.shape[2], x.shape[3])
        let kk = 4 * c, src = x.data
        Parallel.forRanges(rows.count) { local in
            for lr in local {
                let r = rows.lowerBound + lr
                let bi = r / h, i = r % h
                for j in 0..<w {
                    var dst = col + (lr * w + j) * kk
                    for dy in 0..<2 {
                        let sy = i + a - 1 + dy
                        if sy < 0 || sy >= h { dst.update(repeating: 0, count: 2 * c); dst += 2 * c; continue }
                        let rowBase = src + (bi * h + sy) * w * c
                        for dx in 0..<2 {
                            let sx = j + b - 1 + dx
                            if sx < 0 || sx >= w { dst.update(repeating: 0, count: c) } else { dst.update(from: rowBase + sx * c, count: c) }
                            dst += c
                        }
                    }
                }
            }
        }
    }

    /// Adds the bias and writes phase results `[rows*W, Cout]` to output pixels `(2i+a, 2j+b)`.
    private func scatterPhase(_ tmp: UnsafeMutablePointer<Float>, rows: Range<Int>, a: Int, b: Int,
                              height h: Int, width w: Int, into out: Tensor) {
        let o = outChannels, bp = bias.data, dstBase = out.data
        Parallel.forRanges(rows.count) { local in
            for lr in local {
                let r = rows.lowerBound + lr
                let bi = r / h, i = r % h
                let outRow = dstBase + ((bi * 2 * h + 2 * i + a) * 2 * w) * o
                for j in 0..<w {
                    let s = tmp + (lr * w + j) * o
                    let d = outRow + (2 * j + b) * o
                    for co in 0..<o { d[co] = s[co] + bp[co] }
                }
            }
        }
    }
}
