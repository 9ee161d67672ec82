import Foundation

/// The data-set classifier used to measure samples (accuracy, Fréchet distance, Inception-style
/// score) and to define the feature space of nearest-neighbour lookups (paper, appendix A).
///
/// Architecture, NHWC: for each stage `c` in `channels`: 3×3 conv (+bias) → ReLU → 2×2 average
/// pool; then global average pooling, `fc1` (→ `featureDim`) → ReLU = the **features**, `fc2`
/// (→ classes) = the logits. Stored as safetensors with `__metadata__["classifier_config"]`;
/// tensors `stages.{i}.conv.weight/bias` (`[c_out, c_in, 3, 3]`), `fc1.weight/bias`, `fc2.weight/bias`.
public struct ClassifierConfig: Codable, Equatable, Sendable {
    public var resolution: Int
    public var inChannels: Int
    public var channels: [Int]
    public var featureDim: Int
    public var classNames: [String]
    /// The data set it was trained on (see `ModelConfig.dataset`), and its test accuracy.
    public var dataset: String?
    public var testAccuracy: Double?

    enum CodingKeys: String, CodingKey {
        case resolution, inChannels = "in_channels", channels, featureDim = "feature_dim", classNames = "class_names"
        case dataset, testAccuracy = "test_accuracy"
    }

    public init(resolution: Int, inChannels: Int, channels: [Int] = [32, 64, 128], featureDim: Int = 128, classNames: [String], dataset: String? = nil) {
        self.resolution = resolution; self.inChannels = inChannels; self.channels = channels; self.featureDim = featureDim
        self.classNames = classNames; self.dataset = dataset
    }

    public var nClasses: Int { classNames.count }

    /// Tensor names and shapes, in order.
    public var tensorShapes: [(String, [Int])] {
        var out: [(String, [Int])] = []
        var c = inChannels
        for (i, co) in channels.enumerated() {
            out += [("stages.\(i).conv.weight", [co, c, 3, 3]), ("stages.\(i).conv.bias", [co])]
            c = co
        }
        return out + [("fc1.weight", [featureDim, c]), ("fc1.bias", [featureDim]), ("fc2.weight", [nClasses, featureDim]), ("fc2.bias", [nClasses])]
    }

    func validate(file: String) throws {
        func fail(_ why: String) -> CheckpointError { CheckpointError(file: file, "classifier_config: \(why)") }
        typealias L = ConfigLimits
        // Bounds first: `1 << channels.count` and every product below need them.
        guard (1...L.maxResolution).contains(resolution) else { throw fail("resolution \(resolution) out of range 1...\(L.maxResolution)") }
        guard (1...Self.maxStages).contains(channels.count) else { throw fail("needs 1 to \(Self.maxStages) stages, has \(channels.count)") }
        guard inChannels == 1 || inChannels == 3, channels.allSatisfy({ (1...4096).contains($0) }),
              (1...L.maxVectorWidth).contains(featureDim), (2...L.maxClasses).contains(classNames.count) else {
            throw fail("bad channel or class counts")
        }
        guard resolution % (1 << channels.count) == 0 else {
            throw fail("resolution \(resolution) must be divisible by 2^\(channels.count)")
        }
        var tally = SizeTally()
        for (_, shape) in tensorShapes { tally.add(shape) }
        let act = SizeTally.product([resolution, resolution, channels.max() ?? 1])
        guard let total = tally.value, total <= L.maxParameters, tally.largest <= L.maxTensorElements,
              let act, act <= L.maxActivationElements else {
            throw fail("too large: \(tally.value.map(String.init) ?? "more than Int.max") scalars, \(act.map(String.init) ?? "more than Int.max") activation values per image")
        }
    }

    /// Most convolution stages (each halves the resolution).
    static let maxStages = 12
}

public final class Classifier: @unchecked Sendable {
    public let config: ClassifierConfig
    let convs: [Conv2D]
    let fc1: Linear, fc2: Linear
    /// The tensors as given (PyTorch layouts), kept for saving.
    let tensors: [String: Tensor]
    /// Identifies the weights (FNV-1a of the config and every tensor's bytes), for index caches.
    public let fingerprint: String

    public init(config: ClassifierConfig, tensors: [String: Tensor], file: String = "<memory>") throws {
        try config.validate(file: file)
        self.config = config
        var hash = FNV1a()
        hash.mix(config.jsonStringForHash)
        let source = NamedTensors(Array(tensors), file: file)
        var t: [String: Tensor] = [:]
        for (name, shape) in config.tensorShapes {
            let v = try source.tensor(name, shape: shape)
            hash.mix(UnsafeRawBufferPointer(start: v.data, count: v.count * 4))
            t[name] = v
        }
        try source.finish()
        convs = config.channels.indices.map { Conv2D(weight: t["stages.\($0).conv.weight"]!, bias: t["stages.\($0).conv.bias"]!) }
        fc1 = Linear(weight: t["fc1.weight"]!, bias: t["fc1.bias"]!)
        fc2 = Linear(weight: t["fc2.weight"]!, bias: t["fc2.bias"]!)
        fingerprint = hash.hex
        self.tensors = t
    }

    public static func load(path: String) throws -> Classifier {
        let name = (path as NSString).lastPathComponent
        let file = try SafeTensorsFile(path: path)
        guard let json = file.metadata["classifier_config"] else { throw CheckpointError(file: name, "no classifier_config in __metadata__ (not a classifier checkpoint)") }
        let config: ClassifierConfig
        do { config = try JSONDecoder().decode(ClassifierConfig.self, from: Data(json.utf8)) }
        catch { throw CheckpointError(file: name, "classifier_config: \(error)") }
        // Validated before any tensor is read; keys in sorted order so the error is the same every run.
        try config.validate(file: name)
        var tensors: [String: Tensor] = [:]
        for key in file.entries.keys.sorted() {
            let t = try file.tensor(key)
            try TensorValueCheck.check(t, name: key, file: name)
            tensors[key] = t
        }
        return try Classifier(config: config, tensors: tensors, file: name)
    }

    /// Penultimate features `[B, featureDim]` and logits `[B, classes]` for images `[B, R, R, C]` in [−1, 1].
    public func run(_ images: Tensor) -> (features: Tensor, logits: Tensor) {
        precondition(images.shape.count == 4 && images.shape[1] == config.resolution && images.shape[3] == config.inChannels,
                     "classifier expects [B, \(config.resolution), \(config.resolution), \(config.inChannels)], got \(images.shape)")
        var h = images
        for conv in convs {
            h = conv(h)
            reluInPlace(h)
            h = avgPool2x2(h)
        }
        let b = h.shape[0], c = h.shape[3], pixels = h.shape[1] * h.shape[2]
        let pooled = Tensor(shape: [b, c])
        for i in 0..<b { for p in 0..<pixels { for k in 0..<c { pooled[i * c + k] += h[(i * pixels + p) * c + k] } } }
        for i in 0..<pooled.count { pooled[i] /= Float(pixels) }
        let features = fc1(pooled)
        reluInPlace(features)
        return (features, fc2(features))
    }

    /// `run` in chunks of `batch` images.
    public func run(_ images: Tensor, batch: Int) -> (features: Tensor, logits: Tensor) {
        let n = images.shape[0]
        let f = Tensor(uninitializedShape: [n, config.featureDim]), l = Tensor(uninitializedShape: [n, config.nClasses])
        var s = 0
        while s < n {
            let m = min(batch, n - s)
            let (ff, ll) = run(images.slice(first: s, count: m))
            (f.data + s * config.featureDim).update(from: ff.data, count: ff.count)
            (l.data + s * config.nClasses).update(from: ll.data, count: ll.count)
            s += m
        }
        return (f, l)
    }

    /// Fraction of rows of `logits` (`[N, C]`) whose arg-max equals the label.
    public static func accuracy(logits: Tensor, labels: [Int]) -> Double {
        let n = logits.shape[0], c = logits.count / max(n, 1)
        var right = 0
        for i in 0..<n {
            var best = 0
            for k in 1..<c where logits[i * c + k] > logits[i * c + best] { best = k }
            if best == labels[i] { right += 1 }
        }
        return Double(right) / Double(max(n, 1))
    }

    /// Writes the classifier as a checkpoint `load(path:)` reads.
    public func save(to path: String) throws {
        try SafeTensorsWriter.write(config.tensorShapes.map { ($0.0, tensors[$0.0]!) },
                                    metadata: ["classifier_config": config.jsonStringForHash], to: path)
    }
}

extension ClassifierConfig {
    var jsonStringForHash: String {
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]
        return String(decoding: try! e.encode(self), as: UTF8.self)
    }
}

/// `max(0, x)` in place, NaN propagating.
public func reluInPlace(_ x: Tensor) {
    let a = x.data
    Parallel.forRanges(x.count, minChunk: 1 << 16) { r in for i in r { a[i] = a[i] < 0 ? 0 : a[i] } }   // NaN propagates
}
