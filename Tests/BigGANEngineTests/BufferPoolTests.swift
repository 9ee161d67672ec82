import Testing
@testable import BigGANEngine

/// The pool's reuse and bounds, on private pools so that tensors allocated by other tests
/// running in parallel do not disturb the counts.
@Suite struct BufferPoolTests {
    let page = 4096
    func rounded(_ n: Int) -> Int { (n + page - 1) / page * page }

    @Test func releasedBufferIsReusedForAnEqualOrSomewhatSmallerRequest() {
        let pool = BufferPool(capacityBytes: 1 << 20)
        let p = pool.allocate(byteCount: 100_000)
        p.initializeMemory(as: UInt8.self, repeating: 7, count: 100_000)   // the whole buffer is writable
        pool.release(p, byteCount: 100_000)
        #expect(pool.idleByteCount == rounded(100_000))
        let q = pool.allocate(byteCount: 90_000)
        #expect(q == p)
        #expect(pool.idleByteCount == 0)
        pool.release(q, byteCount: 90_000)
        // Far smaller than the idle buffer: a new one, so that a long-lived small tensor never pins a big buffer.
        let r = pool.allocate(byteCount: 70_000)
        #expect(r != p)
        #expect(pool.idleByteCount == rounded(100_000))
        pool.release(r, byteCount: 70_000)
        pool.drain()
        #expect(pool.idleByteCount == 0)
    }

    @Test func bestFitTakesTheSmallestIdleBufferThatHolds() {
        let pool = BufferPool(capacityBytes: 1 << 22)
        let big = pool.allocate(byteCount: 300_000), small = pool.allocate(byteCount: 200_000)
        pool.release(big, byteCount: 300_000)
        pool.release(small, byteCount: 200_000)
        #expect(pool.allocate(byteCount: 190_000) == small)
        #expect(pool.allocate(byteCount: 250_000) == big)
    }

    @Test func trimKeepsAtMostTheCapacityIdle() {
        let pool = BufferPool(capacityBytes: 150_000)
        let a = pool.allocate(byteCount: 100_000), b = pool.allocate(byteCount: 200_000)
        pool.release(a, byteCount: 100_000)
        pool.release(b, byteCount: 200_000)   // kept while work runs: no page faults on reuse
        #expect(pool.idleByteCount == rounded(100_000) + rounded(200_000))
        pool.trim()                           // the largest go first
        #expect(pool.idleByteCount == rounded(100_000))
        #expect(pool.allocate(byteCount: 100_000) == a)
        pool.capacityBytes = 0
        pool.trim()
        #expect(pool.idleByteCount == 0)
        #expect(pool.capacityBytes == 0)
    }

    @Test func peakLiveBytesTracksTheMostInUseAtOnce() {
        let pool = BufferPool(capacityBytes: 1 << 22)
        let ps = (0..<3).map { _ in pool.allocate(byteCount: 65_536) }
        for p in ps { pool.release(p, byteCount: 65_536) }
        #expect(pool.takePeakLiveBytes() == 3 * 65_536)
        #expect(pool.takePeakLiveBytes() == 0)   // the mark was reset to what is in use now
        let one = pool.allocate(byteCount: 65_536)
        #expect(pool.takePeakLiveBytes() == 65_536)
        pool.release(one, byteCount: 65_536)
    }

    @Test func smallBuffersBypassThePool() {
        let pool = BufferPool(capacityBytes: 1 << 20)
        let p = pool.allocate(byteCount: 1000)
        pool.release(p, byteCount: 1000)
        #expect(pool.idleByteCount == 0)
        #expect(pool.takePeakLiveBytes() == 0)
    }
}
