import CBigGANPNG
import BigGANEngine

/// A PNG that could not be encoded or decoded.
public struct PNGError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { "PNG: \(message)" }
}

/// PNG encoding and decoding of `Image8` through libpng's simplified API (`png_image`), which
/// reports errors in `png_image.message` instead of `setjmp`/`longjmp` and so is safe to call
/// from Swift (the classic API needs `setjmp`, which Swift cannot call).
public enum PNGCodec {
    // png.h's PNG_FORMAT_RGB (= PNG_FORMAT_FLAG_COLOR) and PNG_FORMAT_GRAY; the macros do not import.
    static let formatRGB: png_uint_32 = 0x02
    static let formatGray: png_uint_32 = 0
    public static func encode(_ image: Image8) throws -> [UInt8] {
        guard image.channels == 1 || image.channels == 3 else { throw PNGError(message: "unsupported channel count \(image.channels)") }
        guard image.width > 0, image.height > 0 else { throw PNGError(message: "empty image") }
        var img = png_image()
        img.version = png_uint_32(PNG_IMAGE_VERSION)
        img.width = png_uint_32(image.width)
        img.height = png_uint_32(image.height)
        img.format = image.channels == 3 ? formatRGB : formatGray
        var size = 0
        let ok = image.pixels.withUnsafeBytes { px -> Bool in
            guard png_image_write_to_memory(&img, nil, &size, 0, px.baseAddress, 0, nil) != 0 else { return false }
            return true
        }
        guard ok, size > 0 else { throw PNGError(message: messageOf(&img)) }
        var out = [UInt8](repeating: 0, count: size)
        let ok2 = out.withUnsafeMutableBytes { o in
            image.pixels.withUnsafeBytes { px in png_image_write_to_memory(&img, o.baseAddress, &size, 0, px.baseAddress, 0, nil) }
        }
        guard ok2 != 0 else { throw PNGError(message: messageOf(&img)) }
        png_image_free(&img)
        return Array(out.prefix(size))
    }

    /// Whether a PNG stores colour (colour types 2, 3 and 6: RGB, palette, RGBA) or grey (0, 4),
    /// read from its IHDR chunk without decoding; nil when `bytes` does not start like a PNG.
    public static func isColour(_ bytes: [UInt8]) -> Bool? {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard bytes.count >= 26, Array(bytes[0..<8]) == signature, Array(bytes[12..<16]) == Array("IHDR".utf8) else { return nil }
        return bytes[25] & 2 != 0
    }

    /// png.h's PNG_IMAGE_FLAG_16BIT_sRGB: 16-bit samples are sRGB-encoded like 8-bit ones.
    static let flag16BitSRGB: png_uint_32 = 0x04

    /// Decodes a PNG of any colour type and bit depth (grey, grey + alpha, RGB, RGBA, palette,
    /// 1 to 16 bits, interlaced or not) to 8-bit grey (`channels: 1`) or RGB (`channels: 3`),
    /// through libpng's simplified API:
    /// - colour to grey and grey to colour as libpng converts them (grey from sRGB-linearised
    ///   RGB with the sRGB/Rec. 709 luminance weights);
    /// - alpha is composited onto black (`background`);
    /// - 16-bit samples are read as sRGB-encoded and scaled to 8 bits (v·255/65535 rounded), as
    ///   image viewers show them (without the flag libpng would read them as linear light).
    /// - `maxPixels`: the most `width × height` accepted, checked from the header before any
    ///   pixel memory is allocated (besides the 16384 per side always enforced).
    /// - Throws: `PNGError` for a damaged, truncated or oversized PNG.
    public static func decode(_ bytes: [UInt8], channels: Int = 3, maxPixels: Int? = nil) throws -> Image8 {
        precondition(channels == 1 || channels == 3, "decode to 1 or 3 channels")
        var img = png_image()
        img.version = png_uint_32(PNG_IMAGE_VERSION)
        let began = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&img, $0.baseAddress, $0.count) }
        guard began != 0 else { throw PNGError(message: messageOf(&img)) }
        img.format = channels == 3 ? formatRGB : formatGray
        img.flags |= flag16BitSRGB
        guard img.width <= 1 << 14, img.height <= 1 << 14, maxPixels.map({ Int(img.width) * Int(img.height) <= $0 }) ?? true else {
            png_image_free(&img); throw PNGError(message: "image \(img.width)×\(img.height) is too large")
        }
        var out = Image8(width: Int(img.width), height: Int(img.height), channels: channels)
        var black = png_color(red: 0, green: 0, blue: 0)
        let ok = bytes.withUnsafeBytes { _ in
            out.pixels.withUnsafeMutableBytes { png_image_finish_read(&img, &black, $0.baseAddress, 0, nil) }
        }
        guard ok != 0 else { throw PNGError(message: messageOf(&img)) }
        return out
    }

    private static func messageOf(_ img: inout png_image) -> String {
        withUnsafeBytes(of: &img.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
