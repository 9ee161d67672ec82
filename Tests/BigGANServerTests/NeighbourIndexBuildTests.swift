import BigGANEvaluation
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANServer

/// Holds a background index build between batches until opened (through the builder's pacing).
final class BuildGate: @unchecked Sendable {
    private let lock = NSLock()
    private var closed = true
    private var threads: Set<String> = []
    /// Names of the threads that asked (the builder's).
    var askedBy: Set<String> { lock.lock(); defer { lock.unlock() }; return threads }
    var isClosed: Bool {
        lock.lock(); defer { lock.unlock() }
        threads.insert(Thread.current.name ?? "?")
        return closed
    }
    func open() { lock.lock(); closed = false; lock.unlock() }
}

/// Indexes are built on the registry's background builder, never on the compute worker or in the
/// request: lookups answer 503 with progress until theirs is ready (issue 10, item C2).
@Suite struct NeighbourIndexBuildTests {
    func server() throws -> TestServer {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("biggan-nnb-\(UUID().uuidString)")
        try tinyDataset(at: data)
        return try TestServer(dataset: "folder:" + data.path)
    }

    func indexes(_ s: TestServer) -> [String: Any] {
        let h = s.get("/healthz").jsonObject
        return ((h["neighbour_indexes"] as? [String: Any])?["tiny"] as? [String: Any]) ?? [:]
    }

    func wait(_ what: String, timeout: TimeInterval = 30, until condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            try #require(Date() < deadline, "timed out waiting for \(what)")
            usleep(2000)
        }
    }

    @Test func samplesAreServedWhileAnIndexBuildsAndLookupsAnswer503WithProgress() throws {
        let s = try server()
        let gate = BuildGate()
        defer { gate.open() }
        let registry = s.context.registry, model = registry.models[0]
        registry.indexBuilder.pacing = .init(isBusy: { gate.isClosed }, maxWait: 600)
        registry.prepareNeighbourIndexes()
        // The builder loads the 12 training images, then waits at the gate before indexing them.
        try wait("the build to start") {
            if case .building(let p) = model.neighbourIndexState(.pixel) { return p.total == 12 }
            return false
        }
        let start = Date()
        let sample = s.get("/v1/sample?class=dog&seed=3")
        #expect(sample.status == 200 && Date().timeIntervalSince(start) < 5, "the compute worker must not wait for the index")
        let r = s.get("/v1/neighbours?class=dog&seed=3&k=4")
        #expect(r.status == 503 && r.errorCode == "index_building", "\(r.errorMessage)")
        #expect(r.errorMessage.contains("pixel index for tiny: 0 of 12 images (0%)"), "\(r.errorMessage)")
        #expect(Int(r.header("Retry-After") ?? "") != nil)

        let h = s.get("/healthz")
        #expect(h.status == 200 && h.jsonObject["status"] as? String == "ok")
        let building = try #require(indexes(s)["pixel"] as? [String: Any])
        #expect(building["state"] as? String == "building" && (building["progress"] as? NSNumber)?.doubleValue == 0)
        #expect(building["detail"] as? String == "0 of 12 images (0%)")
        let feature = try #require(indexes(s)["feature"] as? [String: Any])
        #expect(feature["state"] as? String == "unavailable" && (feature["reason"] as? String)?.contains("no classifier") == true)

        gate.open()
        #expect(registry.indexBuilder.waitUntilIdle(timeout: 60))
        #expect((indexes(s)["pixel"] as? [String: Any])?["state"] as? String == "ready")
        #expect(gate.askedBy == ["nn-index-build"])
        let after = s.get("/v1/neighbours?class=dog&seed=3&k=4&format=json")
        #expect(after.status == 200, "\(after.errorMessage)")
        #expect((after.jsonObject["neighbours"] as? [[String: Any]])?.count == 4)
    }

    /// Without start-up building (`--neighbour-indexes lazy`), the first lookup queues the build
    /// and answers 503 instead of building in the request.
    @Test func aFirstLookupQueuesTheBuildInTheBackground() throws {
        let s = try server()
        // Held at the gate, the 12-image build cannot finish before the lookup answers.
        let gate = BuildGate()
        defer { gate.open() }
        s.context.registry.indexBuilder.pacing = .init(isBusy: { gate.isClosed }, maxWait: 600)
        #expect((indexes(s)["pixel"] as? [String: Any])?["state"] as? String == "not_started")
        let first = s.get("/v1/neighbours?class=cat&seed=1&k=2")
        #expect(first.status == 503 && first.errorCode == "index_building", "\(first.status) \(first.errorMessage)")
        gate.open()
        #expect(s.context.registry.indexBuilder.waitUntilIdle(timeout: 60))
        #expect(s.get("/v1/neighbours?class=cat&seed=1&k=2").status == 200)
    }

    @Test func aFailedBuildIsReportedWithItsReason() throws {
        let s = try TestServer(dataset: "folder:/nonexistent-data")
        try ready(s.context.registry)
        let h = s.get("/healthz")
        #expect(h.status == 200 && h.jsonObject["status"] as? String == "ok")
        let pixel = try #require(indexes(s)["pixel"] as? [String: Any])
        #expect(pixel["state"] as? String == "failed" && (pixel["reason"] as? String)?.contains("not a folder") == true, "\(pixel)")
        let r = s.get("/v1/neighbours?class=0&seed=1")
        #expect(r.status == 404 && r.errorCode == "no_index" && r.errorMessage.contains("not a folder"), "\(r.errorMessage)")
        #expect(s.get("/v1/sample?class=0&seed=1").status == 200)
    }

    @Test func modelsWithoutTrainingDataReportUnavailableIndexes() throws {
        let s = try TestServer()
        let pixel = try #require(indexes(s)["pixel"] as? [String: Any])
        #expect(pixel["state"] as? String == "unavailable" && (pixel["reason"] as? String)?.contains("names no training data set") == true)
        s.context.registry.prepareNeighbourIndexes()
        #expect(s.context.registry.indexBuilder.isIdle)
    }
}
