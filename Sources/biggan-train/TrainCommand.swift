import ArgumentParser
import BigGANDatasets
import BigGANEngine
import BigGANEvaluation
import BigGANImage
import BigGANTraining
import Foundation

/// Trains BigGAN. Everything a run produces lives in `--run-dir`: `state.safetensors` (the full
/// training state, written atomically every `--checkpoint-every` iterations and on Ctrl-C),
/// `log.csv`, `samples/iter-NNNNNN.png` (EMA generator, one row per class, fixed seeds) and
/// `curves.svg`. `--out` receives the EMA generator in the serving format at the end.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train BigGAN (the default command). Defaults train the shipped 32×32 Fashion-MNIST model.",
        discussion: "  biggan-train --out Models/fashion-mnist-32.safetensors            (resume with --resume)")

    @Option(help: "Output checkpoint (EMA generator, serving format).") var out: String
    @Option(help: "Training data: fashion-mnist[:DIR] or folder:ROOT (default: fashion-mnist).") var data = "fashion-mnist"
    @Option(help: "Folder for state, log, samples and curves (default: runs/<out file name>).") var runDir: String?
    @Flag(help: "Continue the run in --run-dir exactly where its last checkpoint left off.") var resume = false
    @Option(help: "Generator steps (default: 4000).") var iterations = 4000
    @Option(help: "Batch size (default: 32).") var batch = 32
    @Option(help: "D steps per G step (default: 2).") var dSteps = 2
    @Option(help: "G learning rate (default: 1e-4).") var gLr = 1e-4
    @Option(help: "D learning rate (default: 4e-4).") var dLr = 4e-4
    @Option(help: "Adam β2 (default: 0.999; β1 is 0).") var beta2 = 0.999
    @Option(help: "EMA decay of G (default: 0.999).") var emaDecay = 0.999
    @Option(help: "Iteration from which the EMA averages; before it copies G (default: 500).") var emaStart = 500
    @Option(help: "Orthogonal regularisation β for G (default: 1e-4).") var gOrtho = 1e-4
    @Option(help: "G channel unit: blocks 8w→4w→2w→w (default: 32, i.e. 256→128→64→32).") var gWidth = 32
    @Option(help: "D channel unit: ajbrock's 32×32 D with 4·w channels (default: 16, i.e. 64).") var dWidth = 16
    @Option(help: "Latent size, a multiple of 4 (default: 64).") var dimZ = 64
    @Option(help: "Seed for initialisation, noise and data order (default: 0).") var seed: UInt64 = 0
    @Option(help: "Checkpoint every N iterations (default: 100).") var checkpointEvery = 100
    @Option(help: "Sample sheet every N iterations (default: 250).") var sampleEvery = 250
    @Option(help: "CSV log row every N iterations (default: 10).") var logEvery = 10
    @Option(help: "OpenBLAS threads (default: number of cores).") var threads: Int?

    func validate() throws {
        guard iterations >= 1, batch >= 2, batch <= 1024, dSteps >= 1, dSteps <= 10 else {
            throw ValidationError("--iterations ≥ 1, --batch in 2...1024, --d-steps in 1...10")
        }
        guard gLr > 0, dLr > 0, beta2 > 0, beta2 < 1, emaDecay >= 0, emaDecay < 1, gOrtho >= 0 else {
            throw ValidationError("learning rates must be positive; --beta2 and --ema-decay in [0, 1)")
        }
        guard gWidth >= 1, dWidth >= 2, dimZ >= 4, dimZ % 4 == 0 else { throw ValidationError("--g-width ≥ 1, --d-width ≥ 2, --dim-z a multiple of 4") }
        guard checkpointEvery >= 1, sampleEvery >= 1, logEvery >= 1 else { throw ValidationError("intervals must be ≥ 1") }
    }

    /// The generator architecture: the shipped `fashion-mnist-32` layout scaled by `--g-width`.
    func generatorConfig(_ d: ImageDataset, dataset: String) -> ModelConfig {
        var c = TrainingPresets.taperedGenerator(width: gWidth, dimZ: dimZ, classNames: d.classNames, channels: d.channels)
        c.resolution = d.width
        c.dataset = dataset
        c.classifier = dataset.hasPrefix("fashion-mnist") ? "fashion-mnist-classifier.safetensors" : nil
        return c
    }

    func run() throws {
        if let t = threads { BLAS.setThreads(t) }
        let dir = runDir ?? "runs/" + ((out as NSString).lastPathComponent as NSString).deletingPathExtension
        let statePath = (dir as NSString).appendingPathComponent("state.safetensors")
        try FileManager.default.createDirectory(atPath: (dir as NSString).appendingPathComponent("samples"), withIntermediateDirectories: true)

        let reference = try DatasetReference(data)
        FileHandle.standardError.write(Data("loading \(reference.description)…\n".utf8))
        let dataset = try reference.load(split: .train, size: 32, channels: 1)
        for s in dataset.skipped.prefix(20) { FileHandle.standardError.write(Data("skipped \(s.path): \(s.reason)\n".utf8)) }
        guard dataset.width == 32 else { throw TrainError("the data set holds \(dataset.width)×\(dataset.height) images; this trainer makes 32×32") }

        let trainer: Trainer
        var loader: DataOrder
        if resume {
            guard FileManager.default.fileExists(atPath: statePath) else { throw TrainError("--resume: no state at \(statePath)") }
            trainer = try Trainer(resumingFrom: statePath)
            loader = try DataOrder(metadata: trainer.extraMetadata, count: dataset.count)
            guard trainer.generator.config.nClasses == dataset.classNames.count else { throw TrainError("the saved run has a different number of classes") }
            FileHandle.standardError.write(Data("resumed at iteration \(trainer.iteration) from \(statePath)\n".utf8))
        } else {
            if FileManager.default.fileExists(atPath: statePath) {
                throw TrainError("\(statePath) exists: pass --resume to continue it, or choose another --run-dir")
            }
            let g = generatorConfig(dataset, dataset: reference.description)
            guard let d = TrainingPresets.discriminator(width: dWidth, channels: dataset.channels, classes: dataset.classNames.count)
            else { throw TrainError("no D for 32×32") }
            var tc = TrainingConfig()
            tc.gLearningRate = gLr; tc.dLearningRate = dLr; tc.beta2 = beta2; tc.batchSize = batch; tc.dStepsPerGStep = dSteps
            tc.emaDecay = emaDecay; tc.emaStart = emaStart; tc.gOrthogonal = gOrtho
            trainer = try Trainer(generator: g, discriminator: d, config: tc, seed: seed)
            loader = DataOrder(seed: seed, count: dataset.count)
        }
        var log = try TrainingLog(path: (dir as NSString).appendingPathComponent("log.csv"), resumeAt: resume ? trainer.iteration : nil)

        // Ctrl-C / SIGTERM: finish the iteration, checkpoint, stop.
        nonisolated(unsafe) var stop = false
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { stop = true }
            s.resume(); sources.append(s)
        }
        defer { _ = sources }

        func checkpoint() throws {
            try trainer.save(to: statePath, extra: loader.metadata)
            try log.plot(to: (dir as NSString).appendingPathComponent("curves.svg"))
        }
        func sampleSheet() throws {
            let g = try trainer.ema.inferenceGenerator()
            let images = try Sampler(generator: g, maxBatch: 64).classSheet(perClass: 10, seed: 0, truncation: 1.0)
            let path = (dir as NSString).appendingPathComponent(String(format: "samples/iter-%06d.png", trainer.iteration))
            try SafeTensorsWriter.writeAtomically(Data(try PNGCodec.encode(Image8.grid(images, columns: 10))), to: path)
        }

        var progress = Progress(total: iterations, from: trainer.iteration)
        var last = (real: Float(0), fake: Float(0), g: Float(0))
        var windowStart = (Date(), trainer.iteration)
        while trainer.iteration < iterations && !stop {
            for _ in 0..<dSteps {
                let idx = loader.next(batch)
                let (images, labels) = dataset.batch(idx)
                let l = trainer.dStep(realImages: images, realLabels: labels)
                last.real = l.lossReal; last.fake = l.lossFake
            }
            last.g = trainer.gStep()
            let it = trainer.iteration
            guard last.real.isFinite, last.fake.isFinite, last.g.isFinite else {
                try? checkpoint()
                throw TrainError("losses became non-finite at iteration \(it) (D real \(last.real), D fake \(last.fake), G \(last.g)); lower the learning rates")
            }
            if it % logEvery == 0 || it == iterations {
                let rate = Double(it - windowStart.1) / max(Date().timeIntervalSince(windowStart.0), 1e-9)
                windowStart = (Date(), it)
                try log.append([("iteration", Double(it)), ("loss_d_real", Double(last.real)), ("loss_d_fake", Double(last.fake)),
                                ("loss_g", Double(last.g)), ("lr_g", gLr), ("lr_d", dLr), ("iterations_per_s", rate)]
                               + trainer.singularValues.map { ("sigma." + $0.0, Double($0.1)) })
            }
            if it % sampleEvery == 0 { try sampleSheet() }
            if it % checkpointEvery == 0 { try checkpoint() }
            progress.draw(it, String(format: "D %.3f/%.3f  G %.3f", last.real, last.fake, last.g))
        }
        progress.draw(trainer.iteration, String(format: "D %.3f/%.3f  G %.3f", last.real, last.fake, last.g), force: true)
        FileHandle.standardError.write(Data("\n".utf8))
        try checkpoint()
        if stop {
            print("interrupted at iteration \(trainer.iteration); state saved to \(statePath) (continue with --resume)")
            return
        }
        try sampleSheet()
        try trainer.ema.saveCheckpoint(to: out, provenance: "biggan-train on \(reference.description): \(trainer.iteration) iterations, batch \(batch), seed \(seed)",
                                       classNames: dataset.classNames)
        print("wrote \(out) (EMA generator after \(trainer.iteration) iterations); run folder \(dir)")
    }
}

/// The order in which training images are visited: a fresh seeded permutation per epoch
/// (Fisher–Yates from `NoiseGenerator(seed: seed &+ epoch)`), and the position in it. Saved with
/// the training state so a resumed run sees exactly the batches it would have seen.
struct DataOrder {
    let seed: UInt64
    let count: Int
    private(set) var epoch = 0
    private(set) var position = 0
    private var order: [Int] = []

    init(seed: UInt64, count: Int) {
        self.seed = seed; self.count = count
        order = Self.permutation(seed: seed, epoch: 0, count: count)
    }

    init(metadata m: [String: String], count: Int) throws {
        guard let s = m["data_seed"].flatMap({ UInt64($0) }), let e = m["data_epoch"].flatMap(Int.init),
              let p = m["data_position"].flatMap(Int.init), m["data_count"].flatMap(Int.init) == count else {
            throw TrainError("the saved run's data position is missing, or its data set had a different size")
        }
        seed = s; self.count = count; epoch = e; position = p
        order = Self.permutation(seed: s, epoch: e, count: count)
    }

    var metadata: [String: String] {
        ["data_seed": String(seed), "data_epoch": String(epoch), "data_position": String(position), "data_count": String(count)]
    }

    static func permutation(seed: UInt64, epoch: Int, count: Int) -> [Int] {
        var rng = NoiseGenerator(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9)
        var p = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { p.swapAt(i, Int(rng.nextUInt64() % UInt64(i + 1))) }
        return p
    }

    mutating func next(_ n: Int) -> [Int] {
        var out: [Int] = []
        while out.count < n {
            if position == count { epoch += 1; position = 0; order = Self.permutation(seed: seed, epoch: epoch, count: count) }
            let take = min(n - out.count, count - position)
            out += order[position..<(position + take)]
            position += take
        }
        return out
    }
}
