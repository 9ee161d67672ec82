import Foundation
import GRDB
import Testing
@testable import BigGANServer

/// HTTP semantics and bounds checked in-process (issue 10).
@Suite struct HTTPSemanticsTests {
    @Test func ifNoneMatchTakesListsWeakTagsAndStar() throws {
        let s = try TestServer()
        let target = "/v1/sample?class=dog&seed=7"
        let etag = try #require(s.get(target).header("ETag"))
        for header in [etag, "\"x\", \(etag)", "W/\(etag)", "\"a,b\" , W/\(etag)", "*"] {
            let r = s.get(target, headers: ["if-none-match": header])
            #expect(r.status == 304 && r.body.isEmpty, "\(header)")
        }
        for header in ["\"x\"", "\"x\", \"y\"", "\"\(etag), x\"", ""] {
            #expect(s.get(target, headers: ["if-none-match": header]).status == 200, "\(header)")
        }
        // A POST is never answered 304.
        #expect(!HTTPRequest(method: "POST", target, headers: ["if-none-match": "*"]).ifNoneMatch(etag))
    }

    @Test func entityTagListsSplitOutsideQuotesOnly() {
        #expect(EntityTag.tags("\"a,b\", W/\"c\" ,\"d\"") == ["\"a,b\"", "W/\"c\"", "\"d\""])
        #expect(EntityTag.list("W/\"c\"", contains: "W/\"c\""))
        #expect(!EntityTag.list("\"c\"x", contains: "\"c\""))
    }

    @Test func bearerSchemeIsCaseInsensitiveAnd401Challenges() throws {
        let s = try TestServer()
        for auth in ["Bearer test-token-123", "bearer test-token-123", "BEARER   test-token-123"] {
            #expect(s.get("/v1/requests", headers: ["authorization": auth]).status == 200, "\(auth)")
        }
        for auth in ["Bearer wrong-token-000", "test-token-123", "Basic dGVzdA==", "Bearertest-token-123"] {
            let r = s.get("/v1/requests", headers: ["authorization": auth])
            #expect(r.status == 401 && r.header("WWW-Authenticate")?.hasPrefix("Bearer") == true, "\(auth)")
        }
        #expect(s.get("/v1/requests").header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
    }

    @Test func echoedValuesAreCutInResponsesAndTheLog() throws {
        let s = try TestServer()
        let huge = String(repeating: "x", count: 1 << 20)
        for target in ["/v1/sample?class=\(huge)", "/v1/sample?class=0&n=\(huge)", "/v1/sample?class=0&seed=\(huge)", "/v1/models/\(huge)", "/v1/\(huge)",
                       "/v1/interpolate?class=0&method=\(huge)", "/\(huge)"] {
            let r = s.get(target)
            #expect((400...404).contains(r.status), "\(r.status)")
            #expect(r.body.count < 1200, "\(r.body.count) bytes for \(target.prefix(30))")
            #expect(r.errorMessage.contains("bytes)"), "\(r.errorMessage.prefix(200))")
        }
        s.context.log!.flush()
        let rows = try s.context.log!.recent(limit: 20)
        #expect(rows.count == 7)
        for row in rows {
            #expect(row.path.utf8.count <= RequestLog.maxFieldBytes && row.query.utf8.count <= RequestLog.maxFieldBytes)
            #expect((row.error?.utf8.count ?? 0) <= RequestLog.maxFieldBytes)
        }
    }

    @Test func modelRouteNeedsOneNonEmptyName() throws {
        let s = try TestServer()
        for target in ["/v1/models/", "/v1/models/%00", "/v1/models/tiny/", "/v1/models/tiny/x"] {
            let r = s.get(target)
            #expect(r.status == 404 && r.errorCode == "unknown_model", "\(target): \(r.status)")
        }
        #expect(s.get("/v1/models/tiny").status == 200)
    }

    @Test func nulBytesAreRefusedWhateverTheAdapter() throws {
        let s = try TestServer()
        // In a query value: a bad parameter. In a path: names nothing.
        let requests = [(HTTPRequest(path: "/v1/sample", query: [("class", "bird\0x"), ("seed", "1")]), 400),
                        (HTTPRequest(path: "/v1/models/\0"), 404), (HTTPRequest(path: "/index.html\0.png"), 404)]
        for (r, status) in requests {
            let resp = s.router.handle(r)
            #expect(resp.status == status && resp.errorMessage.contains("NUL"), "\(r.path): \(resp.status)")
        }
    }
}

/// The request log keeps one row per answered request, and says so when it cannot.
@Suite(.serialized) struct RequestLogBoundTests {
    func count(_ path: String) throws -> Int {
        try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM requests") ?? -1 }
    }

    @Test func everyAnsweredRequestIsLoggedUnderLoad() throws {
        let s = try TestServer()
        let threads = 4, perThread = 6_000
        let group = DispatchGroup()
        let router = s.router
        for _ in 0..<threads {
            group.enter()
            Thread { for _ in 0..<perThread { _ = router.handle(HTTPRequest("/healthz")) }; group.leave() }.start()
        }
        group.wait()
        let log = s.context.log!
        log.flush()
        #expect(log.stats.dropped == 0)
        #expect(try count(log.path) == threads * perThread)
        #expect(log.stats.largestTransaction <= RequestLog.maxRowsPerTransaction)
    }

    @Test func unwritableLogDropsBeyondItsBoundAndSaysSo() throws {
        let s = try TestServer(dbPath: "/nonexistent-folder/requests.sqlite", logCapacity: 100)
        for i in 0..<150 { #expect(s.get("/v1/models/nope\(i)").status == 404) }
        let h = s.get("/healthz")   // the 151st row: dropped too
        #expect(h.jsonObject["status"] as? String == "degraded")
        let log = try #require(h.jsonObject["request_log"] as? [String: Any])
        #expect(log["ok"] as? Bool == false && log["pending"] as? Int == 100 && log["dropped"] as? Int == 50)
        let m = String(decoding: s.get("/metrics").body, as: UTF8.self)
        #expect(m.contains("biggan_request_log_dropped_total 51\n") && m.contains("biggan_request_log_pending 100\n"), "\(m)")
    }

    @Test func recoveryWritesTheBacklogInBoundedTransactions() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("biggan-log-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = RequestLog(path: dir.appendingPathComponent("requests.sqlite").path, retryInterval: 0)
        let n = 1_234
        for i in 0..<n {
            log.append(RequestRecord(id: nil, time: "", method: "GET", path: "/healthz", query: "i=\(i)", status: 200, durationMs: 1,
                                     bytes: 10, model: nil, client: "127.0.0.1", error: nil))
        }
        log.flush()
        #expect(!log.health.ok && log.stats.pending == n && log.stats.dropped == 0)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        log.flush()
        #expect(log.health.ok && log.stats.pending == 0)
        #expect(try count(log.path) == n)
        #expect(log.stats.largestTransaction == RequestLog.maxRowsPerTransaction)
        // Rows keep their order and get the time they were queued at.
        let rows = try log.recent(limit: 2)
        #expect(rows.first?.query == "i=\(n - 1)" && rows.first?.time.hasSuffix("Z") == true)
    }
}
