import Foundation

/// PNGs of any colour type and bit depth, written byte by byte (zlib stream of stored deflate
/// blocks, no compression): for testing decoders on modes the project's encoder never writes
/// (grey + alpha, RGBA, palette, 16-bit), and for crafting hostile headers.
public enum RawPNG {
    /// A PNG of `width × height` samples (`channels` per pixel: 1 grey or palette index, 2 grey +
    /// alpha, 3 RGB, 4 RGBA), each `bitDepth` bits (8 or 16; big-endian for 16), row filter 0.
    /// `palette`: RGB triples for colour type 3.
    public static func make(width: Int, height: Int, colourType: UInt8, bitDepth: UInt8 = 8, samples: [UInt16],
                            palette: [UInt8]? = nil) -> [UInt8] {
        let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][Int(colourType)]!
        precondition(samples.count == width * height * channels)
        var raw: [UInt8] = []
        for y in 0..<height {
            raw.append(0)
            for s in samples[(y * width * channels)..<((y + 1) * width * channels)] {
                if bitDepth == 16 { raw += [UInt8(s >> 8), UInt8(s & 0xFF)] } else { raw.append(UInt8(s)) }
            }
        }
        var out = signature
        out += chunk("IHDR", be32(width) + be32(height) + [bitDepth, colourType, 0, 0, 0])
        if let palette { out += chunk("PLTE", palette) }
        out += chunk("IDAT", zlibStored(raw))
        out += chunk("IEND", [])
        return out
    }

    /// A header-only PNG (signature + IHDR with a valid CRC) claiming `width × height`, followed
    /// by `tail` (e.g. a tiny IDAT): a decompression-bomb header.
    public static func header(width: UInt32, height: UInt32, colourType: UInt8 = 2, bitDepth: UInt8 = 8, tail: [UInt8] = []) -> [UInt8] {
        signature + chunk("IHDR", be32(Int(width)) + be32(Int(height)) + [bitDepth, colourType, 0, 0, 0]) + tail
    }

    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    public static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(data.count) + body + be32(Int(crc32(body)))
    }

    static func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }

    /// zlib (RFC 1950) around stored deflate blocks (RFC 1951 §3.2.4), Adler-32 at the end.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var at = 0
        repeat {
            let n = min(65535, data.count - at), last: UInt8 = at + n == data.count ? 1 : 0
            out += [last, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[at..<at + n]
            at += n
        } while at < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for x in data { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
        return out + be32(Int(b << 16 | a))
    }
}
