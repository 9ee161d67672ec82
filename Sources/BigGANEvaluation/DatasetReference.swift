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

    /// Every `heldOutEvery`-th image of each class of a folder is held out for evaluation.
    public static let heldOutEvery = 5

    /// Loads a split. Folders have no test split of their own: within each class, every fifth
    /// image in file-name order (the 5th, 10th, …) is held out as the `test` split (20 %); `train`
    /// is the rest, so a class with at least one image always has a training image.
    /// `channels`: 1 or 3, or nil to follow the data (folders: 3 when any PNG is colour;
    /// Fashion-MNIST: 1). Fashion-MNIST asked for 3 channels is converted.
    public func load(split: FashionMNIST.Split, size: Int = 32, channels: Int? = 1) throws -> ImageDataset {
        switch kind {
        case .fashionMNIST(let dir):
            let d = try FashionMNIST.load(directory: dir, split: split)
            return channels.map { d.converting(toChannels: $0) } ?? d
        case .folder:
            let (train, test) = try loadSplits(size: size, channels: channels)
            return split == .train ? train : test
        }
    }

    /// Both splits from one read of the data.
    public func loadSplits(size: Int = 32, channels: Int? = 1) throws -> (train: ImageDataset, test: ImageDataset) {
        switch kind {
        case .fashionMNIST:
            return (try load(split: .train, size: size, channels: channels), try load(split: .test, size: size, channels: channels))
        case .folder(let root):
            let all = try ImageFolder.load(root: root, size: size, channels: channels)
            var seen = [Int](repeating: 0, count: all.classNames.count)
            var isTest = [Bool]()
            for l in all.labels { seen[l] += 1; isTest.append(seen[l] % Self.heldOutEvery == 0) }
            func subset(_ test: Bool, _ split: FashionMNIST.Split) -> ImageDataset {
                let keep = (0..<all.count).filter { isTest[$0] == test }
                var px = [UInt8](); px.reserveCapacity(keep.count * all.imageBytes)
                for i in keep { px += all.pixels[(i * all.imageBytes)..<((i + 1) * all.imageBytes)] }
                return ImageDataset(width: all.width, height: all.height, channels: all.channels, pixels: px,
                                    labels: keep.map { all.labels[$0] }, classNames: all.classNames, skipped: all.skipped,
                                    source: all.source + ":\(split.rawValue)", converted: all.converted)
            }
            return (subset(false, .train), subset(true, .test))
        }
    }
}
