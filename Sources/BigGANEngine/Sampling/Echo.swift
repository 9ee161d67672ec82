/// Bounds on values that error messages, responses and log rows echo back, so that a huge value cannot
/// come back as a huge response or log row.
public enum Echo {
    /// Characters of an echoed value kept in error messages.
    public static let maxValueCharacters = 100
    /// Characters of a whole error message.
    public static let maxMessageCharacters = 600

    /// `value` in single quotes, cut to `maxValueCharacters` with a note of its full length.
    public static func quoted(_ value: String) -> String { "'\(cut(value, maxValueCharacters))'" }

    /// `value` cut to `limit` characters with a note of its full size in UTF-8 bytes.
    public static func cut(_ value: String, _ limit: Int) -> String {
        guard value.utf8.count > limit, value.count > limit else { return value }
        return String(value.prefix(limit)) + "…(\(value.utf8.count) bytes)"
    }

    /// `value` cut to at most `bytes` UTF-8 bytes (never inside a character), for log columns.
    public static func capBytes(_ value: String, _ bytes: Int) -> String {
        guard value.utf8.count > bytes else { return value }
        let note = "…(\(value.utf8.count) bytes)"
        var out = "", used = 0
        for ch in value {
            let n = ch.utf8.count
            if used + n + note.utf8.count > bytes { break }
            out.append(ch); used += n
        }
        return out + note
    }
}
