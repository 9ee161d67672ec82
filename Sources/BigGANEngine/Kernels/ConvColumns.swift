/// How a convolution's im2col is cut into bands of output-grid rows (global row `b·gridH + oy`)
/// so that each band's column buffer holds at most `columnBudget` floats, and how a band's GEMM
/// is issued.
///
/// - `perImage` (inference): a band holds whole images (as many as fit) or, for images too large
///   for one band, a piece of one image cut the same way in every image; a band's GEMM runs one
///   call per image (`sgemmPerImage`). An image therefore meets GEMMs of the same shapes whatever
///   the batch, and its pixels do not depend on what it is batched with.
/// - otherwise (training): bands of any `columnBudget`-sized run of rows, across images, and one
///   GEMM per band.
public struct ConvBanding: Sendable {
    /// Column-buffer floats per band.
    public var columnBudget: Int
    public var perImage: Bool

    public init(columnBudget: Int, perImage: Bool) {
        self.columnBudget = columnBudget; self.perImage = perImage
    }

    /// The most output-grid rows one band holds, for `images` images of `height` rows of
    /// `rowFloats` column floats each (at least 1).
    public func bandRows(images: Int, height: Int, rowFloats: Int) -> Int {
        let fit = max(1, columnBudget / max(rowFloats, 1))
        let rows = perImage && fit >= height ? fit / height * height : fit
        return max(1, min(images * height, rows))
    }

    /// The bands, in order; together they cover rows `0..<images·height` once.
    public func bands(images: Int, height: Int, rowFloats: Int) -> [Range<Int>] {
        let band = bandRows(images: images, height: height, rowFloats: rowFloats), total = images * height
        if !perImage || band >= height { return stride(from: 0, to: total, by: band).map { $0 ..< min($0 + band, total) } }
        return (0..<images).flatMap { i in
            stride(from: 0, to: height, by: band).map { i * height + $0 ..< i * height + min($0 + band, height) }
        }
    }

    /// `c[rows·width, n] = a[rows·width, k] × b[k, n]` (`+ c` when `beta` is 1) for a band `rows`
    /// from `bands` of images `height` grid rows high: with `perImage`, one GEMM per image when the
    /// band holds whole images, else one for the piece; otherwise one GEMM. Leading dimensions
    /// are `k` and `n`.
    public func gemm(rows r: Range<Int>, height h: Int, width w: Int, n: Int, k: Int, a: UnsafePointer<Float>,
                     b: UnsafePointer<Float>, beta: Float, c: UnsafeMutablePointer<Float>) {
        if perImage {
            let whole = r.count % h == 0 && r.lowerBound % h == 0
            sgemmPerImage(images: whole ? r.count / h : 1, rowsPerImage: whole ? h * w : r.count * w, n: n, k: k,
                          a: a, lda: k, b: b, ldb: n, beta: beta, c: c, ldc: n)
        } else {
            sgemm(m: r.count * w, n: n, k: k, a: a, lda: k, b: b, ldb: n, beta: beta, c: c, ldc: n)
        }
    }
}

extension ConvPiece {
    /// Writes the column matrix `col` `[rows.count · gridW, taps · C]` for output-grid rows `rows`
    /// (row `r = b·gridH + oy`) of `x` (`[B, H, W, C]`): entry `(p, t·C + c)` of pixel
    /// `p = (r − rows.lowerBound)·gridW + ox` is `x[b, oy·stride + dy_t, ox·stride + dx_t, c]`,
    /// zero outside the image. Parallel over rows.
    ///
    /// Consecutive taps of one row of the kernel (same `dy`, `dx` one apart) read consecutive
    /// input pixels, which NHWC stores contiguously, into consecutive column blocks: such a run
    /// is one copy of `run·C` floats when it lies inside the image.
    public func im2col(_ x: Tensor, gridH: Int, gridW: Int, rows: Range<Int>, into col: UnsafeMutablePointer<Float>) {
        let (h, w, c) = (x.shape[1], x.shape[2], x.shape[3])
        let kk = taps.count * c, s = stride
        let src = x.data
        // Runs of taps: (first tap, length, dy, dx of the first).
        var runs: [(first: Int, count: Int, dy: Int, dx: Int)] = []
        for (t, tap) in taps.enumerated() {
            if let last = runs.last, last.first + last.count == t, last.dy == tap.dy, last.dx + last.count == tap.dx {
                runs[runs.count - 1].count += 1
            } else {
                runs.append((t, 1, tap.dy, tap.dx))
            }
        }
        runs.withUnsafeBufferPointer { rb in
            let rp = rb.baseAddress!, nr = rb.count
            Parallel.forRanges(rows.count, minChunk: 1) { local in
                for lr in local {
                    let r = rows.lowerBound + lr
                    let bi = r / gridH, oy = r % gridH
                    for ox in 0..<gridW {
                        let pixel = col + (lr * gridW + ox) * kk
                        for ri in 0..<nr {
                            let run = rp[ri]
                            var dst = pixel + run.first * c
                            let sy = oy * s + run.dy, sx0 = ox * s + run.dx
                            if sy < 0 || sy >= h { dst.update(repeating: 0, count: run.count * c); continue }
                            let row = src + (bi * h + sy) * w * c
                            if sx0 >= 0 && sx0 + run.count <= w { dst.update(from: row + sx0 * c, count: run.count * c); continue }
                            for sx in sx0 ..< sx0 + run.count {
                                if sx < 0 || sx >= w { dst.update(repeating: 0, count: c) } else { dst.update(from: row + sx * c, count: c) }
                                dst += c
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Writes `values` (`[n]`) into each of the `rows` rows of `out` (`[rows, n]`), or zeros when
/// `values` is nil: the bias that a GEMM with `beta = 1` then adds to. Parallel over rows.
public func fillRows(_ out: UnsafeMutablePointer<Float>, rows: Int, with values: UnsafePointer<Float>?, count n: Int) {
    guard let values else { out.update(repeating: 0, count: rows * n); return }
    Parallel.forRanges(rows, minChunk: 4096) { range in
        for p in range { (out + p * n).update(from: values, count: n) }
    }
}

/// Writes an upsampling phase's band result `src` (`[rows.count · gridW, C]`, row `r = b·gridH + oy`
/// of the low-resolution grid), plus `bias` (`[C]`) when given, to the output pixels
/// `(2·oy + a, 2·ox + b)` of `out` (`[B, 2·gridH, 2·gridW, C]`). The four phases together write
/// every output pixel once. Parallel over rows.
public func scatterPhase(_ src: UnsafePointer<Float>, rows: Range<Int>, phase: (a: Int, b: Int), gridH: Int, gridW: Int,
                         channels c: Int, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>) {
    Parallel.forRanges(rows.count) { local in
        for lr in local {
            let r = rows.lowerBound + lr
            let bi = r / gridH, oy = r % gridH
            let outRow = out + ((bi * 2 * gridH + 2 * oy + phase.a) * 2 * gridW + phase.b) * c
            let srcRow = src + lr * gridW * c
            if let bias {
                for ox in 0..<gridW {
                    let s = srcRow + ox * c, d = outRow + 2 * ox * c
                    for k in 0..<c { d[k] = s[k] + bias[k] }
                }
            } else {
                for ox in 0..<gridW { (outRow + 2 * ox * c).update(from: srcRow + ox * c, count: c) }
            }
        }
    }
}
