import Foundation

/// Optional timing of the training kernels by kind (for benchmarks and `--profile` style output).
/// Off by default; when off, `measure` only calls its body. Not thread-safe: the training step
/// runs on one thread (its kernels parallelise inside), so this is only called from that thread.
public enum TrainingProfiler {
    public struct Entry: Sendable {
        public var seconds: Double = 0
        /// Floating-point operations counted for the kind (2 per multiply-add), where known.
        public var flops: Double = 0
        public var calls: Int = 0
    }

    nonisolated(unsafe) public static var isEnabled = false
    nonisolated(unsafe) public private(set) static var entries: [String: Entry] = [:]

    @inline(__always) @discardableResult
    static func measure<T>(_ kind: @autoclosure () -> String, flops: @autoclosure () -> Double = 0, _ body: () -> T) -> T {
        guard isEnabled else { return body() }
        let start = DispatchTime.now().uptimeNanoseconds
        let result = body()
        let s = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let k = kind()
        entries[k, default: Entry()].seconds += s
        entries[k, default: Entry()].flops += flops()
        entries[k, default: Entry()].calls += 1
        return result
    }

    public static func reset() { entries = [:] }

    /// One line per kind, slowest first: seconds, share, calls, GFLOP/s where counted.
    public static func report() -> String {
        let total = entries.values.reduce(0) { $0 + $1.seconds }
        return entries.sorted { $0.value.seconds > $1.value.seconds }.map { k, e in
            let rate = e.flops > 0 ? String(format: "  %6.1f GFLOP/s", e.flops / e.seconds / 1e9) : ""
            return String(format: "%8.1f ms %5.1f%% %6d× ", e.seconds * 1e3, 100 * e.seconds / max(total, 1e-12), e.calls) + k + rate
        }.joined(separator: "\n")
    }
}
