import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANServer

/// The route table drives dispatch, `/openapi.json` and the README's route table: every route
/// answers, and the document and the README list exactly the table's routes.
@Suite struct RouteTableTests {
    /// A valid request for `route` on `TestServer`: path parameters and required query
    /// parameters from the table's examples, the admin token where the route needs it.
    static func request(_ route: Route, method: String? = nil) -> HTTPRequest {
        let values = ["name": "tiny", "file": "style.css"]
        var path = route.path
        for p in route.parameters where p.location == .path { path = path.replacingOccurrences(of: "{\(p.name)}", with: values[p.name]!) }
        var query = route.parameters.filter { $0.location == .query && $0.example != nil }.map { ($0.name, $0.example!) }
        var headers: [String: String] = [:]
        if route.needsAdminToken { headers["authorization"] = "Bearer test-token-123" }
        var body: [UInt8] = []
        if route.requestContentType == "image/png" {
            // Image routes (BigBiGAN): a PNG for the conditional BigBiGAN fixture.
            headers["content-type"] = "image/png"; body = EncodeRouteTests.grey32
            query.append(("model", "bigbigan"))
        } else if route.requestBody != nil {
            headers["content-type"] = "application/json"; body = Array(#"{"class": 0, "seeds": [1]}"#.utf8)
        }
        return HTTPRequest(method: method ?? route.method, path: path, query: query, headers: headers, body: body)
    }

    @Test func everyRouteAnswersAValidRequest() throws {
        let data = temporaryDirectory("biggan-routes")
        defer { try? FileManager.default.removeItem(at: data) }
        try tinyDataset(at: data)
        let s = try TestServer(dataset: "folder:" + data.path, styleGAN: true, bigBiGAN: true)
        try ready(s.context.registry)
        for route in RouteTable.routes {
            let r = s.router.handle(Self.request(route))
            #expect(r.status == 200, "\(route.signature): \(r.status) \(r.errorMessage)")
            if route.method == "GET" {
                #expect(s.router.handle(Self.request(route, method: "HEAD")).status == 200, "HEAD \(route.path)")
            }
            let wrong = s.router.handle(Self.request(route, method: route.method == "GET" ? "POST" : "GET"))
            #expect(wrong.status == 405 && wrong.errorMessage.hasSuffix("use \(route.method)"), "\(route.signature): \(wrong.status)")
            #expect(wrong.header("Allow") == (route.method == "GET" ? "GET, HEAD" : route.method), "\(route.signature): Allow")
        }
        // The alias answers as its route, under the route's metrics name.
        #expect(s.get("/v1/neighbors?class=0&seed=1").status == 200)
        let metrics = String(decoding: s.get("/metrics").body, as: UTF8.self)
        #expect(metrics.contains(#"route="/v1/neighbours",status="200"} 3"#) && !metrics.contains("/v1/neighbors"), "\(metrics)")
    }

    @Test func openAPIListsExactlyTheTablesRoutes() throws {
        let s = try TestServer()
        let r = s.get("/openapi.json")
        #expect(r.status == 200 && r.header("Content-Type") == "application/json")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
        #expect(doc["openapi"] as? String == "3.0.3")
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        let documented = Set(paths.flatMap { path, ops in ops.keys.map { "\($0.uppercased()) \(path)" } })
        #expect(documented == Set(RouteTable.routes.map(\.signature)))
        #expect(RouteTable.routes.count == documented.count, "a route is listed twice")
        for route in RouteTable.routes {
            let op = try #require(paths[route.path]?[route.method.lowercased()] as? [String: Any])
            let responses = try #require(op["responses"] as? [String: Any])
            var expected = Set(["400", "405", "414", "431", "500"] + route.responses.map { String($0.status) })
            if route.method == "POST" { expected.insert("413") }
            #expect(Set(responses.keys) == expected, "\(route.signature)")
            let names = (op["parameters"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(names == route.parameters.map(\.name), "\(route.signature)")
            // Every `$ref` names a schema the document defines.
            let text = String(decoding: try JSONSerialization.data(withJSONObject: op), as: UTF8.self)
            let schemas = (doc["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
            for m in text.matches(of: /#\\?\/components\\?\/schemas\\?\/(\w+)/) {
                #expect(schemas[String(m.1)] != nil, "\(route.signature): \(m.1)")
            }
        }
    }

    @Test func unknownPathsKeepTheirAnswers() throws {
        let s = try TestServer()
        #expect(s.get("/v1/nothing").errorCode == "not_found")
        #expect(s.router.handle(HTTPRequest(method: "POST", "/v1/models/")).errorCode == "unknown_model")
        #expect(s.get("/style.css").status == 200 && s.get("/nope.css").status == 404)
        #expect(s.router.handle(HTTPRequest(method: "POST", "/style.css")).status == 405)
    }

    /// The README's table under "## The server" is exactly `biggan-server --print-route-table`.
    @Test func readmeTableIsTheRouteTable() throws {
        let readme = try String(contentsOf: TestPaths.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "\n## The server\n").dropFirst().first)
        let lines = section.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "| route | what |"))
        let table = lines[start...].prefix { $0.hasPrefix("|") }.joined(separator: "\n") + "\n"
        #expect(table == RouteTableMarkdown.render(), "regenerate with: biggan-server --print-route-table")
        let printed = try Executables.run("biggan-server", ["--print-route-table"])
        #expect(printed.status == 0 && printed.output == RouteTableMarkdown.render())
    }
}
