import BigGANEngine
import Foundation

/// Optimisation settings of BigBiGAN training (BigGAN's for G and D; E as G).
public struct BigBiGANTrainingConfig: Codable, Equatable, Sendable {
    public var gLearningRate: Double = 1e-4
    public var eLearningRate: Double = 1e-4
    public var dLearningRate: Double = 4e-4
    public var beta1: Double = 0
    public var beta2: Double = 0.999
    public var adamEps: Double = 1e-8
    public var batchSize: Int = 32
    /// EMA of G (decay; 0: none) from `ema_start`. E's EMA is optional (`ema_encoder`): the
    /// paper evaluates E as trained.
    public var emaDecay: Double = 0.999
    public var emaStart: Int = 500
    public var emaEncoder: Bool = false
    public var snEps: Double = 1e-6
    /// DiffAugment policy for every image D sees (`translation,cutout`; nil or `none`: off). E
    /// encodes the clean image; D scores the augmented one with E's ẑ. See `DiffAugment`.
    public var augment: String?

    enum CodingKeys: String, CodingKey {
        case gLearningRate = "g_lr", eLearningRate = "e_lr", dLearningRate = "d_lr", beta1, beta2, adamEps = "adam_eps"
        case batchSize = "batch_size", emaDecay = "ema_decay", emaStart = "ema_start", emaEncoder = "ema_encoder", snEps = "sn_eps", augment
    }

    public init() {}
}

/// BigBiGAN training (Donahue & Simonyan 2019; losses as the reference colab's `losses()`,
/// ../shared/reference/stylegan-bigbigan-serving.md, 2.1), unconditional like the paper:
///
/// - Encoder pairs `(x, ẑ)`, `ẑ = μ(x) + σ(x)·ε` (reparameterised), are labelled +1; generator
///   pairs `(G(z), z)`, `z ~ N(0, I)`, −1. D scores both kinds in one pass (generator pairs
///   first) with its three scores `s_x`, `s_z`, `s_xz`.
/// - `dStep`: `ℓ_D = mean(relu(1 − s_enc)) + mean(relu(1 + s_gen))`, each mean over the three
///   scores of every pair (3B values); E and G run without gradients; Adam on D.
/// - `egStep`: `ℓ_EG = mean(s_enc) − mean(s_gen)` (E pushes its pairs towards "generated", G its
///   pairs towards "encoded"); gradients reach G through ∂/∂x and E through ∂/∂z of D, E via
///   `∂ẑ/∂μ = 1`, `∂ẑ/∂σ = ε`; Adam on G and E; EMA of G (and of E when `ema_encoder`).
///
/// With `augment`, every image D sees (generated and real) goes through one DiffAugment draw, and
/// G's gradient flows back through it; E encodes the clean real image.
///
/// Randomness from `rng` in a fixed order: per step, z (`B·dim_z` normals), then ε (`B·z_dim`),
/// then (with `augment`) the augmentation draw for the `2B` images, generated first.
public final class BigBiGANTrainer {
    public let config: BigBiGANTrainingConfig
    public let generator: TrainableGenerator, ema: TrainableGenerator
    public let encoder: TrainableEncoder, emaEncoder: TrainableEncoder?
    public let discriminator: JointDiscriminator
    public let gOptimizer: Adam, eOptimizer: Adam, dOptimizer: Adam
    /// `config.augment`, nil when it is off.
    public let augmentation: DiffAugment?
    public var rng: NoiseGenerator
    public internal(set) var iteration = 0
    public internal(set) var extraMetadata: [String: String] = [:]

    public convenience init(generator g: ModelConfig, encoder e: EncoderConfig, discriminator d: JointDiscriminatorConfig,
                            config: BigBiGANTrainingConfig = BigBiGANTrainingConfig(), seed: UInt64) throws {
        try self.init(generator: g, encoder: e, discriminator: d, config: config, rng: NoiseGenerator(seed: seed))
        Trainer.initialise(generator, rng: &rng)
        Trainer.initialise(encoder, rng: &rng)
        Trainer.initialise(discriminator, rng: &rng)
        ema.copyState(from: generator)
        emaEncoder?.copyState(from: encoder)
    }

    init(generator g: ModelConfig, encoder e: EncoderConfig, discriminator d: JointDiscriminatorConfig, config: BigBiGANTrainingConfig,
         rng: NoiseGenerator) throws {
        guard e.zDim == g.dimZ, d.zDim == g.dimZ, e.resolution == g.resolution, e.inChannels == g.outChannels,
              d.x.resolution == g.resolution, d.x.inputChannels == g.outChannels else {
            throw CheckpointError(file: "<training config>", "G (\(g.resolution)² × \(g.outChannels), z \(g.dimZ)), E (\(e.resolution)² × \(e.inChannels), z \(e.zDim)) and D (\(d.x.resolution)² × \(d.x.inputChannels), z \(d.zDim)) must agree")
        }
        self.config = config
        do {
            let a = try DiffAugment(policy: config.augment ?? "none")
            augmentation = a.isIdentity ? nil : a
        } catch { throw CheckpointError(file: "<training config>", "augment: \(error)") }
        let sn = Float(config.snEps)
        generator = try TrainableGenerator(config: g, snEps: sn)
        ema = try TrainableGenerator(config: g, snEps: sn)
        encoder = try TrainableEncoder(config: e)
        emaEncoder = config.emaEncoder ? try TrainableEncoder(config: e) : nil
        discriminator = try JointDiscriminator(config: d, snEps: sn)
        func adam(_ m: ParameterContainer, _ lr: Double) -> Adam {
            Adam(parameters: m.parameters, learningRate: lr, beta1: config.beta1, beta2: config.beta2, eps: config.adamEps)
        }
        gOptimizer = adam(generator, config.gLearningRate)
        eOptimizer = adam(encoder, config.eLearningRate)
        dOptimizer = adam(discriminator, config.dLearningRate)
        self.rng = rng
    }

    /// One step's random inputs: z `[B, dim_z]` and ε `[B, z_dim]`.
    public func drawInputs(batch b: Int, rng: inout NoiseGenerator) -> (z: Tensor, epsilon: Tensor) {
        let d = generator.config.dimZ
        let z = Tensor(uninitializedShape: [b, d]), e = Tensor(uninitializedShape: [b, d])
        for i in 0..<z.count { z[i] = rng.nextNormal() }
        for i in 0..<e.count { e[i] = rng.nextNormal() }
        return (z, e)
    }

    /// `μ + σ·ε`, element-wise.
    static func reparameterise(_ mean: Tensor, _ sigma: Tensor, _ epsilon: Tensor) -> Tensor {
        let out = Tensor(uninitializedShape: mean.shape)
        for i in 0..<out.count { out[i] = mean[i] + sigma[i] * epsilon[i] }
        return out
    }

    /// The three scores of a pass over `2B` pairs, generator pairs first, split into the two kinds.
    static func split(_ s: (x: [Float], z: [Float], xz: [Float]), b: Int) -> (gen: [Float], enc: [Float]) {
        (Array(s.x[..<b]) + Array(s.z[..<b]) + Array(s.xz[..<b]), Array(s.x[b...]) + Array(s.z[b...]) + Array(s.xz[b...]))
    }

    /// Per-score gradients back in D's three outputs, from gradients over the concatenated kinds.
    static func join(gen: [Float], enc: [Float], b: Int) -> (x: [Float], z: [Float], xz: [Float]) {
        (Array(gen[0..<b]) + Array(enc[0..<b]), Array(gen[b..<(2 * b)]) + Array(enc[b..<(2 * b)]),
         Array(gen[(2 * b)...]) + Array(enc[(2 * b)...]))
    }

    // MARK: Steps

    @discardableResult
    public func dStep(realImages: Tensor) -> (lossReal: Float, lossFake: Float) {
        var r = rng
        defer { rng = r }
        let (z, e) = Self.share(drawInputs(batch: realImages.shape[0] * Distributed.world.size, rng: &r))
        return dStep(realImages: realImages, z: z, epsilon: e, augmentation: drawAugmentation(realImages, rng: &r))
    }

    /// With augmentation on, one draw for the global batch's `2B` images (generated first), and
    /// this rank's rows of it: its generated images, then its real ones.
    func drawAugmentation(_ realImages: Tensor, rng: inout NoiseGenerator) -> DiffAugment.Draw? {
        guard let augmentation else { return nil }
        let global = realImages.shape[0] * Distributed.world.size
        let mine = Array(Distributed.share(of: global))
        return augmentation.draw(batch: 2 * global, height: realImages.shape[1], width: realImages.shape[2], rng: &rng)
            .rows(mine + mine.map { $0 + global })
    }

    /// This rank's rows of the global batch's z and ε (data-parallel: every rank draws the whole
    /// batch, as one process at the global batch does).
    static func share(_ inputs: (z: Tensor, epsilon: Tensor)) -> (z: Tensor, epsilon: Tensor) {
        guard Distributed.world.size > 1 else { return inputs }
        let rows = Distributed.share(of: inputs.z.shape[0])
        return (inputs.z.slice(first: rows.lowerBound, count: rows.count), inputs.epsilon.slice(first: rows.lowerBound, count: rows.count))
    }

    /// One D step with explicit inputs (and augmentation draw for the `2B` images D sees,
    /// generated first); returns the encoder-pair and generator-pair hinge terms.
    @discardableResult
    public func dStep(realImages x: Tensor, z: Tensor, epsilon: Tensor, augmentation draw: DiffAugment.Draw? = nil) -> (lossReal: Float, lossFake: Float) {
        let loss = dGradients(realImages: x, z: z, epsilon: epsilon, augmentation: draw)
        Trainer.averageGradients(discriminator)
        Profiler.measure("Adam") { dOptimizer.update() }
        return loss
    }

    /// The two hinge terms and, in D's gradients (zeroed first), the gradient of their sum;
    /// nothing is updated.
    public func dGradients(realImages x: Tensor, z: Tensor, epsilon: Tensor, augmentation draw: DiffAugment.Draw? = nil) -> (lossReal: Float, lossFake: Float) {
        let b = x.shape[0]
        let labels = [Int](repeating: 0, count: b)
        let fakes = Profiler.measure("step: G forward") { generator.forward(z: z, labels: labels, mode: .training) }
        let enc = Profiler.measure("step: E forward") { encoder.forward(x, mode: .training) }
        let zHat = Self.reparameterise(enc.zMean, enc.sigma, epsilon)
        discriminator.zeroGradients()
        let images = augmented(concatenateBatch(fakes, x), draw)
        let scores = Profiler.measure("step: D forward") {
            discriminator.forward(x: images, z: concatenateBatch(z, zHat), mode: .training)
        }
        let (gen, encScores) = Self.split(scores, b: b)
        let loss = HingeLoss.discriminator(real: encScores, fake: gen)
        let g = Self.join(gen: loss.dFake, enc: loss.dReal, b: b)
        Profiler.measure("step: D backward") { discriminator.backward(x: g.x, z: g.z, xz: g.xz) }
        return (loss.lossReal, loss.lossFake)
    }

    @discardableResult
    public func egStep(realImages: Tensor) -> Float {
        var r = rng
        defer { rng = r }
        let (z, e) = Self.share(drawInputs(batch: realImages.shape[0] * Distributed.world.size, rng: &r))
        return egStep(realImages: realImages, z: z, epsilon: e, augmentation: drawAugmentation(realImages, rng: &r))
    }

    /// `images` through the augmentation draw (unchanged without one).
    func augmented(_ images: Tensor, _ draw: DiffAugment.Draw?) -> Tensor {
        guard let augmentation, let draw else { return images }
        return Profiler.measure("augmentation") { augmentation.apply(images, draw) }
    }

    /// One E and G step with explicit inputs; returns `ℓ_EG`.
    @discardableResult
    public func egStep(realImages x: Tensor, z: Tensor, epsilon: Tensor, augmentation draw: DiffAugment.Draw? = nil) -> Float {
        let loss = egGradients(realImages: x, z: z, epsilon: epsilon, augmentation: draw)
        Trainer.averageGradients(generator); Trainer.averageGradients(encoder)
        Profiler.measure("Adam") { gOptimizer.update(); eOptimizer.update() }
        iteration += 1
        Profiler.measure("EMA") {
            let schedule = ExponentialMovingAverage(decay: config.emaDecay, start: config.emaStart)
            schedule.update(target: ema, source: generator, iteration: iteration)
            if let emaEncoder { schedule.update(target: emaEncoder, source: encoder, iteration: iteration) }
        }
        return loss
    }

    /// `ℓ_EG` and, in G's and E's gradients (zeroed first), its gradient; nothing is updated.
    public func egGradients(realImages x: Tensor, z: Tensor, epsilon: Tensor, augmentation draw: DiffAugment.Draw? = nil) -> Float {
        let b = x.shape[0]
        let labels = [Int](repeating: 0, count: b)
        generator.zeroGradients(); encoder.zeroGradients()
        let fakes = Profiler.measure("step: G forward") { generator.forward(z: z, labels: labels, mode: .training) }
        let enc = Profiler.measure("step: E forward") { encoder.forward(x, mode: .training) }
        let zHat = Self.reparameterise(enc.zMean, enc.sigma, epsilon)
        let images = augmented(concatenateBatch(fakes, x), draw)
        let scores = Profiler.measure("step: D forward") {
            discriminator.forward(x: images, z: concatenateBatch(z, zHat), mode: .training)
        }
        let (gen, encScores) = Self.split(scores, b: b)
        let n = Float(3 * b)
        let loss = encScores.reduce(0) { $0 + Double($1) } / Double(n) - gen.reduce(0) { $0 + Double($1) } / Double(n)
        let g = Self.join(gen: [Float](repeating: -1 / n, count: 3 * b), enc: [Float](repeating: 1 / n, count: 3 * b), b: b)
        let d = Profiler.measure("step: D backward (inputs only)") {
            discriminator.backward(x: g.x, z: g.z, xz: g.xz, parameterGradients: false, inputGradients: true)!
        }
        var dImages = d.x
        if let augmentation, let draw { dImages = augmentation.backward(dImages, draw) }
        let imageGrad = dImages.slice(first: 0, count: b)
        let zHatGrad = d.z.slice(first: b, count: b)
        let dSigma = Tensor(uninitializedShape: zHatGrad.shape)
        for i in 0..<dSigma.count { dSigma[i] = zHatGrad[i] * epsilon[i] }
        Profiler.measure("step: G backward") { _ = generator.backward(imageGrad) }
        Profiler.measure("step: E backward") { encoder.backward(dZMean: zHatGrad, dSigma: dSigma) }
        return Float(loss)
    }
}
