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

    func truncation(default value: Double) throws -> Double {
        guard let s = request.param("truncation") else { return value }
        guard let v = Double(s), v.isFinite else { throw APIError.badRequest("'truncation' must be a finite number, got \(Echo.quoted(s))") }
        guard v > 0 else { throw APIError.badRequest("'truncation' must be positive, got \(Echo.quoted(s))") }
        return v
    }
}

extension SamplingError {
    var apiError: APIError { APIError.badRequest(message) }
}
