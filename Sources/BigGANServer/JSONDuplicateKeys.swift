/// Finds a key that appears twice in one JSON object. Foundation's decoders silently keep one of
/// the values (`{"class": 1, "class": 7}` would sample class 1 or 7 depending on the parser), so
/// request bodies are checked first and a repeated key is a 400 that names it (RFC 8259 §4: names
/// "SHOULD be unique"; we make it a MUST).
///
/// A single pass over the bytes, tracking only strings and nesting; it does not validate JSON
/// (the decoder does that afterwards) and gives up quietly (nil) on anything it cannot follow.
/// Keys are compared as written between the quotes, escapes included.
enum JSONDuplicateKeys {
    /// The dotted path of the first repeated key (`"class"`, `"style.psi"`, `"items[2].seed"`),
    /// or nil if every object's keys are distinct.
    static func first(in body: [UInt8]) -> String? {
        /// One open container: an object's keys so far and whether a key comes next, or an
        /// array's element index; `name` is the path to it.
        struct Frame { var keys: Set<[UInt8]>? ; var expectingKey: Bool; var index: Int; var name: String; var lastKey: String }
        var stack: [Frame] = []
        var i = 0
        func path(_ f: Frame, _ key: String) -> String { f.name.isEmpty ? key : f.name + "." + key }
        func childName() -> String {
            guard let top = stack.last else { return "" }
            return top.keys != nil ? path(top, top.lastKey) : "\(top.name)[\(top.index)]"
        }
        while i < body.count {
            let c = body[i]
            switch c {
            case UInt8(ascii: "\""):
                var j = i + 1
                while j < body.count && body[j] != UInt8(ascii: "\"") { j += body[j] == UInt8(ascii: "\\") ? 2 : 1 }
                guard j < body.count else { return nil }
                let raw = Array(body[(i + 1)..<j])
                if var top = stack.last, top.keys != nil, top.expectingKey {
                    let key = String(decoding: raw, as: UTF8.self)
                    if top.keys!.contains(raw) { return path(top, key) }
                    top.keys!.insert(raw); top.expectingKey = false; top.lastKey = key
                    stack[stack.count - 1] = top
                }
                i = j + 1
                continue
            case UInt8(ascii: "{"):
                stack.append(Frame(keys: [], expectingKey: true, index: 0, name: childName(), lastKey: ""))
            case UInt8(ascii: "["):
                stack.append(Frame(keys: nil, expectingKey: false, index: 0, name: childName(), lastKey: ""))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard !stack.isEmpty else { return nil }
                stack.removeLast()
            case UInt8(ascii: ","):
                guard !stack.isEmpty else { return nil }
                if stack[stack.count - 1].keys != nil { stack[stack.count - 1].expectingKey = true } else { stack[stack.count - 1].index += 1 }
            default:
                break
            }
            i += 1
        }
        return nil
    }
}
