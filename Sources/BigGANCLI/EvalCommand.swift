import ArgumentParser
import BigGANEngine
import BigGANEvaluation
import BigGANImage
import Foundation

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a model with its data-set classifier: sample accuracy, Inception-style score, Fréchet distance.",
        discussion: """
          biggan eval --model Models/fashion-mnist-32.safetensors
          biggan eval --model M --sweep 0.1:2.0:0.1 --out eval/      (CSV and SVG of the variety–fidelity curve)
          biggan eval --model bigbigan.safetensors --encoder       (linear probes on E's features, reconstructions)
        """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Classifier checkpoint (default: the one the model names, next to it).") var classifier: String?
    @Option(help: "Data set (default: the model's): fashion-mnist[:DIR] or folder:ROOT.") var data: String?
    @Option(help: "Samples per class.") var perClass = 500
    @Option(parsing: .unconditional, help: truncationHelp, transform: TruncationArgument.parse) var truncation: TruncationArgument = .none
    @Option(help: "Truncation sweep START:STOP:STEP, e.g. 0.1:2.0:0.1.") var sweep: String?
    @Option(parsing: .unconditional, help: "Base seed.") var seed: UInt64 = 0
    @Option(help: "Folder for results.json (and sweep.csv, sweep.svg).") var out: String?
    @Flag(help: ArgumentHelp("Evaluate the model's encoder (BigBiGAN) instead of its samples.",
                             discussion: "Linear probes (logistic regression on frozen features, trained on the training set, reported on the test set) on z_mean, on the pooled features and, as the baseline, on raw pixels; the classifier's test accuracy as the ceiling; and reconstructions G(E(x)) of the test images: the share the classifier gives x's class, and the pixel MSE."))
    var encoder = false
    @Option(help: "With --encoder: training images the probes learn from (default: all).") var probeTrain: Int?
    @Option(help: "With --encoder: epochs of the probes' training.") var probeEpochs = 30

    func validate() throws {
        guard (1...100_000).contains(perClass) else { throw ValidationError("--per-class must be between 1 and 100000") }
        if let v = probeTrain, v < 10 { throw ValidationError("--probe-train must be at least 10") }
        guard (1...1000).contains(probeEpochs) else { throw ValidationError("--probe-epochs must be between 1 and 1000") }
        if encoder && (sweep != nil || truncation.value != nil) { throw ValidationError("--encoder measures the encoder; --sweep and --truncation do not apply") }
        if let s = sweep { _ = try Self.parseSweep(s) }
    }

    static func parseSweep(_ s: String) throws -> [Double] {
        let p = s.split(separator: ":").map { Double($0) }
        guard p.count == 3, let a = p[0], let b = p[1], let st = p[2], a > 0, b >= a, st > 0, (b - a) / st <= 1000 else {
            throw ValidationError("--sweep must be START:STOP:STEP with 0 < START ≤ STOP and STEP > 0, e.g. 0.1:2.0:0.1")
        }
        return stride(from: a, through: b + st * 1e-6, by: st).map { ($0 * 1e6).rounded() / 1e6 }
    }

    func run() throws {
        if let out { try checkOutputFolder(out) }
        let sampler = try modelOptions.load()
        let cfg = sampler.info
        let dir = (modelOptions.model as NSString).deletingLastPathComponent
        guard let cpath = classifier ?? cfg.classifier.map({ (dir as NSString).appendingPathComponent($0) }) else {
            throw CLIError("\(modelOptions.model) names no classifier; pass --classifier FILE (train one with `biggan-train classifier`)")
        }
        try requireInputFile(cpath, what: "classifier")
        let cls = try Classifier.load(path: cpath)
        if encoder { try evaluateEncoder(sampler, classifier: cls, classifierPath: cpath); return }
        guard cls.config.nClasses == cfg.nClasses else { throw CLIError("the classifier has \(cls.config.nClasses) classes, the model \(cfg.nClasses)") }
        guard let ds = data ?? cfg.dataset ?? cls.config.dataset else { throw CLIError("no data set: pass --data") }
        let ref = try DatasetReference(ds)
        let test = try ref.load(split: .test, size: cfg.resolution, channels: cfg.channels)
        let train = try ref.load(split: .train, size: cfg.resolution, channels: cfg.channels)
        var ev = Evaluator(classifier: cls, test: test)
        let n = perClass * cfg.nClasses
        var rows = [ev.realRow(train: train, count: n, seed: seed)]
        // A sweep also measures the untruncated model, marked on its curves.
        let truncations: [Double?] = try sweep.map { [nil] + (try Self.parseSweep($0)) } ?? [truncation.value]
        for t in truncations {
            var bar = ProgressBar(total: n, label: "t=" + Truncation.describe(t))
            ev.progress = { done, _ in bar.advance(by: done - bar.done) }
            rows.append(try ev.sampleRow(sampler, truncation: t, perClass: perClass, seed: seed))
        }
        print("\(modelOptions.model): \(perClass) samples per class; classifier \(cpath); data \(ref.description)")
        print("row              truncation  images      IS (±std)        FD   accuracy   FD mean term   spread")
        for r in rows {
            let t = r.name == EvaluationRow.samplesName ? r.truncation.map { String(format: "%.2f", $0) } ?? "none" : "-"
            func pad(_ text: String, _ width: Int, left: Bool) -> String {
                let fill = String(repeating: " ", count: max(0, width - text.count))
                return left ? text + fill : fill + text
            }
            print(pad(r.name, 16, left: true) + " " + pad(t, 10, left: false)
                  + String(format: " %7d  %6.3f (±%.3f) %9.3f   %6.2f%%   %12.3f   %6.3f", r.count, r.inceptionScore, r.inceptionStd,
                           r.frechetDistance, 100 * r.accuracy, r.frechetMeanTerm, r.spread))
        }
        print("FD mean term: ‖μ − μ_test‖² (the rest of FD is the covariance term); spread: Tr Σ / Tr Σ_test (below 1: less varied than the test set)")
        print("real row: IS and accuracy on the \(test.count) held-out images; FD of \(min(n, train.count)) training images against them "
              + "(the same count as the samples: FD grows as the count shrinks)")
        if let out { try write(rows, to: out, sweep: sweep != nil) }
    }

    func write(_ rows: [EvaluationRow], to dir: String, sweep: Bool) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let json: [[String: Any]] = rows.map { r in
            ["name": r.name, "truncation": r.name == EvaluationRow.samplesName ? Truncation.describe(r.truncation) as Any : NSNull(), "images": r.count, "inception_score": r.inceptionScore,
             "inception_std": r.inceptionStd, "frechet_distance": r.frechetDistance, "accuracy": r.accuracy,
             "frechet_mean_term": r.frechetMeanTerm, "spread": r.spread]
        }
        let data = try JSONSerialization.data(withJSONObject: ["model": modelOptions.model, "per_class": perClass, "seed": seed, "rows": json],
                                              options: [.prettyPrinted, .sortedKeys])
        try writeOutput(data, to: (dir as NSString).appendingPathComponent("results.json"))
        guard sweep else { print("wrote \(dir)/results.json"); return }
        var csv = "truncation,inception_score,inception_std,frechet_distance,accuracy\n"
        for r in rows.dropFirst() {
            csv += (r.truncation.map { String(format: "%.4f", $0) } ?? "none")
                + String(format: ",%.6f,%.6f,%.6f,%.6f\n", r.inceptionScore, r.inceptionStd, r.frechetDistance, r.accuracy)
        }
        try writeOutput(Data(csv.utf8), to: (dir as NSString).appendingPathComponent("sweep.csv"))
        let s = rows.dropFirst().filter { $0.truncation != nil }
        let free = rows.dropFirst().filter { $0.truncation == nil }
        let real = rows[0]
        let svg = SVGPlot.render([
            .init(title: "Variety–fidelity: Fréchet distance against Inception-style score over truncation", xLabel: "Inception-style score",
                  yLabel: "Fréchet distance", series: [
                    .init(name: "samples", points: s.map { ($0.inceptionScore, $0.frechetDistance) }, labels: s.map { String(format: "%.2g", $0.truncation!) }),
                    .init(name: "untruncated", points: free.map { ($0.inceptionScore, $0.frechetDistance) }, labels: free.map { _ in "none" }),
                    .init(name: "real test set", points: [(real.inceptionScore, real.frechetDistance)], labels: ["real"]),
                  ]),
            .init(title: "Class-conditional accuracy of samples (dashed: untruncated)", xLabel: "truncation", yLabel: "accuracy",
                  series: [.init(name: "samples", points: s.map { ($0.truncation!, $0.accuracy) }),
                           .init(name: "untruncated", points: free.isEmpty ? [] : s.map { ($0.truncation!, free[free.startIndex].accuracy) }),
                           .init(name: "real test set", points: s.map { ($0.truncation!, real.accuracy) })]),
        ])
        try writeOutput(Data(svg.utf8), to: (dir as NSString).appendingPathComponent("sweep.svg"))
        print("wrote \(dir)/results.json, sweep.csv, sweep.svg")
    }
}
