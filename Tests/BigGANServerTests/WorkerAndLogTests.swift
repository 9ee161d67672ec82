import Foundation
import GRDB
import Testing
@testable import BigGANEngine
@testable import BigGANServer

@Suite struct WorkerTests {
    /// Runs `target` on a background thread; returns a function that waits for its response.
    func background(_ s: TestServer, _ target: String) -> () -> HTTPResponse {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: HTTPResponse?
        let router = s.router
        Thread { result = router.handle(HTTPRequest(target)); done.signal() }.start()
        return { done.wait(); return result! }
    }

    func waitForQueue(_ s: TestServer, depth: Int) {
        for _ in 0..<2000 where s.context.worker.queueDepth < depth { usleep(1000) }
    }

    @Test func concurrentRequestsShareOneForwardPass() throws {
        let s = try TestServer(maxBatch: 16)
        s.context.worker.setPaused(true)
        let waits = (0..<3).map { background(s, "/v1/sample?class=\($0)&seed=\($0)&n=2") }
        waitForQueue(s, depth: 3)
        s.context.worker.setPaused(false)
        let responses = waits.map { $0() }
        #expect(responses.allSatisfy { $0.status == 200 })
        let m = String(decoding: s.get("/metrics").body, as: UTF8.self)
        #expect(m.contains("biggan_batch_images_count 1"), "\(m)")
        #expect(m.contains("biggan_batch_images_sum 6"))
        // Batched results are the same images as unbatched ones.
        let alone = try TestServer()
        #expect(alone.get("/v1/sample?class=1&seed=1&n=2").body == responses[1].body)
    }

    @Test func batchesRespectMaxBatch() throws {
        let s = try TestServer(maxBatch: 3)
        s.context.worker.setPaused(true)
        let waits = (0..<3).map { background(s, "/v1/sample?class=0&seed=\($0)&n=2") }
        waitForQueue(s, depth: 3)
        s.context.worker.setPaused(false)
        #expect(waits.map { $0().status } == [200, 200, 200])
        #expect(String(decoding: s.get("/metrics").body, as: UTF8.self).contains("biggan_batch_images_count 3"))
    }

    @Test func idleWorkerReturnsSurplusBuffersToTheSystem() throws {
        let pool = BufferPool(capacityBytes: 1 << 20)
        let buffers = (0..<3).map { _ in pool.allocate(byteCount: 1 << 20) }
        for p in buffers { pool.release(p, byteCount: 1 << 20) }
        #expect(pool.idleByteCount == 3 << 20)   // kept while busy
        let worker = ComputeWorker(pool: pool, idleTrimDelay: 0.05)
        defer { worker.shutdown() }
        for _ in 0..<400 where pool.idleByteCount > 1 << 20 { usleep(5000) }
        #expect(pool.idleByteCount == 1 << 20)   // trimmed to the capacity after the quiet spell
    }

    @Test func fullQueueAnswers503WithRetryAfter() throws {
        let s = try TestServer(queueCapacity: 2)
        s.context.worker.setPaused(true)
        let waits = (0..<2).map { background(s, "/v1/sample?class=0&seed=\($0)") }
        waitForQueue(s, depth: 2)
        let r = s.get("/v1/sample?class=0&seed=9")
        #expect(r.status == 503 && r.errorCode == "queue_full" && r.header("Retry-After") == "1")
        #expect(String(decoding: s.get("/metrics").body, as: UTF8.self).contains("biggan_queue_depth 2"))
        s.context.worker.setPaused(false)
        #expect(waits.map { $0().status } == [200, 200])
    }
}

@Suite struct RequestLogTests {
    @Test func unwritableDatabaseIsReportedAndNeverFailsRequests() throws {
        let s = try TestServer(dbPath: "/nonexistent-folder/requests.sqlite")
        let r = s.get("/v1/sample?class=0&seed=1")
        #expect(r.status == 200)
        let h = s.get("/healthz")
        #expect(h.status == 200 && h.jsonObject["status"] as? String == "degraded")
        let log = try #require(h.jsonObject["request_log"] as? [String: Any])
        #expect(log["ok"] as? Bool == false && (log["error"] as? String)?.contains("cannot open") == true)
        let rows = s.get("/v1/requests", headers: ["x-admin-token": "test-token-123"])
        #expect(rows.status == 503 && rows.errorCode == "request_log_unavailable")
    }

    @Test func lockedDatabaseIsReportedThenRecovers() throws {
        let s = try TestServer()
        let path = s.context.log!.path
        _ = s.get("/healthz"); s.context.log!.flush()
        // Another process-like connection takes an exclusive lock.
        let other = try DatabaseQueue(path: path)
        let locked = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), released = DispatchSemaphore(value: 0)
        Thread {
            try? other.inDatabase { db in
                try db.execute(sql: "BEGIN EXCLUSIVE")
                locked.signal()
                release.wait()
                try db.execute(sql: "COMMIT")
            }
            released.signal()
        }.start()
        locked.wait()
        #expect(s.get("/v1/sample?class=0&seed=3").status == 200)   // answered while the log is locked
        s.context.log!.flush()                                         // the write gave up after its busy timeout
        #expect(s.get("/healthz").jsonObject["status"] as? String == "degraded")
        release.signal(); released.wait()
        _ = s.get("/v1/sample?class=0&seed=4"); s.context.log!.flush()
        #expect(s.context.log!.health.ok)
        let rows = try s.context.log!.recent(limit: 50)
        #expect(rows.contains { $0.query == "class=0&seed=4" })
        // The row of the request answered while the database was locked was kept and written later.
        #expect(rows.contains { $0.query == "class=0&seed=3" })
    }

    @Test func databaseIsInWALMode() throws {
        let s = try TestServer()
        _ = s.get("/healthz"); s.context.log!.flush()
        let mode = try DatabaseQueue(path: s.context.log!.path).read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    /// The log's own UTC timestamps (glibc, no ICU) read exactly as Foundation's ISO 8601
    /// formatter with fractional seconds writes them, to the nearest millisecond, across a leap day,
    /// a year end and instants just below a whole second.
    @Test func timestampsMatchFoundationsISO8601Formatter() {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let instants: [TimeInterval] = [0, 951_782_400.5, 1_798_761_599.999, 1_798_761_599.9996, 1_796_052_069.123_456,
                                        1_709_164_800.0004, 4_102_444_799.25, Date().timeIntervalSince1970]
        for t in instants {
            let d = Date(timeIntervalSince1970: t)
            let ours = RequestLog.timestamp(d)
            #expect(ours.count == 24 && ours.hasSuffix("Z"), "\(t): \(ours)")
            let back = f.date(from: ours)!.timeIntervalSince1970
            #expect(abs(back - t) <= 0.0005 + 1e-6, "\(t): \(ours)")
            let whole = Date(timeIntervalSince1970: ((t * 1000).rounded() / 1000).rounded(.down))
            #expect(String(ours.prefix(19)) == String(f.string(from: whole).prefix(19)), "\(t): \(ours)")
        }
    }
}

@Suite struct ModelLoadingTests {
    @Test func badCheckpointsAreReportedAndSkipped() throws {
        let s = try TestServer()
        let dir = (s.modelPath as NSString).deletingLastPathComponent
        try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: dir + "/broken.safetensors"))
        try Data("ignored".utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))
        let registry = ModelRegistry.load(paths: ModelRegistry.checkpoints(in: dir))
        #expect(registry.models.map(\.name) == ["tiny"])
        #expect(registry.failures.count == 1)
        #expect(registry.failures.first?.reason.hasPrefix("broken.safetensors: header length") == true, "\(registry.failures)")
        let ctx = ServerContext(registry: registry, worker: s.context.worker, log: nil, metrics: Metrics(), publicDirectory: nil, adminToken: nil)
        let h = Router(context: ctx).handle(HTTPRequest("/healthz"))
        #expect((h.jsonObject["failed_models"] as? [[String: Any]])?.count == 1)
    }

    @Test func serverRefusesToStartWithoutAnyModel() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("biggan-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("garbage".utf8).write(to: dir.appendingPathComponent("bad.safetensors"))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ServerProcessTests.binary)
        p.arguments = ["--models-dir", dir.path, "--port", "0", "--db", dir.appendingPathComponent("r.sqlite").path]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus != 0)
        #expect(text.contains("bad.safetensors: truncated") && text.contains("none of the 1 checkpoints could be loaded"), "\(text)")
    }
}

extension ModelLoadingTests {
    @Test func classifiersInTheModelsFolderAreNotModels() throws {
        let s = try TestServer()
        let dir = (s.modelPath as NSString).deletingLastPathComponent
        let cfg = ClassifierConfig(resolution: 32, inChannels: 3, channels: [4], featureDim: 4, classNames: ["a", "b"])
        var t: [String: Tensor] = [:]
        for (name, shape) in cfg.tensorShapes { t[name] = Tensor(shape: shape) }
        try Classifier(config: cfg, tensors: t).save(to: dir + "/a-classifier.safetensors")
        #expect(ModelRegistry.checkpoints(in: dir).map { ($0 as NSString).lastPathComponent } == ["tiny.safetensors"])
    }
}
