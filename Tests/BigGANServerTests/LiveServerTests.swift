import BigGANTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRDB
import Testing
@testable import BigGANMHD
@testable import BigGANServer
import BigGANEngine

/// A blocking HTTP call over a real socket: (status, headers, body).
func fetch(_ url: String, method: String = "GET", body: Data? = nil, headers: [String: String] = [:]) throws -> (Int, [String: String], Data) {
    var req = URLRequest(url: URL(string: url)!)
    req.httpMethod = method
    req.httpBody = body
    req.timeoutInterval = 60
    for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: (Int, [String: String], Data)?
    nonisolated(unsafe) var failure: Error?
    URLSession.shared.dataTask(with: req) { data, resp, err in
        if let http = resp as? HTTPURLResponse {
            var h: [String: String] = [:]
            for (k, v) in http.allHeaderFields { h[String(describing: k).lowercased()] = String(describing: v) }
            result = (http.statusCode, h, data ?? Data())
        } else { failure = err }
        done.signal()
    }.resume()
    done.wait()
    if let failure { throw failure }
    return result!
}

@Suite(.serialized) struct LiveServerTests {
    @Test func servesOverLoopback() throws {
        let s = try TestServer()
        let router = s.router
        let server = MHDServer(maxBodyBytes: 1 << 20) { router.handle($0) }
        try server.start(host: "127.0.0.1", port: 0)
        defer { server.stop() }
        #expect(server.port > 0)
        let base = "http://127.0.0.1:\(server.port)"
        let (status, headers, body) = try fetch(base + "/v1/sample?class=bird&seed=4&n=4")
        #expect(status == 200 && headers["content-type"] == "image/png")
        #expect(Array(body) == s.get("/v1/sample?class=2&seed=4&n=4").body)
        let (ps, _, pb) = try fetch(base + "/v1/samples", method: "POST", body: Data(#"{"class":"cat","seeds":[1]}"#.utf8),
                                    headers: ["Content-Type": "application/json"])
        #expect(ps == 200 && String(decoding: pb, as: UTF8.self).contains("png_base64"))
        let big = Data(("{\"z\":[" + String(repeating: "0.0,", count: 400_000) + "0]}").utf8)
        let (bs, _, bb) = try fetch(base + "/v1/samples", method: "POST", body: big)
        #expect(bs == 413 && String(decoding: bb, as: UTF8.self).contains("body_too_large"))
        let (es, _, eb) = try fetch(base + "/v1/sample?class=0&truncation=nan")
        #expect(es == 400 && String(decoding: eb, as: UTF8.self).contains("'truncation' must be a positive number or 'none'"))
        let (ts, _, _) = try fetch(base + "/../secret.txt")
        #expect(ts == 404)
        s.context.log!.flush()
        let rows = try s.context.log!.recent(limit: 10)
        #expect(rows.first?.client == "127.0.0.1" && rows.contains { $0.status == 413 })
    }
}

/// The real `biggan-server` executable, started as a separate process.
@Suite(.serialized) struct ServerProcessTests {
    static var binary: String { Executables.path("biggan-server") }

    final class Running {
        let process = Process()
        let port: Int
        let stdout = Pipe()
        init(modelsDir: String, db: String, extra: [String] = [], environment: [String: String]? = nil) throws {
            process.executableURL = URL(fileURLWithPath: ServerProcessTests.binary)
            if let environment { process.environment = environment }
            process.arguments = ["--models-dir", modelsDir, "--port", "0", "--db", db, "--admin-token", "test-token-123", "--blas-threads", "1"] + extra
            process.standardOutput = stdout
            process.standardError = FileHandle.nullDevice
            try process.run()
            // First stdout line: "listening on http://127.0.0.1:PORT/".
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let d = stdout.fileHandleForReading.availableData
                if d.isEmpty { break }
                line.append(d)
            }
            let text = String(decoding: line, as: UTF8.self)
            guard let r = text.range(of: #":(\d+)/"#, options: .regularExpression) else { throw CLIFailure("no port in \(text)") }
            port = Int(text[r].dropFirst().dropLast())!
        }
        var base: String { "http://127.0.0.1:\(port)" }
    }

    struct CLIFailure: Error { let m: String; init(_ m: String) { self.m = m } }

    @Test(arguments: [(["--buffer-pool-mb", "70000"], "--buffer-pool-mb must be between 0 and 65536"),
                      (["--cache-mb", "5000"], "--cache-mb must be between 0 and 4096")])
    func badFlagsAreRefusedWithAMessage(flags: [String], message: String) throws {
        let r = try Executables.run("biggan-server", ["--port", "0", "--db", "/dev/null"] + flags)
        #expect(r.status != 0)
        #expect(r.output.contains(message), "\(r.output)")
    }

    /// The executables restart once with a short OpenMP spin (`OpenMPSettings`), unless the user
    /// chose how OpenMP threads wait.
    @Test func serverRunsWithAShortOpenMPSpinUnlessTheUserChose() throws {
        let s = try TestServer()
        var env = ProcessInfo.processInfo.environment
        env["GOMP_SPINCOUNT"] = nil; env["OMP_WAIT_POLICY"] = nil
        for (extra, expected) in [([:], "GOMP_SPINCOUNT=\(OpenMPSettings.spinCount)"), (["OMP_WAIT_POLICY": "ACTIVE"], nil)] as [([String: String], String?)] {
            let server = try Running(modelsDir: (s.modelPath as NSString).deletingLastPathComponent,
                                     db: s.dir.appendingPathComponent("omp.sqlite").path, environment: env.merging(extra) { $1 })
            defer { server.process.terminate(); server.process.waitUntilExit() }
            let environ = try String(decoding: Data(contentsOf: URL(fileURLWithPath: "/proc/\(server.process.processIdentifier)/environ")), as: UTF8.self)
                .split(separator: "\0").map(String.init)
            #expect(environ.filter { $0.hasPrefix("GOMP_SPINCOUNT=") } == (expected.map { [$0] } ?? []))
            #expect(try fetch(server.base + "/v1/sample?class=0&seed=1").0 == 200)
        }
    }

    @Test func committedRowsSurviveKill9() throws {
        #expect(FileManager.default.fileExists(atPath: Self.binary), "build the biggan-server product first")
        let s = try TestServer()
        let db = s.dir.appendingPathComponent("kill.sqlite").path
        let server = try Running(modelsDir: (s.modelPath as NSString).deletingLastPathComponent, db: db)
        for i in 0..<5 { #expect(try fetch(server.base + "/v1/sample?class=0&seed=\(i)").0 == 200) }
        // Wait until the server reports the five rows as committed.
        var committed = 0
        for _ in 0..<200 where committed < 5 {
            let (_, _, body) = try fetch(server.base + "/v1/requests?limit=100", headers: ["X-Admin-Token": "test-token-123"])
            committed = (try JSONSerialization.jsonObject(with: body) as? [String: Any]).flatMap { $0["requests"] as? [[String: Any]] }?
                .filter { ($0["path"] as? String) == "/v1/sample" }.count ?? 0
            usleep(10_000)
        }
        #expect(committed == 5)
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        #expect(server.process.terminationReason == .uncaughtSignal)
        let rows = try DatabaseQueue(path: db).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM requests WHERE path = '/v1/sample' AND status = 200") }
        #expect(rows == 5)
    }

    /// SIGTERM while the feature index is still being built at start-up (a fresh Models folder
    /// with no cache, as on a new clone) stops the builder and exits cleanly (it crashed with
    /// SIGSEGV: the process exited under the builder thread).
    @Test func sigtermDuringAnIndexBuildExitsCleanly() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("biggan-nnstop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for f in ["fashion-mnist-32.safetensors", "fashion-mnist-classifier.safetensors"] {
            try FileManager.default.copyItem(atPath: TestPaths.repositoryRoot.appendingPathComponent("Models/\(f)").path,
                                             toPath: dir.appendingPathComponent(f).path)
        }
        let server = try Running(modelsDir: dir.path, db: dir.appendingPathComponent("r.sqlite").path)
        // Wait until the feature index (the classifier over 60,000 images) is being built.
        var building = false
        for _ in 0..<600 where !building {
            let (_, _, body) = try fetch(server.base + "/healthz")
            let h = try JSONSerialization.jsonObject(with: body) as? [String: Any]
            let indexes = (h?["neighbour_indexes"] as? [String: Any])?["fashion-mnist-32"] as? [String: Any]
            building = (indexes?["feature"] as? [String: Any])?["state"] as? String == "building"
            if !building { usleep(20_000) }
        }
        #expect(building, "the index build should be under way")
        server.process.terminate()
        server.process.waitUntilExit()
        #expect(server.process.terminationReason == .exit && server.process.terminationStatus == 0,
                "exit \(server.process.terminationReason == .exit ? "status" : "signal") \(server.process.terminationStatus)")
    }

    @Test func sigtermFinishesInFlightRequests() throws {
        let s = try TestServer()
        let db = s.dir.appendingPathComponent("term.sqlite").path
        let server = try Running(modelsDir: (s.modelPath as NSString).deletingLastPathComponent, db: db)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var status = 0
        let url = server.base + "/v1/sample?class=1&seed=1&n=64"
        Thread { do { status = try fetch(url).0 } catch { print("fetch failed: \(error)"); status = -1 }; done.signal() }.start()
        // Wait until the sample request is being handled (this /metrics request is the other one).
        var inFlight = 0
        for _ in 0..<500 where inFlight < 2 {
            let m = String(decoding: try fetch(server.base + "/metrics").2, as: UTF8.self)
            inFlight = m.split(separator: "\n").first { $0.hasPrefix("biggan_requests_in_flight ") }.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
            if inFlight < 2 { usleep(2000) }
        }
        #expect(inFlight >= 2)
        kill(server.process.processIdentifier, SIGTERM)
        done.wait()
        server.process.waitUntilExit()
        #expect(status == 200)
        #expect(server.process.terminationStatus == 0 && server.process.terminationReason == .exit)
        let rows = try DatabaseQueue(path: db).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM requests WHERE query LIKE '%n=64%'") }
        #expect(rows == 1)
    }

    /// The pixel index of a model's neighbour index (its `neighbour_indexes` entry in `/healthz`).
    static func pixelIndexState(_ base: String) throws -> String? {
        let body = try fetch(base + "/healthz").2
        let h = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        let tiny = (h?["neighbour_indexes"] as? [String: Any])?["tiny"] as? [String: Any]
        return (tiny?["pixel"] as? [String: Any])?["state"] as? String
    }

    /// Start-up queues every neighbour index on the background builder (no lookup needed);
    /// `--neighbour-indexes lazy` leaves them until the first lookup.
    @Test(arguments: [false, true])
    func neighbourIndexesAreBuiltAtStartUp(lazy: Bool) throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("biggan-live-nn-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        try tinyDataset(at: data)
        let s = try TestServer(dataset: "folder:" + data.path)
        let server = try Running(modelsDir: (s.modelPath as NSString).deletingLastPathComponent, db: s.dir.appendingPathComponent("nn.sqlite").path,
                                 extra: lazy ? ["--neighbour-indexes", "lazy"] : [])
        defer { server.process.terminate(); server.process.waitUntilExit() }
        var state = try Self.pixelIndexState(server.base)
        for _ in 0..<1000 where !lazy && state != "ready" { usleep(10_000); state = try Self.pixelIndexState(server.base) }
        #expect(state == (lazy ? "not_started" : "ready"))
        let first = try fetch(server.base + "/v1/neighbours?class=0&seed=1&k=2").0
        #expect(first == (lazy ? 503 : 200))
    }
}
