import Foundation

/// A request as the routes see it: no sockets, no C types. Built by the libmicrohttpd adapter,
/// or directly by tests.
public struct HTTPRequest: Sendable {
    public var method: String
    public var path: String
    /// Decoded query parameters in order.
    public var query: [(String, String)]
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: [UInt8]
    public var client: String
    /// Set by the adapter when the body exceeded the server's limit (the rest was discarded).
    public var bodyTooLarge: Bool

    public init(method: String = "GET", path: String, query: [(String, String)] = [], headers: [String: String] = [:],
                body: [UInt8] = [], client: String = "127.0.0.1", bodyTooLarge: Bool = false) {
        self.method = method; self.path = path; self.query = query; self.headers = headers
        self.body = body; self.client = client; self.bodyTooLarge = bodyTooLarge
    }

    /// Parses `"/v1/sample?class=3&seed=7"` (for tests and tools).
    public init(method: String = "GET", _ target: String, headers: [String: String] = [:], body: [UInt8] = []) {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var q: [(String, String)] = []
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                func dec(_ s: Substring) -> String { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
                q.append((dec(kv[0]), kv.count > 1 ? dec(kv[1]) : ""))
            }
        }
        self.init(method: method, path: String(parts[0]), query: q, headers: headers, body: body)
    }

    /// The last value of query parameter `name`.
    public func param(_ name: String) -> String? { query.last { $0.0 == name }?.1 }

    /// The query re-encoded, for the request log.
    public var queryString: String {
        query.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
    }

    static func encode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~,:")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// For the request log and metrics only; never sent.
    public var logModel: String?
    public var logError: String?

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status; self.headers = headers; self.body = body
    }

    public func header(_ name: String) -> String? { headers.last { $0.0.lowercased() == name.lowercased() }?.1 }

    public static func json<T: Encodable>(_ value: T, status: Int = 200) -> HTTPResponse {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let body = (try? enc.encode(value)) ?? Data("{}".utf8)
        return HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(body))
    }

    public static func png(_ bytes: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: 200, headers: [("Content-Type", "image/png")], body: bytes)
    }

    public static func text(_ s: String, contentType: String = "text/plain; charset=utf-8", status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", contentType)], body: Array(s.utf8))
    }
}

/// An error a route reports to the client as `{"error": {"code", "message"}}` with `status`.
public struct APIError: Error, Equatable, CustomStringConvertible {
    public let status: Int
    public let code: String
    public let message: String
    public var retryAfter: Int?

    public init(_ status: Int, _ code: String, _ message: String, retryAfter: Int? = nil) {
        self.status = status; self.code = code; self.message = message; self.retryAfter = retryAfter
    }

    public var description: String { "\(status) \(code): \(message)" }

    public static func badRequest(_ message: String) -> APIError { APIError(400, "invalid_parameter", message) }
    public static func notFound(_ message: String) -> APIError { APIError(404, "not_found", message) }

    struct Envelope: Encodable {
        struct Body: Encodable { let code: String; let message: String }
        let error: Body
    }

    public var response: HTTPResponse {
        var r = HTTPResponse.json(Envelope(error: .init(code: code, message: message)), status: status)
        if let s = retryAfter { r.headers.append(("Retry-After", String(s))) }
        r.logError = "\(code): \(message)"
        return r
    }
}
