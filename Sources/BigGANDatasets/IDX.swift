import BigGANEngine
import Foundation

/// The IDX format of (Fashion-)MNIST: a big-endian magic `0x0000TTDD` (TT = element type,
/// 0x08 = unsigned byte; DD = number of dimensions), DD big-endian UInt32 sizes, then the data.
/// Files may be gzip-compressed.
public enum IDX {
    public struct Array {
        public let shape: [Int]
        public let bytes: [UInt8]
    }

    public static func read(path: String) throws -> Array {
        do { try InputFile.requireRegularFile(path) } catch let e as FileAccessError { throw DatasetError(path, e.problem) }
        guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError(path, "cannot read file") }
        var raw = [UInt8](data)
        if Gzip.isGzip(raw) { raw = try Gzip.decompress(raw, path: path) }
        return try parse(raw, path: path)
    }

    public static func parse(_ raw: [UInt8], path: String) throws -> Array {
        guard raw.count >= 4 else { throw DatasetError(path, "truncated: \(raw.count) bytes, too short for an IDX header") }
        guard raw[0] == 0, raw[1] == 0 else { throw DatasetError(path, "not an IDX file (bad magic)") }
        guard raw[2] == 0x08 else { throw DatasetError(path, String(format: "unsupported IDX element type 0x%02x (only unsigned bytes)", raw[2])) }
        let dims = Int(raw[3])
        guard (1...4).contains(dims) else { throw DatasetError(path, "unsupported IDX rank \(dims)") }
        guard raw.count >= 4 + 4 * dims else { throw DatasetError(path, "truncated IDX header") }
        var shape: [Int] = []
        for d in 0..<dims {
            let o = 4 + 4 * d
            shape.append(Int(raw[o]) << 24 | Int(raw[o + 1]) << 16 | Int(raw[o + 2]) << 8 | Int(raw[o + 3]))
        }
        let count = shape.reduce(1, *)
        let start = 4 + 4 * dims
        guard raw.count - start == count else {
            throw DatasetError(path, "holds \(raw.count - start) data bytes but its header \(shape) needs \(count)" + (raw.count - start < count ? " (truncated)" : ""))
        }
        return Array(shape: shape, bytes: [UInt8](raw[start...]))
    }
}

/// Fashion-MNIST from its IDX files (the Debian package `dataset-fashion-mnist` installs them in
/// /usr/share/datasets/fashion-mnist), 28×28 grey padded with 2 black pixels to 32×32.
public enum FashionMNIST {
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    public enum Split: String, Sendable { case train, test }

    /// Loads a split; files are `train-images-idx3-ubyte[.gz]` / `t10k-...`.
    public static func load(directory: String = defaultDirectory, split: Split, pad: Int = 2) throws -> ImageDataset {
        let prefix = split == .train ? "train" : "t10k"
        func find(_ name: String) throws -> String {
            for candidate in [name + ".gz", name] {
                let p = (directory as NSString).appendingPathComponent(candidate)
                if FileManager.default.fileExists(atPath: p) { return p }
            }
            throw DatasetError((directory as NSString).appendingPathComponent(name + ".gz"),
                               "not found (install the Debian package dataset-fashion-mnist, or pass the folder holding the IDX files)")
        }
        let imgPath = try find("\(prefix)-images-idx3-ubyte"), labPath = try find("\(prefix)-labels-idx1-ubyte")
        let images = try IDX.read(path: imgPath), labels = try IDX.read(path: labPath)
        guard images.shape.count == 3 else { throw DatasetError(imgPath, "expected a rank-3 image array, got shape \(images.shape)") }
        guard labels.shape.count == 1 else { throw DatasetError(labPath, "expected a rank-1 label array, got shape \(labels.shape)") }
        let (n, h, w) = (images.shape[0], images.shape[1], images.shape[2])
        guard labels.shape[0] == n else { throw DatasetError(labPath, "\(labels.shape[0]) labels for \(n) images in \(imgPath)") }
        if let bad = labels.bytes.firstIndex(where: { $0 >= 10 }) { throw DatasetError(labPath, "label \(labels.bytes[bad]) at index \(bad) is not a Fashion-MNIST class (0...9)") }
        let (oh, ow) = (h + 2 * pad, w + 2 * pad)
        var px = [UInt8](repeating: 0, count: n * oh * ow)
        images.bytes.withUnsafeBufferPointer { src in
            px.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n { for y in 0..<h {
                    let s = src.baseAddress! + (i * h + y) * w
                    let d = dst.baseAddress! + (i * oh + y + pad) * ow + pad
                    d.update(from: s, count: w)
                } }
            }
        }
        return ImageDataset(width: ow, height: oh, channels: 1, pixels: px, labels: labels.bytes.map(Int.init),
                            classNames: classNames, source: "fashion-mnist:\(split.rawValue):\(directory)")
    }
}
