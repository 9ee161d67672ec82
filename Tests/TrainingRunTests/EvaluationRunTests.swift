import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine

/// Issue 12 through the real `biggan-train`: evaluation during training, DiffAugment as a saved
/// setting, and start-up failures that leave no run folder behind.
extension TrainingRunTests {
    /// A random classifier for the grey 3-class folder data.
    func writeRandomClassifier() throws -> String {
        let cfg = ClassifierConfig(resolution: 32, inChannels: 1, channels: [4, 8], featureDim: 6, classNames: ["a", "b", "c"])
        var rng = NoiseGenerator(seed: 9)
        let p = path("cls.safetensors")
        try BigGANTestSupport.randomClassifier(cfg, rng: &rng).save(to: p)
        return p
    }

    @Test func evaluationDuringTrainingIsLoggedAndPlotted() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try RandomImageFolder.write(at: dir.appendingPathComponent("five"), classes: ["a", "b", "c"], perClass: 5, size: 32, channels: 1, seed: 4)
        let cls = try writeRandomClassifier()
        let (s, o) = try run(args("ev", set: [("--data", "folder:" + path("five")), ("--iterations", "4"), ("--log-every", "3")],
                                  extra: ["--eval-every", "2", "--eval-per-class", "2", "--eval-classifier", cls, "--augment", "translation,cutout"]))
        #expect(s == 0, "\(o)")
        #expect(o.contains("evaluating every 2 iterations: 2 samples per class against 6 real training images (accuracy on the 3 held out"), "\(o)")
        #expect(o.contains("iteration 2: accuracy") && o.contains("iteration 4: accuracy"))
        let csv = try String(contentsOfFile: path("run-ev/log.csv"), encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let header = csv[0].map(String.init)
        let columns = ["eval_accuracy", "eval_fd", "eval_is", "real_accuracy", "real_fd"].map { header.firstIndex(of: $0) }
        #expect(columns.allSatisfy { $0 != nil }, "\(header)")
        // Rows at iterations 2 and 4 carry the scores; the row at 3 (a plain log row) leaves them empty.
        let byIteration = Dictionary(uniqueKeysWithValues: csv.dropFirst().map { (Int($0[0])!, $0) })
        #expect(Set(byIteration.keys) == [2, 3, 4])
        for (it, row) in byIteration {
            let cells = columns.map { row.count > $0! ? String(row[$0!]) : "" }
            if it == 3 { let empty = cells.allSatisfy(\.isEmpty); #expect(empty, "\(cells)") }
            else { #expect(cells.allSatisfy { Double($0)?.isFinite == true }, "iteration \(it): \(cells)") }
        }
        #expect(try String(contentsOfFile: path("run-ev/curves.svg"), encoding: .utf8).contains("Classifier accuracy"))
        // The augmentation is part of the saved run: resuming with another policy is refused.
        let (s2, o2) = try run(["--out", path("ev.safetensors"), "--run-dir", path("run-ev"), "--resume", "--iterations", "5",
                                "--augment", "none", "--threads", "1"])
        #expect(s2 != 0 && o2.contains("--augment none: the saved run uses translation,cutout"), "\(o2)")
        // Resumed without the evaluation flags, the run keeps evaluating with its saved classifier.
        let (s3, o3) = try run(["--out", path("ev.safetensors"), "--run-dir", path("run-ev"), "--resume", "--iterations", "6", "--threads", "1"])
        #expect(s3 == 0 && o3.contains("iteration 6: accuracy"), "\(o3)")
        // A classifier given explicitly must exist.
        let (s4, o4) = try run(args("missing", set: [("--data", "folder:" + path("five")), ("--iterations", "2")],
                                    extra: ["--eval-classifier", path("nope.safetensors")]))
        #expect(s4 != 0 && o4.contains("--eval-classifier \(path("nope.safetensors")): no such file"), "\(o4)")
    }

    /// A BigBiGAN run's evaluation: reconstructions and the linear probes (E's BN+CReLU features,
    /// every evaluation; raw pixels, measured once) in the log, the printed line and the plot.
    @Test func bigBiGANEvaluationLogsReconstructionsAndProbes() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try RandomImageFolder.write(at: dir.appendingPathComponent("five"), classes: ["a", "b", "c"], perClass: 5, size: 32, channels: 1, seed: 4)
        let cls = try writeRandomClassifier()
        let (s, o) = try run(["--architecture", "bigbigan", "--out", path("bb.safetensors"), "--run-dir", path("run-bb"), "--data", "folder:" + path("five"),
                              "--g-width", "4", "--d-width", "4", "--dim-z", "8", "--batch", "4", "--iterations", "4", "--log-every", "1",
                              "--eval-every", "2", "--eval-per-class", "2", "--eval-classifier", cls, "--threads", "1"])
        #expect(s == 0 && o.contains("iteration 4: FD") && o.contains("; linear probe "), "\(o)")
        let csv = try String(contentsOfFile: path("run-bb/log.csv"), encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let header = csv[0].map(String.init)
        let columns = try ["recon_accuracy", "recon_mse", "probe_features", "probe_pixels"].map { try #require(header.firstIndex(of: $0), "\(header)") }
        let rows = Dictionary(uniqueKeysWithValues: csv.dropFirst().map { (Int($0[0])!, $0) })
        let scored = try [2, 4].map { it in try columns.map { c in try #require(Double(rows[it]![c]), "iteration \(it) column \(header[c])") } }
        #expect(scored.allSatisfy { r in (0...1).contains(r[0]) && r[1] >= 0 && (0...1).contains(r[2]) && (0...1).contains(r[3]) }, "\(scored)")
        #expect(scored[0][3] == scored[1][3], "the pixel baseline is measured once")
        #expect(rows[3]!.count <= columns[2] || rows[3]![columns[2]].isEmpty)
        #expect(try String(contentsOfFile: path("run-bb/curves.svg"), encoding: .utf8).contains("linear probe on raw pixels"))
    }

    @Test func failedStartsLeaveNoRunFolder() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try RandomImageFolder.write(at: dir.appendingPathComponent("small"), classes: ["a", "b"], perClass: 2, size: 32, channels: 1, seed: 4)
        let (s, o) = try run(args("big", set: [("--data", "folder:" + path("small")), ("--batch", "8")]))
        #expect(s != 0 && o.contains("--batch 8 is larger than the 4 training images"), "\(o)")
        #expect(!FileManager.default.fileExists(atPath: path("run-big")))
        // A folder that existed before is left alone.
        try FileManager.default.createDirectory(atPath: path("run-kept"), withIntermediateDirectories: true)
        let (s2, _) = try run(args("kept", set: [("--data", "folder:" + path("small")), ("--batch", "8")]))
        #expect(s2 != 0 && FileManager.default.fileExists(atPath: path("run-kept")))
    }
}
