import BigGANEngine
import Foundation

/// Reading JSON request bodies so that valid JSON with a bad value is a 400 naming the field and
/// its allowed range, not "malformed JSON" (issue 10 A6).
enum JSONBody {
    /// A JSON number kept as written, so range errors can quote it: integers that fit `UInt64`
    /// or `Int64` exactly, anything else as a `Double`.
    enum Number: Decodable, Equatable {
        case unsigned(UInt64), signed(Int64), real(Double)

        init(from d: Decoder) throws {
            let c = try d.singleValueContainer()
            if let u = try? c.decode(UInt64.self) { self = .unsigned(u) }
            else if let i = try? c.decode(Int64.self) { self = .signed(i) }
            else if let x = try? c.decode(Double.self) { self = .real(x) }
            else {
                throw DecodingError.typeMismatch(Double.self, .init(codingPath: d.codingPath, debugDescription: "a number"))
            }
        }

        var text: String {
            switch self {
            case .unsigned(let u): return "\(u)"
            case .signed(let i): return "\(i)"
            case .real(let x): return "\(x)"
            }
        }

        var double: Double {
            switch self {
            case .unsigned(let u): return Double(u)
            case .signed(let i): return Double(i)
            case .real(let x): return x
            }
        }

        /// A seed: an integer from 0 to 2^64 − 1.
        func seed(_ field: String) throws -> UInt64 {
            if case .unsigned(let u) = self { return u }
            throw APIError.badRequest("'\(field)' must be an integer from 0 to \(UInt64.max), got \(text)")
        }

        /// An integer within `range`.
        func int(_ field: String, _ range: ClosedRange<Int>) throws -> Int {
            let v: Int?
            switch self {
            case .unsigned(let u): v = u <= UInt64(Int.max) ? Int(u) : nil
            case .signed(let i): v = Int(i)
            case .real: v = nil
            }
            guard let v, range.contains(v) else {
                throw APIError.badRequest("'\(field)' must be an integer from \(range.lowerBound) to \(range.upperBound), got \(text)")
            }
            return v
        }
    }

    /// A truncation: a positive number, or `"none"` / `null` for untruncated sampling.
    enum TruncationValue: Decodable {
        case none, threshold(Number), text(String)
        init(from d: Decoder) throws {
            let c = try d.singleValueContainer()
            if c.decodeNil() { self = .none }
            else if let s = try? c.decode(String.self) { self = .text(s) }
            else { self = .threshold(try Number(from: d)) }
        }

        /// The value given as `name`: positive unless `rule` accepts others (ψ); the rule's
        /// range is checked by `LoadedModel.prepare`.
        func value(_ name: String = "truncation", rule: TruncationRule? = nil) throws -> Double? {
            let kind = rule?.acceptsNonPositive == true ? "a number" : "a positive number"
            switch self {
            case .none: return nil
            case .text(let s):
                guard s.lowercased() == "none" else {
                    throw APIError.badRequest("'\(name)' must be \(kind) or \"none\", got \(Echo.quoted(s))")
                }
                return nil
            case .threshold(let n):
                let v = n.double
                guard v.isFinite, v > 0 || rule?.acceptsNonPositive == true else {
                    throw APIError.badRequest("'\(name)' must be \(kind) or \"none\", got \(n.text)")
                }
                return v
            }
        }
    }

    /// Largest |z| entry accepted in explicit latents. Truncated-normal latents stay within ±5;
    /// far larger values overflow the network into NaN.
    static let maxLatentMagnitude = 1000.0

    /// Explicit latents as floats, each entry within ±`maxLatentMagnitude`.
    static func latents(_ z: [[Number]], dim: Int, maxCount: Int) throws -> [[Float]] {
        guard (1...maxCount).contains(z.count) else {
            throw APIError.badRequest("'z' must hold 1 to \(maxCount) vectors, got \(z.count)")
        }
        return try z.enumerated().map { i, v in
            guard v.count == dim else { throw APIError.badRequest("'z[\(i)]' has \(v.count) entries; this model needs \(dim)") }
            return try v.enumerated().map { j, x in
                let d = x.double
                guard d.isFinite, abs(d) <= maxLatentMagnitude else {
                    throw APIError.badRequest("'z[\(i)][\(j)]' must be a number from \(-maxLatentMagnitude) to \(maxLatentMagnitude), got \(x.text)")
                }
                return Float(d)
            }
        }
    }

    /// Decodes `T` from `body`, which must be a JSON object whose keys are all in `fields`.
    /// Malformed JSON, a non-object, a repeated key (`JSONDuplicateKeys`), an unknown key and a
    /// wrong type are 400s that say which.
    /// The body is parsed once: the key check runs inside the decoder.
    static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8], fields: [String]) throws -> T {
        guard !body.isEmpty else { throw APIError(400, "invalid_json", "the request body is empty; send a JSON object") }
        if let key = JSONDuplicateKeys.first(in: body) {
            throw APIError(400, "invalid_json", "duplicate key '\(key.prefix(80))' in the JSON body; give each field once")
        }
        let decoder = JSONDecoder()
        decoder.userInfo[fieldsKey] = fields
        do { return try decoder.decode(KnownFields<T>.self, from: Data(body)).value }
        catch let e as APIError { throw e }
        catch let DecodingError.typeMismatch(_, ctx) where ctx.codingPath.isEmpty {
            throw APIError(400, "invalid_json", "the body must be a JSON object")
        }
        catch let DecodingError.typeMismatch(expected, ctx) {
            throw APIError.badRequest("'\(path(ctx.codingPath))' must be \(describe(expected, ctx))")
        }
        catch let DecodingError.valueNotFound(_, ctx) where ctx.codingPath.isEmpty {
            throw APIError(400, "invalid_json", "the body must be a JSON object, not null")
        }
        catch let DecodingError.valueNotFound(_, ctx) {
            throw APIError.badRequest("'\(path(ctx.codingPath))' must not be null")
        }
        catch let DecodingError.dataCorrupted(ctx) where ctx.codingPath.isEmpty {
            throw APIError(400, "invalid_json", "malformed JSON: \(ctx.underlyingError.map { ($0 as NSError).localizedDescription } ?? ctx.debugDescription)")
        }
        catch let DecodingError.dataCorrupted(ctx) {
            throw APIError.badRequest("bad value at '\(path(ctx.codingPath))': \(ctx.debugDescription)")
        }
        catch { throw APIError(400, "invalid_json", "cannot read the body: \(error)") }
    }

    /// "an array", "a number", ... for a type the decoder expected (our own checks' messages kept).
    static func describe(_ expected: Any.Type, _ ctx: DecodingError.Context) -> String {
        // Our own decoders say what they want ("a number", "a class index or name").
        if !ctx.debugDescription.isEmpty && !ctx.debugDescription.hasPrefix("Expected to decode") { return ctx.debugDescription }
        let name = String(describing: expected)
        if name.hasPrefix("Array") { return "an array" }
        if name.hasPrefix("Dictionary") { return "a JSON object" }
        if name == "String" { return "a string" }
        if ["Double", "Float", "Int", "UInt64"].contains(name) { return "a number" }
        return ctx.debugDescription.isEmpty ? "of another type" : ctx.debugDescription
    }

    /// Where `decode` hands `KnownFields` the allowed keys.
    static let fieldsKey = CodingUserInfoKey(rawValue: "biggan.fields")!

    /// `T` decoded from a JSON object after checking that every key is one of the fields in the
    /// decoder's `userInfo[fieldsKey]`.
    struct KnownFields<T: Decodable>: Decodable {
        let value: T
        struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        init(from d: Decoder) throws {
            let fields = d.userInfo[JSONBody.fieldsKey] as? [String] ?? []
            let keys = try d.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
            if let unknown = keys.sorted().first(where: { !fields.contains($0) }) {
                throw APIError.badRequest("unknown field \(Echo.quoted(unknown)); the fields are \(fields.joined(separator: ", "))")
            }
            value = try T(from: d)
        }
    }

    /// `classes[2]`-style path of a coding path.
    static func path(_ codingPath: [CodingKey]) -> String {
        codingPath.reduce("") { s, k in k.intValue.map { s + "[\($0)]" } ?? (s.isEmpty ? k.stringValue : s + "." + k.stringValue) }
    }
}
