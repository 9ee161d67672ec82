import Foundation

/// Serves files under the public directory. No path outside it is ever served: `..` segments
/// and NUL bytes are refused outright, and the resolved path (symlinks followed) must still lie
/// inside the resolved public directory.
enum StaticFiles {
    static let types: [String: String] = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
        "png": "image/png", "svg": "image/svg+xml", "json": "application/json", "ico": "image/x-icon", "txt": "text/plain; charset=utf-8",
    ]

    static func serve(_ r: HTTPRequest, _ c: ServerContext) throws -> HTTPResponse {
        guard let root = c.publicDirectory else { throw APIError.notFound("no route \(r.path)") }
        let rel = r.path == "/" ? "index.html" : String(r.path.drop { $0 == "/" })
        let segments = rel.split(separator: "/", omittingEmptySubsequences: false)
        guard !rel.isEmpty, !rel.contains("\0"), !segments.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else {
            throw APIError.notFound("no such file \(r.path)")
        }
        let base = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath().path
        let full = URL(fileURLWithPath: base).appendingPathComponent(rel).standardizedFileURL.resolvingSymlinksInPath().path
        var isDir: ObjCBool = false
        guard full.hasPrefix(base + "/"), FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue,
              let data = FileManager.default.contents(atPath: full) else {
            throw APIError.notFound("no such file \(r.path)")
        }
        let ext = (full as NSString).pathExtension.lowercased()
        var resp = HTTPResponse(status: 200, headers: [("Content-Type", types[ext] ?? "application/octet-stream"),
                                                      ("Cache-Control", "no-cache")], body: Array(data))
        resp.headers.append(("X-Content-Type-Options", "nosniff"))
        return resp
    }
}
