import BigGANEngine
import BigGANImage
import Foundation

/// The PNG body of `POST /v1/encode` and `POST /v1/reconstruct`, checked and preprocessed on the
/// request's thread, so that nothing malformed, oversized or unexpected reaches the compute
/// worker. In order:
///
/// 1. over `Limits.maxImageBytes` (or cut short by the adapter): 413 `body_too_large`;
/// 2. `Content-Type` not `image/png` (parameters ignored): 415 `unsupported_media_type`;
/// 3. empty: 400 `empty_body`;
/// 4. not a PNG signature, or a damaged IHDR (checked by `PNGHeader.parse`, without libpng):
///    400 `invalid_png`;
/// 5. more than `Limits.maxImagePixels` pixels claimed by the header (a decompression bomb):
///    413 `image_too_large`, before any pixel is allocated;
/// 6. damaged or truncated data (libpng): 400 `invalid_png`.
///
/// Then the image is centre-cropped, resized and converted (`ImagePreprocessing`).
enum ImageBody {
    static func preprocess(_ r: HTTPRequest, _ c: ServerContext, side: Int, channels: Int) throws -> PreprocessedImage {
        let limits = c.limits
        if r.bodyTooLarge || r.body.count > limits.maxImageBytes {
            throw APIError(413, "body_too_large", "the image body exceeds \(limits.maxImageBytes) bytes")
        }
        let type = (r.headers["content-type"] ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard type == "image/png" else {
            throw APIError(415, "unsupported_media_type", "send the image as the body with 'Content-Type: image/png' (got "
                           + (type.isEmpty ? "no Content-Type" : Echo.quoted(type)) + ")")
        }
        guard !r.body.isEmpty else { throw APIError(400, "empty_body", "the request body is empty; send a PNG image") }
        do {
            return try ImagePreprocessing.decode(png: r.body, side: side, channels: channels, maxPixels: limits.maxImagePixels)
        } catch let e as ImageTooLarge {
            throw APIError(413, "image_too_large", e.description)
        } catch let e as PNGError {
            throw APIError(400, "invalid_png", "the body is not a readable PNG: \(e.message)")
        }
    }
}
