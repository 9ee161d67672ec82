import BigGANEngine
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
        catch let e as NonFiniteOutputError {
            // Never a black PNG, never cached: the render closure threw before anything was stored.
            context.logger.error("\(request.method) \(request.path): \(e)")
            response = APIError(500, "non_finite_output", e.description).response
        }
        catch {
            context.logger.error("\(request.method) \(request.path): \(error)")
            response = APIError(500, "internal_error", "internal error: \(error)").response
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        response.headers.append(("X-Process-Time-Ms", String(format: "%.1f", seconds * 1000)))
        finish(request, route: route, status: response.status, seconds: seconds, bytes: response.body.count,
               model: response.logModel, error: response.logError)
        return response
    }

    /// Counts and logs a request that the HTTP layer answered itself (libmicrohttpd's own 413,
    /// 414 or 431 responses, a header timeout), so that every answer appears in the metrics
    /// and the request log.
    public func record(_ request: HTTPRequest, status: Int, error: String) {
        context.metrics.requestStarted()
        finish(request, route: "refused", status: status, seconds: 0, bytes: 0, model: nil, error: error)
    }

    private func finish(_ request: HTTPRequest, route: String, status: Int, seconds: Double, bytes: Int, model: String?, error: String?) {
        context.metrics.requestFinished(route: route, status: status, seconds: seconds)
        // The time is formatted by the log's writer thread, not here (see `RequestLog.append`).
        context.log?.append(RequestRecord(
            id: nil, time: "", method: request.method, path: request.path,
            query: request.queryString, status: status, durationMs: seconds * 1000, bytes: bytes,
            model: model, client: request.client, error: error))
    }

    /// The route name (for metrics) and the function that answers.
    func dispatch(_ r: HTTPRequest) -> (String, () throws -> HTTPResponse) {
        let c = context
        let isRead = r.method == "GET" || r.method == "HEAD"
        // Refused by the HTTP layer before routing (URI or headers too large, a NUL byte).
        if let refusal = r.refusal { return ("refused", { throw refusal }) }
        // C strings end at NUL: a NUL that reached a path or a value would be silently cut
        // elsewhere, so it is never served.
        // A path with a NUL names nothing (404); a query value with one is a bad parameter (400).
        if r.path.utf8.contains(0) { return ("not_found", { throw APIError.notFound("no such path (it contains a NUL byte, %00)") }) }
        if r.query.contains(where: { $0.0.utf8.contains(0) || $0.1.utf8.contains(0) }) {
            return ("refused", { throw APIError.badRequest("the query contains a NUL byte (%00)") })
        }
        switch RouteTable.match(r.path) {
        case .notFound(let error):
            return ("not_found", { throw error })
        case .route(let route, let pathParameters):
            let allowed = route.method == "GET" ? isRead : r.method == route.method
            guard allowed else {
                // RFC 9110 §15.5.6: a 405 lists the allowed methods in `Allow`.
                let allow = route.method == "GET" ? "GET, HEAD" : route.method
                return (route.metricsName, { throw APIError(405, "method_not_allowed", "\(r.method) is not allowed on \(r.path); use \(route.method)",
                                                            headers: ["Allow": allow]) })
            }
            if let problem = Self.queryProblem(r.query, route) { return (route.metricsName, { throw problem }) }
            var request = r
            request.pathParameters = pathParameters
            return (route.metricsName, { try route.handler(request, c) })
        }
    }

    /// API routes (`/v1/...`) take only their declared query parameters, each once: a typo
    /// (`trunction=0.5`) or a repeated value would otherwise be ignored, or one of two silently
    /// win. Other routes (the gallery's files, health, metrics) ignore their query.
    static func queryProblem(_ query: [(String, String)], _ route: Route) -> APIError? {
        guard route.path.hasPrefix("/v1/") else { return nil }
        let names = route.parameters.filter { $0.location == .query }.map(\.name)
        var seen = Set<String>()
        for (name, _) in query where !name.isEmpty {   // stray `&`s (`?&a=1&&b=2`) name nothing
            guard names.contains(name) else {
                let close = names.filter { ClassResolver.editDistance(name.lowercased(), $0, limit: 2) <= 2 }
                let takes = names.isEmpty ? "it takes no query parameters" : "it takes " + names.joined(separator: ", ")
                return APIError.badRequest("unknown parameter \(Echo.quoted(name)) for \(route.signature); \(takes)"
                                           + (close.isEmpty ? "" : "; did you mean \(close.map { "'\($0)'" }.joined(separator: " or "))?"))
            }
            guard seen.insert(name).inserted else {
                return APIError.badRequest("'\(name)' is given more than once; give each parameter once")
            }
        }
        return nil
    }
}
