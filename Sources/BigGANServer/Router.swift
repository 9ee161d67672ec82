import Foundation
import Logging

/// Maps requests to routes. Every route is a plain `HTTPRequest → HTTPResponse` function; this
/// type adds error mapping, metrics and the request log around them. It never throws.
public struct Router: Sendable {
    public let context: ServerContext

    public init(context: ServerContext) { self.context = context }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let start = DispatchTime.now().uptimeNanoseconds
        context.metrics.requestStarted()
        let (route, routed) = dispatch(request)
        var response: HTTPResponse
        do { response = try routed() }
        catch let e as APIError { response = e.response }
        catch {
            context.logger.error("\(request.method) \(request.path): \(error)")
            response = APIError(500, "internal_error", "internal error: \(error)").response
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        response.headers.append(("X-Process-Time-Ms", String(format: "%.1f", seconds * 1000)))
        context.metrics.requestFinished(route: route, status: response.status, seconds: seconds)
        context.log?.append(RequestRecord(
            id: nil, time: RequestLog.timeFormatter.string(from: Date()), method: request.method, path: request.path,
            query: request.queryString, status: response.status, durationMs: seconds * 1000, bytes: response.body.count,
            model: response.logModel, client: request.client, error: response.logError))
        return response
    }

    /// The route name (for metrics) and the function that answers.
    func dispatch(_ r: HTTPRequest) -> (String, () throws -> HTTPResponse) {
        let c = context
        let isRead = r.method == "GET" || r.method == "HEAD"
        func only(_ allowed: String, _ route: String, _ f: @escaping () throws -> HTTPResponse) -> (String, () throws -> HTTPResponse) {
            let ok = allowed == "GET" ? isRead : r.method == allowed
            return (route, ok ? f : { throw APIError(405, "method_not_allowed", "\(r.method) is not allowed on \(r.path); use \(allowed)") })
        }
        switch r.path {
        case "/healthz": return only("GET", "/healthz") { InfoRoutes.health(c) }
        case "/metrics": return only("GET", "/metrics") { InfoRoutes.metrics(c) }
        case "/openapi.json": return only("GET", "/openapi.json") { InfoRoutes.openAPI() }
        case "/v1/models": return only("GET", "/v1/models") { InfoRoutes.models(c) }
        case "/v1/sample": return only("GET", "/v1/sample") { try SampleRoutes.sample(r, c) }
        case "/v1/samples": return only("POST", "/v1/samples") { try SamplesRoute.handle(r, c) }
        case "/v1/interpolate": return only("GET", "/v1/interpolate") { try SampleRoutes.interpolate(r, c) }
        case "/v1/neighbours", "/v1/neighbors": return only("GET", "/v1/neighbours") { try NeighboursRoute.handle(r, c) }
        case "/v1/requests": return only("GET", "/v1/requests") { try InfoRoutes.requests(r, c) }
        default:
            if r.path.hasPrefix("/v1/models/") {
                let name = String(r.path.dropFirst("/v1/models/".count))
                return only("GET", "/v1/models/{name}") { try InfoRoutes.model(name, c) }
            }
            if r.path.hasPrefix("/v1/") { return ("not_found", { throw APIError.notFound("no route \(r.path)") }) }
            return only("GET", "static") { try StaticFiles.serve(r, c) }
        }
    }
}
