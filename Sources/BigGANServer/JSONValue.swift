import Foundation

/// Any JSON value, for the free-form parts of generated documents (schemas, defaults).
public indirect enum JSONValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .number(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// `{"$ref": "#/components/schemas/<name>"}`.
    public static func schemaRef(_ name: String) -> JSONValue { .object(["$ref": .string("#/components/schemas/\(name)")]) }
    /// `{"type": "<type>"}`, with `format` when given.
    public static func type(_ type: String, format: String? = nil) -> JSONValue {
        var o: [String: JSONValue] = ["type": .string(type)]
        if let format { o["format"] = .string(format) }
        return .object(o)
    }
}
