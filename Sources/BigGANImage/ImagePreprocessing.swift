import BigGANEngine

/// An image made ready for an encoder: centre-cropped to a square, resized to the model's
/// resolution, in the model's channel count, scaled to [−1, 1] — as the BigBiGAN colab prepares
/// inputs (centre crop, resize, `x/127.5 − 1`;
/// ../shared/reference/stylegan-bigbigan-serving.md, section 2.2).
public struct PreprocessedImage: Sendable {
    /// `side × side × channels` values in [−1, 1], rows top to bottom, channels interleaved.
    public let values: [Float]
    public let side: Int
    public let channels: Int
    /// The source's size, and its PNG header when it came from a PNG.
    public let sourceWidth: Int, sourceHeight: Int
    public let header: PNGHeader?
    /// The square taken from the source: its top-left corner and side, in source pixels.
    public let crop: (x: Int, y: Int, side: Int)
    public let filter: ImagePreprocessing.Filter

    /// `[1, side, side, channels]`.
    public func tensor() -> Tensor { Tensor(shape: [1, side, side, channels], values: values) }

    /// The preprocessed image as 8-bit pixels (`round((x + 1)·127.5)`), as the model sees it.
    public var image8: Image8 { Image8(batch: tensor(), index: 0) }
}

/// What preprocessing did to an image, as `POST /v1/encode` and `biggan encode` report it.
public struct PreprocessingFacts: Encodable, Sendable {
    public struct Source: Encodable, Sendable {
        public let width: Int, height: Int, mode: String?, bitDepth: Int?, interlaced: Bool?
        enum CodingKeys: String, CodingKey { case width, height, mode, bitDepth = "bit_depth", interlaced }
    }
    public struct Crop: Encodable, Sendable { public let x: Int, y: Int, side: Int }
    /// The source's size and, from its PNG header, mode (`grey`, `grey+alpha`, `rgb`, `rgba`,
    /// `palette`), bit depth and interlacing.
    public let source: Source
    public let crop: Crop
    /// `area` (downscaling), `bicubic` (upscaling) or `none`.
    public let resize: String
    public let resolution: Int, channels: Int
    public let alpha = "composited on black"
    public let scale = "x/127.5 - 1"

    public init(_ p: PreprocessedImage) {
        source = Source(width: p.sourceWidth, height: p.sourceHeight, mode: p.header?.mode, bitDepth: p.header?.bitDepth,
                        interlaced: p.header?.interlaced)
        crop = Crop(x: p.crop.x, y: p.crop.y, side: p.crop.side)
        resize = p.filter.rawValue; resolution = p.side; channels = p.channels
    }
}

/// Centre crop, resize and scaling of input images for encoders (see `PreprocessedImage`).
///
/// Resizing is separable, computed in `Float` on the 8-bit values:
/// - downscaling (`area`): each output pixel is the mean of the source area it covers, partial
///   pixels weighted by their overlap (a box filter of the scale's width; OpenCV's `INTER_AREA`,
///   PIL's `BOX`): no aliasing, whatever the ratio;
/// - upscaling (`bicubic`): Keys' cubic convolution with a = −0.5 (PIL's and TensorFlow's
///   bicubic) at half-pixel centres, edges replicated, clamped to [0, 255];
/// - equal sizes (`none`): the crop as is.
public enum ImagePreprocessing {
    public enum Filter: String, Sendable { case none, area, bicubic }

    /// The most pixels (`width × height`) a decoded input may have: 2²⁴ (4096 × 4096).
    public static let defaultMaxPixels = 1 << 24

    /// Decodes `png` to `channels` (1 grey, 3 RGB; see `PNGCodec.decode` for colour and alpha
    /// conversion), after checking its header (`PNGHeader.parse`) and `maxPixels`, then
    /// preprocesses it to `side`.
    /// - Throws: `PNGError` (not a PNG, damaged, truncated); `ImageTooLarge` when the header
    ///   claims more than `maxPixels` pixels (nothing is decoded then).
    public static func decode(png: [UInt8], side: Int, channels: Int, maxPixels: Int = defaultMaxPixels) throws -> PreprocessedImage {
        let header = try PNGHeader.parse(png)
        guard header.pixels <= maxPixels else { throw ImageTooLarge(width: header.width, height: header.height, maxPixels: maxPixels) }
        let decoded = try PNGCodec.decode(png, channels: channels == 1 ? 1 : 3, maxPixels: maxPixels)
        return prepare(decoded, side: side, channels: channels, header: header)
    }

    /// Centre-crops `image` to a square (offsets rounded down), resizes it to `side` and scales
    /// it to [−1, 1]. `channels`: the target count, the image's own (default) or 3 from a grey
    /// image (grey copied to R, G and B); colour → grey happens when decoding (`decode(png:…)`).
    public static func prepare(_ image: Image8, side: Int, channels: Int? = nil, header: PNGHeader? = nil) -> PreprocessedImage {
        let c = channels ?? image.channels
        precondition(side > 0 && image.width > 0 && image.height > 0)
        precondition(c == image.channels || (image.channels == 1 && c == 3), "convert \(image.channels) → \(c) channels when decoding")
        let s = min(image.width, image.height)
        let x0 = (image.width - s) / 2, y0 = (image.height - s) / 2
        // The crop as floats, in the target channel count.
        var crop = [Float](repeating: 0, count: s * s * c)
        for y in 0..<s {
            for x in 0..<s {
                let src = ((y0 + y) * image.width + x0 + x) * image.channels, dst = (y * s + x) * c
                for k in 0..<c { crop[dst + k] = Float(image.pixels[src + (image.channels == 1 ? 0 : k)]) }
            }
        }
        let filter: Filter = s == side ? .none : s > side ? .area : .bicubic
        var values = filter == .none ? crop : resize(crop, from: s, to: side, channels: c, filter: filter)
        for i in values.indices { values[i] = min(255, max(0, values[i])) / 127.5 - 1 }
        return PreprocessedImage(values: values, side: side, channels: c, sourceWidth: image.width, sourceHeight: image.height,
                                 header: header, crop: (x0, y0, s), filter: filter)
    }

    /// One axis' taps: for each output index, `(source index, weight)` pairs summing to 1.
    static func taps(from n: Int, to m: Int, filter: Filter) -> [[(Int, Float)]] {
        let scale = Double(n) / Double(m)
        return (0..<m).map { j in
            switch filter {
            case .none:
                return [(j, 1)]
            case .area:
                let lo = Double(j) * scale, hi = Double(j + 1) * scale
                var out: [(Int, Float)] = []
                var i = Int(lo.rounded(.down))
                while Double(i) < hi && i < n {
                    let overlap = min(hi, Double(i + 1)) - max(lo, Double(i))
                    if overlap > 0 { out.append((i, Float(overlap / scale))) }
                    i += 1
                }
                return out
            case .bicubic:
                let centre = (Double(j) + 0.5) * scale - 0.5
                let base = Int(centre.rounded(.down))
                return (base - 1...base + 2).map { i in (min(max(i, 0), n - 1), Float(keys(centre - Double(i)))) }
            }
        }
    }

    /// Keys' cubic convolution kernel with a = −0.5.
    static func keys(_ t: Double) -> Double {
        let a = -0.5, x = abs(t)
        if x <= 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
        if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        return 0
    }

    /// Resizes a square `n × n × c` plane to `m × m`: rows first, then columns.
    static func resize(_ plane: [Float], from n: Int, to m: Int, channels c: Int, filter: Filter) -> [Float] {
        let t = taps(from: n, to: m, filter: filter)
        var rows = [Float](repeating: 0, count: n * m * c)   // n rows × m columns
        for y in 0..<n {
            for (x, tx) in t.enumerated() {
                for k in 0..<c {
                    var v: Float = 0
                    for (i, w) in tx { v += w * plane[(y * n + i) * c + k] }
                    rows[(y * m + x) * c + k] = v
                }
            }
        }
        var out = [Float](repeating: 0, count: m * m * c)
        for (y, ty) in t.enumerated() {
            for x in 0..<m {
                for k in 0..<c {
                    var v: Float = 0
                    for (i, w) in ty { v += w * rows[(i * m + x) * c + k] }
                    out[(y * m + x) * c + k] = v
                }
            }
        }
        return out
    }
}

/// A PNG whose header claims more pixels than accepted (a decompression bomb, or simply too
/// large); nothing was decoded.
public struct ImageTooLarge: Error, CustomStringConvertible, Sendable {
    public let width: Int, height: Int, maxPixels: Int
    public var description: String {
        "the image is \(width)×\(height) = \(width * height) pixels; at most \(maxPixels) are accepted"
    }
}
