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
/// can run side by side on the engine's workers.
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
