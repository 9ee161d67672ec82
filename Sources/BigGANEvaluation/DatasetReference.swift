import BigGANDatasets
import BigGANEngine
import Foundation

/// A model's training data as named in its config (`ModelConfig.dataset`):
/// `fashion-mnist`, `fashion-mnist:<folder of IDX files>`, or `folder:<root>` (one sub-folder per class).
public struct DatasetReference: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case fashionMNIST(directory: String), folder(root: String) }
    public let kind: Kind

    public init(_ text: String) throws {
        if text == "fashion-mnist" { kind = .fashionMNIST(directory: FashionMNIST.defaultDirectory); return }
        if text.hasPrefix("fashion-mnist:") { kind = .fashionMNIST(directory: String(text.dropFirst("fashion-mnist:".count))); return }
        if text.hasPrefix("folder:") { kind = .folder(root: String(text.dropFirst("folder:".count))); return }
        throw DatasetError(text, "unknown data set reference (use fashion-mnist, fashion-mnist:<dir> or folder:<root>)")
    }

    public var description: String {
        switch kind {
        case .fashionMNIST(let d): return d == FashionMNIST.defaultDirectory ? "fashion-mnist" : "fashion-mnist:\(d)"
        case .folder(let r): return "folder:\(r)"
        }
    }

    /// Loads a split. Folders have no test split: `test` gives every fifth image (indices ≡ 4 mod 5),
    /// `train` the rest, deterministically.
    public func load(split: FashionMNIST.Split, size: Int = 32, channels: Int = 1) throws -> ImageDataset {
        switch kind {
        case .fashionMNIST(let dir):
            return try FashionMNIST.load(directory: dir, split: split)
        case .folder(let root):
            let all = try ImageFolder.load(root: root, size: size, channels: channels)
            let keep = (0..<all.count).filter { split == .test ? $0 % 5 == 4 : $0 % 5 != 4 }
            var px = [UInt8](); px.reserveCapacity(keep.count * all.imageBytes)
            for i in keep { px += all.pixels[(i * all.imageBytes)..<((i + 1) * all.imageBytes)] }
            return ImageDataset(width: all.width, height: all.height, channels: all.channels, pixels: px,
                                labels: keep.map { all.labels[$0] }, classNames: all.classNames, skipped: all.skipped,
                                source: all.source + ":\(split.rawValue)")
        }
    }
}
