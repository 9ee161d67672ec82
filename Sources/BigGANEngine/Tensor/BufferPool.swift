import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Recycles tensor storage so that after a warm-up forward pass the engine maps no new memory:
/// fresh pages cost a fault per 4 KiB on first touch, which measured at several percent of a
/// BigGAN-deep forward pass.
///
/// Buffers of at least `minimumPooledBytes` are whole pages from `mmap` (so a freed buffer goes
/// back to the system at once instead of staying in the C heap) and are reused *best fit*: a
/// request takes the smallest idle buffer that holds it, if that buffer is at most 1.25× its size
/// (a long-lived weight must not keep a much larger buffer). Reuse across sizes keeps the idle set
/// close to the most memory a pass has in use at once instead of one buffer per distinct size.
/// Smaller buffers come from `malloc`, whose own bins are fast.
///
/// Thread-safe. While work runs the pool keeps every released buffer, so a steady workload of any
/// batch size runs without page faults; `trim()` unmaps idle buffers beyond `capacityBytes`
/// (default 40 MiB: everything one BigGAN-deep-128 pass at batch 1 needs), which the server's
/// compute worker calls after a quiet spell so that a burst of large batches does not keep its
/// memory. Measured: unmapping beyond a 40 MiB bound on every release cost 124,000 page faults
/// and 45% of the time of a BigGAN-deep-128 batch-8 pass.
public final class BufferPool: @unchecked Sendable {
    /// The pool every `Tensor` allocates from.
    public static let shared = BufferPool()

    /// Idle buffers sorted by capacity, smallest first.
    private var idle: [(bytes: Int, pointer: UnsafeMutableRawPointer)] = []
    /// Capacity of every pooled buffer handed out and not yet returned.
    private var inUse: [UnsafeMutableRawPointer: Int] = [:]
    private var idleBytes = 0
    private var liveBytes = 0
    private var peakLive = 0
    private var capacity: Int
    private let lock = NSLock()

    /// `capacityBytes`: idle bytes `trim()` keeps.
    public init(capacityBytes: Int = 40 << 20) { capacity = max(0, capacityBytes) }
    /// Buffers below this size come from `malloc` directly.
    static let minimumPooledBytes = 64 << 10
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Idle bytes `trim()` keeps.
    public var capacityBytes: Int {
        get { lock.lock(); defer { lock.unlock() }; return capacity }
        set { lock.lock(); capacity = max(0, newValue); lock.unlock() }
    }

    /// Unmaps the largest idle buffers until at most `capacityBytes` stay idle.
    public func trim() { lock.lock(); trimLocked(); lock.unlock() }

    func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        guard byteCount >= Self.minimumPooledBytes else { return UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64) }
        lock.lock()
        defer { lock.unlock() }
        let i = firstIdle(atLeast: byteCount)
        let p: UnsafeMutableRawPointer, bytes: Int
        if i < idle.count, idle[i].bytes <= byteCount + byteCount / 4 {
            (bytes, p) = idle.remove(at: i)
            idleBytes -= bytes
        } else {
            bytes = (byteCount + Self.pageSize - 1) / Self.pageSize * Self.pageSize
            guard let m = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), m != MAP_FAILED else {
                fatalError("out of memory: cannot map \(bytes) bytes for a tensor")
            }
            p = m
        }
        inUse[p] = bytes
        liveBytes += bytes; peakLive = max(peakLive, liveBytes)
        return p
    }

    func release(_ p: UnsafeMutableRawPointer, byteCount: Int) {
        guard byteCount >= Self.minimumPooledBytes else { p.deallocate(); return }
        lock.lock()
        defer { lock.unlock() }
        guard let bytes = inUse.removeValue(forKey: p) else { fatalError("buffer \(p) was not allocated by the pool") }
        liveBytes -= bytes
        idle.insert((bytes, p), at: firstIdle(atLeast: bytes))
        idleBytes += bytes
    }

    /// Unmaps every idle buffer (e.g. after loading or unloading a model).
    public func drain() {
        lock.lock()
        for (bytes, p) in idle { munmap(p, bytes) }
        idle = []; idleBytes = 0
        lock.unlock()
    }

    /// Idle bytes held right now.
    public var idleByteCount: Int { lock.lock(); defer { lock.unlock() }; return idleBytes }

    /// Most bytes of pooled buffers in use at once since the last call; resets the mark.
    public func takePeakLiveBytes() -> Int { lock.lock(); defer { peakLive = liveBytes; lock.unlock() }; return peakLive }

    /// Index of the first idle buffer of at least `bytes` (binary search; `idle.count` if none).
    private func firstIdle(atLeast bytes: Int) -> Int {
        var lo = 0, hi = idle.count
        while lo < hi { let mid = (lo + hi) / 2; if idle[mid].bytes < bytes { lo = mid + 1 } else { hi = mid } }
        return lo
    }

    /// Unmaps the largest idle buffers until the pool is within `capacity`. Caller holds `lock`.
    private func trimLocked() {
        while idleBytes > capacity, let (bytes, p) = idle.popLast() { munmap(p, bytes); idleBytes -= bytes }
    }
}
