/// A PNG's IHDR chunk (PNG specification, 3rd edition, §11.2.1), read from the first 33 bytes
/// without decoding anything: what a server checks before it lets libpng allocate
/// `width × height` pixels (a few hundred bytes of zlib can claim gigapixels).
public struct PNGHeader: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// Bits per sample (per palette index for palette images): 1, 2, 4, 8 or 16.
    public let bitDepth: Int
    /// 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA.
    public let colourType: Int
    public let interlaced: Bool

    /// The 8-byte PNG signature.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// `grey`, `grey+alpha`, `rgb`, `rgba` or `palette`.
    public var mode: String {
        switch colourType {
        case 0: return "grey"
        case 2: return "rgb"
        case 3: return "palette"
        case 4: return "grey+alpha"
        default: return "rgba"
        }
    }

    /// Whether the colour type carries an alpha channel (a palette's tRNS chunk is not seen here).
    public var hasAlpha: Bool { colourType == 4 || colourType == 6 }

    /// `width · height` (at most (2³¹−1)², which fits an `Int`).
    public var pixels: Int { width * height }

    /// Parses the signature and the IHDR chunk that must follow it.
    /// - Throws: `PNGError` saying what is wrong: too short, not a PNG signature, no IHDR first,
    ///   a CRC mismatch, a zero or out-of-range size, an invalid bit depth for the colour type,
    ///   an unknown compression, filter or interlace method.
    public static func parse(_ bytes: [UInt8]) throws -> PNGHeader {
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else {
            throw PNGError(message: bytes.isEmpty ? "empty body" : "not a PNG (the body does not start with the PNG signature)")
        }
        guard bytes.count >= 33 else { throw PNGError(message: "truncated PNG: \(bytes.count) bytes, shorter than its header") }
        func u32(_ at: Int) -> UInt32 { bytes[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        guard u32(8) == 13, Array(bytes[12..<16]) == Array("IHDR".utf8) else { throw PNGError(message: "invalid PNG: the first chunk is not a 13-byte IHDR") }
        guard CRC32.checksum(bytes[12..<29]) == u32(29) else { throw PNGError(message: "invalid PNG: IHDR CRC mismatch (corrupted header)") }
        let w = u32(16), h = u32(20)
        guard w > 0, h > 0, w <= 0x7FFF_FFFF, h <= 0x7FFF_FFFF else { throw PNGError(message: "invalid PNG: image size \(w)×\(h)") }
        let depth = Int(bytes[24]), colour = Int(bytes[25])
        let allowed: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
        guard let depths = allowed[colour] else { throw PNGError(message: "invalid PNG: colour type \(colour)") }
        guard depths.contains(depth) else { throw PNGError(message: "invalid PNG: bit depth \(depth) with colour type \(colour)") }
        guard bytes[26] == 0, bytes[27] == 0, bytes[28] <= 1 else {
            throw PNGError(message: "invalid PNG: compression \(bytes[26]), filter \(bytes[27]), interlace \(bytes[28])")
        }
        return PNGHeader(width: Int(w), height: Int(h), bitDepth: depth, colourType: colour, interlaced: bytes[28] == 1)
    }
}

/// CRC-32 (ISO 3309, polynomial 0xEDB88320, reflected), as PNG chunks use.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        (0..<8).reduce(UInt32(n)) { c, _ in c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        ~bytes.reduce(0xFFFF_FFFF as UInt32) { c, b in table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
    }
}
