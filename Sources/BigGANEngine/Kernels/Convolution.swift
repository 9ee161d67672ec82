/// 2-D convolution with stride 1 and "same" zero padding on NHWC activations, computed as
/// im2col in bands of output rows feeding one sgemm per band.
///
/// - Input `x`: `[B, H, W, inChannels]`.
/// - Output: `[B, H, W, outChannels]` (or `[B, 2H, 2W, outChannels]` for `forwardUpsampled`).
/// - Weights are given in PyTorch layout `[out, in, k, k]` and packed once at construction into
///   `[k*k*in, out]`, row `(ky*k + kx)*in + ci`, so that the GEMM is
///   `out[pixels, out] = col[pixels, k*k*in] × packed[k*k*in, out]`.
/// - 1×1 convolutions skip im2col: in NHWC the activation already is the `[pixels, in]` matrix.
public struct Conv2D: @unchecked Sendable {
    public let kernelSize: Int
    public let inChannels: Int
    public let outChannels: Int
    /// `[k*k*in, out]`.
    let packed: Tensor
    /// `[out]`, zeros when the layer has no bias.
    let bias: Tensor
    /// For 3×3 layers with few outputs (the layer that makes the image): weights
    /// `[in, 9*out]`, column `(ky*3 + kx)*out + co`, used by `forwardFewOutputs`.
    let tapMajor: Tensor?

    /// Layers with at most this many outputs skip im2col (see `forwardFewOutputs`).
    static let fewOutputs = 4

    /// Column buffers are limited to this many floats per band (4 MiB): small enough to keep
    /// BigGAN-deep-128's working set at batch 1 near 20 MiB, large enough that each band's GEMM
    /// has a few thousand rows (2 MiB bands made BigGAN-128 50% slower; 4 and 16 MiB run alike).
    nonisolated(unsafe) public static var columnBudget = 1 << 20

    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.shape.count == 4 && weight.shape[2] == weight.shape[3])
        let (o, i, k) = (weight.shape[0], weight.shape[1], weight.shape[2])
        kernelSize = k; inChannels = i; outChannels = o
        let p = Tensor(shape: [k * k * i, o])
        for co in 0..<o { for ci in 0..<i { for ky in 0..<k { for kx in 0..<k {
            p.data[((ky * k + kx) * i + ci) * o + co] = weight.data[((co * i + ci) * k + ky) * k + kx]
        } } } }
        if let bias { precondition(bias.count == o); self.bias = bias.copy() } else { self.bias = Tensor(shape: [o]) }
        packed = p
        if k == 3 && o <= Conv2D.fewOutputs {
            let t = Tensor(shape: [i, 9 * o])
            for ci in 0..<i { for tap in 0..<9 { for co in 0..<o { t.data[ci * 9 * o + tap * o + co] = p.data[(tap * i + ci) * o + co] } } }
            tapMajor = t
        } else {
            tapMajor = nil
        }
    }

    /// Number of multiply-adds for one image of `h × w` output pixels.
    public func macs(outputPixels: Int) -> Int { outputPixels * kernelSize * kernelSize * inChannels * outChannels }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[3] == inChannels, "conv expects [B,H,W,\(inChannels)], got \(x.shape)")
        let (b, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let out = Tensor(uninitializedShape: [b, h, w, outChannels])
        fillBias(out, pixels: b * h * w)
        if tapMajor != nil { return forwardFewOutputs(x) }
        if kernelSize == 1 {
            sgemmPerImage(images: b, rowsPerImage: h * w, n: outChannels, k: inChannels, a: x.data, lda: inChannels,
                          b: packed.data, ldb: outChannels, beta: 1, c: out.data, ldc: outChannels)
            return out
        }
        let kk = kernelSize * kernelSize * inChannels
        let col = Tensor(uninitializedShape: [min(b * h, Conv2D.bandRows(height: h, rowFloats: w * kk)) * w * kk])
        for r in Conv2D.bands(images: b, height: h, rowFloats: w * kk) {
            im2col(x, rows: r, into: col.data)
            Conv2D.bandGemm(rows: r, height: h, width: w, n: outChannels, k: kk, col: col.data, weights: packed.data,
                            beta: 1, out: out.data + r.lowerBound * w * outChannels)
        }
        return out
    }

    /// 3×3 convolution to very few output channels without im2col: one GEMM computes every
    /// tap's contribution at every input pixel, `Y[pixels, 9*out] = x[pixels, in] × tapMajor`,
    /// then each output pixel sums the 9 shifted contributions. An im2col GEMM with N = 3 runs
    /// at a tenth of sgemm speed because it streams the 9×-inflated column matrix for 3 outputs.
    func forwardFewOutputs(_ x: Tensor) -> Tensor {
        let (b, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let o = outChannels, n9 = 9 * o
        let y = Tensor(uninitializedShape: [b * h * w, n9])
        sgemmPerImage(images: b, rowsPerImage: h * w, n: n9, k: inChannels, a: x.data, lda: inChannels,
                      b: tapMajor!.data, ldb: n9, c: y.data, ldc: n9)
        let out = Tensor(uninitializedShape: [b, h, w, o])
        let ys = y.data, dst = out.data, bp = bias.data
        Parallel.forRanges(b * h, minChunk: 8) { rows in
            for r in rows {
                let bi = r / h, yy = r % h
                for xx in 0..<w {
                    let d = dst + (r * w + xx) * o
                    for co in 0..<o { d[co] = bp[co] }
                    for ky in 0..<3 {
                        let sy = yy + ky - 1   // input row whose tap ky lands on output row yy
                        if sy < 0 || sy >= h { continue }
                        for kx in 0..<3 {
                            let sx = xx + kx - 1
                            if sx < 0 || sx >= w { continue }
                            let src = ys + ((bi * h + sy) * w + sx) * n9 + (ky * 3 + kx) * o
                            for co in 0..<o { d[co] += src[co] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Rows per band for images of `height` rows of `rowFloats` column floats each: whole images
    /// when one fits in `columnBudget` (as many as fit), else as many rows of one image as fit.
    static func bandRows(height: Int, rowFloats: Int) -> Int {
        let fit = max(1, columnBudget / max(rowFloats, 1))
        return fit >= height ? fit / height * height : fit
    }

    /// The row bands (global rows `b*H + y`) of `images` images: whole images, or, for images too
    /// large for one band, pieces of one image cut the same way in every image. Either way each
    /// image meets GEMMs of the same shapes whatever the batch (see `sgemmPerImage`).
    static func bands(images: Int, height: Int, rowFloats: Int) -> [Range<Int>] {
        let band = bandRows(height: height, rowFloats: rowFloats)
        if band >= height { return stride(from: 0, to: images * height, by: band).map { $0 ..< min($0 + band, images * height) } }
        return (0..<images).flatMap { i in
            stride(from: 0, to: height, by: band).map { i * height + $0 ..< i * height + min($0 + band, height) }
        }
    }

    /// `col[rows*W, kk] × weights[kk, n]` for a band from `bands`: one GEMM per image when the band
    /// holds whole images, else one for the piece.
    static func bandGemm(rows r: Range<Int>, height h: Int, width w: Int, n: Int, k kk: Int, col: UnsafePointer<Float>,
                         weights: UnsafePointer<Float>, beta: Float, out: UnsafeMutablePointer<Float>) {
        let whole = r.count % h == 0 && r.lowerBound % h == 0
        sgemmPerImage(images: whole ? r.count / h : 1, rowsPerImage: whole ? h * w : r.count * w, n: n, k: kk,
                      a: col, lda: kk, b: weights, ldb: n, beta: beta, c: out, ldc: n)
    }

    func fillBias(_ out: Tensor, pixels: Int) {
        let o = outChannels, bp = bias.data, dst = out.data
        Parallel.forRanges(pixels, minChunk: 4096) { range in
            for p in range { (dst + p * o).update(from: bp, count: o) }
        }
    }

    /// Writes the `[rows*W, k*k*C]` column matrix for global rows `rows` (row = b*H + y).
    func im2col(_ x: Tensor, rows: Range<Int>, into col: UnsafeMutablePointer<Float>) {
        let (h, w, c) = (x.shape[1], x.shape[2], x.shape[3])
        let k = kernelSize, pad = k / 2, kk = k * k * c
        let src = x.data
        Parallel.forRanges(rows.count, minChunk: 1) { local in
            for lr in local {
                let r = rows.lowerBound + lr
                let bi = r / h, y = r % h
                for xo in 0..<w {
                    var dst = col + (lr * w + xo) * kk
                    for ky in 0..<k {
                        let sy = y + ky - pad
                        if sy < 0 || sy >= h { dst.update(repeating: 0, count: k * c); dst += k * c; continue }
                        let rowBase = src + ((bi * h + sy) * w) * c
                        for kx in 0..<k {
                            let sx = xo + kx - pad
                            if sx < 0 || sx >= w { dst.update(repeating: 0, count: c) } else { dst.update(from: rowBase + sx * c, count: c) }
                            dst += c
                        }
                    }
                }
            }
        }
    }
}
