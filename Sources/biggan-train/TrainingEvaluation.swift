import BigGANDatasets
import BigGANEngine
import BigGANEvaluation
import BigGANTraining
import Foundation

/// Evaluation during training (`--eval-every`): the EMA generator, untruncated, `perClass`
/// samples per class with fixed seeds, scored by the data-set classifier (accuracy and Fréchet
/// distance to the held-out images); the real reference is measured once, at the same count.
/// A generator with an encoder (BigBiGAN) also gets its reconstructions scored, and a linear probe
/// (`LinearProbe`, 20 epochs) on E's pooled features through BN+CReLU, fitted on a fixed subset of
/// `probeImages` training images and scored on the held-out images; the same probe on the raw
/// pixels of those images, the baseline, is measured once.
final class TrainingEvaluation {
    let evaluator: Evaluator
    let perClass: Int
    let real: EvaluationRow
    let train: ImageDataset
    /// Samples use seeds from here on, the same at every evaluation (so curves compare).
    static let seed: UInt64 = 1_000_000
    static let probeImages = 10_000
    /// The probe's training rows (seeded, fixed for the run) and the pixel baseline, on first use.
    private var probeRows: [Int] = []
    private var pixelProbe: Double?

    init(evaluator: Evaluator, perClass: Int, real: EvaluationRow, train: ImageDataset) {
        self.evaluator = evaluator; self.perClass = perClass; self.real = real; self.train = train
    }

    /// The evaluation a run's settings ask for, or nil (with a message) when they ask for none or
    /// there is no classifier to score with.
    static func make(settings s: RunSettings, classifierPath: String?, train: ImageDataset, heldOut: ImageDataset,
                     say: (String) -> Void) throws -> TrainingEvaluation? {
        guard let every = s.evalEvery, every > 0, let perClass = s.evalPerClass else { return nil }
        if let given = s.evalClassifier, !FileManager.default.fileExists(atPath: given) {
            throw TrainError("--eval-classifier \(given): no such file (train one with biggan-train classifier, or pass --eval-every 0)")
        }
        guard let path = classifierPath, FileManager.default.fileExists(atPath: path) else {
            say("no evaluation during training: no classifier \(classifierPath.map { "at \($0)" } ?? "named by the model"); "
                + "pass --eval-classifier FILE (train one with biggan-train classifier) or --eval-every 0")
            return nil
        }
        let classifier = try Classifier.load(path: path)
        guard classifier.config.nClasses == train.classNames.count else {
            throw TrainError("the evaluation classifier \(path) has \(classifier.config.nClasses) classes, the data \(train.classNames.count)")
        }
        guard heldOut.count > 0 else { say("no evaluation during training: the data set holds no images out"); return nil }
        let evaluator = Evaluator(classifier: classifier, test: heldOut)
        let count = perClass * train.classNames.count
        let real = evaluator.realRow(train: train, count: count, seed: 7)
        say(String(format: "evaluating every %d iterations: %d samples per class against %d real training images%@ (accuracy on the %d held out %.1f%%, FD %.3f)",
                   every, perClass, min(count, train.count), train.count < count ? " (all there are)" : "", heldOut.count, 100 * real.accuracy, real.frechetDistance))
        return TrainingEvaluation(evaluator: evaluator, perClass: perClass, real: real, train: train)
    }

    /// The EMA generator's scores, as log columns.
    func measure(_ trainer: TrainingSession) throws -> [(String, Double)] {
        let sampler = Sampler(generator: try trainer.emaGenerator(), maxBatch: 64)
        let row = try evaluator.sampleRow(sampler, truncation: nil, perClass: perClass, seed: Self.seed)
        var out = [("eval_fd", row.frechetDistance), ("eval_is", row.inceptionScore), ("real_accuracy", real.accuracy), ("real_fd", real.frechetDistance)]
        // An unconditional generator's samples have no class to score against.
        if sampler.generator.capabilities.conditional { out.insert(("eval_accuracy", row.accuracy), at: 0) }
        if sampler.generator.imageEncoder != nil {
            let r = try evaluator.reconstructionRow(sampler, count: perClass * evaluator.test.classNames.count)
            out += [("recon_accuracy", r.accuracy), ("recon_mse", r.pixelMSE)] + (try probeScores(sampler))
        }
        return out
    }

    /// The linear probe on E's BN+CReLU features and on raw pixels (see the type's comment).
    func probeScores(_ sampler: Sampler) throws -> [(String, Double)] {
        let enc = try sampler.encoder(), test = evaluator.test
        if probeRows.isEmpty {
            var rng = NoiseGenerator(seed: 11)
            probeRows = Array(rng.permutation(train.count).prefix(Self.probeImages)).sorted()
        }
        let labels = probeRows.map { train.labels[$0] }
        let tr = EncoderRepresentations(train, indices: probeRows, encoder: enc), te = EncoderRepresentations(test, encoder: enc)
        var settings = LinearProbe.Settings()
        settings.epochs = 20
        let k = test.classNames.count
        let crelu = LinearProbe.bnCReLU(train: tr.features, test: te.features)
        let features = LinearProbe.fit(features: crelu.train, labels: labels, classes: k, settings: settings).accuracy(crelu.test, labels: test.labels)
        let pixels = pixelProbe ?? LinearProbe.fit(features: tr.pixels, labels: labels, classes: k, settings: settings).accuracy(te.pixels, labels: test.labels)
        pixelProbe = pixels
        return [("probe_features", features), ("probe_pixels", pixels)]
    }

    func describe(_ scores: [(String, Double)], iteration: Int) -> String {
        let v = Dictionary(scores, uniquingKeysWith: { a, _ in a })
        let accuracy = v["eval_accuracy"].map { String(format: "accuracy %.1f%% (real %.1f%%), ", 100 * $0, 100 * real.accuracy) } ?? ""
        let recon = v["recon_accuracy"].map { String(format: "; reconstructions keep the class for %.1f%% (pixel MSE %.3f)", 100 * $0, v["recon_mse"] ?? 0) } ?? ""
        let probe = v["probe_features"].map { String(format: "; linear probe %.2f%% (raw pixels %.2f%%)", 100 * $0, 100 * (v["probe_pixels"] ?? 0)) } ?? ""
        return String(format: "\niteration %d: %@FD %.3f (real %.3f, %.1f×), IS %.2f%@%@", iteration, accuracy,
                      v["eval_fd"] ?? 0, real.frechetDistance, (v["eval_fd"] ?? 0) / max(real.frechetDistance, 1e-12), v["eval_is"] ?? 0, recon, probe)
    }
}
