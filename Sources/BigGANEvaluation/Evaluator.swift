import BigGANDatasets
import BigGANEngine
import Foundation

/// One row of an evaluation: a set of images measured by the data-set classifier.
public struct EvaluationRow: Sendable {
    /// `samplesName` for generated images, else a description of the real images.
    public let name: String
    /// For sample rows: the truncation, `nil` when untruncated. `nil` for real rows.
    public let truncation: Double?
    public let count: Int
    public let inceptionScore: Double
    public let inceptionStd: Double
    /// Fréchet distance to the held-out test set, in the classifier's penultimate features.
    public let frechetDistance: Double
    /// Classifier accuracy against the labels (the conditioning class for samples).
    public let accuracy: Double
    /// `frechetDistance`'s mean term `‖μ − μ_test‖²` (the rest is the covariance term).
    public let frechetMeanTerm: Double
    /// `Tr(Σ)/Tr(Σ_test)`: the features' spread against the test set's (below 1: less varied).
    public let spread: Double

    public init(name: String, truncation: Double?, count: Int, inceptionScore: Double, inceptionStd: Double, features: FeatureStatistics,
                test: FeatureStatistics, accuracy: Double) {
        let parts = EvaluationMetrics.frechetParts(features, test)
        self.name = name; self.truncation = truncation; self.count = count
        self.inceptionScore = inceptionScore; self.inceptionStd = inceptionStd
        frechetDistance = parts.total; frechetMeanTerm = parts.meanTerm; spread = parts.spread
        self.accuracy = accuracy
    }

    /// The name of rows of generated samples.
    public static let samplesName = "samples"
}

/// Measures a generator with the data-set classifier: class-conditional accuracy of its samples,
/// Inception-style score and Fréchet distance to the test set; and the same for real images.
/// Deterministic: sample `i` of class `c` uses seed `seed + c·perClass + i`.
public struct Evaluator {
    public let classifier: Classifier
    public let test: ImageDataset
    public let testStatistics: FeatureStatistics
    public let testResult: (features: Tensor, logits: Tensor)
    public var progress: (Int, Int) -> Void = { _, _ in }

    public init(classifier: Classifier, test: ImageDataset) {
        self.classifier = classifier; self.test = test
        testResult = classifier.run(test.batch(Array(0..<test.count)).images, batch: 256)
        testStatistics = FeatureStatistics(features: testResult.features)
    }

    /// The reference row for real images: the classifier's accuracy and score on the held-out test
    /// images, and the Fréchet distance between `count` random training images and the test set
    /// (what real data of the samples' size scores: the metric's floor).
    public func realRow(train: ImageDataset, count: Int, seed: UInt64 = 0) -> EvaluationRow {
        var rng = NoiseGenerator(seed: seed)
        let pick = Array(rng.permutation(train.count).prefix(min(count, train.count)))
        let (f, _) = classifier.run(train.batch(pick).images, batch: 256)
        let p = EvaluationMetrics.softmax(testResult.logits)
        let (m, s) = EvaluationMetrics.inceptionScore(probabilities: p)
        return EvaluationRow(name: "real (test set)", truncation: nil, count: test.count, inceptionScore: m, inceptionStd: s,
                             features: FeatureStatistics(features: f), test: testStatistics,
                             accuracy: EvaluationMetrics.accuracy(logits: testResult.logits, labels: test.labels))
    }

    /// The class of sample `i` among `perClass · nClasses`: classes interleaved (0, 1, …, n−1, 0, …)
    /// so that each of the Inception-style score's ten contiguous splits holds every class
    /// equally; in class order each split would hold one class and the score would collapse to ~1.
    static func sampleClass(_ i: Int, nClasses: Int) -> Int { i % nClasses }

    /// `perClass` samples of every class at `truncation`; sample `i` has seed `seed + i`.
    public func sampleRow(_ sampler: Sampler, truncation: Double?, perClass: Int, seed: UInt64, batch: Int = 64) throws -> EvaluationRow {
        let cfg = sampler.info, conditional = sampler.generator.capabilities.conditional
        let n = perClass * cfg.nClasses
        let features = Tensor(uninitializedShape: [n, classifier.config.featureDim])
        let logits = Tensor(uninitializedShape: [n, classifier.config.nClasses])
        var labels: [Int] = []
        var start = 0
        while start < n {
            let m = min(batch, n - start)
            let classes = (start..<(start + m)).map { Self.sampleClass($0, nClasses: cfg.nClasses) }
            let seeds = (start..<(start + m)).map { seed &+ UInt64($0) }
            let images = try sampler.images(for: GenerationRequest(.samples(classes: conditional ? classes : [], latents: .seeds(seeds)),
                                                                   truncation: truncation))
            let (f, l) = classifier.run(images)
            (features.data + start * f.shape[1]).update(from: f.data, count: f.count)
            (logits.data + start * l.shape[1]).update(from: l.data, count: l.count)
            labels += classes
            start += m
            progress(start, n)
        }
        let (is_, isStd) = EvaluationMetrics.inceptionScore(probabilities: EvaluationMetrics.softmax(logits))
        return EvaluationRow(name: EvaluationRow.samplesName, truncation: truncation, count: n, inceptionScore: is_, inceptionStd: isStd,
                             features: FeatureStatistics(features: features), test: testStatistics,
                             accuracy: EvaluationMetrics.accuracy(logits: logits, labels: labels))
    }
}

extension Evaluator {
    /// Reconstruction fidelity of a model with an encoder (BigBiGAN): the first `count` test
    /// images, `x̂ = G(E(x))` from `z_mean` (conditioned on x's label for a conditional G), and
    /// the share whose classifier class equals x's label, with the mean squared pixel distance
    /// `mean((x̂ − x)²)` on the [−1, 1] scale; `perClass[c]` is the kept share among the images
    /// labelled c (nil for a class without images among them).
    /// - Throws: `SamplingError` when the model has no encoder.
    public func reconstructionRow(_ sampler: Sampler, count: Int, batch: Int = 64) throws
        -> (accuracy: Double, pixelMSE: Double, count: Int, perClass: [Double?]) {
        let n = min(count, test.count)
        var correct = 0, squared = 0.0, start = 0
        var keptByClass = [Int](repeating: 0, count: test.classNames.count), seenByClass = keptByClass
        let conditional = sampler.generator.capabilities.conditional
        while start < n {
            let m = min(batch, n - start)
            let idx = Array(start..<(start + m))
            let (x, labels) = test.batch(idx)
            var images = Tensor(shape: [0])
            if conditional {
                var parts: [Tensor] = []
                for (i, label) in labels.enumerated() {
                    let one = x.slice(first: i, count: 1)
                    parts.append(try sampler.reconstruct(one, latent: .mean, template: try sampler.prepareReconstruction(class: label, count: 1)).images)
                }
                images = parts.dropFirst().reduce(parts[0]) { concatenated($0, $1) }
            } else {
                images = try sampler.reconstruct(x, latent: .mean, template: try sampler.prepareReconstruction(class: nil, count: m)).images
            }
            let (_, logits) = classifier.run(images)
            let c = logits.shape[1]
            for i in 0..<m {
                var best = 0
                for k in 1..<c where logits[i * c + k] > logits[i * c + best] { best = k }
                if best == labels[i] { correct += 1; keptByClass[labels[i]] += 1 }
                seenByClass[labels[i]] += 1
            }
            for k in 0..<x.count { let d = Double(images[k]) - Double(x[k]); squared += d * d }
            start += m
            progress(start, n)
        }
        let perClass = zip(keptByClass, seenByClass).map { $1 == 0 ? nil : Double($0) / Double($1) }
        return (Double(correct) / Double(max(n, 1)), squared / Double(max(n * test.width * test.height * test.channels, 1)), n, perClass)
    }
}

/// `[B, ...] ++ [B', ...]` along the batch.
private func concatenated(_ a: Tensor, _ b: Tensor) -> Tensor {
    var shape = a.shape
    shape[0] += b.shape[0]
    let out = Tensor(uninitializedShape: shape)
    out.data.update(from: a.data, count: a.count)
    (out.data + a.count).update(from: b.data, count: b.count)
    return out
}
