import BigGANEngine
import BigGANImage
import Foundation

/// A folder of PNGs with one sub-folder per class (`root/<class name>/*.png`), classes in sorted
/// order. Images of another size are resized (area average) when `resize` is set, else skipped.
/// Unreadable or undecodable PNGs (and `.png` names that are not regular files) are skipped and
/// reported in `skipped`; other files are ignored. A class folder without a usable image is an
/// error naming it, as is a folder with no images at all.
///
/// Channels: `channels` 1 or 3, or nil to follow the data (3 when any PNG is colour, else 1).
/// Images of the other mode are converted by libpng; `converted` counts them.
public enum ImageFolder {
    public static func load(root: String, size: Int, channels: Int?, resize: Bool = true) throws -> ImageDataset {
        do { try InputFile.requireDirectory(root) }
        catch let e as FileAccessError {
            throw DatasetError(root, e.kind == .notFound ? "not a folder (no such file or directory)" : e.problem)
        }
        if let channels, channels != 1 && channels != 3 { throw DatasetError(root, "channels must be 1 or 3") }
        let classes = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { name in
            var d: ObjCBool = false
            return !name.hasPrefix(".") && FileManager.default.fileExists(atPath: (root as NSString).appendingPathComponent(name), isDirectory: &d) && d.boolValue
        }.sorted()
        guard !classes.isEmpty else { throw DatasetError(root, "has no class sub-folders (expected root/<class>/*.png)") }

        // Pass 1: read every file and its colour mode, so the channel count can follow the data.
        var files: [(path: String, label: Int, bytes: [UInt8], colour: Bool)] = [], skipped: [(String, String)] = []
        for (label, cls) in classes.enumerated() {
            let dir = (root as NSString).appendingPathComponent(cls)
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.lowercased().hasSuffix(".png") }.sorted()
            for f in names {
                let path = (dir as NSString).appendingPathComponent(f)
                do { try InputFile.requireRegularFile(path) }
                catch let e as FileAccessError { skipped.append((path, e.problem)); continue }
                guard let data = FileManager.default.contents(atPath: path) else { skipped.append((path, "cannot read file")); continue }
                let bytes = [UInt8](data)
                files.append((path, label, bytes, PNGCodec.isColour(bytes) ?? false))
            }
        }
        let target = channels ?? (files.contains { $0.colour } ? 3 : 1)

        // Pass 2: decode at the target channel count.
        var pixels = [UInt8](), labels = [Int](), converted = 0
        for f in files {
            let img: Image8
            do { img = try PNGCodec.decode(f.bytes, channels: target) }
            catch { skipped.append((f.path, "\(error)")); continue }
            if img.width == size && img.height == size { pixels += img.pixels }
            else if resize { pixels += areaResize(img, to: size).pixels }
            else { skipped.append((f.path, "is \(img.width)×\(img.height), expected \(size)×\(size)")); continue }
            labels.append(f.label)
            if f.colour != (target == 3) { converted += 1 }
        }
        guard !labels.isEmpty else {
            throw DatasetError(root, "no usable PNG images" + (skipped.isEmpty ? "" : " (\(skipped.count) skipped, first: \(skipped[0].0): \(skipped[0].1))"))
        }
        let used = Set(labels)
        let empty = classes.indices.filter { !used.contains($0) }.map { classes[$0] }
        guard empty.isEmpty else {
            throw DatasetError(root, "class folder\(empty.count == 1 ? "" : "s") with no usable PNG image: \(empty.joined(separator: ", ")) "
                               + "(every class needs images; remove \(empty.count == 1 ? "it" : "them") or add PNGs)")
        }
        return ImageDataset(width: size, height: size, channels: target, pixels: pixels, labels: labels, classNames: classes,
                            skipped: skipped, source: "folder:\(root)", converted: converted)
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
