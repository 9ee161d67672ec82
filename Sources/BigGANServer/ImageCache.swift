import Foundation

/// A small LRU cache of encoded PNGs keyed by ETag, bounded in bytes. Thread-safe.
public final class ImageCache: @unchecked Sendable {
    public let capacityBytes: Int
    private let lock = NSLock()
    private var entries: [String: (bytes: [UInt8], tick: Int)] = [:]
    private var tick = 0
    private var size = 0
    public private(set) var hits = 0
    public private(set) var misses = 0

    public init(capacityBytes: Int) { self.capacityBytes = capacityBytes }

    /// Number of cached images.
    public var count: Int { lock.lock(); defer { lock.unlock() }; return entries.count }

    public func get(_ key: String) -> [UInt8]? {
        lock.lock(); defer { lock.unlock() }
        guard capacityBytes > 0, var e = entries[key] else { misses += 1; return nil }
        tick += 1; e.tick = tick; entries[key] = e
        hits += 1
        return e.bytes
    }

    public func put(_ key: String, _ bytes: [UInt8]) {
        lock.lock(); defer { lock.unlock() }
        guard capacityBytes > 0, bytes.count <= capacityBytes, entries[key] == nil else { return }
        tick += 1
        entries[key] = (bytes, tick)
        size += bytes.count
        while size > capacityBytes, let oldest = entries.min(by: { $0.value.tick < $1.value.tick }) {
            size -= oldest.value.bytes.count
            entries[oldest.key] = nil
        }
    }
}
