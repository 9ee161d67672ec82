import ArgumentParser
import BigGANDatasets
import BigGANEngine
import BigGANEvaluation
import BigGANImage
import BigGANTraining
import Foundation

/// Trains BigGAN or StyleGAN (`--architecture`). Everything a run produces lives in `--run-dir`: `state.safetensors` (the full
/// training state, written atomically every `--checkpoint-every` iterations and on Ctrl-C),
/// `log.csv`, `samples/iter-NNNNNN.png` (EMA generator, one row per class, fixed seeds) and
/// `curves.svg`. `--out` receives the EMA generator in the serving format at the end.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train BigGAN or StyleGAN (the default command). Defaults train the shipped 32×32 Fashion-MNIST model.",
        discussion: """
          biggan-train --out Models/fashion-mnist-32.safetensors            (resume with --resume)
          biggan-train --architecture stylegan --out Models/fashion-mnist-stylegan-32.safetensors
        """)

    @Option(help: "Output checkpoint (EMA generator, serving format).") var out: String
    @Option(help: ArgumentHelp("Training data: fashion-mnist[:DIR] or folder:ROOT (default: fashion-mnist; on --resume: the saved run's).",
                               discussion: """
                                 folder:ROOT holds one sub-folder of PNGs per class. Within each class every fifth image (in file-name \
                                 order) is held out for evaluation, 20 % of the folder; the rest is trained on. Fashion-MNIST trains on \
                                 its 60000 training images and holds out its own 10000-image test set.
                                 """)) var data: String?
    @Option(help: "Image channels: 1 (grey) or 3 (RGB) (default: from the data, 3 when any image is colour; other images are converted).")
    var channels: Int?
    @Option(help: "Folder for state, log, samples and curves (default: runs/<out file name>).") var runDir: String?
    @Flag(help: "Continue the run in --run-dir exactly where its last checkpoint left off, with its saved settings.") var resume = false
    @Option(help: "Generator steps (default: 4000; on --resume: the saved run's).") var iterations: Int?
    @Option(help: "Batch size (default: 32).") var batch: Int?
    @Option(help: "D steps per G step (default: 2).") var dSteps: Int?
    @Option(help: "G learning rate (default: 1e-4).") var gLr: Double?
    @Option(help: "D learning rate (default: 4e-4).") var dLr: Double?
    @Option(help: ArgumentHelp("BigBiGAN: E learning rate (default: G's).",
                               discussion: "The paper's released encoder is its '↑ E LR' ablation: E learns faster than G.")) var eLr: Double?
    @Option(help: "Adam β2 (default: 0.999; β1 is 0).") var beta2: Double?
    @Option(help: "EMA decay of G (default: 0.999).") var emaDecay: Double?
    @Option(help: "Iteration from which the EMA averages; before it copies G (default: 500).") var emaStart: Int?
    @Option(help: "Orthogonal regularisation β for G (default: 1e-4).") var gOrtho: Double?
    @Option(help: "G channel unit: blocks 8w→4w→2w→w (default: 32, i.e. 256→128→64→32).") var gWidth: Int?
    @Option(help: "D channel unit: ajbrock's 32×32 D with 4·w channels (default: 16, i.e. 64).") var dWidth: Int?
    @Option(help: "BigBiGAN: E channel unit, stem w and blocks w→2w→4w→4w (default: --d-width's).") var eWidth: Int?
    @Option(help: "Latent size, a multiple of 4 (default: 64).") var dimZ: Int?
    @Option(help: "Seed for initialisation, noise and data order (default: 0).") var seed: UInt64?
    @Option(help: "Checkpoint every N iterations (default: 100).") var checkpointEvery: Int?
    @Option(help: "Sample sheet every N iterations (default: 250).") var sampleEvery: Int?
    @Option(help: "CSV log row every N iterations (default: 10).") var logEvery: Int?
    @Option(help: ArgumentHelp("DiffAugment policy for every image D sees: translation,cutout, translation, cutout or none (default: none).",
                               discussion: "Zhao et al. 2020; the generator's gradient flows through the same random shifts and cutouts."))
    var augment: String?
    @Option(help: "Evaluate the EMA generator (untruncated) every N iterations; 0: never (default: 500).") var evalEvery: Int?
    @Option(help: "Samples per class in each evaluation; the real reference uses as many images (default: 100).") var evalPerClass: Int?
    @Option(help: "Classifier for evaluation (default: the one the model's config names, next to --out; on --resume: the saved run's).") var evalClassifier: String?
    @Option(help: "Engine threads for GEMMs and other loops (default: number of cores; OpenBLAS itself runs single-threaded).") var threads: Int?
    @Option(help: ArgumentHelp("biggan or stylegan (default: biggan; on --resume: the saved run's).",
                               discussion: "StyleGAN (v1): non-saturating logistic loss, lazy R1, minibatch stddev, style mixing, equalised learning rate; flags not given take NVlabs' values (learning rates 1e-3, β2 0.99, one D step per G step, z = W = 128)."))
    var architecture: String?
    @Option(help: "StyleGAN: R1 weight γ (default: 10).") var r1Gamma: Double?
    @Option(help: "StyleGAN: apply R1 every N D steps, scaled by N (lazy regularisation; default: 4).") var r1Interval: Int?
    @Option(help: "StyleGAN: style-mixing probability per G pass (default: 0.9).") var mixingProb: Double?
    @Option(help: "StyleGAN: EMA half-life of G in thousands of images (default: 10).") var emaKimg: Double?
    @Option(help: "StyleGAN: dense layers of the mapping network (default: 8).") var mappingLayers: Int?

    func validate() throws {
        if let v = iterations, v < 1 { throw ValidationError("--iterations must be ≥ 1") }
        if let v = batch, !(2...1024).contains(v) { throw ValidationError("--batch must be in 2...1024") }
        if let v = dSteps, !(1...10).contains(v) { throw ValidationError("--d-steps must be in 1...10") }
        for (flag, v) in [("--g-lr", gLr), ("--d-lr", dLr), ("--e-lr", eLr)] { if let v, !(v > 0 && v.isFinite) { throw ValidationError("\(flag) must be positive") } }
        for (flag, v) in [("--beta2", beta2), ("--ema-decay", emaDecay)] {
            if let v, !(v >= 0 && v < 1) || (flag == "--beta2" && v == 0) { throw ValidationError("\(flag) must be in \(flag == "--beta2" ? "(0, 1)" : "[0, 1)")") }
        }
        if let v = gOrtho, !(v >= 0 && v.isFinite) { throw ValidationError("--g-ortho must be ≥ 0") }
        if let v = emaStart, v < 0 { throw ValidationError("--ema-start must be ≥ 0") }
        if let v = channels, v != 1 && v != 3 { throw ValidationError("--channels must be 1 or 3") }
        if let v = gWidth, v < 1 { throw ValidationError("--g-width must be ≥ 1") }
        if let v = dWidth, v < 2 { throw ValidationError("--d-width must be ≥ 2") }
        if let v = eWidth, v < 1 { throw ValidationError("--e-width must be ≥ 1") }
        if let v = dimZ, v < 4 || v % 4 != 0 { throw ValidationError("--dim-z must be a multiple of 4, at least 4") }
        for (flag, v) in [("--checkpoint-every", checkpointEvery), ("--sample-every", sampleEvery), ("--log-every", logEvery)] {
            if let v, v < 1 { throw ValidationError("\(flag) must be ≥ 1") }
        }
        if let v = augment { do { _ = try DiffAugment(policy: v) } catch { throw ValidationError("--augment: \(error)") } }
        if let v = evalEvery, v < 0 { throw ValidationError("--eval-every must be ≥ 0 (0: never)") }
        if let v = evalPerClass, !(2...10_000).contains(v) { throw ValidationError("--eval-per-class must be in 2...10000") }
        if let v = architecture, !["biggan", "stylegan", "bigbigan"].contains(v) {
            throw ValidationError("--architecture must be biggan, stylegan or bigbigan, got '\(v)'")
        }
        if let v = r1Gamma, !(v >= 0 && v <= 1e6) { throw ValidationError("--r1-gamma must be in 0...1e6") }
        if let v = r1Interval, !(1...1000).contains(v) { throw ValidationError("--r1-interval must be in 1...1000") }
        if let v = mixingProb, !(v >= 0 && v <= 1) { throw ValidationError("--mixing-prob must be in [0, 1]") }
        if let v = emaKimg, !(v >= 0 && v <= 1e6) { throw ValidationError("--ema-kimg must be in 0...1e6") }
        if let v = mappingLayers, !(1...16).contains(v) { throw ValidationError("--mapping-layers must be in 1...16") }
    }

    /// Flags one architecture has and the other does not, refused with their names.
    func checkFlags(for settings: RunSettings) throws {
        let bigganOnly: [(String, Bool)] = [("--g-ortho", gOrtho != nil), ("--ema-decay", emaDecay != nil), ("--ema-start", emaStart != nil),
                                            ("--augment", augment != nil && augment != "none")]
        let styleganOnly: [(String, Bool)] = [("--r1-gamma", r1Gamma != nil), ("--r1-interval", r1Interval != nil), ("--mixing-prob", mixingProb != nil),
                                              ("--ema-kimg", emaKimg != nil), ("--mapping-layers", mappingLayers != nil)]
        let (foreign, kind) = settings.isStyleGAN ? (bigganOnly + [("--e-lr", eLr != nil), ("--e-width", eWidth != nil)], "StyleGAN")
            : settings.architecture == "bigbigan" ? (styleganOnly + bigganOnly.filter { $0.0 == "--g-ortho" }, "BigBiGAN")
            : (styleganOnly + [("--e-lr", eLr != nil), ("--e-width", eWidth != nil)], "BigGAN")
        let given = foreign.filter(\.1).map(\.0)
        if !given.isEmpty { throw TrainError("\(given.joined(separator: ", ")) do\(given.count == 1 ? "es" : "") not apply to \(kind) training") }
    }

    /// The flags the user gave, as settings (the data set in absolute form).
    func givenSettings() throws -> [SettingFlag] {
        let normalisedData = try data.map(RunSettings.normalise)
        let flags: [SettingFlag?] = [
            SettingFlag("--data", normalisedData, \.data), SettingFlag("--channels", channels, \.channels),
            SettingFlag("--iterations", iterations, \.iterations, changeableOnResume: true),
            SettingFlag("--batch", batch, \.batch), SettingFlag("--d-steps", dSteps, \.dSteps),
            SettingFlag("--g-lr", gLr, \.gLr, changeableOnResume: true), SettingFlag("--d-lr", dLr, \.dLr, changeableOnResume: true),
            SettingFlag("--e-lr", eLr, \.eLr, changeableOnResume: true, unset: { "G's, \($0.gLr)" }),
            SettingFlag("--beta2", beta2, \.beta2),
            SettingFlag("--ema-decay", emaDecay, \.emaDecay, changeableOnResume: true), SettingFlag("--ema-start", emaStart, \.emaStart),
            SettingFlag("--g-ortho", gOrtho, \.gOrtho), SettingFlag("--g-width", gWidth, \.gWidth), SettingFlag("--d-width", dWidth, \.dWidth),
            SettingFlag("--e-width", eWidth, \.eWidth, unset: { "D's, \($0.dWidth)" }),
            SettingFlag("--dim-z", dimZ, \.dimZ), SettingFlag("--seed", seed, \.seed),
            SettingFlag("--checkpoint-every", checkpointEvery, \.checkpointEvery, changeableOnResume: true),
            SettingFlag("--sample-every", sampleEvery, \.sampleEvery, changeableOnResume: true),
            SettingFlag("--log-every", logEvery, \.logEvery, changeableOnResume: true),
            SettingFlag("--augment", try augment.map { try DiffAugment(policy: $0).policy }, \.augment),
            SettingFlag("--eval-every", evalEvery, \.evalEvery, changeableOnResume: true),
            SettingFlag("--eval-per-class", evalPerClass, \.evalPerClass, changeableOnResume: true),
            SettingFlag("--eval-classifier", evalClassifier.map(RunSettings.absolute), \.evalClassifier, changeableOnResume: true),
            SettingFlag("--architecture", architecture, \.architecture),
            SettingFlag("--r1-gamma", r1Gamma, \.r1Gamma), SettingFlag("--r1-interval", r1Interval, \.r1Interval),
            SettingFlag("--mixing-prob", mixingProb, \.mixingProb), SettingFlag("--ema-kimg", emaKimg, \.emaKimg),
            SettingFlag("--mapping-layers", mappingLayers, \.mappingLayers),
        ]
        return flags.compactMap { $0 }
    }

    /// The generator architecture: the shipped `fashion-mnist-32` layout scaled by `--g-width`.
    static func generatorConfig(_ s: RunSettings, _ d: ImageDataset) -> ModelConfig {
        var c = ModelConfig.tapered(width: s.gWidth, dimZ: s.dimZ, classNames: d.classNames, channels: d.channels)
        c.resolution = d.width
        c.dataset = s.data
        c.classifier = s.data.hasPrefix("fashion-mnist") ? "fashion-mnist-classifier.safetensors" : nil
        return c
    }

    /// A line on standard error (rank 0 only in a data-parallel job).
    static func say(_ line: String) {
        guard Distributed.world.isRoot else { return }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    func run() throws {
        if let t = threads { BLAS.setThreads(t) }
        // Under mpirun: a data-parallel job, rank 0 writing everything (issue 16).
        do { if let world = try MPIWorld.launch() { Distributed.world = world } }
        catch let e as MPIWorld.LaunchError { throw TrainError(e.description) }
        let root = Distributed.world.isRoot
        do { try OutputFile.check(out, label: "--out") } catch let e as FileAccessError { throw TrainError(e.description) }
        let run = try RunDirectory(runDir ?? "runs/" + ((out as NSString).lastPathComponent as NSString).deletingPathExtension, lock: root)
        do { try self.run(in: run) }
        catch { run.removeIfUnused(); throw error }
        withExtendedLifetime(run) {}
    }

    /// The run, in its locked folder.
    private func run(in run: RunDirectory) throws {
        let statePath = run.statePath
        let world = Distributed.world
        if world.isRoot { for p in run.removeStaleTemporaries() { Self.say("removed \(p), left by an interrupted write") } }

        // Settings: the flags for a new run; the saved ones (flags may only extend them) on --resume.
        var settings: RunSettings
        var resumed: TrainingSession?
        if resume {
            guard FileManager.default.fileExists(atPath: statePath) else { throw TrainError("--resume: no state at \(statePath)") }
            let t: TrainingSession
            var saved: RunSettings
            if try TrainingStateFormat.isStyleGAN(statePath) {
                t = try StyleGANTrainer(resumingFrom: statePath)
                saved = try RunSettings(savedMetadata: t.extraMetadata)
            } else if try TrainingStateFormat.isBigBiGAN(statePath) {
                t = try BigBiGANTrainer(resumingFrom: statePath)
                saved = try RunSettings(savedMetadata: t.extraMetadata)
            } else {
                let b = try Trainer(resumingFrom: statePath)
                t = b; saved = try RunSettings(saved: b)
            }
            if saved.data.isEmpty {
                guard let d = data else { throw TrainError("the saved state does not record its data set; pass --data") }
                saved.data = try RunSettings.normalise(d)
            }
            let (s, changed) = try SettingFlag.resolve(try givenSettings(), saved: saved)
            settings = s; resumed = t
            Self.say("resuming at iteration \(t.iteration) of \(s.iterations) with the saved run's settings; data \(s.data)"
                     + (data == nil ? " (saved with the run)" : ""))
            if !changed.isEmpty { Self.say("changed on resume: " + changed.joined(separator: ", ")) }
        } else {
            if FileManager.default.fileExists(atPath: statePath) {
                throw TrainError("\(statePath) exists: pass --resume to continue it, or choose another --run-dir")
            }
            settings = try SettingFlag.resolve(try givenSettings(), saved: nil, architecture: architecture).0
        }
        try checkFlags(for: settings)
        if world.size > 1 {
            guard settings.batch % world.size == 0 else { throw TrainError("--batch \(settings.batch) must be a multiple of the \(world.size) ranks") }
            if settings.isStyleGAN && !StyleGANTrainer.splits(batch: settings.batch, groupSize: StyleGANDiscriminatorConfig.defaultMbstdGroup, ranks: world.size) {
                let g = StyleGANDiscriminatorConfig.defaultMbstdGroup
                throw TrainError("StyleGAN under mpirun: --batch \(settings.batch) must be a multiple of \(g * world.size) (minibatch-stddev groups of \(g) × \(world.size) ranks), so that each rank's groups are the single process's")
            }
            Self.say("data-parallel: \(world.size) ranks, \(settings.batch / world.size) images each per step (cross-replica batch norm); rank 0 writes the run")
        }

        let reference = try DatasetReference(settings.data)
        Self.say("loading \(reference.description)…")
        let (dataset, heldOut) = try reference.loadSplits(size: 32, channels: settings.channels)
        for s in dataset.skipped.prefix(20) { Self.say("skipped \(s.path): \(s.reason)") }
        if dataset.skipped.count > 20 { Self.say("… and \(dataset.skipped.count - 20) more skipped") }
        if let note = dataset.conversionNote { Self.say(note) }
        let total = dataset.count + heldOut.count
        Self.say(String(format: "%d training images, %d held out for evaluation (%.0f%%); %d classes, %@", dataset.count, heldOut.count,
                        100 * Double(heldOut.count) / Double(max(total, 1)), dataset.classNames.count, dataset.channels == 3 ? "RGB" : "greyscale"))
        guard dataset.width == 32 else { throw TrainError("the data set holds \(dataset.width)×\(dataset.height) images; this trainer makes 32×32") }
        guard settings.batch <= dataset.count else {
            throw TrainError("--batch \(settings.batch) is larger than the \(dataset.count) training images; lower --batch or add images")
        }
        settings.channels = dataset.channels

        let trainer: TrainingSession
        var loader: DataOrder
        if let t = resumed {
            trainer = t
            t.apply(settings)
            guard t.classCount == nil || t.classCount == dataset.classNames.count, t.classNames == nil || t.classNames! == dataset.classNames else {
                throw TrainError("the saved run has \(t.classCount ?? 0) classes (\((t.classNames ?? []).joined(separator: ", "))); the data has \(dataset.classNames.count) (\(dataset.classNames.joined(separator: ", ")))")
            }
            guard t.outChannels == dataset.channels else { throw TrainError("the saved run makes \(t.outChannels)-channel images; the data has \(dataset.channels)") }
            loader = try DataOrder(metadata: t.extraMetadata, count: dataset.count)
            Self.say("resumed at iteration \(t.iteration) from \(statePath)")
        } else if settings.architecture == "bigbigan" {
            let (g, e, d, tc) = Self.bigBiGANConfigs(settings, dataset)
            trainer = try BigBiGANTrainer(generator: g, encoder: e, discriminator: d, config: tc, seed: settings.seed)
            loader = DataOrder(seed: settings.seed, count: dataset.count)
        } else if settings.isStyleGAN {
            let (g, d, tc) = Self.styleGANConfigs(settings, dataset)
            trainer = try StyleGANTrainer(generator: g, discriminator: d, config: tc, seed: settings.seed)
            loader = DataOrder(seed: settings.seed, count: dataset.count)
        } else {
            let g = Self.generatorConfig(settings, dataset)
            guard let d = DiscriminatorConfig.biggan(resolution: 32, ch: settings.dWidth, inputChannels: dataset.channels, nClasses: dataset.classNames.count)
            else { throw TrainError("no D for 32×32") }
            var tc = TrainingConfig()
            tc.gLearningRate = settings.gLr; tc.dLearningRate = settings.dLr; tc.beta2 = settings.beta2; tc.batchSize = settings.batch
            tc.dStepsPerGStep = settings.dSteps; tc.emaDecay = settings.emaDecay; tc.emaStart = settings.emaStart; tc.gOrthogonal = settings.gOrtho
            tc.augment = settings.augment
            trainer = try Trainer(generator: g, discriminator: d, config: tc, seed: settings.seed)
            loader = DataOrder(seed: settings.seed, count: dataset.count)
        }
        let evaluation = try TrainingEvaluation.make(settings: settings, classifierPath: settings.evalClassifier ?? defaultClassifier(trainer),
                                                    train: dataset, heldOut: heldOut, say: Self.say)
        try train(trainer, &loader, dataset: dataset, heldOut: heldOut, settings: settings, run: run, reference: reference, evaluation: evaluation)
    }

    /// The classifier the generator's config names, next to `--out` (nil when it names none).
    func defaultClassifier(_ trainer: TrainingSession) -> String? {
        trainer.classifierName.map { ((out as NSString).deletingLastPathComponent as NSString).appendingPathComponent($0) }
    }

    /// A StyleGAN run's G, D and optimisation settings: channels 4w, 4w, 2w, w from 4 px to 32 px,
    /// z = W = `--dim-z`, conditional on the data's classes.
    static func styleGANConfigs(_ s: RunSettings, _ d: ImageDataset) -> (StyleGANConfig, StyleGANDiscriminatorConfig, StyleGANTrainingConfig) {
        let schedule = { (w: Int) in [4 * w, 4 * w, 2 * w, w] }
        var g = StyleGANConfig(resolution: d.width, zDim: s.dimZ, wDim: s.dimZ, mappingLayers: s.mappingLayers ?? 8, labelSize: d.classNames.count,
                               channels: schedule(s.gWidth), outChannels: d.channels, fusedScaleFrom: 128, truncationCutoff: 8, classNames: d.classNames)
        g.dataset = s.data
        g.classifier = s.data.hasPrefix("fashion-mnist") ? "fashion-mnist-classifier.safetensors" : nil
        let dc = StyleGANDiscriminatorConfig(resolution: d.width, inputChannels: d.channels, channels: schedule(s.dWidth), labelSize: d.classNames.count)
        var t = StyleGANTrainingConfig()
        t.gLearningRate = s.gLr; t.dLearningRate = s.dLr; t.beta2 = s.beta2; t.batchSize = s.batch
        t.r1Gamma = s.r1Gamma ?? t.r1Gamma; t.r1Interval = s.r1Interval ?? t.r1Interval
        t.mixingProbability = s.mixingProb ?? t.mixingProbability; t.emaHalfLifeKimg = s.emaKimg ?? t.emaHalfLifeKimg
        return (g, dc, t)
    }

    /// A BigBiGAN run's models (unconditional, as the paper): G the shipped tapered BigGAN layout
    /// with one class; E a ResNet-v2 encoder with stem w and blocks w→2w→4w→4w, each halving
    /// (32 → 4 px), an MLP [256] and a softplus σ (w = `--e-width`, by default `--d-width`); D's F
    /// the BigGAN 32×32 D trunk of `--d-width`, H [256, 256] on z and J [256, 256] on both.
    static func bigBiGANConfigs(_ s: RunSettings, _ d: ImageDataset) -> (ModelConfig, EncoderConfig, JointDiscriminatorConfig, BigBiGANTrainingConfig) {
        var g = ModelConfig.tapered(width: s.gWidth, dimZ: s.dimZ, classNames: ["unconditional"], channels: d.channels)
        g.resolution = d.width
        g.dataset = s.data
        g.classifier = s.data.hasPrefix("fashion-mnist") ? "fashion-mnist-classifier.safetensors" : nil
        let w = s.eWidth ?? s.dWidth
        let e = EncoderConfig(resolution: d.width, inChannels: d.channels, stemChannels: w,
                              blocks: [.init(w, 2 * w, down: true), .init(2 * w, 4 * w, down: true), .init(4 * w, 4 * w, down: true)],
                              mlp: [256], zDim: s.dimZ)
        let f = DiscriminatorConfig.biggan(resolution: 32, ch: s.dWidth, inputChannels: d.channels, nClasses: 1)!
        let jd = JointDiscriminatorConfig(x: f, zDim: s.dimZ, hWidths: [256, 256], jWidths: [256, 256])
        var t = BigBiGANTrainingConfig()
        t.gLearningRate = s.gLr; t.eLearningRate = s.eLr ?? s.gLr; t.dLearningRate = s.dLr; t.beta2 = s.beta2; t.batchSize = s.batch
        t.emaDecay = s.emaDecay; t.emaStart = s.emaStart; t.augment = s.augment
        return (g, e, jd, t)
    }

    func train(_ trainer: TrainingSession, _ loader: inout DataOrder, dataset: ImageDataset, heldOut: ImageDataset, settings s: RunSettings,
               run: RunDirectory, reference: DatasetReference, evaluation: TrainingEvaluation?) throws {
        let dir = run.path, statePath = run.statePath
        let world = Distributed.world, root = world.isRoot
        var log = root ? try TrainingLog(path: (dir as NSString).appendingPathComponent("log.csv"), resumeAt: resume ? trainer.iteration : nil) : nil

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
            guard root else { return }
            try trainer.save(to: statePath, extra: loader.metadata.merging([RunSettings.metadataKey: s.json]) { a, _ in a })
            try log?.plot(to: (dir as NSString).appendingPathComponent("curves.svg"))
        }
        func sampleSheet() throws {
            guard root else { return }
            let g = try trainer.emaGenerator()
            let images = try Sampler(generator: g, maxBatch: 64).images(for: GenerationRequest(.classSheet(perClass: 10, seed: 0), truncation: nil))
            let path = (dir as NSString).appendingPathComponent(String(format: "samples/iter-%06d.png", trainer.iteration))
            try SafeTensorsWriter.writeAtomically(Data(try PNGCodec.encode(Image8.grid(images, columns: 10))), to: path)
            // With an encoder: held-out images (training images when none are held out), two per
            // class, the first of each class in order, in odd rows; G(E(x)) from z_mean below each.
            guard g.imageEncoder != nil else { return }
            let source = heldOut.count > 0 ? heldOut : dataset
            var picks: [Int] = []
            for c in source.classNames.indices { picks += source.labels.indices.filter { source.labels[$0] == c }.prefix(2) }
            let x = source.batch(Array(picks.prefix(20))).images
            let sampler = Sampler(generator: g, maxBatch: 64)
            let recon = try sampler.reconstruct(x, latent: .mean, template: try sampler.prepareReconstruction(class: nil, count: x.shape[0])).images
            let n = x.shape[0], per = x.count / n
            let rows = (n + 9) / 10
            let sheet = Tensor(shape: [2 * rows * 10] + Array(x.shape.dropFirst()))
            for i in 0..<n {
                let (r, c) = (i / 10, i % 10)
                (sheet.data + (2 * r * 10 + c) * per).update(from: x.data + i * per, count: per)
                (sheet.data + ((2 * r + 1) * 10 + c) * per).update(from: recon.data + i * per, count: per)
            }
            let rpath = (dir as NSString).appendingPathComponent(String(format: "samples/recon-%06d.png", trainer.iteration))
            try SafeTensorsWriter.writeAtomically(Data(try PNGCodec.encode(Image8.grid(sheet, columns: 10))), to: rpath)
        }

        let iterations = s.iterations
        var progress = Progress(total: iterations, from: trainer.iteration)
        var last = (real: Float(0), fake: Float(0), g: Float(0))
        var windowStart = (Date(), trainer.iteration)
        while trainer.iteration < iterations && !stop {
            for _ in 0..<s.dSteps {
                // Every rank follows the same data order and takes its share of each batch.
                let idx = loader.next(s.batch)
                let (images, labels) = dataset.batch(trainer.localRows(globalBatch: idx.count).map { idx[$0] })
                let l = trainer.dStep(realImages: images, realLabels: labels)
                last.real = l.lossReal; last.fake = l.lossFake
            }
            last.g = trainer.gStep(realBatch: { let idx = loader.next(s.batch); return dataset.batch(trainer.localRows(globalBatch: idx.count).map { idx[$0] }).images })
            if world.size > 1 {
                // The logged losses are the global batch's (the mean of the ranks' means), and a
                // stop on any rank stops all of them at the same iteration.
                var v: [Float] = [last.real, last.fake, last.g, stop ? 1 : 0]
                v.withUnsafeMutableBufferPointer { world.sum($0.baseAddress!, count: 4) }
                last = (v[0] / Float(world.size), v[1] / Float(world.size), v[2] / Float(world.size))
                if v[3] > 0 { stop = true }
            }
            let it = trainer.iteration
            guard last.real.isFinite, last.fake.isFinite, last.g.isFinite else {
                try? checkpoint()
                throw TrainError("losses became non-finite at iteration \(it) (D real \(last.real), D fake \(last.fake), G \(last.g)); lower the learning rates")
            }
            let evaluate = root && evaluation != nil && (s.evalEvery ?? 0) > 0 && (it % (s.evalEvery ?? 1) == 0 || it == iterations)
            if root && (it % s.logEvery == 0 || it == iterations || evaluate) {
                let rate = Double(it - windowStart.1) / max(Date().timeIntervalSince(windowStart.0), 1e-9)
                var scores: [(String, Double)] = []
                if evaluate, let evaluation {
                    scores = try evaluation.measure(trainer)
                    Self.say(evaluation.describe(scores, iteration: it))
                }
                windowStart = (Date(), it)
                try log?.append([("iteration", Double(it)), ("loss_d_real", Double(last.real)), ("loss_d_fake", Double(last.fake)),
                                ("loss_g", Double(last.g)), ("iterations_per_s", rate)] + trainer.logColumns + scores)
            }
            if it % s.sampleEvery == 0 { try sampleSheet() }
            if it % s.checkpointEvery == 0 { try checkpoint() }
            if root { progress.draw(it, String(format: "D %.3f/%.3f  G %.3f", last.real, last.fake, last.g)) }
        }
        if root {
            progress.draw(trainer.iteration, String(format: "D %.3f/%.3f  G %.3f", last.real, last.fake, last.g), force: true)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        try checkpoint()
        if !root { (world as? MPIWorld)?.finalize(); return }
        if stop {
            print("interrupted at iteration \(trainer.iteration); state saved to \(statePath) (continue with --resume)")
            return
        }
        try sampleSheet()
        try trainer.exportEMA(to: out, provenance: "biggan-train\(s.isStyleGAN ? " (stylegan)" : "") on \(reference.description): \(trainer.iteration) iterations, batch \(s.batch), seed \(s.seed)",
                              classNames: dataset.classNames)
        print("wrote \(out) (EMA generator after \(trainer.iteration) iterations); run folder \(dir)")
        (world as? MPIWorld)?.finalize()
    }
}
