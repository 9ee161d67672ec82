import BigGANEngine
import BigGANTraining
import Foundation

/// What the training loop needs from a family's trainer (BigGAN's `Trainer`, `StyleGANTrainer`):
/// its steps, state file, log columns and EMA generator. The run machinery (settings, resume,
/// data order, log, sample sheets, evaluation, export) is the same for every family.
protocol TrainingSession: AnyObject {
    var iteration: Int { get }
    var extraMetadata: [String: String] { get }
    @discardableResult func dStep(realImages: Tensor, realLabels: [Int]) -> (lossReal: Float, lossFake: Float)
    /// The generator's step; `realBatch` draws a batch of real images for families whose
    /// generator step needs one (BigBiGAN's encoder), and is not called by the others.
    @discardableResult func gStep(realBatch: () -> Tensor) -> Float
    func save(to path: String, extra: [String: String]) throws
    /// Columns of each log row besides the losses (learning rates, σ of spectral norms, R1).
    var logColumns: [(String, Double)] { get }
    /// The EMA generator as the engine runs it (sample sheets, evaluation).
    func emaGenerator() throws -> any Generator
    /// Writes the EMA generator as a serving checkpoint.
    func exportEMA(to path: String, provenance: String, classNames: [String]) throws
    /// The classes the generator was trained on, checked against the data on resume (nil: an
    /// unconditional family that does not record them in its generator).
    var classCount: Int? { get }
    var outChannels: Int { get }
    var classNames: [String]? { get }
    /// The evaluation classifier the generator's config names (a file next to the checkpoint).
    var classifierName: String? { get }
    /// A resumed run's learning rates and (BigGAN) EMA decay, which may change between sessions
    /// (a manual schedule); saved with the next checkpoint.
    func apply(_ settings: RunSettings)
    /// The rows of a global batch of `globalBatch` this rank takes under mpirun: a contiguous
    /// share (`Distributed.share`), or StyleGAN's minibatch-stddev-preserving rows.
    func localRows(globalBatch: Int) -> [Int]
}

extension TrainingSession {
    func localRows(globalBatch b: Int) -> [Int] { Array(Distributed.share(of: b)) }
}

extension Trainer: TrainingSession {
    func gStep(realBatch: () -> Tensor) -> Float { gStep() }
    var logColumns: [(String, Double)] {
        [("lr_g", gOptimizer.learningRate), ("lr_d", dOptimizer.learningRate)] + singularValues.map { ("sigma." + $0.0, Double($0.1)) }
    }
    func emaGenerator() throws -> any Generator { try ema.inferenceGenerator() }
    func exportEMA(to path: String, provenance: String, classNames: [String]) throws {
        try ema.saveCheckpoint(to: path, provenance: provenance, classNames: classNames)
    }
    var classCount: Int? { generator.config.nClasses }
    var outChannels: Int { generator.config.outChannels }
    var classNames: [String]? { generator.config.classNames }
    var classifierName: String? { generator.config.classifier }
    func apply(_ s: RunSettings) {
        gOptimizer.learningRate = s.gLr; dOptimizer.learningRate = s.dLr
        emaSchedule.decay = s.emaDecay
    }
}

extension StyleGANTrainer: TrainingSession {
    func gStep(realBatch: () -> Tensor) -> Float { gStep() }
    /// Learning rates and the latest R1 penalty (empty before the first lazy R1 step).
    var logColumns: [(String, Double)] {
        [("lr_g", gOptimizer.learningRate), ("lr_d", dOptimizer.learningRate)] + (lastR1.isNaN ? [] : [("r1", Double(lastR1))])
    }
    func emaGenerator() throws -> any Generator { try ema.inferenceGenerator() }
    func exportEMA(to path: String, provenance: String, classNames: [String]) throws {
        let c = ema.config
        try ema.saveCheckpoint(to: path, centroidSamples: 2000, provenance: provenance, classNames: classNames, dataset: c.dataset, classifier: c.classifier)
    }
    var classCount: Int? { max(generator.config.labelSize, 1) }
    var outChannels: Int { generator.config.outChannels }
    var classNames: [String]? { generator.config.classNames }
    var classifierName: String? { generator.config.classifier }
    /// The learning rates; the EMA follows `--ema-kimg`, fixed for the run.
    func apply(_ s: RunSettings) {
        gOptimizer.learningRate = s.gLr; dOptimizer.learningRate = s.dLr
    }
}

extension BigBiGANTrainer: TrainingSession {
    func dStep(realImages: Tensor, realLabels: [Int]) -> (lossReal: Float, lossFake: Float) { dStep(realImages: realImages) }
    func gStep(realBatch: () -> Tensor) -> Float { egStep(realImages: realBatch()) }
    var logColumns: [(String, Double)] {
        [("lr_g", gOptimizer.learningRate), ("lr_e", eOptimizer.learningRate), ("lr_d", dOptimizer.learningRate)]
            + discriminator.singularValues.map { ("sigma.D." + $0.0, Double($0.1)) }
    }
    func emaGenerator() throws -> any Generator { try inferenceModel() }
    func exportEMA(to path: String, provenance: String, classNames: [String]) throws {
        let g = ema.config
        try saveCheckpoint(to: path, provenance: provenance, classNames: g.classNames, dataset: g.dataset, classifier: g.classifier)
    }
    /// Unconditional: the data's classes are not part of the generator.
    var classCount: Int? { nil }
    var outChannels: Int { generator.config.outChannels }
    var classNames: [String]? { nil }
    var classifierName: String? { generator.config.classifier }
    /// The learning rates; E follows G's unless the run sets `--e-lr`.
    func apply(_ s: RunSettings) {
        gOptimizer.learningRate = s.gLr; eOptimizer.learningRate = s.eLr ?? s.gLr; dOptimizer.learningRate = s.dLr
    }
}

/// The training state file's family, from its `format` metadata.
enum TrainingStateFormat {
    static func isStyleGAN(_ path: String) throws -> Bool {
        try SafeTensorsFile(path: path).metadata["format"] == StyleGANTrainer.formatName
    }

    static func isBigBiGAN(_ path: String) throws -> Bool {
        try SafeTensorsFile(path: path).metadata["format"] == BigBiGANTrainer.formatName
    }
}
