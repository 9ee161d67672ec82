import BigGANEngine
import Foundation

/// Deterministic (seeded) mutations of a JSON object, for fuzzing configuration decoders:
/// numbers replaced by extremes, values by other types, keys deleted, list entries duplicated
/// or deleted, and (for `blocks`) long runs of upsampling blocks.
public struct JSONMutator {
    /// The engine's SplitMix64 generator, seeded from a mixed `seed`.
    private var rng: NoiseGenerator

    public init(seed: UInt64) { rng = NoiseGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 | 1) }

    public mutating func next() -> UInt64 { rng.nextUInt64() }

    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// Values a hostile file might hold where a number is expected.
    public static var extremes: [Any] { [
        0, -1, 1, 2, 3, 7, 8, 1 << 31, (1 << 31) - 1, 1 << 53, Int.max, Int.min, Int.max - 1, 4096, 4097, 65536,
        1e308, -1e308, 1.5, 0.0, -0.0, 1e-320, "NaN", "Infinity", "-Infinity", "1e999", true, false, NSNull(), [Any](), [String: Any](),
    ] }

    /// One mutation of `value` at a random place in its tree.
    public mutating func mutate(_ value: Any) -> Any {
        if var d = value as? [String: Any], !d.isEmpty {
            let keys = d.keys.sorted()
            let k = keys[below(keys.count)]
            switch below(10) {
            case 0: d.removeValue(forKey: k)
            case 1 where k == "blocks": d[k] = longRun(d[k])
            case 2: d[k] = Self.extremes[below(Self.extremes.count)]
            default: d[k] = mutate(d[k]!)
            }
            return d
        }
        if var a = value as? [Any], !a.isEmpty {
            let i = below(a.count)
            switch below(6) {
            case 0: a.remove(at: i)
            case 1: a.insert(a[i], at: i)
            case 2: a += Array(repeating: a[i], count: 1 + below(80))
            default: a[i] = mutate(a[i])
            }
            return a
        }
        if value is String, below(2) == 0 { return ["biggan", "biggan-deep", "resample", "truncnorm-scaled", "", "x"][below(6)] }
        return Self.extremes[below(Self.extremes.count)]
    }

    /// `blocks` replaced by 40 to 80 copies of an upsampling block (2^64 past `Int`).
    private mutating func longRun(_ blocks: Any?) -> Any {
        var b = ((blocks as? [Any])?.first as? [String: Any]) ?? ["in": 8, "out": 8]
        b["up"] = true
        if b["out"] != nil { b["out"] = b["in"] }
        return Array(repeating: b as Any, count: 40 + below(41))
    }

    /// `json` mutated 1 to 4 times, as JSON text.
    public mutating func mutated(_ json: String) -> String {
        var v = try! JSONSerialization.jsonObject(with: Data(json.utf8))
        for _ in 0...below(4) { v = mutate(v) }
        return String(decoding: (try? JSONSerialization.data(withJSONObject: v, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
    }
}
