import CBigGANDNNL
import Foundation

/// Row-major f32 matrix product `C[m, n] = A[m, k] · op(B)` by oneDNN's matmul (AVX-512 `brg`
/// kernels), with `B` `[k, n]` or, when `transposedB`, `[n, k]` read in place. Operands are raw
/// pointers supplied per call; one primitive per shape, shared process-wide (`cached`).
final class OneDNNMatmul: @unchecked Sendable {
    let m: Int, k: Int, n: Int, transposedB: Bool, threads: Int
    private let primitive: dnnl_primitive_t
    private let aDesc: dnnl_memory_desc_t, bDesc: dnnl_memory_desc_t, cDesc: dnnl_memory_desc_t, scratchpad: dnnl_memory_desc_t

    private init(m: Int, k: Int, n: Int, transposedB: Bool, threads: Int) {
        self.m = m; self.k = k; self.n = n; self.transposedB = transposedB; self.threads = threads
        var a = OneDNN.descriptor([m, k], dnnl_ab)
        var b = OneDNN.descriptor([k, n], transposedB ? dnnl_ba : dnnl_ab)
        var c = OneDNN.descriptor([m, n], dnnl_ab)
        var desc = dnnl_matmul_desc_t()
        OneDNN.check(dnnl_matmul_desc_init(&desc, &a, &b, nil, &c), "matmul descriptor")
        var pd: dnnl_primitive_desc_t?
        let attr = OneDNN.attributes()
        defer { dnnl_primitive_attr_destroy(attr) }
        OneDNN.check(dnnl_primitive_desc_create(&pd, &desc, attr, OneDNN.shared.engine, nil), "matmul primitive descriptor")
        defer { dnnl_primitive_desc_destroy(pd) }
        var p: dnnl_primitive_t?
        OneDNN.check(dnnl_primitive_create(&p, pd), "matmul primitive")
        primitive = p!; aDesc = a; bDesc = b; cDesc = c; scratchpad = OneDNN.scratchpadDescriptor(pd!)
    }

    nonisolated(unsafe) private static var cache: [[Int]: OneDNNMatmul] = [:]
    private static let cacheLock = NSLock()

    /// The primitive for this shape at `threads` threads, created on first use.
    static func cached(m: Int, k: Int, n: Int, transposedB: Bool = false, threads: Int = Parallel.workers) -> OneDNNMatmul {
        cacheLock.lock(); defer { cacheLock.unlock() }
        let key = [m, k, n, transposedB ? 1 : 0, threads]
        if let p = cache[key] { return p }
        let p = OneDNN.creating(threads: threads) { OneDNNMatmul(m: m, k: k, n: n, transposedB: transposedB, threads: threads) }
        cache[key] = p
        return p
    }

    /// `c ← a · op(b)` (dense row-major operands of this primitive's shape).
    func callAsFunction(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>) {
        let am = OneDNN.memory(aDesc, data: UnsafeMutableRawPointer(mutating: a))
        let bm = OneDNN.memory(bDesc, data: UnsafeMutableRawPointer(mutating: b))
        let cm = OneDNN.memory(cDesc, data: UnsafeMutableRawPointer(c))
        OneDNN.execute(primitive, [dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: am), dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: bm),
                                   dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: cm)], scratchpad: scratchpad, threads: threads)
        dnnl_memory_destroy(am); dnnl_memory_destroy(bm); dnnl_memory_destroy(cm)
    }
}

/// Softmax of each row of a row-major `[rows, cols]` f32 matrix, in place, by oneDNN
/// (`exp(x − max) / Σ exp(x − max)`, JIT AVX-512). One primitive per shape, shared process-wide.
final class OneDNNSoftmax: @unchecked Sendable {
    private let primitive: dnnl_primitive_t
    private let desc: dnnl_memory_desc_t, scratchpad: dnnl_memory_desc_t
    let threads: Int

    private init(rows: Int, cols: Int, threads: Int) {
        self.threads = threads
        var d = OneDNN.descriptor([rows, cols], dnnl_ab)
        var sd = dnnl_softmax_desc_t()
        OneDNN.check(dnnl_softmax_forward_desc_init(&sd, dnnl_forward_inference, &d, 1), "softmax descriptor")
        var pd: dnnl_primitive_desc_t?
        let attr = OneDNN.attributes()
        defer { dnnl_primitive_attr_destroy(attr) }
        OneDNN.check(dnnl_primitive_desc_create(&pd, &sd, attr, OneDNN.shared.engine, nil), "softmax primitive descriptor")
        defer { dnnl_primitive_desc_destroy(pd) }
        var p: dnnl_primitive_t?
        OneDNN.check(dnnl_primitive_create(&p, pd), "softmax primitive")
        primitive = p!; desc = d; scratchpad = OneDNN.scratchpadDescriptor(pd!)
    }

    nonisolated(unsafe) private static var cache: [[Int]: OneDNNSoftmax] = [:]
    private static let cacheLock = NSLock()

    /// The primitive for this shape at `threads` threads, created on first use.
    static func cached(rows: Int, cols: Int, threads: Int = Parallel.workers) -> OneDNNSoftmax {
        cacheLock.lock(); defer { cacheLock.unlock() }
        if let p = cache[[rows, cols, threads]] { return p }
        let p = OneDNN.creating(threads: threads) { OneDNNSoftmax(rows: rows, cols: cols, threads: threads) }
        cache[[rows, cols, threads]] = p
        return p
    }

    /// Row-wise softmax of `x` in place.
    func callAsFunction(_ x: UnsafeMutablePointer<Float>) {
        let mem = OneDNN.memory(desc, data: UnsafeMutableRawPointer(x))
        OneDNN.execute(primitive, [dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: mem), dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: mem)], scratchpad: scratchpad, threads: threads)
        dnnl_memory_destroy(mem)
    }
}
