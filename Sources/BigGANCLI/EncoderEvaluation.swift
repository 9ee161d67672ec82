import BigGANDatasets
import BigGANEngine
import BigGANEvaluation
import Foundation

extension EvalCommand {
    /// `biggan eval --encoder` (issue 15): linear probes on the encoder's frozen features against
    /// one on raw pixels, the classifier's accuracy as the ceiling, and reconstruction fidelity.
    func evaluateEncoder(_ sampler: Sampler, classifier cls: Classifier, classifierPath: String) throws {
        let enc = try sampler.encoder()
        let cfg = sampler.info
        guard let ds = data ?? cfg.dataset ?? cls.config.dataset else { throw CLIError("no data set: pass --data") }
        let ref = try DatasetReference(ds)
        let test = try ref.load(split: .test, size: cfg.resolution, channels: cfg.channels)
        let train = try ref.load(split: .train, size: cfg.resolution, channels: cfg.channels)
        guard cls.config.nClasses == test.classNames.count else {
            throw CLIError("the classifier has \(cls.config.nClasses) classes, the data \(test.classNames.count)")
        }
        // The probes' training rows: all training images, or a seeded random subset of --probe-train.
        var probeRows = Array(0..<train.count)
        if let limit = probeTrain, limit < train.count {
            var rng = NoiseGenerator(seed: seed)
            probeRows = Array(rng.permutation(train.count).prefix(limit)).sorted()
        }
        let trainLabels = probeRows.map { train.labels[$0] }
        func representations(_ set: ImageDataset, _ rows: [Int], _ label: String) -> EncoderRepresentations {
            var bar = ProgressBar(total: rows.count, label: label)
            return EncoderRepresentations(set, indices: rows, encoder: enc) { bar.advance(by: $0 - bar.done) }
        }
        let tr = representations(train, probeRows, "encoding training images"), te = representations(test, Array(0..<test.count), "encoding test images")
        var settings = LinearProbe.Settings()
        settings.epochs = probeEpochs
        settings.seed = seed
        let k = test.classNames.count
        var results: [(String, Int, Double)] = []
        let crelu = LinearProbe.bnCReLU(train: tr.features, test: te.features)
        for (name, a, b) in [("raw pixels (baseline)", tr.pixels, te.pixels), ("z_mean", tr.zMean, te.zMean), ("pooled features", tr.features, te.features),
                             ("pooled, BN+CReLU", crelu.train, crelu.test)] {
            let probe = LinearProbe.fit(features: a, labels: trainLabels, classes: k, settings: settings)
            results.append((name, a.shape[1], probe.accuracy(b, labels: test.labels)))
        }
        var ev = Evaluator(classifier: cls, test: test)
        let ceiling = EvaluationMetrics.accuracy(logits: ev.testResult.logits, labels: test.labels)
        var bar = ProgressBar(total: min(perClass * k, test.count), label: "reconstructing")
        ev.progress = { done, _ in bar.advance(by: done - bar.done) }
        let recon = try ev.reconstructionRow(sampler, count: perClass * k)
        print("\(modelOptions.model): encoder evaluation on \(ref.description); probes trained on \(probeRows.count) training images (\(probeEpochs) epochs), tested on \(test.count)")
        print("probe                    width   test accuracy")
        for (name, width, acc) in results {
            print(name.padding(toLength: 24, withPad: " ", startingAt: 0) + String(format: " %5d   %6.2f%%", width, 100 * acc))
        }
        print(String(format: "classifier (ceiling)         -   %6.2f%%   (%@)", 100 * ceiling, classifierPath))
        let gain = (results.dropFirst().map(\.2).max()! - results[0].2) * 100
        print(String(format: "best encoder probe vs raw pixels: %+.2f points", gain))
        print(String(format: "reconstructions of %d test images: %.2f%% keep their class (classifier on G(E(x)) from z_mean); pixel MSE %.4f on [-1, 1]",
                     recon.count, 100 * recon.accuracy, recon.pixelMSE))
        print("  kept by class: " + zip(test.classNames, recon.perClass).map { "\($0) " + ($1.map { String(format: "%.0f%%", 100 * $0) } ?? "-") }.joined(separator: ", "))
        if let out {
            do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
            catch { throw CLIError("cannot create \(out): \(error.localizedDescription)") }
            let json: [String: Any] = [
                "model": modelOptions.model, "data": ref.description, "probe_train_images": probeRows.count, "test_images": test.count, "probe_epochs": probeEpochs,
                "probes": results.map { ["features": $0.0, "width": $0.1, "test_accuracy": $0.2] as [String: Any] },
                "classifier_accuracy": ceiling,
                "reconstruction": ["images": recon.count, "class_kept": recon.accuracy, "pixel_mse": recon.pixelMSE,
                                   "class_kept_by_class": Dictionary(uniqueKeysWithValues: zip(test.classNames, recon.perClass).compactMap { n, v in v.map { (n, $0) } })] as [String: Any],
            ]
            try writeOutput(try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]),
                            to: (out as NSString).appendingPathComponent("encoder.json"))
            print("wrote \(out)/encoder.json")
        }
    }
}
