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
