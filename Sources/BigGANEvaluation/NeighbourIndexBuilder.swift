import Foundation
import BigGANEngine
#if canImport(Glibc)
import Glibc
#endif

/// Builds neighbour indexes in the background, one at a time, on a thread of its own at a low
/// scheduling priority — never on the server's compute worker or an HTTP thread, so that serving
/// goes on meanwhile. The thread starts when work is queued and ends when the queue is empty.
///
/// The feature index runs the classifier (BLAS) over every training image. OpenBLAS's thread pool
/// is shared by the whole process, so while a batch runs it competes with the compute worker for
/// the cores; between batches the builder therefore waits while `Pacing.isBusy` says the server
/// has requests in flight (for at most `Pacing.maxWait` per batch, so that a steady stream of
/// requests slows the build down without stopping it).
public final class NeighbourIndexBuilder: @unchecked Sendable {
    public struct Pacing: Sendable {
        /// Whether the server is busy (the builder waits between batches while it is).
        public var isBusy: @Sendable () -> Bool
        /// Longest wait before each batch.
        public var maxWait: TimeInterval
        /// How often `isBusy` is asked while waiting.
        public var pollInterval: TimeInterval

        public init(isBusy: @escaping @Sendable () -> Bool = { false }, maxWait: TimeInterval = 1, pollInterval: TimeInterval = 0.002) {
            self.isBusy = isBusy; self.maxWait = max(0, maxWait); self.pollInterval = max(0.0001, pollInterval)
        }
    }

    struct Job {
        let service: NeighbourService
        let space: NeighbourService.Space
        let size: Int, channels: Int
        let label: String
    }

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var running = false
    /// Set by `stop`: the build in progress ends at its next batch, and nothing more starts.
    private var stopping = false
    private var pacingValue = Pacing()
    private var niceValue: Int32 = 10
    private var logValue: @Sendable (String) -> Void = { _ in }

    public init() {}

    /// How the builder yields to the server (set before queueing work).
    public var pacing: Pacing {
        get { condition.lock(); defer { condition.unlock() }; return pacingValue }
        set { condition.lock(); pacingValue = newValue; condition.unlock() }
    }

    /// Nice value of the builder thread (default 10; 0 leaves it at the process's priority).
    public var nice: Int32 {
        get { condition.lock(); defer { condition.unlock() }; return niceValue }
        set { condition.lock(); niceValue = newValue; condition.unlock() }
    }

    /// Receives one line per finished or failed build.
    public var log: @Sendable (String) -> Void {
        get { condition.lock(); defer { condition.unlock() }; return logValue }
        set { condition.lock(); logValue = newValue; condition.unlock() }
    }

    /// Queues the index of `space` for building unless it is already queued, building, built or
    /// impossible. `label` names it in log lines (such as the model's name).
    public func enqueue(_ service: NeighbourService, _ space: NeighbourService.Space, size: Int, channels: Int, label: String) {
        condition.lock()
        if stopping { condition.unlock(); return }
        condition.unlock()
        guard service.claim(space) else { return }
        condition.lock()
        jobs.append(Job(service: service, space: space, size: size, channels: channels, label: label))
        if !running {
            running = true
            let t = Thread { [self] in loop() }
            t.stackSize = 8 << 20
            t.start()
        }
        condition.unlock()
    }

    /// Cancels queued builds, ends the one in progress at its next batch (it is then reported as
    /// failed) and waits up to `timeout` seconds for the thread to finish. Called at shutdown: the
    /// process must not exit while the builder still reads the data set and runs the classifier.
    @discardableResult
    public func stop(timeout: TimeInterval = 10) -> Bool {
        condition.lock()
        stopping = true
        jobs.removeAll()
        condition.broadcast()
        condition.unlock()
        return waitUntilIdle(timeout: timeout)
    }

    private var isStopping: Bool { condition.lock(); defer { condition.unlock() }; return stopping }

    /// Whether no build is queued or running.
    public var isIdle: Bool { condition.lock(); defer { condition.unlock() }; return !running }

    /// Waits until every queued build has finished or failed; false if `timeout` passed first.
    @discardableResult
    public func waitUntilIdle(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock(); defer { condition.unlock() }
        while running { if !condition.wait(until: deadline) { return !running } }
        return true
    }

    private func loop() {
        // Named from inside, with the kernel call: Foundation's setter can miss on Linux (see
        // `ThreadName`), and the kernel keeps 15 characters.
        ThreadName.setCurrent("nn-index-build")
        #if canImport(Glibc)
        // On Linux the nice value is per thread: who = 0 is the calling thread.
        if nice != 0 { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) }
        #endif
        while true {
            condition.lock()
            if jobs.isEmpty { running = false; condition.broadcast(); condition.unlock(); return }
            let job = jobs.removeFirst()
            let pace = pacingValue, log = logValue
            condition.unlock()
            let start = Date()
            do {
                try job.service.prepare(job.space, size: job.size, channels: job.channels) {
                    if self.isStopping { throw NeighbourBuildCancelled() }
                    Self.yield(pace)
                }
                log(String(format: "%@: %@ neighbour index ready in %.1f s", job.label, job.space.rawValue, Date().timeIntervalSince(start)))
            } catch {
                log("\(job.label): \(job.space.rawValue) neighbour index failed: \(error)")
            }
        }
    }

    /// Why a build ended early: the server is shutting down.
    struct NeighbourBuildCancelled: Error, CustomStringConvertible {
        var description: String { "cancelled: the server is shutting down" }
    }

    /// Waits while the server is busy, for at most `maxWait`.
    static func yield(_ pace: Pacing) {
        let deadline = Date().addingTimeInterval(pace.maxWait)
        while pace.isBusy() && Date() < deadline { Thread.sleep(forTimeInterval: pace.pollInterval) }
    }
}
