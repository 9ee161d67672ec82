import Foundation

/// A reader for the YAML subset the repository's manifests use (block maps and lists, plain and
/// quoted scalars, `#` comments, `---` between documents; no flow collections, anchors or
/// multi-line strings), for tests that check the manifests. Anything outside the subset throws.
public enum MiniYAML {
    public indirect enum Node: Equatable {
        case scalar(String)
        case map([(String, Node)])
        case list([Node])

        public static func == (a: Node, b: Node) -> Bool {
            switch (a, b) {
            case let (.scalar(x), .scalar(y)): return x == y
            case let (.list(x), .list(y)): return x == y
            case let (.map(x), .map(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            default: return false
            }
        }

        /// `node["a"]["b"]` for maps; nil when absent or not a map.
        public subscript(key: String) -> Node? {
            guard case .map(let entries) = self else { return nil }
            return entries.first { $0.0 == key }?.1
        }
        public var string: String? { if case .scalar(let s) = self { return s }; return nil }
        public var list: [Node]? { if case .list(let l) = self { return l }; return nil }
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Every document of `text`.
    public static func documents(_ text: String) throws -> [Node] {
        var docs: [[(Int, String, Int)]] = [[]]
        for (n, raw) in text.components(separatedBy: "\n").enumerated() {
            if raw.hasPrefix("---") { docs.append([]); continue }
            let line = stripComment(raw)
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard !line.contains("\t") else { throw ParseError(description: "line \(n + 1): tab") }
            let indent = line.prefix { $0 == " " }.count
            docs[docs.count - 1].append((indent, String(line.dropFirst(indent)), n + 1))
        }
        return try docs.filter { !$0.isEmpty }.map { lines in
            var i = 0
            let node = try block(lines, &i, indent: lines[0].0)
            guard i == lines.count else { throw ParseError(description: "line \(lines[i].2): unexpected indentation") }
            return node
        }
    }

    private static func stripComment(_ line: String) -> String {
        var quote: Character?
        for (k, ch) in line.enumerated() {
            if let q = quote { if ch == q { quote = nil }; continue }
            if ch == "\"" || ch == "'" { quote = ch; continue }
            if ch == "#" && (k == 0 || line[line.index(line.startIndex, offsetBy: k - 1)] == " ") { return String(line.prefix(k)) }
        }
        return line
    }

    private static func scalar(_ text: String) -> String {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.count >= 2, let f = t.first, f == "\"" || f == "'", t.last == f { return String(t.dropFirst().dropLast()) }
        return t
    }

    private static func block(_ lines: [(Int, String, Int)], _ i: inout Int, indent: Int) throws -> Node {
        if lines[i].1.hasPrefix("- ") || lines[i].1 == "-" {
            var items: [Node] = []
            while i < lines.count, lines[i].0 == indent, lines[i].1.hasPrefix("-") {
                let rest = String(lines[i].1.dropFirst()).trimmingCharacters(in: .whitespaces)
                if rest.isEmpty {
                    i += 1
                    items.append(try block(lines, &i, indent: lines[i].0))
                } else if splitKey(rest) != nil {
                    // "- key: value" opens a map whose keys sit at indent + 2.
                    var sub = lines
                    sub[i] = (indent + 2, rest, lines[i].2)
                    items.append(try block(sub, &i, indent: indent + 2))
                } else {
                    items.append(.scalar(scalar(rest))); i += 1
                }
            }
            return .list(items)
        }
        var entries: [(String, Node)] = []
        while i < lines.count, lines[i].0 == indent {
            guard let (key, value) = splitKey(lines[i].1) else { throw ParseError(description: "line \(lines[i].2): expected 'key: value'") }
            i += 1
            if value.isEmpty {
                guard i < lines.count, lines[i].0 > indent || (lines[i].0 == indent && lines[i].1.hasPrefix("-")) else {
                    entries.append((key, .scalar(""))); continue
                }
                entries.append((key, try block(lines, &i, indent: lines[i].0)))
            } else {
                guard !value.hasPrefix("[") && !value.hasPrefix("{") && !value.hasPrefix("|") && !value.hasPrefix(">") else {
                    throw ParseError(description: "line \(lines[i - 1].2): flow collections and block scalars are outside this reader's subset")
                }
                entries.append((key, .scalar(scalar(value))))
            }
        }
        return .map(entries)
    }

    private static func splitKey(_ text: String) -> (String, String)? {
        guard let r = text.range(of: ": ") ?? (text.hasSuffix(":") ? text.range(of: ":", options: .backwards) : nil) else { return nil }
        let key = String(text[..<r.lowerBound])
        guard !key.isEmpty, !key.contains(" ") || key.hasPrefix("\"") else { return nil }
        return (scalar(key), String(text[r.upperBound...]).trimmingCharacters(in: .whitespaces))
    }
}
