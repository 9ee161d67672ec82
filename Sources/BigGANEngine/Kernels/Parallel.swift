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
        withoutActuallyEscaping(body) { escaping in
            let box = UncheckedSendable(value: escaping)
            DispatchQueue.concurrentPerform(iterations: chunks) { i in
                let lo = count * i / chunks, hi = count * (i + 1) / chunks
                if lo < hi { box.value(lo..<hi) }
            }
        }
    }
}

/// Carries a value the caller knows is safe to share across the worker threads of one
/// `Parallel.forRanges` call (disjoint ranges of raw buffers).
struct UncheckedSendable<T>: @unchecked Sendable { let value: T }
