import BigGANEngine
import BigGANImage
import Foundation

/// A folder of PNGs with one sub-folder per class (`root/<class name>/*.png`), classes in sorted
/// order. Images of another size are resized (area average) when `resize` is set, else skipped.
/// Unreadable or undecodable PNGs are skipped and reported in `skipped`; other files are ignored.
public enum ImageFolder {
    public static func load(root: String, size: Int, channels: Int, resize: Bool = true) throws -> ImageDataset {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw DatasetError(root, "not a folder")
        }
        guard channels == 1 || channels == 3 else { throw DatasetError(root, "channels must be 1 or 3") }
        let classes = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { name in
            var d: ObjCBool = false
            return !name.hasPrefix(".") && FileManager.default.fileExists(atPath: (root as NSString).appendingPathComponent(name), isDirectory: &d) && d.boolValue
        }.sorted()
        guard !classes.isEmpty else { throw DatasetError(root, "has no class sub-folders (expected root/<class>/*.png)") }
        var pixels = [UInt8](), labels = [Int](), skipped: [(String, String)] = []
        for (label, cls) in classes.enumerated() {
            let dir = (root as NSString).appendingPathComponent(cls)
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.lowercased().hasSuffix(".png") }.sorted()
            for f in files {
                let path = (dir as NSString).appendingPathComponent(f)
                guard let data = FileManager.default.contents(atPath: path) else { skipped.append((path, "cannot read file")); continue }
                let img: Image8
                do { img = try PNGCodec.decode([UInt8](data), channels: channels) }
                catch { skipped.append((path, "\(error)")); continue }
                if img.width == size && img.height == size { pixels += img.pixels }
                else if resize { pixels += areaResize(img, to: size).pixels }
                else { skipped.append((path, "is \(img.width)×\(img.height), expected \(size)×\(size)")); continue }
                labels.append(label)
            }
        }
        guard !labels.isEmpty else {
            throw DatasetError(root, "no usable PNG images" + (skipped.isEmpty ? "" : " (\(skipped.count) skipped, first: \(skipped[0].0): \(skipped[0].1))"))
        }
        return ImageDataset(width: size, height: size, channels: channels, pixels: pixels, labels: labels, classNames: classes,
                            skipped: skipped, source: "folder:\(root)")
    }

    /// Resizes by averaging the source area under each output pixel (box filter; exact for
    /// integer downscales, nearest-like for upscales).
    static func areaResize(_ img: Image8, to size: Int) -> Image8 {
        var out = Image8(width: size, height: size, channels: img.channels)
        let sx = Double(img.width) / Double(size), sy = Double(img.height) / Double(size)
        for y in 0..<size {
            let y0 = Int(Double(y) * sy), y1 = max(y0 + 1, Int((Double(y + 1) * sy).rounded(.up)))
            for x in 0..<size {
                let x0 = Int(Double(x) * sx), x1 = max(x0 + 1, Int((Double(x + 1) * sx).rounded(.up)))
                for c in 0..<img.channels {
                    var sum = 0, n = 0
                    for yy in y0..<min(y1, img.height) { for xx in x0..<min(x1, img.width) { sum += Int(img.pixels[(yy * img.width + xx) * img.channels + c]); n += 1 } }
                    out.pixels[(y * size + x) * img.channels + c] = UInt8((Double(sum) / Double(max(n, 1))).rounded())
                }
            }
        }
        return out
    }
}
