import ArgumentParser
import BigGANEngine
import BigGANEvaluation
import Foundation

struct NeighboursCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neighbours",
        abstract: "Write a PNG row: a sample, then its k nearest training images (pixel or classifier-feature space).",
        discussion: "  biggan neighbours --model m.safetensors --class Sneaker --seed 3 --k 8 --space feature --out row.png")

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: [.customLong("class")], parsing: .unconditional, help: "Class index or name (default: 0; none for unconditional models).") var classText: String?
    @Option(parsing: .unconditional, help: "Seed.") var seed = "0"
    @Option(parsing: .unconditional, help: truncationHelp, transform: TruncationArgument.parse) var truncation: TruncationArgument = .none
    @Option(help: "Neighbours (1...64).") var k = 8
    @Option(help: "pixel or feature.") var space = "pixel"
    @Option(help: "class (only the sample's class) or all.") var scope = "class"
    @Option(help: "Training data, overriding the checkpoint's: fashion-mnist[:DIR] or folder:ROOT.") var data: String?
    @Option(help: "Classifier checkpoint for feature space (default: the one the model names, next to it).") var classifier: String?
    @Option(help: "Folder for the cached feature index (default: .cache next to the model).") var cacheDir: String?
    @Option(help: "Output PNG.") var out: String

    func validate() throws {
        guard (1...64).contains(k) else { throw ValidationError("--k must be between 1 and 64") }
        guard NeighbourService.Space(rawValue: space) != nil else { throw ValidationError("--space must be pixel or feature") }
        guard scope == "class" || scope == "all" else { throw ValidationError("--scope must be class or all") }
        _ = try parseSeed(seed, flag: "--seed")
    }

    func run() throws {
        try checkOutput(out)
        let sampler = try modelOptions.load()
        let cfg = sampler.info
        let cls = try resolveClass(classText, sampler)
        guard let ds = data ?? cfg.dataset else {
            throw CLIError("\(modelOptions.model) names no training data set; pass --data fashion-mnist or --data folder:ROOT")
        }
        let dir = (modelOptions.model as NSString).deletingLastPathComponent
        var cls_: Classifier?
        if let path = classifier ?? cfg.classifier.map({ (dir as NSString).appendingPathComponent($0) }), FileManager.default.fileExists(atPath: path) {
            cls_ = try Classifier.load(path: path)
        } else if let path = classifier {
            throw CLIError("classifier not found: \(path)")
        }
        let service = NeighbourService(dataset: try DatasetReference(ds), classifier: cls_,
                                       cacheDirectory: cacheDir ?? (dir as NSString).appendingPathComponent(".cache"))
        service.log = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        let sample = try images(sampler, .samples(class: cls, seed: try parseSeed(seed, flag: "--seed"), count: 1, truncation: truncation.value))
        let r = try service.neighbours(of: sample, k: k, space: NeighbourService.Space(rawValue: space)!, restrictTo: scope == "class" ? cls : nil)
        let row = Tensor(uninitializedShape: [1 + r.matches.count] + Array(sample.shape.dropFirst()))
        row.data.update(from: sample.data, count: sample.count)
        (row.data + sample.count).update(from: r.images.data, count: r.images.count)
        try writePNG(Image8.grid(row, columns: row.shape[0]), to: out, label: "--out")
        print("wrote \(out): sample\(cls.map { " of class \($0) '\(cfg.className($0))'" } ?? ""), then")
        for (i, m) in r.matches.enumerated() {
            let name = cfg.className(m.label)
            print(String(format: "  %2d. training image %6d  ", i + 1, m.index) + name.padding(toLength: max(12, name.count), withPad: " ", startingAt: 0)
                  + String(format: "  distance %.4f", m.distance))
        }
    }
}
