import BigGANEngine
import Foundation

/// Reads and validates query parameters; every failure is a 400 with a message naming the parameter.
struct Parameters {
    let request: HTTPRequest

    func string(_ name: String) -> String? { request.param(name) }

    func int(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let s = request.param(name) else { return value }
        guard let v = Int(s) else { throw APIError.badRequest("'\(name)' must be an integer, got \(Echo.quoted(s))") }
        guard range.contains(v) else { throw APIError.badRequest("'\(name)' must be between \(range.lowerBound) and \(range.upperBound), got \(v)") }
        return v
    }

    func seed(_ name: String) throws -> UInt64? {
        guard let s = request.param(name) else { return nil }
        guard let v = UInt64(s) else { throw APIError.badRequest("'\(name)' must be an integer from 0 to \(UInt64.max), got \(Echo.quoted(s))") }
        return v
    }

    /// The class parameter `name` as an index (see `ClassResolver`), or nil when absent: whether
    /// the model needs one is checked once, by `LoadedModel.prepare`.
    func classIndex(_ name: String, _ m: LoadedModel) throws -> Int? {
        guard let text = request.param(name) else { return nil }
        return try SampleRoutes.resolveClass(text, m, parameter: name)
    }
}

extension SamplingError {
    /// A 400 whose message starts with the quoted parameter (`'class': ...`).
    var apiError: APIError { APIError.badRequest(message(naming: parameter.map { "'\($0)'" } ?? "")) }
}
