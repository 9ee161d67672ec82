import Foundation

/// Splits `0..<count` into at most `Parallel.workers` contiguous chunks and runs `body(range)` on
/// each concurrently: the engine's memory-bound loops (normalisation, gathers, copies), its GEMM pieces
/// and the images of a batch (`OneDNN.forEachImage`)
/// (OpenBLAS itself runs single-threaded, see `BLAS`). `BLAS.setThreads` sets `workers`.
public enum Parallel {
    /// The process-wide worker count (`BLAS.setThreads`); `BIGGAN_ENGINE_THREADS` overrides the
    /// default (the number of cores).
    nonisolated(unsafe) static var processWorkers: Int = {
        if let s = ProcessInfo.processInfo.environment["BIGGAN_ENGINE_THREADS"], let n = Int(s), n >= 1 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// A worker count for the current task only (`BLAS.withThreads`), so that code comparing
    /// thread counts (tests) does not change them under concurrent work.
    @TaskLocal static var taskWorkers: Int?

    /// Workers for the calling task: its own count if set, else the process's. oneDNN primitives
    /// are made for, and run on, this many threads.
    public static var workers: Int {
        get { taskWorkers ?? processWorkers }
        set { processWorkers = max(1, newValue) }
    }

    /// `minChunk`: below `2*minChunk` items the loop runs on the calling thread.
    public static func forRanges(_ count: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = min(workers, max(1, count / max(minChunk, 1)))
        if chunks <= 1 { body(0..<count); return }
        // libdispatch renames a thread that takes part in `concurrentPerform` after its root queue
        // ("oot.default-qos"): give the caller its name back (the compute worker, the
        // neighbour-index builder and every other named thread keep theirs).
        var name = [CChar](repeating: 0, count: 16)
        let named = ThreadName.get(&name)
        withoutActuallyEscaping(body) { escaping in
            let box = UncheckedSendable(value: escaping)
            DispatchQueue.concurrentPerform(iterations: chunks) { i in
                let lo = count * i / chunks, hi = count * (i + 1) / chunks
                if lo < hi { box.value(lo..<hi) }
            }
        }
        if named {
            var after = [CChar](repeating: 0, count: 16)
            if ThreadName.get(&after), after != name { ThreadName.set(name) }
        }
    }
}

/// The calling thread's kernel name (15 characters), through glibc's `pthread_getname_np` and
/// `pthread_setname_np` looked up at run time (Swift's Glibc module does not export them).
/// Foundation's `Thread.current.name = …` can silently do nothing on Linux when a new thread sets
/// it before `start()` has returned in its parent (the thread then keeps the creator's name), so
/// named threads use `setCurrent`.
public enum ThreadName {
    private typealias Get = @convention(c) (pthread_t, UnsafeMutablePointer<CChar>, Int) -> Int32
    private typealias Set = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32
    nonisolated(unsafe) private static let functions: (get: Get, set: Set)? = {
        guard let g = dlsym(nil, "pthread_getname_np"), let s = dlsym(nil, "pthread_setname_np") else { return nil }
        return (unsafeBitCast(g, to: Get.self), unsafeBitCast(s, to: Set.self))
    }()

    /// Reads the name into `buffer` (16 bytes); false if it cannot.
    static func get(_ buffer: inout [CChar]) -> Bool {
        guard let f = functions else { return false }
        return buffer.withUnsafeMutableBufferPointer { f.get(pthread_self(), $0.baseAddress!, $0.count) } == 0
    }

    static func set(_ name: [CChar]) {
        _ = name.withUnsafeBufferPointer { functions?.set(pthread_self(), $0.baseAddress!) }
    }

    /// Names the calling thread (the kernel keeps the first 15 bytes).
    public static func setCurrent(_ name: String) {
        set(Array(name.utf8.prefix(15).map { CChar(bitPattern: $0) }) + [0])
    }
}

/// Carries a value the caller knows is safe to share across the worker threads of one
/// `Parallel.forRanges` call (disjoint ranges of raw buffers).
struct UncheckedSendable<T>: @unchecked Sendable { let value: T }
