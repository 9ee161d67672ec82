import Foundation

/// The OpenAPI 3.0 description of every route, generated from `RouteTable` and served at
/// `/openapi.json`.
enum OpenAPIDocument {
    struct Document: Codable {
        struct Info: Codable { let title: String; let version: String; let description: String }
        struct Components: Codable {
            let schemas: [String: JSONValue]
            let securitySchemes: [String: JSONValue]
        }
        var openapi = "3.0.3"
        let info: Info
        /// Path → lower-case method → operation.
        let paths: [String: [String: Operation]]
        let components: Components
    }

    struct Operation: Codable {
        struct Parameter: Codable {
            let name: String
            let `in`: String
            let required: Bool
            let description: String?
            let schema: JSONValue
        }
        struct Body: Codable { let required: Bool; let content: [String: MediaType] }
        struct MediaType: Codable { let schema: JSONValue }
        struct Header: Codable { let schema: JSONValue }
        struct Response: Codable {
            let description: String
            let content: [String: MediaType]?
            let headers: [String: Header]?
        }
        let summary: String
        let operationId: String
        let parameters: [Parameter]?
        let requestBody: Body?
        let responses: [String: Response]
        let security: [[String: [String]]]?
    }

    /// Refusals any route can give, added to every operation (a route's own entry wins).
    static func commonResponses(_ route: Route) -> [RouteResponse] {
        var out = [RouteResponse.error(400, "Bad parameter (named in the message), or a NUL byte in the query"),
                   RouteResponse.error(405, "Method not allowed (the message names the allowed one)"),
                   RouteResponse.error(414, "URI too long"),
                   RouteResponse.error(431, "Request headers too large"),
                   RouteResponse.error(500, "Internal error, or a non-finite model output")]
        if route.requestBody != nil { out.append(.error(413, "Request body too large")) }
        return out
    }

    static func operation(_ route: Route) -> Operation {
        let parameters = route.parameters.map { p -> Operation.Parameter in
            var schema: [String: JSONValue] = ["type": .string(p.type)]
            if let v = p.minimum { schema["minimum"] = .int(v) }
            if let v = p.maximum { schema["maximum"] = .int(v) }
            if let v = p.defaultValue { schema["default"] = v }
            if let v = p.allowed { schema["enum"] = .array(v.map(JSONValue.string)) }
            return .init(name: p.name, in: p.location.rawValue, required: p.required, description: p.description, schema: .object(schema))
        }
        var responses: [String: Operation.Response] = [:]
        for r in commonResponses(route) + route.responses {
            responses[String(r.status)] = .init(
                description: r.description,
                content: r.content.isEmpty ? nil : r.content.mapValues { .init(schema: $0) },
                headers: r.headers.isEmpty ? nil : Dictionary(uniqueKeysWithValues: r.headers.map {
                    ($0, Operation.Header(schema: .type($0 == "Retry-After" ? "integer" : "string")))
                }))
        }
        let id = route.method.lowercased() + route.path.split(whereSeparator: { !$0.isLetter && !$0.isNumber })
            .map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        return Operation(summary: route.summary, operationId: id == route.method.lowercased() ? id + "Root" : id,
                         parameters: parameters.isEmpty ? nil : parameters,
                         requestBody: route.requestBody.map { .init(required: true, content: [route.requestContentType: .init(schema: $0)]) },
                         responses: responses, security: route.needsAdminToken ? [["bearer": []]] : nil)
    }

    static func document(_ routes: [Route] = RouteTable.routes) -> Document {
        var paths: [String: [String: Operation]] = [:]
        for route in routes { paths[route.path, default: [:]][route.method.lowercased()] = operation(route) }
        return Document(
            info: .init(title: "BigGAN sampling server", version: "1.0.0",
                        description: "Samples, interpolations, StyleGAN style-mixing grids, BigBiGAN encodings and reconstructions, and model information from BigGAN, StyleGAN and BigBiGAN models on the CPU. Errors are {\"error\": {\"code\", \"message\"}}. HEAD is answered as GET."),
            paths: paths,
            components: .init(schemas: OpenAPISchemas.all, securitySchemes: [
                "bearer": .object(["type": .string("http"), "scheme": .string("bearer"),
                                   "description": .string("The --admin-token (also accepted as X-Admin-Token)")])]))
    }

    /// The encoded document (sorted keys, so the same bytes on every run).
    static let json: [UInt8] = {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return Array(try enc.encode(document())) }
        catch { fatalError("cannot encode the OpenAPI document: \(error)") }
    }()
}
