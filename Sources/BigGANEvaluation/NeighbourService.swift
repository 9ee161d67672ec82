import BigGANDatasets
import BigGANEngine
import Foundation

/// Nearest training images of generated samples (paper, appendix A), in pixel space or in the
/// data-set classifier's feature space.
///
/// - Pixel space: the training images themselves (`[N, H·W·C]` in [−1, 1]) are the index; built
///   in memory from the data set (~2.5 s and 245 MB for Fashion-MNIST's 60,000).
/// - Feature space: the classifier's penultimate features of every training image, computed once
///   (in batches of `featureBatch` images) and cached as
///   `<cacheDirectory>/neighbours-<dataset hash>-<classifier fingerprint>.safetensors`; a changed
///   data set or classifier changes the name, so a stale cache is never used.
///
/// Thread-safe: builds are serialised (a second caller waits for the first build and shares it),
/// and `state(_:)` can be read from any thread while an index builds, for progress. The server
/// builds indexes on a background thread (`NeighbourIndexBuilder`) and looks up only `ready` ones
/// (`neighbours(…, build: false)`); the CLI builds on first use. Lookups are exact
/// (`NeighbourIndex`, blocked sgemm).
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
    /// Images per classifier forward pass while computing features. Small batches keep each BLAS
    /// call short, so that a build running beside the server's compute worker delays its requests
    /// by at most one batch.
    public let featureBatch: Int
    /// Called with progress messages while an index is being built (set before any build starts).
    public var log: (String) -> Void = { _ in }

    /// Guards `data`, `indices` and `states`.
    private let lock = NSLock()
    /// Held for the whole of a build, so that two callers never build the same thing twice.
    private let buildLock = NSLock()
    private var data: ImageDataset?
    private var indices: [Space: NeighbourIndex] = [:]
    private var states: [Space: NeighbourIndexState] = [:]

    public init(dataset: DatasetReference, classifier: Classifier?, cacheDirectory: String, featureBatch: Int = 64) {
        self.dataset = dataset; self.classifier = classifier; self.cacheDirectory = cacheDirectory
        self.featureBatch = max(1, featureBatch)
    }

    /// The spaces this service can index: pixel, and feature when there is a classifier.
    public var spaces: [Space] { classifier == nil ? [.pixel] : [.pixel, .feature] }

    public func state(_ space: Space) -> NeighbourIndexState {
        if space == .feature && classifier == nil { return .unavailable(NeighbourError.noClassifier.description) }
        lock.lock(); defer { lock.unlock() }
        return states[space] ?? .notStarted
    }

    private func setState(_ space: Space, _ s: NeighbourIndexState) {
        lock.lock(); states[space] = s; lock.unlock()
    }

    /// Marks a not-started index `queued`; whether it was not started (so the caller should build it).
    func claim(_ space: Space) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard space == .pixel || classifier != nil, (states[space] ?? .notStarted) == .notStarted else { return false }
        states[space] = .queued
        return true
    }

    func trainingData(size: Int, channels: Int) throws -> ImageDataset {
        lock.lock()
        if let data { lock.unlock(); return data }
        lock.unlock()
        let d = try dataset.load(split: .train, size: size, channels: channels)
        lock.lock(); data = d; lock.unlock()
        return d
    }

    /// Builds (or loads) the index for `space` on the calling thread, or returns it if it is ready.
    public func index(_ space: Space, size: Int, channels: Int) throws -> NeighbourIndex {
        try prepare(space, size: size, channels: channels)
    }

    /// Builds (or loads) the index for `space`, recording progress in `state(space)`.
    /// `betweenBatches` runs before each batch of classifier work (and once before the pixel
    /// index is assembled): the server's builder waits there while the compute worker is busy.
    /// A failure is recorded as `failed` with its description, and thrown.
    @discardableResult
    public func prepare(_ space: Space, size: Int, channels: Int, betweenBatches: () throws -> Void = {}) throws -> NeighbourIndex {
        buildLock.lock(); defer { buildLock.unlock() }
        lock.lock()
        if let i = indices[space] { lock.unlock(); return i }
        lock.unlock()
        let started = Date()
        setState(space, .building(NeighbourIndexProgress(done: 0, total: 0, started: started)))
        do {
            guard space == .pixel || classifier != nil else { throw NeighbourError.noClassifier }
            let d = try trainingData(size: size, channels: channels)
            setState(space, .building(NeighbourIndexProgress(done: 0, total: d.count, started: started)))
            let index: NeighbourIndex
            switch space {
            case .pixel:
                try betweenBatches()
                index = NeighbourIndex(vectors: d.batch(Array(0..<d.count)).images.reshaped([d.count, d.imageBytes]), labels: d.labels)
                log(String(format: "pixel neighbour index: %d images × %d values in %.1f s", d.count, d.imageBytes, Date().timeIntervalSince(started)))
            case .feature:
                index = NeighbourIndex(vectors: try cachedFeatures(d, classifier!, started: started, betweenBatches: betweenBatches), labels: d.labels)
            }
            lock.lock(); indices[space] = index; states[space] = .ready; lock.unlock()
            return index
        } catch {
            setState(space, .failed("\(error)"))
            throw error
        }
    }

    func cachedFeatures(_ d: ImageDataset, _ c: Classifier, started: Date, betweenBatches: () throws -> Void) throws -> Tensor {
        let path = (cacheDirectory as NSString).appendingPathComponent("neighbours-\(d.contentHash)-\(c.fingerprint).safetensors")
        if let file = try? SafeTensorsFile(path: path), let f = try? file.tensor("features"),
           f.shape == [d.count, c.config.featureDim] {
            log("feature neighbour index: loaded \(path)")
            return f
        }
        let features = Tensor(uninitializedShape: [d.count, c.config.featureDim])
        var s = 0
        while s < d.count {
            try betweenBatches()
            let m = min(featureBatch, d.count - s)
            let f = c.run(d.batch(Array(s..<(s + m))).images).features
            (features.data + s * c.config.featureDim).update(from: f.data, count: f.count)
            s += m
            setState(.feature, .building(NeighbourIndexProgress(done: s, total: d.count, started: started)))
        }
        log(String(format: "feature neighbour index: %d images in %.1f s, cached at %@", d.count, Date().timeIntervalSince(started), path))
        try? FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        try? SafeTensorsWriter.write([("features", features)], metadata: ["dataset": d.source, "dataset_hash": d.contentHash,
                                                                          "classifier": c.fingerprint], to: path)
        return features
    }

    /// The `k` nearest training images to `image` (`[1, H, W, C]`), optionally only of `classIndex`.
    /// `build`: build the index first if needed (on this thread); when false, an index that is
    /// not ready is a `NeighbourError.notReady` error and nothing is built.
    public func neighbours(of image: Tensor, k: Int, space: Space, restrictTo classIndex: Int?, build: Bool = true) throws -> Result {
        let (h, w, c) = (image.shape[1], image.shape[2], image.shape[3])
        let idx: NeighbourIndex
        if build { idx = try index(space, size: h, channels: c) }
        else {
            lock.lock(); let ready = indices[space]; lock.unlock()
            guard let ready else { throw NeighbourError.notReady(space.rawValue, state(space).name) }
            idx = ready
        }
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
    /// The index of a space is not built yet (space, state).
    case notReady(String, String)
    public var description: String {
        switch self {
        case .noClassifier: return "no classifier for this model, so no feature space (train one with `biggan-train classifier`)"
        case .shapeMismatch(let s): return s
        case .notReady(let space, let state): return "the \(space) index is not ready (\(state))"
        }
    }
}
