import Foundation

/// Recycles tensor storage by exact byte size, so that after a warm-up forward pass the
/// engine allocates no new memory: fresh `malloc`/`mmap` blocks of activation size cost a page
/// fault per 4 KiB on first touch, which measured at several percent of a BigGAN-deep forward.
///
/// Thread-safe. Holds at most `capacityBytes` of idle buffers; beyond that, buffers are freed.
enum BufferPool {
    nonisolated(unsafe) private static var free: [Int: [UnsafeMutableRawPointer]] = [:]
    nonisolated(unsafe) private static var idleBytes = 0
    nonisolated(unsafe) static var capacityBytes = 2 << 30
    private static let lock = NSLock()
    /// Buffers below this size come from `malloc` directly (its own bins are fast).
    static let minimumPooledBytes = 64 << 10

    static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        if byteCount >= minimumPooledBytes {
            lock.lock()
            if let p = free[byteCount]?.popLast() {
                idleBytes -= byteCount
                lock.unlock()
                return p
            }
            lock.unlock()
        }
        return UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
    }

    static func release(_ p: UnsafeMutableRawPointer, byteCount: Int) {
        if byteCount >= minimumPooledBytes {
            lock.lock()
            if idleBytes + byteCount <= capacityBytes {
                free[byteCount, default: []].append(p)
                idleBytes += byteCount
                lock.unlock()
                return
            }
            lock.unlock()
        }
        p.deallocate()
    }

    /// Frees every idle buffer (e.g. after unloading a model).
    static func drain() {
        lock.lock()
        for (_, ps) in free { for p in ps { p.deallocate() } }
        free = [:]; idleBytes = 0
        lock.unlock()
    }
}
