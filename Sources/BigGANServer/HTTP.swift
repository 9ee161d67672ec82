import BigGANEngine
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
    /// Set by the adapter when the request was refused before routing (URI or headers too
    /// large, a NUL byte): `Router` answers this error without running any route.
    public var refusal: APIError?
    /// The values of a route's `{parameter}` path segments, set by `Router` (`name` for `/v1/models/{name}`).
    public var pathParameters: [String: String] = [:]

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

    /// Whether `If-None-Match` matches `etag` (RFC 9110 §13.1.2: a list of tags or `*`, weak
    /// comparison, so `W/"x"` matches `"x"`). Only GET and HEAD are conditional here.
    public func ifNoneMatch(_ etag: String) -> Bool {
        guard method == "GET" || method == "HEAD", let header = headers["if-none-match"] else { return false }
        return EntityTag.list(header, contains: etag)
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

/// Entity-tag lists as sent in `If-None-Match` (RFC 9110 §8.8.3).
public enum EntityTag {
    /// Whether the comma-separated `list` is `*` or holds a tag weakly equal to `etag`.
    public static func list(_ list: String, contains etag: String) -> Bool {
        let wanted = opaque(etag)
        if list.trimmingCharacters(in: .whitespaces) == "*" { return true }
        return tags(list).contains { opaque($0) == wanted }
    }

    /// The tags of a list, each with its `W/` prefix; a comma inside quotes does not split.
    static func tags(_ list: String) -> [Substring] {
        var out: [Substring] = [], start = list.startIndex, quoted = false
        for i in list.indices {
            if list[i] == "\"" { quoted.toggle() }
            else if list[i] == ",", !quoted { out.append(list[start..<i]); start = list.index(after: i) }
        }
        out.append(list[start...])
        return out.map { $0.trimmingCharacters(in: .whitespaces)[...] }.filter { !$0.isEmpty }
    }

    /// The tag without its weakness indicator (`W/"x"` → `"x"`).
    static func opaque<S: StringProtocol>(_ tag: S) -> Substring {
        let t = Substring(tag)
        return t.hasPrefix("W/") ? t.dropFirst(2) : t
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
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]   // "x/127.5 - 1", not "x\/127.5 - 1"
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
/// The message is cut to `Echo.maxMessageCharacters`, whatever it echoes.
public struct APIError: Error, Equatable, CustomStringConvertible {
    public let status: Int
    public let code: String
    public let message: String
    public var retryAfter: Int?
    /// Extra response headers (such as `WWW-Authenticate`).
    public var headers: [String: String] = [:]
    /// The JSON body, encoded once for errors answered often (a 503 under a storm must be cheap).
    private var encodedBody: [UInt8]?

    public init(_ status: Int, _ code: String, _ message: String, retryAfter: Int? = nil, headers: [String: String] = [:]) {
        self.status = status; self.code = code; self.message = Echo.cut(message, Echo.maxMessageCharacters)
        self.retryAfter = retryAfter; self.headers = headers
    }

    /// This error with its body encoded now, so that answering it costs no encoding.
    public func preEncoded() -> APIError {
        var e = self
        e.encodedBody = Self.encode(code, message)
        return e
    }

    public var description: String { "\(status) \(code): \(message)" }

    public static func badRequest(_ message: String) -> APIError { APIError(400, "invalid_parameter", message) }
    public static func notFound(_ message: String) -> APIError { APIError(404, "not_found", message) }

    struct Envelope: Encodable {
        struct Body: Encodable { let code: String; let message: String }
        let error: Body
    }

    static func encode(_ code: String, _ message: String) -> [UInt8] {
        HTTPResponse.json(Envelope(error: .init(code: code, message: message))).body
    }

    public var response: HTTPResponse {
        var r = HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: encodedBody ?? Self.encode(code, message))
        if let s = retryAfter { r.headers.append(("Retry-After", String(s))) }
        for (k, v) in headers.sorted(by: { $0.key < $1.key }) { r.headers.append((k, v)) }
        r.logError = "\(code): \(message)"
        return r
    }
}
