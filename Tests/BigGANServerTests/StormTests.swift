import Foundation
import Testing
@testable import BigGANServer

/// A storm of requests refused with 503 must cost next to nothing and leave the worker alone.
@Suite(.serialized) struct StormTests {
    /// Fills the paused worker's queue of `capacity` with background requests.
    func fill(_ s: TestServer, _ capacity: Int) -> [() -> HTTPResponse] {
        s.context.worker.setPaused(true)
        let waits = (0..<capacity).map { i -> () -> HTTPResponse in
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var result: HTTPResponse?
            let router = s.router
            Thread { result = router.handle(HTTPRequest("/v1/sample?class=0&seed=\(i)")); done.signal() }.start()
            return { done.wait(); return result! }
        }
        for _ in 0..<2000 where s.context.worker.queueDepth < capacity { usleep(1000) }
        return waits
    }

    @Test func refusalsNeverTakeTheWorkersLock() throws {
        let s = try TestServer(queueCapacity: 2)
        let waits = fill(s, 2)
        let worker = s.context.worker
        // While the worker holds its lock (as it does to take a batch), a refusal still answers at once.
        let answered = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var status = 0
        let router = s.router
        let inTime = worker.withLockHeld { () -> Bool in
            Thread { status = router.handle(HTTPRequest("/v1/sample?class=0&seed=99")).status; answered.signal() }.start()
            return answered.wait(timeout: .now() + 2) == .success
        }
        if !inTime { answered.wait() }
        #expect(inTime && status == 503)
        worker.setPaused(false)
        #expect(waits.map { $0().status } == [200, 200])
        // The slots were given back: the queue admits again.
        #expect(s.get("/v1/sample?class=0&seed=5").status == 200)
    }

    @Test func refusalsWaitTheRejectionDelayWithoutWork() throws {
        let worker = ComputeWorker(queueCapacity: 1, rejectionDelay: 0.2)
        defer { worker.shutdown() }
        let s = try TestServer(queueCapacity: 1)
        worker.setPaused(true)
        let model = s.context.registry.models[0]
        let batch = try model.prepare(.samples(class: 0, seed: 1, count: 1, truncation: nil))
        let first = DispatchSemaphore(value: 0)
        Thread { _ = try? worker.generate(model: model, batch); first.signal() }.start()
        for _ in 0..<2000 where worker.queueDepth < 1 { usleep(1000) }
        let start = Date()
        #expect(throws: APIError.self) { try worker.generate(model: model, batch) }
        let waited = Date().timeIntervalSince(start)
        #expect(waited >= 0.2 && waited < 1.5, "\(waited)")
        worker.setPaused(false)
        first.wait()
    }

    @Test func theFullQueue503IsEncodedOnce() throws {
        let e = APIError(503, "queue_full", "the sampling queue is full", retryAfter: 1)
        let pre = e.preEncoded()
        #expect(pre.response.body == e.response.body && pre.response.headers.map(\.0) == e.response.headers.map(\.0))
        let s = try TestServer(queueCapacity: 1)
        let waits = fill(s, 1)
        let r = s.get("/v1/sample?class=0&seed=42")
        #expect(r.status == 503 && r.errorCode == "queue_full" && r.header("Retry-After") == "1")
        s.context.worker.setPaused(false)
        _ = waits.map { $0() }
    }
}
