import BigGANDatasets
import BigGANEngine
import Foundation

/// Nearest training images of generated samples (paper, appendix A), in pixel space or in the
/// data-set classifier's feature space.
///
/// - Pixel space: the training images themselves (`[N, H·W·C]` in [−1, 1]) are the index; built
///   in memory from the data set on first use (~1 s and 245 MB for Fashion-MNIST's 60,000).
/// - Feature space: the classifier's penultimate features of every training image, computed once
///   and cached as `<cacheDirectory>/neighbours-<dataset hash>-<classifier fingerprint>.safetensors`;
///   a changed data set or classifier changes the name, so a stale cache is never used.
///
/// Lookups are exact (`NeighbourIndex`, blocked sgemm). Not thread-safe: callers serialise (the
/// server runs it on its compute worker).
public final class NeighbourService: @unchecked Sendable {
    public enum Space: String, Sendable, CaseIterable { case pixel, feature }

    public struct Result: Sendable {
        public let matches: [NeighbourIndex.Match]
        /// The neighbours' images, `[k, H, W, C]` in [−1, 1].
        public let images: Tensor
    }

    public let dataset: DatasetReference
    public let classifier: Classifier?
    public let cacheDirectory: String
    private var data: ImageDataset?
    private var indices: [Space: NeighbourIndex] = [:]
    /// Called with progress messages while an index is being built.
    public var log: (String) -> Void = { _ in }

    public init(dataset: DatasetReference, classifier: Classifier?, cacheDirectory: String) {
        self.dataset = dataset; self.classifier = classifier; self.cacheDirectory = cacheDirectory
    }

    func trainingData(size: Int, channels: Int) throws -> ImageDataset {
        if let data { return data }
        let d = try dataset.load(split: .train, size: size, channels: channels)
        data = d
        return d
    }

    /// Builds (or loads) the index for `space`.
    public func index(_ space: Space, size: Int, channels: Int) throws -> NeighbourIndex {
        if let i = indices[space] { return i }
        let d = try trainingData(size: size, channels: channels)
        let index: NeighbourIndex
        switch space {
        case .pixel:
            let start = Date()
            index = NeighbourIndex(vectors: d.batch(Array(0..<d.count)).images.reshaped([d.count, d.imageBytes]), labels: d.labels)
            log(String(format: "pixel neighbour index: %d images × %d values in %.1f s", d.count, d.imageBytes, Date().timeIntervalSince(start)))
        case .feature:
            guard let c = classifier else { throw NeighbourError.noClassifier }
            index = NeighbourIndex(vectors: try cachedFeatures(d, c), labels: d.labels)
        }
        indices[space] = index
        return index
    }

    func cachedFeatures(_ d: ImageDataset, _ c: Classifier) throws -> Tensor {
        let path = (cacheDirectory as NSString).appendingPathComponent("neighbours-\(d.contentHash)-\(c.fingerprint).safetensors")
        if let file = try? SafeTensorsFile(path: path), let f = try? file.tensor("features"),
           f.shape == [d.count, c.config.featureDim] {
            log("feature neighbour index: loaded \(path)")
            return f
        }
        let start = Date()
        let features = Tensor(uninitializedShape: [d.count, c.config.featureDim])
        var s = 0
        while s < d.count {
            let m = min(256, d.count - s)
            let f = c.run(d.batch(Array(s..<(s + m))).images).features
            (features.data + s * c.config.featureDim).update(from: f.data, count: f.count)
            s += m
        }
        log(String(format: "feature neighbour index: %d images in %.1f s, cached at %@", d.count, Date().timeIntervalSince(start), path))
        try? FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        try? SafeTensorsWriter.write([("features", features)], metadata: ["dataset": d.source, "dataset_hash": d.contentHash,
                                                                          "classifier": c.fingerprint], to: path)
        return features
    }

    /// The `k` nearest training images to `image` (`[1, H, W, C]`), optionally only of `classIndex`.
    public func neighbours(of image: Tensor, k: Int, space: Space, restrictTo classIndex: Int?) throws -> Result {
        let (h, w, c) = (image.shape[1], image.shape[2], image.shape[3])
        let idx = try index(space, size: h, channels: c)
        let d = try trainingData(size: h, channels: c)
        guard d.width == w, d.height == h, d.channels == c else {
            throw NeighbourError.shapeMismatch("the data set holds \(d.width)×\(d.height)×\(d.channels) images, the model makes \(w)×\(h)×\(c)")
        }
        let query: Tensor
        switch space {
        case .pixel: query = image.reshaped([1, h * w * c])
        case .feature: query = classifier!.run(image).features
        }
        let matches = idx.search(query, k: k, label: [classIndex])[0]
        return Result(matches: matches, images: d.batch(matches.map(\.index)).images)
    }
}

public enum NeighbourError: Error, CustomStringConvertible, Equatable {
    case noClassifier
    case shapeMismatch(String)
    public var description: String {
        switch self {
        case .noClassifier: return "no classifier for this model, so no feature space (train one with `biggan-train classifier`)"
        case .shapeMismatch(let s): return s
        }
    }
}
