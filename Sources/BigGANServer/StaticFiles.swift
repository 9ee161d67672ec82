import BigGANEngine
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
        guard let root = c.publicDirectory else {
            if r.path == "/" || r.path == "/index.html" { return galleryMissing(c) }
            throw APIError.notFound("no route \(Echo.quoted(r.path))")
        }
        let rel = r.path == "/" ? "index.html" : String(r.path.drop { $0 == "/" })
        let segments = rel.split(separator: "/", omittingEmptySubsequences: false)
        guard !rel.isEmpty, !rel.contains("\0"), !segments.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else {
            throw APIError.notFound("no such file \(Echo.quoted(r.path))")
        }
        let base = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath().path
        let full = URL(fileURLWithPath: base).appendingPathComponent(rel).standardizedFileURL.resolvingSymlinksInPath().path
        var isDir: ObjCBool = false
        guard full.hasPrefix(base + "/"), FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue,
              let data = FileManager.default.contents(atPath: full) else {
            throw APIError.notFound("no such file \(Echo.quoted(r.path))")
        }
        let ext = (full as NSString).pathExtension.lowercased()
        var resp = HTTPResponse(status: 200, headers: [("Content-Type", types[ext] ?? "application/octet-stream"),
                                                      ("Cache-Control", "no-cache")], body: Array(data))
        resp.headers.append(("X-Content-Type-Options", "nosniff"))
        return resp
    }

    /// `GET /` when the server found no gallery: a short page saying so and where it looked,
    /// rather than a bare 404.
    static func galleryMissing(_ c: ServerContext) -> HTTPResponse {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        let places = c.publicSearched.isEmpty ? "<li>(no folder was given)</li>" : c.publicSearched.map { "<li><code>\(esc($0))</code></li>" }.joined()
        let html = """
            <!doctype html><html><head><meta charset="utf-8"><title>BigGAN server: gallery not found</title></head><body>
            <h1>Gallery files not found</h1>
            <p>The server is running, but it found no <code>public/</code> folder with the gallery. It looked in:</p>
            <ul>\(places)</ul>
            <p>Start it with <code>--public-dir &lt;folder&gt;</code>. The API works regardless: see
            <a href="/openapi.json">/openapi.json</a>, <a href="/v1/models">/v1/models</a> and <a href="/healthz">/healthz</a>.</p>
            </body></html>

            """
        var r = HTTPResponse.text(html, contentType: "text/html; charset=utf-8", status: 404)
        r.logError = "gallery_missing: no public folder"
        return r
    }
}
