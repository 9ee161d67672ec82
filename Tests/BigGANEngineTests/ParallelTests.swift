import Foundation
import Testing
@testable import BigGANEngine

@Suite struct ParallelTests {
    /// libdispatch renames a thread that takes part in `concurrentPerform` after its root queue
    /// ("…oot.default-qos"); `Parallel.forRanges` gives the calling thread its name back, so named
    /// threads (the compute worker, the neighbour-index builder) keep theirs in logs and tools.
    @Test func callingThreadKeepsItsName() throws {
        let done = DispatchSemaphore(value: 0)
        final class Box: @unchecked Sendable { var names: [String] = [] }
        let box = Box()
        let t = Thread {
            ThreadName.setCurrent("parallel-test")
            for _ in 0..<200 {
                Parallel.$taskWorkers.withValue(2) {
                    Parallel.forRanges(64, minChunk: 1) { r in for _ in r { usleep(10) } }
                }
                box.names.append(Thread.current.name ?? "?")
            }
            done.signal()
        }
        t.start()
        done.wait()
        #expect(Set(box.names) == ["parallel-test"])
    }
}
