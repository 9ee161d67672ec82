import BigGANTestSupport
import Testing
@testable import BigGANEngine
@testable import BigGANImage

/// Decoding every PNG mode, the IHDR check, and the encoder's preprocessing (centre crop,
/// area / bicubic resize, scaling to [−1, 1]).
@Suite struct PreprocessingTests {
    static let (w, h) = (6, 4)
    /// Grey levels of the test pattern.
    static let grey: [UInt16] = (0..<(w * h)).map { UInt16(($0 * 41 + 7) % 256) }

    /// The pattern in every PNG mode (R = G = B in colour modes, alpha opaque).
    static let modes: [(String, [UInt8])] = [
        ("grey", RawPNG.make(width: w, height: h, colourType: 0, samples: grey)),
        ("grey+alpha", RawPNG.make(width: w, height: h, colourType: 4, samples: grey.flatMap { [$0, 255] })),
        ("rgb", RawPNG.make(width: w, height: h, colourType: 2, samples: grey.flatMap { [$0, $0, $0] })),
        ("rgba", RawPNG.make(width: w, height: h, colourType: 6, samples: grey.flatMap { [$0, $0, $0, 255] })),
        ("palette", RawPNG.make(width: w, height: h, colourType: 3, samples: (0..<(w * h)).map { UInt16($0) },
                                palette: grey.flatMap { [UInt8($0), UInt8($0), UInt8($0)] })),
        ("grey", RawPNG.make(width: w, height: h, colourType: 0, bitDepth: 16, samples: grey.map { $0 * 257 })),
        ("rgba", RawPNG.make(width: w, height: h, colourType: 6, bitDepth: 16, samples: grey.flatMap { [$0 * 257, $0 * 257, $0 * 257, 65535] })),
    ]

    @Test func everyModeDecodesToThePattern() throws {
        for (mode, png) in Self.modes {
            let header = try PNGHeader.parse(png)
            #expect(header.mode == mode && header.width == Self.w && header.height == Self.h)
            for channels in [1, 3] {
                let img = try PNGCodec.decode(png, channels: channels)
                #expect(img.channels == channels && img.width == Self.w)
                for (i, g) in Self.grey.enumerated() {
                    for k in 0..<channels {
                        #expect(abs(Int(img.pixels[i * channels + k]) - Int(g)) <= 1, "\(mode) \(header.bitDepth)-bit → \(channels): pixel \(i)")
                    }
                }
            }
        }
    }

    @Test func alphaIsCompositedOnBlack() throws {
        let half = RawPNG.make(width: 2, height: 1, colourType: 6, samples: [200, 200, 200, 0, 200, 200, 200, 255])
        let img = try PNGCodec.decode(half, channels: 3)
        #expect(img.pixels == [0, 0, 0, 200, 200, 200])
    }

    @Test func hostileHeadersAreRefusedWithoutDecoding() throws {
        let good = Self.modes[0].1
        #expect(throws: PNGError.self) { try PNGHeader.parse([]) }
        #expect(throws: PNGError.self) { try PNGHeader.parse(Array("hello, this is not a png at all".utf8)) }
        #expect(throws: PNGError.self) { try PNGHeader.parse(Array(good.prefix(20))) }
        var badCRC = good; badCRC[17] ^= 0x40
        #expect(throws: PNGError.self) { try PNGHeader.parse(badCRC) }
        #expect(throws: PNGError.self) { try PNGHeader.parse(RawPNG.header(width: 4, height: 4, colourType: 2, bitDepth: 4)) }
        #expect(throws: PNGError.self) { try PNGHeader.parse(RawPNG.header(width: 0, height: 4)) }
        // A bomb: the header claims 100,000² pixels; refused before libpng allocates anything.
        let bomb = RawPNG.header(width: 100_000, height: 100_000, tail: RawPNG.chunk("IDAT", [0x78, 0x01, 0x01, 0, 0, 0xFF, 0xFF, 0, 0, 0, 1]))
        #expect(try PNGHeader.parse(bomb).pixels == 10_000_000_000)
        #expect(throws: ImageTooLarge.self) { try ImagePreprocessing.decode(png: bomb, side: 32, channels: 3) }
        // Truncated data after a valid header.
        #expect(throws: PNGError.self) { try PNGCodec.decode(Array(good.prefix(good.count - 20))) }
        #expect(throws: PNGError.self) { try ImagePreprocessing.decode(png: Array(good.prefix(40)), side: 4, channels: 1) }
    }

    @Test func centreCropAndResize() throws {
        // 12 × 8 grey: crop x = 2, side 8; same-size output is the crop itself.
        var img = Image8(width: 12, height: 8, channels: 1)
        for i in 0..<img.pixels.count { img.pixels[i] = UInt8(i % 251) }
        let same = ImagePreprocessing.prepare(img, side: 8)
        #expect(same.crop == (2, 0, 8) && same.filter == .none)
        #expect(same.values[0] == Float(img.pixels[2]) / 127.5 - 1 && same.values[9] == Float(img.pixels[12 + 3]) / 127.5 - 1)
        // Area downscaling by 2 averages 2×2 blocks exactly; by 8/3 it stays a mean (within range).
        let down = ImagePreprocessing.prepare(img, side: 4)
        #expect(down.filter == .area)
        let block = [img.pixels[2], img.pixels[3], img.pixels[14], img.pixels[15]].map(Float.init).reduce(0, +) / 4
        #expect(abs(down.values[0] - (block / 127.5 - 1)) < 1e-5)
        let odd = ImagePreprocessing.prepare(img, side: 3)
        #expect(odd.values.allSatisfy { $0 >= -1 && $0 <= 1 } && odd.values.count == 9)
        // Upscaling (bicubic) keeps a constant image constant and grey → RGB copies the grey.
        let flat = Image8(width: 5, height: 7, channels: 1, fill: 90)
        let up = ImagePreprocessing.prepare(flat, side: 32, channels: 3)
        #expect(up.filter == .bicubic && up.channels == 3 && up.crop == (0, 1, 5))
        #expect(up.values.allSatisfy { abs($0 - (90 / 127.5 - 1)) < 1e-5 })
        #expect(up.tensor().shape == [1, 32, 32, 3] && up.image8.pixels.allSatisfy { $0 == 90 })
    }

    @Test func areaTapsCoverEachSourcePixelOnce() {
        for (n, m) in [(10, 3), (64, 32), (7, 7), (100, 33)] {
            let taps = ImagePreprocessing.taps(from: n, to: m, filter: .area)
            var cover = [Float](repeating: 0, count: n)
            for t in taps {
                #expect(abs(t.reduce(0) { $0 + $1.1 } - 1) < 1e-5)
                for (i, w) in t { cover[i] += w * Float(n) / Float(m) }
            }
            #expect(cover.allSatisfy { abs($0 - 1) < 1e-4 }, "\(n) → \(m)")
        }
    }
}
