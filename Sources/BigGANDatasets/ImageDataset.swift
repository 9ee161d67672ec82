import BigGANEngine
import Foundation

/// A labelled image data set held as 8-bit pixels (`[N, H, W, C]`, row-major), converted to
/// [−1, 1] floats batch by batch.
public struct ImageDataset: Sendable {
    public let width: Int
    public let height: Int
    public let channels: Int
    /// `count * height * width * channels` bytes.
    public let pixels: [UInt8]
    public let labels: [Int]
    public let classNames: [String]
    /// Files that were skipped while loading, with the reason.
    public let skipped: [(path: String, reason: String)]
    /// Where the data came from (for provenance and cache keys).
    public let source: String
    /// Images converted from the other colour mode while loading (grey → RGB when `channels` is
    /// 3, colour → grey when 1).
    public let converted: Int

    public var count: Int { labels.count }
    public var imageBytes: Int { width * height * channels }

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8], labels: [Int], classNames: [String],
                skipped: [(path: String, reason: String)] = [], source: String, converted: Int = 0) {
        precondition(pixels.count == labels.count * width * height * channels)
        self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
        self.labels = labels; self.classNames = classNames; self.skipped = skipped; self.source = source
        self.converted = converted
    }

    /// "12 greyscale images converted to RGB" (or colour to greyscale), nil when none were.
    public var conversionNote: String? {
        guard converted > 0 else { return nil }
        let one = converted == 1
        return channels == 3 ? "\(converted) greyscale image\(one ? "" : "s") converted to RGB"
                             : "\(converted) colour image\(one ? "" : "s") converted to greyscale"
    }

    /// The same images with `c` channels (grey replicated to RGB; RGB to grey by Rec. 601 luma).
    public func converting(toChannels c: Int) -> ImageDataset {
        guard c != channels else { return self }
        precondition(c == 1 || c == 3, "channels must be 1 or 3")
        let n = width * height
        var out = [UInt8](repeating: 0, count: count * n * c)
        for i in 0..<(count * n) {
            if c == 3 {
                let v = pixels[i]
                out[3 * i] = v; out[3 * i + 1] = v; out[3 * i + 2] = v
            } else {
                let r = Double(pixels[3 * i]), g = Double(pixels[3 * i + 1]), b = Double(pixels[3 * i + 2])
                out[i] = UInt8(min(255, (0.299 * r + 0.587 * g + 0.114 * b).rounded()))
            }
        }
        return ImageDataset(width: width, height: height, channels: c, pixels: out, labels: labels, classNames: classNames,
                            skipped: skipped, source: source, converted: count - converted)
    }

    /// Images `indices` as `[B, H, W, C]` floats, `x/127.5 − 1`, and their labels.
    public func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]) {
        let t = Tensor(uninitializedShape: [indices.count, height, width, channels])
        let n = imageBytes
        pixels.withUnsafeBufferPointer { px in
            for (k, i) in indices.enumerated() {
                let src = px.baseAddress! + i * n, dst = t.data + k * n
                for j in 0..<n { dst[j] = Float(src[j]) / 127.5 - 1 }
            }
        }
        return (t, indices.map { labels[$0] })
    }

    /// Number of images per class.
    public var classCounts: [Int] {
        var c = [Int](repeating: 0, count: classNames.count)
        for l in labels { c[l] += 1 }
        return c
    }

    /// A stable 64-bit FNV-1a digest of the pixels and labels (hex), for cache invalidation.
    public var contentHash: String {
        var h = FNV1a()
        for v in [width, height, channels, count] { withUnsafeBytes(of: UInt32(v).littleEndian) { h.mix($0) } }
        h.mix(pixels)
        for l in labels { h.mix(UInt8(truncatingIfNeeded: l)) }
        return h.hex
    }
}

/// A data set that cannot be used; names the file.
public struct DatasetError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let message: String
    public init(_ path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}
