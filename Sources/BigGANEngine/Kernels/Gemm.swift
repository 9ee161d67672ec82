import COpenBLAS

/// Row-major single-precision matrix multiply through OpenBLAS:
/// `C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C[m, n]`.
///
/// - `a`: `[m, k]` (or `[k, m]` when `transA`), leading dimension `lda`.
/// - `b`: `[k, n]` (or `[n, k]` when `transB`), leading dimension `ldb`.
/// - `c`: `[m, n]`, leading dimension `ldc`.
@inline(__always)
public func sgemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    if m == 0 || n == 0 { return }
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
/// kernels for the last rows, a separate small-matrix kernel below a size threshold, the split
/// between threads). One call per image, always of the same shape, makes an image's pixels
/// independent of what it is batched with (same request, same bytes), at a given thread count.
@inline(__always)
public func sgemmPerImage(
    images: Int, rowsPerImage m: Int, n: Int, k: Int, transB: Bool = false,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    for i in 0..<images {
        sgemm(transB: transB, m: m, n: n, k: k, a: a + i * m * lda, lda: lda, b: b, ldb: ldb,
              beta: beta, c: c + i * m * ldc, ldc: ldc)
    }
}

/// Thread control for OpenBLAS. The engine issues all GEMMs from one thread; the BLAS
/// library parallelises inside each call.
public enum BLAS {
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
    public static var threads: Int { Int(openblas_get_num_threads()) }
    public static var configDescription: String {
        guard let c = openblas_get_config() else { return "OpenBLAS" }
        return String(cString: c)
    }
}
