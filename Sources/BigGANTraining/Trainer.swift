import BigGANEngine
import Foundation

/// Optimisation settings (defaults: ajbrock's parser defaults, paper values for the rest).
public struct TrainingConfig: Codable, Equatable, Sendable {
    public var gLearningRate: Double = 5e-5
    public var dLearningRate: Double = 2e-4
    public var beta1: Double = 0
    public var beta2: Double = 0.999
    public var adamEps: Double = 1e-8
    /// Fake images per generator step (the discriminator step uses as many fakes as real images).
    public var batchSize: Int = 64
    /// Discriminator steps per generator step (for the caller's loop; `Trainer` does not use it).
    public var dStepsPerGStep: Int = 2
    public var emaDecay: Double = 0.9999
    /// Iterations (1-based) before which the EMA copies G instead of averaging.
    public var emaStart: Int = 0
    /// Orthogonal regulariser strength for G (paper: 1e-4; 0 disables) and D (default off).
    public var gOrthogonal: Double = 1e-4
    public var dOrthogonal: Double = 0
    /// `eps` of every spectral norm's vector normalisation.
    public var snEps: Double = 1e-6
    /// DiffAugment policy applied to every image D sees (`translation,cutout`; nil or `none`:
    /// no augmentation). See `DiffAugment`.
    public var augment: String?

    enum CodingKeys: String, CodingKey {
        case gLearningRate = "g_lr", dLearningRate = "d_lr", beta1 = "beta1", beta2 = "beta2", adamEps = "adam_eps"
        case batchSize = "batch_size", dStepsPerGStep = "d_steps", emaDecay = "ema_decay", emaStart = "ema_start"
        case gOrthogonal = "g_ortho", dOrthogonal = "d_ortho", snEps = "sn_eps", augment
    }

    public init() {}

    func jsonString() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: (try? enc.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// The whole BigGAN training state and its two steps (ajbrock `train_fns.GAN_training_function`):
///
/// - `dStep`: G (training mode, no gradients) makes `B` fakes from fresh `z ~ N(0, 1)` and uniform
///   labels; D scores `concat(fakes, reals)` in **one** forward pass (as ajbrock does, so each
///   spectral norm iterates once); hinge loss; D gradients (+ D orthogonal term if enabled); Adam.
/// - `gStep`: fresh `z` and labels (`config.batchSize`); D scores G's images (training mode:
///   spectral-norm `u` updated, D gradients not computed); generator hinge loss; gradients flow
///   through D into G; orthogonal regulariser on G's gradients (not the shared embedding); Adam;
///   then the EMA of G's parameters and buffers, and `iteration += 1`.
///
/// Randomness: `z` is `B·dim_z` normals in row-major order from the engine's `NoiseGenerator`,
/// then `B` labels `⌊u·n_classes⌋` from its uniforms. The same seed gives the same run; the RNG
/// state is part of the checkpoint (`save`/`init(resumingFrom:)`).
public final class Trainer {
    public let config: TrainingConfig
    public let generator: TrainableGenerator
    public let discriminator: Discriminator
    /// The EMA of G (evaluate and export this one).
    public let ema: TrainableGenerator
    public let gOptimizer: Adam, dOptimizer: Adam
    /// The EMA's decay and start (the decay may change between sessions of a run: `--ema-decay`
    /// on `--resume`).
    public var emaSchedule: ExponentialMovingAverage
    /// `config.augment`, nil when it is off.
    public let augmentation: DiffAugment?
    /// The training noise source (used by the step overloads without an `rng` argument).
    public var rng: NoiseGenerator
    /// Completed generator steps.
    public internal(set) var iteration = 0
    /// The caller's metadata restored by `init(resumingFrom:)` (see `save(to:extra:)`).
    public internal(set) var extraMetadata: [String: String] = [:]

    /// A fresh run: orthogonal initialisation of every ≥2-D weight of G and D, `u ~ N(0, 1)` for
    /// every spectral norm, zero biases and attention gains, unit output-BN gain (all from
    /// `NoiseGenerator(seed:)`, which then continues as the training RNG); G_ema = G.
    public convenience init(generator g: ModelConfig, discriminator d: DiscriminatorConfig, config: TrainingConfig = TrainingConfig(),
                            seed: UInt64) throws {
        try self.init(generator: g, discriminator: d, config: config, rng: NoiseGenerator(seed: seed))
        Self.initialise(generator, rng: &rng)
        Self.initialise(discriminator, rng: &rng)
        ema.copyState(from: generator)
    }

    /// The models and optimisers with all tensors at their construction values (zeros).
    init(generator g: ModelConfig, discriminator d: DiscriminatorConfig, config: TrainingConfig, rng: NoiseGenerator) throws {
        guard g.outChannels == d.inputChannels, g.resolution == d.resolution, g.nClasses == d.nClasses else {
            throw CheckpointError(file: "<training config>",
                                  "G makes \(g.resolution)² × \(g.outChannels) images of \(g.nClasses) classes; D takes \(d.resolution)² × \(d.inputChannels) of \(d.nClasses)")
        }
        self.config = config
        let sn = Float(config.snEps)
        generator = try TrainableGenerator(config: g, snEps: sn)
        ema = try TrainableGenerator(config: g, snEps: sn)
        discriminator = try Discriminator(config: d, snEps: sn)
        gOptimizer = Adam(parameters: generator.parameters, learningRate: config.gLearningRate, beta1: config.beta1,
                          beta2: config.beta2, eps: config.adamEps)
        dOptimizer = Adam(parameters: discriminator.parameters, learningRate: config.dLearningRate, beta1: config.beta1,
                          beta2: config.beta2, eps: config.adamEps)
        emaSchedule = ExponentialMovingAverage(decay: config.emaDecay, start: config.emaStart)
        do {
            let a = try DiffAugment(policy: config.augment ?? "none")
            augmentation = a.isIdentity ? nil : a
        } catch { throw CheckpointError(file: "<training config>", "\(error)") }
        self.rng = rng
    }

    /// ajbrock's `init='ortho'` for one model: every weight with ≥ 2 dimensions orthogonal, every
    /// spectral-norm `u` standard normal.
    static func initialise(_ model: ParameterContainer, rng: inout NoiseGenerator) {
        for p in model.parameters where p.value.shape.count >= 2 { Orthogonal.initialise(p.value, rng: &rng) }
        for sn in model.spectralNorms { for i in 0..<sn.u.count { sn.u[i] = rng.nextNormal() } }
    }

    /// `B` latents `[B, dim_z]` and `B` uniform class labels.
    public func sampleLatents(batch b: Int, rng: inout NoiseGenerator) -> (Tensor, [Int]) {
        let cfg = generator.config
        let z = Tensor(uninitializedShape: [b, cfg.dimZ])
        for i in 0..<z.count { z[i] = rng.nextNormal() }
        let labels = (0..<b).map { _ in min(cfg.nClasses - 1, Int(rng.nextUniform() * Double(cfg.nClasses))) }
        return (z, labels)
    }

    // MARK: Discriminator step

    /// One D step on real images `[B, R, R, C]` (NHWC, in [−1, 1]) with their labels, with `B`
    /// fakes from `self.rng`. Returns the two hinge terms.
    @discardableResult
    public func dStep(realImages: Tensor, realLabels: [Int]) -> (lossReal: Float, lossFake: Float) {
        var r = rng
        defer { rng = r }
        return dStep(realImages: realImages, realLabels: realLabels, rng: &r)
    }

    /// Draws `rng`'s latents and labels, then (with augmentation) one draw for the `2B` images.
    @discardableResult
    public func dStep(realImages: Tensor, realLabels: [Int], rng: inout NoiseGenerator) -> (lossReal: Float, lossFake: Float) {
        // In a data-parallel job every rank draws the global batch's latents and takes its rows,
        // so N ranks at B/N draw what one process at B draws.
        let world = Distributed.world
        let global = realImages.shape[0] * world.size
        let (z, labels) = Self.share(sampleLatents(batch: global, rng: &rng))
        // The draw covers the global [fakes; reals]; this rank keeps its fakes and its reals.
        let mine = Array(Distributed.share(of: global))
        let draw = augmentation?.draw(batch: 2 * global, height: realImages.shape[1], width: realImages.shape[2], rng: &rng)
            .rows(mine + mine.map { $0 + global })
        return dStep(realImages: realImages, realLabels: realLabels, z: z, fakeLabels: labels, augmentation: draw)
    }

    /// One D step with explicit fake latents `z` (`[B', dim_z]`) and labels; `augmentation`
    /// (a draw of `self.augmentation` for `B' + B` images, fakes first) is applied to D's input.
    @discardableResult
    public func dStep(realImages: Tensor, realLabels: [Int], z: Tensor, fakeLabels: [Int],
                      augmentation draw: DiffAugment.Draw? = nil) -> (lossReal: Float, lossFake: Float) {
        precondition(realImages.shape[0] == realLabels.count, "\(realLabels.count) labels for \(realImages.shape[0]) images")
        let fakes = Profiler.measure("step: G forward") { generator.forward(z: z, labels: fakeLabels, mode: .training) }
        discriminator.zeroGradients()
        var input = concatenateBatch(fakes, realImages)
        if let a = augmentation, let draw { input = Profiler.measure("augmentation") { a.apply(input, draw) } }
        let scores = Profiler.measure("step: D forward") {
            discriminator.forward(input, labels: fakeLabels + realLabels, mode: .training)
        }
        let nf = fakeLabels.count
        let loss = HingeLoss.discriminator(real: Array(scores[nf...]), fake: Array(scores[..<nf]))
        Profiler.measure("step: D backward") {
            discriminator.backward(loss.dFake + loss.dReal, parameterGradients: true, inputGradient: false)
        }
        Self.averageGradients(discriminator)
        Profiler.measure("orthogonal regulariser") {
            Orthogonal.addRegulariserGradient(discriminator.parameters, strength: Float(config.dOrthogonal))
        }
        Profiler.measure("Adam") { dOptimizer.update() }
        return (loss.lossReal, loss.lossFake)
    }

    // MARK: Generator step

    /// One G step with `config.batchSize` fakes from `self.rng`. Returns the generator loss.
    @discardableResult
    public func gStep() -> Float {
        var r = rng
        defer { rng = r }
        return gStep(rng: &r)
    }

    @discardableResult
    public func gStep(rng: inout NoiseGenerator) -> Float {
        let (z, labels) = Self.share(sampleLatents(batch: config.batchSize, rng: &rng))
        let r = generator.config.resolution
        let draw = augmentation?.draw(batch: config.batchSize, height: r, width: r, rng: &rng).rows(Array(Distributed.share(of: config.batchSize)))
        return gStep(z: z, labels: labels, augmentation: draw)
    }

    /// One G step with explicit latents and labels; `augmentation` (a draw for the `B` fakes) is
    /// applied before D, and G's gradient flows back through it.
    @discardableResult
    public func gStep(z: Tensor, labels: [Int], augmentation draw: DiffAugment.Draw? = nil) -> Float {
        generator.zeroGradients()
        let fakes = Profiler.measure("step: G forward") { generator.forward(z: z, labels: labels, mode: .training) }
        var input = fakes
        if let a = augmentation, let draw { input = Profiler.measure("augmentation") { a.apply(fakes, draw) } }
        let scores = Profiler.measure("step: D forward") { discriminator.forward(input, labels: labels, mode: .training) }
        let (loss, dScores) = HingeLoss.generator(fake: scores)
        var dImages = Profiler.measure("step: D backward (input only)") {
            discriminator.backward(dScores, parameterGradients: false, inputGradient: true)!
        }
        if let a = augmentation, let draw { dImages = a.backward(dImages, draw) }
        Profiler.measure("step: G backward") { generator.backward(dImages) }
        Self.averageGradients(generator)
        Profiler.measure("orthogonal regulariser") {
            Orthogonal.addRegulariserGradient(generator.parameters, strength: Float(config.gOrthogonal))
        }
        Profiler.measure("Adam") { gOptimizer.update() }
        iteration += 1
        Profiler.measure("EMA") { emaSchedule.update(target: ema, source: generator, iteration: iteration) }
        return loss
    }

    /// This rank's rows of a global batch of latents and labels (all of them in one process).
    static func share(_ batch: (Tensor, [Int])) -> (Tensor, [Int]) {
        let world = Distributed.world
        guard world.size > 1 else { return batch }
        let rows = Distributed.share(of: batch.1.count)
        return (batch.0.slice(first: rows.lowerBound, count: rows.count), Array(batch.1[rows]))
    }

    /// Data-parallel training: every gradient of `model` becomes its mean over the ranks (each
    /// rank's loss is a mean over its share, so the mean of the ranks' gradients is the gradient of
    /// the global batch's mean), in one reduction of all of them.
    static func averageGradients(_ model: ParameterContainer) {
        let world = Distributed.world
        guard world.size > 1 else { return }
        Profiler.measure("gradient allreduce") {
            let params = model.parameters
            let total = params.reduce(0) { $0 + $1.grad.count }
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: total)
            defer { buffer.deallocate() }
            var at = 0
            for p in params { (buffer + at).update(from: p.grad.data, count: p.grad.count); at += p.grad.count }
            world.average(buffer, count: total)
            at = 0
            for p in params { p.grad.data.update(from: buffer + at, count: p.grad.count); at += p.grad.count }
        }
    }

    /// σ of every spectral-norm layer of G and D (latest power iteration), `G.<layer>` / `D.<layer>`.
    public var singularValues: [(String, Float)] {
        generator.singularValues.map { ("G." + $0.0, $0.1) } + discriminator.singularValues.map { ("D." + $0.0, $0.1) }
    }
}
