import ArgumentParser
import BigGANEngine
import BigGANEvaluation
import BigGANTraining
import Foundation

/// Trains the data-set classifier used by `biggan eval` and feature-space neighbours.
struct ClassifierCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classifier",
        abstract: "Train the data-set classifier (for evaluation and feature-space neighbours).",
        discussion: "  biggan-train classifier --out Models/fashion-mnist-classifier.safetensors")

    @Option(help: "Output classifier checkpoint.") var out: String
    @Option(help: "Training data: fashion-mnist[:DIR] or folder:ROOT.") var data = "fashion-mnist"
    @Option(help: "Image channels: 1 or 3 (default: from the data, 3 when any image is colour).") var channels: Int?
    @Option(help: "Epochs.") var epochs = 10
    @Option(help: "Batch size.") var batch = 64
    @Option(help: "Adam learning rate.") var lr = 1e-3
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Engine threads for GEMMs and other loops (default: number of cores; OpenBLAS itself runs single-threaded).") var threads: Int?

    func validate() throws {
        guard (1...1000).contains(epochs), (1...4096).contains(batch), lr > 0 else { throw ValidationError("--epochs 1...1000, --batch 1...4096, --lr > 0") }
        if let c = channels, c != 1 && c != 3 { throw ValidationError("--channels must be 1 or 3") }
    }

    func run() throws {
        if let t = threads { BLAS.setThreads(t) }
        do { try OutputFile.check(out, label: "--out") } catch let e as FileAccessError { throw TrainError(e.description) }
        let ref = try DatasetReference(data)
        let (train, test) = try ref.loadSplits(size: 32, channels: channels)
        if let note = train.conversionNote { FileHandle.standardError.write(Data((note + "\n").utf8)) }
        FileHandle.standardError.write(Data("\(train.count) training images, \(test.count) held out for the test accuracy\n".utf8))
        let trainer = try ClassifierTrainer(config: ClassifierConfig(resolution: train.width, inChannels: train.channels,
                                                                      classNames: train.classNames, dataset: ref.description),
                                            learningRate: lr, seed: seed)
        let steps = (train.count + batch - 1) / batch
        for e in 0..<epochs {
            var bar = Progress(total: steps, from: 0)
            var order = DataOrder(seed: seed &+ UInt64(e) &* 1000, count: train.count)
            var lossSum = 0.0
            for s in 0..<steps {
                let (x, y) = train.batch(order.next(batch))
                lossSum += Double(trainer.step(images: x, labels: y))
                bar.draw(s + 1, String(format: "epoch %d/%d  loss %.4f", e + 1, epochs, lossSum / Double(s + 1)), force: s + 1 == steps)
            }
            FileHandle.standardError.write(Data("\n".utf8))
            let acc = trainer.accuracy(test)
            print(String(format: "epoch %d: train loss %.4f, test accuracy %.2f%%", e + 1, lossSum / Double(steps), 100 * acc))
        }
        let model = try trainer.model(testAccuracy: trainer.accuracy(test))
        try model.save(to: out)
        print(String(format: "wrote %@ (test accuracy %.2f%%)", out, 100 * (model.config.testAccuracy ?? 0)))
    }
}
