import Foundation

/// One route as data: what `Router` dispatches on, what `/openapi.json` and the README's route
/// table are generated from, and what the tests iterate. See `RouteTable`.
public struct Route: Sendable {
    public typealias Handler = @Sendable (HTTPRequest, ServerContext) throws -> HTTPResponse

    /// `GET` (HEAD is answered as GET) or `POST`.
    public let method: String
    /// A literal path, or one ending in a single `{parameter}` segment (`/v1/models/{name}`).
    public let path: String
    /// Other literal paths answered by this route (`/v1/neighbors`); not documented separately.
    public let aliases: [String]
    /// The `route` label of the request metrics.
    public let metricsName: String
    /// One line for OpenAPI.
    public let summary: String
    /// The README table's "what" column (Markdown).
    public let description: String
    public let parameters: [RouteParameter]
    /// JSON schema of a required body (POST routes), of `requestContentType`.
    public let requestBody: JSONValue?
    /// The body's media type: `application/json`, or `image/png` for image bodies.
    public let requestContentType: String
    /// Responses the route itself gives; the refusals common to every route are added by `OpenAPIDocument`.
    public let responses: [RouteResponse]
    /// Whether the route needs the admin token (bearer).
    public let needsAdminToken: Bool
    /// Whether this route answers every path not matched by another route and not under `/v1/`.
    public let isFallback: Bool
    /// The 404 for a path that starts like this route but whose `{parameter}` segment is empty
    /// or holds a `/`.
    public let badPathParameter: (@Sendable (String) -> APIError)?
    public let handler: Handler

    public init(_ method: String, _ path: String, aliases: [String] = [], metricsName: String? = nil, summary: String,
                description: String, parameters: [RouteParameter] = [], requestBody: JSONValue? = nil,
                requestContentType: String = "application/json", responses: [RouteResponse], needsAdminToken: Bool = false, isFallback: Bool = false,
                badPathParameter: (@Sendable (String) -> APIError)? = nil, handler: @escaping Handler) {
        self.method = method; self.path = path; self.aliases = aliases; self.metricsName = metricsName ?? path
        self.summary = summary; self.description = description; self.parameters = parameters; self.requestBody = requestBody
        self.requestContentType = requestContentType
        self.responses = responses; self.needsAdminToken = needsAdminToken; self.isFallback = isFallback
        self.badPathParameter = badPathParameter; self.handler = handler
    }

    /// The part of `path` before its `{parameter}` segment, or nil for a literal path.
    var templatePrefix: String? {
        guard let brace = path.firstIndex(of: "{") else { return nil }
        return String(path[..<brace])
    }

    /// The name of the `{parameter}` segment, if any.
    var templateName: String? {
        guard let prefix = templatePrefix else { return nil }
        return String(path.dropFirst(prefix.count).dropFirst().dropLast())
    }

    /// `GET /v1/sample`: the canonical form used by the README table.
    public var signature: String { "\(method) \(path)" }
}

/// A query or path parameter.
public struct RouteParameter: Sendable {
    public enum Location: String, Sendable { case query, path }
    public let name: String
    public let location: Location
    /// JSON schema type: `integer`, `number` or `string`.
    public let type: String
    public let required: Bool
    public let description: String?
    public let minimum: Int?
    public let maximum: Int?
    public let defaultValue: JSONValue?
    public let allowed: [String]?
    /// A valid value, used by the tests to build a request for every route.
    public let example: String?

    public init(_ name: String, _ type: String, in location: Location = .query, required: Bool = false, _ description: String? = nil,
                minimum: Int? = nil, maximum: Int? = nil, default defaultValue: JSONValue? = nil, allowed: [String]? = nil, example: String? = nil) {
        self.name = name; self.location = location; self.type = type; self.required = required || location == .path
        self.description = description; self.minimum = minimum; self.maximum = maximum; self.defaultValue = defaultValue
        self.allowed = allowed; self.example = example
    }
}

/// One documented answer of a route.
public struct RouteResponse: Sendable {
    public let status: Int
    public let description: String
    /// Content type → JSON schema of the body.
    public let content: [String: JSONValue]
    /// Response headers worth documenting (string-valued).
    public let headers: [String]

    public init(_ status: Int, _ description: String, content: [String: JSONValue] = [:], headers: [String] = []) {
        self.status = status; self.description = description; self.content = content; self.headers = headers
    }

    static func json(_ status: Int, _ description: String, _ schema: JSONValue) -> RouteResponse {
        RouteResponse(status, description, content: ["application/json": schema])
    }
    static func png(_ description: String = "PNG image") -> RouteResponse {
        RouteResponse(200, description, content: ["image/png": .type("string", format: "binary")], headers: ["ETag", "X-Seed"])
    }
    static let notModified = RouteResponse(304, "Not modified (If-None-Match matched the ETag)")
    /// An error this route gives itself (such as an unknown model), as `{"error": {...}}`.
    static func error(_ status: Int, _ description: String) -> RouteResponse { .json(status, description, .schemaRef("Error")) }
    static let busy = RouteResponse(503, "Queue full or shutting down; see Retry-After",
                                    content: ["application/json": .schemaRef("Error")], headers: ["Retry-After"])
}
