import CBigGANOpenBLAS

/// Row-major single-precision matrix multiply:
/// `C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C[m, n]`.
///
/// - `a`: `[m, k]` (or `[k, m]` when `transA`), leading dimension `lda`.
/// - `b`: `[k, n]` (or `[n, k]` when `transB`), leading dimension `ldb`.
/// - `c`: `[m, n]`, leading dimension `ldc`.
///
/// Threads: OpenBLAS itself always runs single-threaded; a call of at least `BLAS.pieceMACs`
/// multiply-adds is cut into at most `BLAS.threads` pieces — row ranges when `m ≥ n`, else column
/// ranges (so a wide weight matrix is packed once, not once per piece) — that run on the engine's
/// workers. The cut depends only on the shape and the thread count, so a call's result is the same
/// on every run; OpenBLAS's own threading also splits by shape, but its single-threaded kernels
/// are what `sgemmPerImage` needs to run several images' calls side by side.
public func sgemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    if m == 0 || n == 0 { return }
    let pieces = BLAS.pieces(macs: m * n * k, rows: m, columns: n)
    if pieces <= 1 {
        sgemmSingle(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    let splitRows = m >= n
    let extent = splitRows ? m : n
    // Piece boundaries on multiples of 16 rows or columns; `pieces` ≤ `threads`, so each worker
    // takes one piece.
    func bound(_ p: Int) -> Int { p == pieces ? extent : (extent * p / pieces) / 16 * 16 }
    Parallel.forRanges(pieces) { range in
        for p in range where bound(p + 1) > bound(p) {
            let lo = bound(p), hi = bound(p + 1)
            if splitRows {
                sgemmSingle(transA: transA, transB: transB, m: hi - lo, n: n, k: k, alpha: alpha,
                            a: transA ? a + lo : a + lo * lda, lda: lda, b: b, ldb: ldb, beta: beta, c: c + lo * ldc, ldc: ldc)
            } else {
                sgemmSingle(transA: transA, transB: transB, m: m, n: hi - lo, k: k, alpha: alpha, a: a, lda: lda,
                            b: transB ? b + lo * ldb : b + lo, ldb: ldb, beta: beta, c: c + lo, ldc: ldc)
            }
        }
    }
}

/// One OpenBLAS call on the calling thread (OpenBLAS is held at one thread, see `BLAS`).
@inline(__always)
func sgemmSingle(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    _ = BLAS.singleThreadedLibrary
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// `C = A × op(B) (+ C when beta is 1)` for a batch of images, one sgemm call per image.
///
/// - `a`: `[images * rowsPerImage, k]` row-major (leading dimension `lda`): image `i` owns rows
///   `i*rowsPerImage ..< (i+1)*rowsPerImage`.
/// - `b`: `[k, n]` (or `[n, k]` when `transB`), shared by every image.
/// - `c`: `[images * rowsPerImage, n]`, leading dimension `ldc`.
///
/// Why per image: OpenBLAS's result for a row depends on where that row falls in the call (edge
/// kernels for the last rows, a separate small-matrix kernel below a size threshold). One call per
/// image, always of the same shape, makes an image's pixels independent of what it is batched
/// with (same request, same bytes). Calls too small to be cut into pieces run side by side, one
/// image per worker; larger ones run one after the other, each cut into pieces.
public func sgemmPerImage(
    images: Int, rowsPerImage m: Int, n: Int, k: Int, transB: Bool = false,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    if images == 0 || m == 0 || n == 0 { return }
    if images > 1 && BLAS.pieces(macs: m * n * k, rows: m, columns: n) <= 1 {
        Parallel.forRanges(images) { range in
            for i in range {
                sgemmSingle(transA: false, transB: transB, m: m, n: n, k: k, alpha: 1, a: a + i * m * lda, lda: lda,
                            b: b, ldb: ldb, beta: beta, c: c + i * m * ldc, ldc: ldc)
            }
        }
        return
    }
    for i in 0..<images {
        sgemm(transB: transB, m: m, n: n, k: k, a: a + i * m * lda, lda: lda, b: b, ldb: ldb,
              beta: beta, c: c + i * m * ldc, ldc: ldc)
    }
}

/// Thread control. OpenBLAS is held at one thread for the whole process; `threads` is how many
/// of the engine's workers a GEMM (and the engine's other loops) may use.
public enum BLAS {
    /// Sets the engine's worker count (`--blas-threads`, `--threads`).
    public static func setThreads(_ n: Int) { Parallel.workers = max(1, n) }

    /// Runs `body` with `n` engine threads for the calling task only (other tasks keep theirs).
    public static func withThreads<T>(_ n: Int, _ body: () throws -> T) rethrows -> T {
        try Parallel.$taskWorkers.withValue(max(1, n), operation: body)
    }
    public static var threads: Int { Parallel.workers }

    /// A GEMM of fewer multiply-adds than this is never cut into pieces (8 Mi: about 0.1 ms).
    public static let pieceMACs = 8 << 20

    /// How many pieces `sgemm` cuts a call into: one per `pieceMACs`, at most `threads`, and
    /// none smaller than 16 rows or columns.
    static func pieces(macs: Int, rows: Int, columns: Int) -> Int {
        max(1, min(threads, macs / pieceMACs, max(rows, columns) / 16))
    }

    /// Set once, before the first call: OpenBLAS's own threads off.
    static let singleThreadedLibrary: Void = { openblas_set_num_threads(1) }()

    public static var configDescription: String {
        guard let c = openblas_get_config() else { return "OpenBLAS" }
        return String(cString: c)
    }
}
