import CBigGANDNNL
import Foundation

/// The engine's link to oneDNN (Debian `libdnnl-dev` 2.6, OpenMP runtime): one CPU engine for the
/// process, a stream and scratchpad per concurrent caller (`Context`), status checks, memory
/// descriptors, and the thread count.
///
/// oneDNN runs the engine's convolutions (`OneDNNConvolution`) with JIT kernels for the machine's
/// vector width (AVX-512 `brgconv` on this project's machines); see BENCHMARKS.md for why.
enum OneDNN {
    /// The CPU engine. Primitives run on the calling thread plus OpenMP workers.
    nonisolated(unsafe) static let shared: (engine: dnnl_engine_t, Void) = {
        var e: dnnl_engine_t?
        check(dnnl_engine_create(&e, dnnl_cpu, 0), "engine")
        return (e!, ())
    }()

    /// Fails loudly: a oneDNN error here is a programming error (a shape or layout the engine
    /// built itself), never a user input.
    static func check(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
        precondition(status == dnnl_success, "oneDNN \(what()) failed: \(status)")
    }

    /// A dense f32 descriptor with `dims` in oneDNN's logical order (`N, C, H, W` / `O, I, H, W`)
    /// and physical layout `tag` (`dnnl_nhwc`, `dnnl_oihw`, `dnnl_format_tag_any`, ...).
    static func descriptor(_ dims: [Int], _ tag: dnnl_format_tag_t) -> dnnl_memory_desc_t {
        var m = dnnl_memory_desc_t()
        let d = dims.map(Int64.init)
        check(d.withUnsafeBufferPointer { dnnl_memory_desc_init_by_tag(&m, Int32(d.count), $0.baseAddress, dnnl_f32, tag) }, "memory descriptor \(dims)")
        return m
    }

    /// The descriptor of memory object `m`.
    static func descriptorOf(_ m: dnnl_memory_t) -> dnnl_memory_desc_t {
        var d: UnsafePointer<dnnl_memory_desc_t>?
        check(dnnl_memory_get_memory_desc(m, &d), "memory descriptor query")
        return d!.pointee
    }

    /// A memory object over `data` (not owned), or over a buffer oneDNN allocates when `data` is nil
    /// and `allocate` is true (freed with the memory object), or with no buffer yet otherwise.
    static func memory(_ desc: dnnl_memory_desc_t, data: UnsafeMutableRawPointer?, allocate: Bool = false) -> dnnl_memory_t {
        memory(desc, raw: data, allocate: allocate)
    }
    static func memory(_ desc: dnnl_memory_desc_t, data: UnsafeMutablePointer<Float>) -> dnnl_memory_t {
        memory(desc, raw: UnsafeMutableRawPointer(data))
    }
    private static func memory(_ desc: dnnl_memory_desc_t, raw data: UnsafeMutableRawPointer?, allocate: Bool = false) -> dnnl_memory_t {
        var d = desc
        var m: dnnl_memory_t?
        let handle = data ?? (allocate ? UnsafeMutableRawPointer(bitPattern: UInt.max) : nil)   // DNNL_MEMORY_ALLOCATE
        check(dnnl_memory_create(&m, &d, shared.engine, handle), "memory")
        return m!
    }

    /// What one executing thread needs: an in-order stream (streams are not thread-safe) and the
    /// scratchpad its primitives borrow. Every primitive is created with a user-managed scratchpad
    /// (`attributes`) instead of owning one each (which grew a served BigGAN-deep-128 by tens of
    /// MiB); a context's buffer grows to the largest request, 64-byte aligned.
    final class Context {
        let stream: dnnl_stream_t
        var scratchpad: UnsafeMutableRawPointer?
        var bytes = 0
        init() {
            var s: dnnl_stream_t?
            check(dnnl_stream_create(&s, shared.engine, dnnl_stream_default_flags.rawValue), "stream")
            stream = s!
        }
        func scratchpad(atLeast n: Int) -> UnsafeMutableRawPointer? {
            if n > bytes {
                free(scratchpad)
                precondition(posix_memalign(&scratchpad, 64, n) == 0, "scratchpad of \(n) bytes")
                bytes = n
            }
            return scratchpad
        }
    }
    /// Idle contexts; as many exist as threads have executed primitives at once.
    nonisolated(unsafe) private static var idle: [Context] = []
    private static let idleLock = NSLock()

    private static func acquire() -> Context {
        idleLock.lock(); defer { idleLock.unlock() }
        return idle.popLast() ?? Context()
    }
    private static func release(_ c: Context) { idleLock.lock(); idle.append(c); idleLock.unlock() }

    /// New primitive attributes with the user-managed scratchpad; the caller destroys them.
    static func attributes() -> dnnl_primitive_attr_t {
        var attr: dnnl_primitive_attr_t?
        check(dnnl_primitive_attr_create(&attr), "attributes")
        check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "scratchpad mode")
        return attr!
    }

    /// The scratchpad descriptor a primitive created with `attributes()` needs.
    static func scratchpadDescriptor(_ pd: dnnl_primitive_desc_t) -> dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)!.pointee
    }

    /// Runs `primitive` with `args` on `threads` threads (those it was created for: oneDNN splits
    /// work, and so orders sums, by the thread count at creation; see `creating`) and waits for
    /// it, lending it the process scratchpad (described by `scratchpad`).
    static func execute(_ primitive: dnnl_primitive_t, _ args: [dnnl_exec_arg_t], scratchpad desc: dnnl_memory_desc_t, threads: Int) {
        var a = args
        var d = desc
        let context = acquire()
        defer { release(context) }
        let bytes = dnnl_memory_desc_get_size(&d)
        var pad: dnnl_memory_t?
        if bytes > 0 {
            check(dnnl_memory_create(&pad, &d, shared.engine, context.scratchpad(atLeast: bytes)), "scratchpad memory")
            a.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: pad))
        }
        setThreads(threads)
        check(dnnl_primitive_execute(primitive, context.stream, Int32(a.count), &a), "execute")
        check(dnnl_stream_wait(context.stream), "stream wait")
        if let pad { dnnl_memory_destroy(pad) }
    }

    /// The threads each image of a `count`-image batch runs on in `forEachImage`.
    static func threadsPerImage(_ count: Int) -> Int { count == 1 ? Parallel.workers : 1 }

    /// Runs `body(i)` for the images `0..<count` of a batch: one after another on `Parallel.workers`
    /// threads for a single image, otherwise side by side, one thread each (`Parallel.workers`
    /// is 1 inside). This saves an OpenMP fork and join per call and keeps small layers' cores
    /// busy. It changes no bytes: oneDNN's forward convolutions and matmuls here compute each
    /// output element from the same sums whatever the batch or thread count (checked by
    /// `OneDNNKernelTests` and `BatchInvarianceTests`).
    static func forEachImage(_ count: Int, _ body: (Int) -> Void) {
        if threadsPerImage(count) == Parallel.workers { for i in 0..<count { body(i) }; return }
        Parallel.forRanges(count) { images in
            Parallel.$taskWorkers.withValue(1) { for i in images { body(i) } }
        }
    }

    /// Copies `from` (described by `fromDesc`) into a new oneDNN-allocated memory of layout `to`.
    static func reordered(_ from: UnsafeMutableRawPointer, _ fromDesc: dnnl_memory_desc_t, to: dnnl_memory_desc_t) -> dnnl_memory_t {
        var src = fromDesc, dst = to
        let srcMem = memory(src, data: from), dstMem = memory(dst, data: nil, allocate: true)
        var pd: dnnl_primitive_desc_t?
        let attr = attributes()
        defer { dnnl_primitive_attr_destroy(attr) }
        check(dnnl_reorder_primitive_desc_create(&pd, &src, shared.engine, &dst, shared.engine, attr), "reorder descriptor")
        var reorder: dnnl_primitive_t?
        check(dnnl_primitive_create(&reorder, pd), "reorder")
        execute(reorder!, [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: srcMem), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: dstMem)],
                scratchpad: scratchpadDescriptor(pd!), threads: Parallel.workers)
        dnnl_primitive_destroy(reorder); dnnl_primitive_desc_destroy(pd); dnnl_memory_destroy(srcMem)
        return dstMem
    }

    /// The execution argument of post-op `index`'s operands (`DNNL_ARG_ATTR_MULTIPLE_POST_OP`,
    /// a C macro Swift cannot import); combine with `DNNL_ARG_SRC_1`.
    static func postOpArgument(_ index: Int) -> Int32 { Int32(DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE) * Int32(index + 1) }

    /// The implementation oneDNN chose for `pd` (e.g. `brg:avx512_core`), for profiles and tests.
    static func implementation(_ pd: dnnl_primitive_desc_t) -> String {
        var s: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s) == dnnl_success, let s else { return "?" }
        return String(cString: s)
    }

    /// `omp_set_num_threads` of the libgomp oneDNN loaded (the Debian package ships no libgomp
    /// development link, so it is looked up at run time; nil if absent).
    nonisolated(unsafe) private static let ompSetNumThreads: (@convention(c) (Int32) -> Void)? = {
        guard let sym = dlsym(nil, "omp_set_num_threads") else { return nil }   // RTLD_DEFAULT
        return unsafeBitCast(sym, to: (@convention(c) (Int32) -> Void).self)
    }()

    /// Sets oneDNN's thread count for primitives created or run from the calling thread (OpenMP
    /// keeps the setting per calling thread, so it is set before each: a few nanoseconds).
    static func setThreads(_ n: Int) { ompSetNumThreads?(Int32(max(1, n))) }

    /// Runs `make` (which creates primitives) for `threads` threads. Every primitive cache is keyed
    /// by thread count too: a primitive always runs on the thread count it was made for, so a
    /// computation's bytes depend on the shapes and `Parallel.workers` only.
    static func creating<T>(threads: Int, _ make: () -> T) -> T {
        setThreads(threads)
        return make()
    }
}
