import BigGANDatasets
import BigGANEngine
import BigGANEvaluation
import BigGANTraining
import Foundation

/// Evaluation during training (`--eval-every`): the EMA generator, untruncated, `perClass`
/// samples per class with fixed seeds, scored by the data-set classifier (accuracy and Fréchet
/// distance to the held-out images); the real reference is measured once, at the same count.
final class TrainingEvaluation {
    let evaluator: Evaluator
    let perClass: Int
    let real: EvaluationRow
    /// Samples use seeds from here on, the same at every evaluation (so curves compare).
    static let seed: UInt64 = 1_000_000

    init(evaluator: Evaluator, perClass: Int, real: EvaluationRow) {
        self.evaluator = evaluator; self.perClass = perClass; self.real = real
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
        return TrainingEvaluation(evaluator: evaluator, perClass: perClass, real: real)
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
            out += [("recon_accuracy", r.accuracy), ("recon_mse", r.pixelMSE)]
        }
        return out
    }

    func describe(_ scores: [(String, Double)], iteration: Int) -> String {
        let v = Dictionary(scores, uniquingKeysWith: { a, _ in a })
        let accuracy = v["eval_accuracy"].map { String(format: "accuracy %.1f%% (real %.1f%%), ", 100 * $0, 100 * real.accuracy) } ?? ""
        let recon = v["recon_accuracy"].map { String(format: "; reconstructions keep the class for %.1f%% (pixel MSE %.3f)", 100 * $0, v["recon_mse"] ?? 0) } ?? ""
        return String(format: "\niteration %d: %@FD %.3f (real %.3f, %.1f×), IS %.2f%@", iteration, accuracy,
                      v["eval_fd"] ?? 0, real.frechetDistance, (v["eval_fd"] ?? 0) / max(real.frechetDistance, 1e-12), v["eval_is"] ?? 0, recon)
    }
}
