import Foundation
import GRDB
import Testing
@testable import BigGANMHD
@testable import BigGANServer

/// A raw TCP client for what URLSession hides: exact response bytes, trickled requests,
/// connections refused by the server.
final class RawClient {
    let fd: Int32

    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Sends `text`; false when the connection is gone.
    @discardableResult func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// Reads until the peer closes (or `timeout`): the raw bytes, and whether it closed.
    func readAll(timeout: TimeInterval = 10) -> (text: String, closed: Bool) {
        var out = [UInt8](), buf = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 100) <= 0 { continue }
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { return (String(decoding: out, as: UTF8.self), true) }
            out += buf[0..<n]
        }
        return (String(decoding: out, as: UTF8.self), false)
    }

    /// Whether the server has closed the connection (without waiting).
    func peerClosed() -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 0) > 0 else { return false }
        var b = [UInt8](repeating: 0, count: 4096)
        return recv(fd, &b, b.count, Int32(MSG_DONTWAIT)) <= 0
    }

    /// One request on a fresh connection, `Connection: close`: the raw response.
    static func exchange(_ port: UInt16, _ request: String) throws -> String {
        let c = try RawClient(port: port)
        c.send(request)
        return c.readAll().text
    }
}

extension String {
    var statusCode: Int? { split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } }
    var headerBlock: String { components(separatedBy: "\r\n\r\n").first ?? "" }
    var bodyText: String { components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n") }
}

@Suite(.serialized) struct SocketTests {
    func start(_ s: TestServer, _ configure: (inout MHDServer.Configuration) -> Void = { _ in }) throws -> MHDServer {
        var config = MHDServer.Configuration(maxBodyBytes: 1 << 20)
        configure(&config)
        let router = s.router
        let server = MHDServer(config, handler: { router.handle($0) }, refused: { router.record($0, status: $1, error: $2) })
        try server.start(host: "127.0.0.1", port: 0)
        return server
    }

    @Test func notModifiedCarriesNoContentLength() throws {
        let s = try TestServer()
        let server = try start(s)
        defer { server.stop() }
        let etag = try #require(s.get("/v1/sample?class=1&seed=2").header("ETag"))
        let r = try RawClient.exchange(server.port, "GET /v1/sample?class=1&seed=2 HTTP/1.1\r\nHost: x\r\nIf-None-Match: W/\(etag)\r\n\r\n")
        #expect(r.statusCode == 304, "\(r)")
        #expect(!r.headerBlock.lowercased().contains("content-length") && !r.headerBlock.lowercased().contains("transfer-encoding"), "\(r)")
        #expect(r.headerBlock.contains("ETag: \(etag)") && r.bodyText.isEmpty)
        // A 200 still has its length.
        let ok = try RawClient.exchange(server.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(ok.statusCode == 200 && ok.headerBlock.contains("Content-Length: "))
    }

    @Test func oversizeAndNulRequestsGetJSONErrorsAndAreLogged() throws {
        let s = try TestServer()
        let server = try start(s) { $0.memoryLimitBytes = 64 << 10 }
        defer { server.stop() }
        let params = (0..<300).map { "p\($0)=\($0)" }.joined(separator: "&")
        let cases: [(String, Int, String)] = [
            ("GET /v1/sample?\(params) HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
            ("GET /v1/sample?class=\(String(repeating: "a", count: 10_000)) HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
            ("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 20_000))\r\n\r\n", 431, "headers_too_large"),
            ("GET /v1/sample?class=Bag%00&seed=1 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "invalid_parameter"),
            ("GET /v1/models/%00 HTTP/1.1\r\nHost: x\r\n\r\n", 404, "not_found"),
        ]
        for (request, status, code) in cases {
            let r = try RawClient.exchange(server.port, request)
            #expect(r.statusCode == status, "\(r.prefix(300))")
            #expect(r.headerBlock.contains("Content-Type: application/json") && r.bodyText.contains("\"code\":\"\(code)\""), "\(r.prefix(300))")
        }
        // Larger than libmicrohttpd's memory pool: it answers by itself (and may reset the
        // connection before the client reads that answer); the answer is still logged.
        let huge = try RawClient.exchange(server.port, "GET /x?\(String(repeating: "c", count: 100_000)) HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(huge.statusCode == 414 || huge.isEmpty, "\(huge.prefix(200))")
        let hugeHeader = try RawClient.exchange(server.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Huge: \(String(repeating: "h", count: 100_000))\r\n\r\n")
        #expect(hugeHeader.statusCode == 431 || hugeHeader.isEmpty, "\(hugeHeader.prefix(200))")
        // MHD reports the closed connection from its own thread, a moment after the client saw it.
        var rows: [RequestRecord] = []
        for _ in 0..<100 where rows.count < 7 { usleep(20_000); s.context.log!.flush(); rows = try s.context.log!.recent(limit: 20) }
        #expect(rows.map(\.status).sorted() == [400, 404, 414, 414, 414, 431, 431], "\(rows.map(\.status))")
        #expect(rows.allSatisfy { $0.client == "127.0.0.1" && $0.path.utf8.count <= RequestLog.maxFieldBytes })
        let m = String(decoding: s.get("/metrics").body, as: UTF8.self)
        #expect(m.contains("biggan_requests_total{route=\"refused\",status=\"414\"} 3"), "\(m)")
        #expect(m.contains("biggan_requests_total{route=\"refused\",status=\"431\"} 2"))
        // The header refused by libmicrohttpd itself is logged with its request's path.
        #expect(rows.contains { $0.status == 431 && $0.path == "/healthz" && $0.error?.contains("libmicrohttpd") == true }, "\(rows)")
    }

    @Test func tricklingClientsAreCutAtTheHeaderDeadline() throws {
        let s = try TestServer()
        let server = try start(s) { $0.headerTimeout = 1 }
        defer { server.stop() }
        // One sends its request line, then a header byte every 100 ms; the other trickles its
        // request line. libmicrohttpd's inactivity timeout would never fire for either.
        let slowHeaders = try RawClient(port: server.port), slowLine = try RawClient(port: server.port)
        slowHeaders.send("GET /healthz HTTP/1.1\r\n")
        let texts = [Array("X-Slow: " + String(repeating: "z", count: 100)), Array("GET /healthz?" + String(repeating: "a", count: 100))]
        let start = Date()
        var cut: [TimeInterval?] = [nil, nil]
        for i in 0..<50 where cut.contains(where: { $0 == nil }) {
            for (k, c) in [slowHeaders, slowLine].enumerated() where cut[k] == nil {
                if !c.send(String(texts[k][i])) || c.peerClosed() { cut[k] = Date().timeIntervalSince(start) }
            }
            // Meanwhile a normal client is served at once.
            if i == 3 { #expect(try RawClient.exchange(server.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").statusCode == 200) }
            usleep(100_000)
        }
        #expect(cut.allSatisfy { ($0 ?? 99) > 0.9 && ($0 ?? 99) < 2.5 }, "\(cut)")
        s.context.log!.flush()
        // The request whose line had arrived is logged as a 408.
        #expect(try s.context.log!.recent(limit: 10).contains { $0.status == 408 && $0.error?.hasPrefix("header_timeout") == true })
    }

    @Test func perClientConnectionLimitRefusesExtraConnections() throws {
        let s = try TestServer()
        let server = try start(s) { $0.perIPConnectionLimit = 2 }
        defer { server.stop() }
        do {
            let a = try RawClient(port: server.port), b = try RawClient(port: server.port)
            a.send("GET /healthz HTTP/1.1\r\nHost: x\r\n"); b.send("GET /healthz HTTP/1.1\r\nHost: x\r\n")
            usleep(100_000)
            let extra = try RawClient(port: server.port)   // the kernel accepts; the server closes it at once
            extra.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let refused = extra.readAll(timeout: 3)
            #expect(refused.closed && refused.text.isEmpty, "\(refused)")
            // The two admitted connections are served.
            a.send("Connection: close\r\n\r\n"); b.send("Connection: close\r\n\r\n")
            #expect(a.readAll().text.statusCode == 200 && b.readAll().text.statusCode == 200)
        }
        // Once they have closed, a new connection is admitted.
        usleep(200_000)
        #expect(try RawClient.exchange(server.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").statusCode == 200)
    }
}

/// The real executable finds its gallery and models without help from the current directory.
@Suite(.serialized) struct LocationTests {
    /// Starts `biggan-server` in `cwd` with `arguments`; returns the process, its base URL and stderr.
    func launch(cwd: URL, _ arguments: [String]) throws -> (Process, String, Pipe) {
        let p = Process(), out = Pipe(), err = Pipe()
        p.executableURL = URL(fileURLWithPath: ServerProcessTests.binary)
        p.currentDirectoryURL = cwd
        p.arguments = ["--port", "0", "--db", cwd.appendingPathComponent("r.sqlite").path, "--blas-threads", "1"] + arguments
        p.standardOutput = out; p.standardError = err
        try p.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let d = out.fileHandleForReading.availableData
            if d.isEmpty { break }
            line.append(d)
        }
        let text = String(decoding: line, as: UTF8.self)
        let port = text.range(of: #":(\d+)/"#, options: .regularExpression).map { String(text[$0].dropFirst().dropLast()) } ?? "0"
        return (p, "http://127.0.0.1:\(port)", err)
    }

    /// The repository's `public/index.html` (the tests run from `<repo>/.build/release`).
    var repoIndex: String? {
        var dir = URL(fileURLWithPath: ServerProcessTests.binary).deletingLastPathComponent()
        for _ in 0..<5 {
            if let d = FileManager.default.contents(atPath: dir.appendingPathComponent("public/index.html").path) { return String(decoding: d, as: UTF8.self) }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    @Test func galleryIsFoundNextToTheExecutableFromAnyDirectory() throws {
        let s = try TestServer()
        let cwd = s.dir.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: cwd, withIntermediateDirectories: true)
        let (p, base, _) = try launch(cwd: cwd, ["--model", s.modelPath])
        defer { p.terminate(); p.waitUntilExit() }
        let index = try #require(repoIndex)
        let (status, headers, body) = try fetch(base + "/")
        #expect(status == 200 && headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(String(decoding: body, as: UTF8.self) == index)
        // Every script and style sheet the page names is served, as JavaScript or CSS.
        let names = index.matches(of: /(?:src|href)="([A-Za-z0-9._-]+\.(?:js|css))"/).map { String($0.1) }
        #expect(names.filter { $0.hasSuffix(".js") }.count >= 6 && names.contains("style.css"), "\(names)")
        for name in names {
            let (status, headers, body) = try fetch(base + "/" + name)
            let type = name.hasSuffix(".js") ? "text/javascript" : "text/css"
            #expect(status == 200 && headers["content-type"]?.hasPrefix(type) == true && !body.isEmpty, "\(name): \(status) \(headers)")
        }
    }

    @Test func missingGalleryIsExplainedNotABare404() throws {
        let s = try TestServer()
        let missing = s.dir.appendingPathComponent("no-such-gallery").path
        let (p, base, err) = try launch(cwd: s.dir, ["--model", s.modelPath, "--public-dir", missing])
        let (status, headers, body) = try fetch(base + "/")
        p.terminate(); p.waitUntilExit()
        let page = String(decoding: body, as: UTF8.self)
        #expect(status == 404 && headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.contains("Gallery files not found") && page.contains(missing), "\(page)")
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("gallery files not found") && log.contains(missing), "\(log)")
    }

    @Test func locatorPrefersFlagThenCurrentDirectoryThenTheExecutablesAncestors() throws {
        let s = try TestServer()
        let root = s.dir.appendingPathComponent("install")
        let bin = root.appendingPathComponent(".build/release")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("public"), withIntermediateDirectories: true)
        let exe = bin.appendingPathComponent("biggan-server").path
        let found = ResourceLocator.locate("public", flag: nil, cwd: "/", executable: exe)
        #expect(found.path == root.appendingPathComponent("public").path, "\(found)")
        #expect(ResourceLocator.locate("public", flag: nil, cwd: s.dir.path, executable: exe).path == s.dir.appendingPathComponent("public").path)
        let flagged = ResourceLocator.locate("public", flag: "/nonexistent", cwd: s.dir.path, executable: exe)
        #expect(flagged.path == nil && flagged.searched == ["/nonexistent"])
    }
}
