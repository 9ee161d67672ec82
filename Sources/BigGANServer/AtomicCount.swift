import Foundation
#if os(Linux)
import Synchronization
#endif

/// An integer changed and read without a lock where the platform has atomics (Linux; the
/// package's macOS minimum predates `Synchronization`, so elsewhere a lock stands in). Used where
/// request threads and the compute worker would otherwise share a hot lock: under a storm of
/// requests on low-priority connection threads, the worker would wait behind them.
final class AtomicCount: @unchecked Sendable {
    #if os(Linux)
    private let value = Atomic<Int>(0)
    var current: Int { value.load(ordering: .relaxed) }
    func add(_ n: Int) { value.wrappingAdd(n, ordering: .acquiringAndReleasing) }
    /// Adds one if the value is below `limit`; whether it did.
    func reserve(below limit: Int) -> Bool {
        if value.load(ordering: .relaxed) >= limit { return false }
        if value.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue <= limit { return true }
        value.wrappingSubtract(1, ordering: .acquiringAndReleasing)
        return false
    }
    #else
    private let lock = NSLock()
    private var value = 0
    var current: Int { lock.lock(); defer { lock.unlock() }; return value }
    func add(_ n: Int) { lock.lock(); value += n; lock.unlock() }
    func reserve(below limit: Int) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard value < limit else { return false }
        value += 1
        return true
    }
    #endif

    func release(_ n: Int) { add(-n) }
}
