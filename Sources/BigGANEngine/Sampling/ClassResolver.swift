/// Turns the text a user gives for a class into a class index.
///
/// Accepted forms, tried in this order:
/// 1. an index: `"134"`;
/// 2. a name exactly as the checkpoint spells it: `"Sneaker"`;
/// 3. a name in any case: `"sneaker"`;
/// 4. `NAME:INDEX`, for names that several classes share: `"crane:517"` (the name must be
///    class INDEX's name, in any case). Every class is reachable this way.
///
/// An exact match wins over a case-insensitive one. A name that still matches several classes
/// (ImageNet's `crane` is 134, a bird, and 517, a machine) is an error listing the candidates in
/// the `NAME:INDEX` form, never a silent pick. An unknown name lists close names ("did you mean"),
/// by substring and by edit distance, so `Sneakr` suggests `Sneaker`.
public enum ClassResolver {
    /// The class index for `text`.
    /// - Throws: `SamplingError` for an out-of-range index, an ambiguous name or an unknown name.
    public static func resolve(_ text: String, info: ModelInfo) throws -> Int {
        let s = text.trimmingCharacters(in: .whitespaces)
        let n = info.nClasses
        if let i = Int(s) {
            guard i >= 0 && i < n else { throw SamplingError("class \(i) is out of range: this model has classes 0...\(n - 1)") }
            return i
        }
        let names = (0..<n).map(info.className)
        let exact = names.indices.filter { names[$0] == s }
        if exact.count == 1 { return exact[0] }
        let key = s.lowercased()
        let folded = exact.isEmpty ? names.indices.filter { names[$0].lowercased() == key } : exact
        if folded.count == 1 { return folded[0] }
        if folded.count > 1 {
            let list = folded.map { "\(names[$0]):\($0)" }.joined(separator: ", ")
            throw SamplingError("class name \(Echo.quoted(s)) is ambiguous: \(folded.count) classes are called that (\(list)); give one as NAME:INDEX or by index")
        }
        if let colon = s.lastIndex(of: ":"), let i = Int(s[s.index(after: colon)...]) {
            let name = s[..<colon].trimmingCharacters(in: .whitespaces)
            guard i >= 0 && i < n else { throw SamplingError("class \(i) in \(Echo.quoted(s)) is out of range: this model has classes 0...\(n - 1)") }
            guard names[i].lowercased() == name.lowercased() else {
                throw SamplingError("class \(i) is called '\(names[i])', not \(Echo.quoted(name))")
            }
            return i
        }
        let close = suggestions(for: key, names: names)
        throw SamplingError("unknown class name \(Echo.quoted(s))" + (close.isEmpty ? "" : "; did you mean: \(close.joined(separator: ", "))?"))
    }

    /// A form of class `i`'s name that `resolve` maps back to `i`: the name itself when it is
    /// unique (exactly or in any case), else `NAME:INDEX`.
    public static func uniqueName(_ i: Int, info: ModelInfo) -> String {
        let name = info.className(i)
        if (try? resolve(name, info: info)) == i, Int(name) == nil { return name }
        return "\(name):\(i)"
    }

    /// Up to five classes whose names contain `key` or are within a small edit distance of it,
    /// closest first, as `INDEX (NAME)`.
    static func suggestions(for key: String, names: [String]) -> [String] {
        guard !key.isEmpty, key.count <= 200 else { return [] }
        let limit = max(2, key.count / 3)
        var scored: [(Int, Int)] = []
        for (i, name) in names.enumerated() {
            let lower = name.lowercased()
            if lower.contains(key) || key.contains(lower) { scored.append((0, i)); continue }
            let d = editDistance(key, lower, limit: limit)
            if d <= limit { scored.append((d, i)) }
        }
        return scored.sorted { $0 < $1 }.prefix(5).map { "\($0.1) (\(names[$0.1]))" }
    }

    /// Levenshtein distance between `a` and `b`, or `limit + 1` once it must exceed `limit`.
    public static func editDistance(_ a: String, _ b: String, limit: Int) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        if abs(x.count - y.count) > limit { return limit + 1 }
        var previous = Array(0...y.count), current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...max(1, x.count) where !x.isEmpty {
            current[0] = i
            var rowMin = current[0]
            for j in 1...max(1, y.count) where !y.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
                rowMin = min(rowMin, current[j])
            }
            if rowMin > limit { return limit + 1 }
            swap(&previous, &current)
        }
        return x.isEmpty ? y.count : previous[y.count]
    }
}
