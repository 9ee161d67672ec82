import BigGANEngine
import Foundation

/// Optimisation settings of StyleGAN training (defaults: NVlabs v1 `train.py`/`loss.py`, config F,
/// at the lowest resolutions; ../shared/reference/stylegan-bigbigan-serving.md, 1.4–1.5).
public struct StyleGANTrainingConfig: Codable, Equatable, Sendable {
    public var gLearningRate: Double = 1e-3
    public var dLearningRate: Double = 1e-3
    public var beta1: Double = 0
    public var beta2: Double = 0.99
    public var adamEps: Double = 1e-8
    public var batchSize: Int = 32
    /// R1 weight γ (NVlabs FFHQ: 10) and the lazy interval: the penalty's gradient is added every
    /// `r1_interval` D steps, scaled by the interval (Karras et al. 2020's lazy regularisation).
    public var r1Gamma: Double = 10
    public var r1Interval: Int = 4
    /// Probability of style-mixing regularisation per G pass (NVlabs: 0.9).
    public var mixingProbability: Double = 0.9
    /// EMA half-life of G in thousands of images (NVlabs `G_smoothing_kimg`: 10).
    public var emaHalfLifeKimg: Double = 10

    enum CodingKeys: String, CodingKey {
        case gLearningRate = "g_lr", dLearningRate = "d_lr", beta1, beta2, adamEps = "adam_eps", batchSize = "batch_size"
        case r1Gamma = "r1_gamma", r1Interval = "r1_interval", mixingProbability = "mixing_prob", emaHalfLifeKimg = "ema_kimg"
    }

    public init() {}

    /// The EMA decay per G step: `0.5^(B / (1000·ema_kimg))`.
    public var emaDecay: Double { emaHalfLifeKimg > 0 ? pow(0.5, Double(batchSize) / (1000 * emaHalfLifeKimg)) : 0 }

    func jsonString() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: (try? enc.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// The StyleGAN (v1) training state and its two steps (NVlabs `loss.py`: `G_logistic_nonsaturating`,
/// `D_logistic_simplegp` with R1 on reals):
///
/// - `dStep`: `B` fakes (fresh z, uniform labels, style mixing, random noise; no G gradients);
///   D scores fakes and reals in separate passes (the minibatch-stddev groups stay within one
///   kind); loss `softplus(D(fake)) + softplus(−D(real))`, batch means; every `r1_interval` steps
///   the R1 term `γ/2·mean‖∇ₓD(real)‖²` (×interval); Adam.
/// - `gStep`: loss `softplus(−D(G(z)))`; gradients through D into G; Adam; W averages; EMA of G.
///
/// R1's parameter gradient `γ/B · ∂²S/∂θ∂x · g` (`S = Σ D(real)`, `g = ∇ₓS`) is computed as a
/// central finite difference of first derivatives, `[∇θS(x + εg) − ∇θS(x − εg)] / 2ε`, with ε
/// such that the step's RMS per pixel is `r1Step`, with every LeakyReLU held on the branches it
/// took at `x` (as double backward differentiates): this code base has no double backward. It is
/// compared with PyTorch's exact double backward on fixtures (`StyleGANTrainingParityTests`).
public final class StyleGANTrainer {
    public let config: StyleGANTrainingConfig
    public let generator: TrainableStyleGAN
    public let discriminator: StyleGANDiscriminator
    public let ema: TrainableStyleGAN
    public let gOptimizer: Adam, dOptimizer: Adam
    public var rng: NoiseGenerator
    public internal(set) var iteration = 0
    /// D steps taken (the lazy R1 schedule counts them).
    public internal(set) var dSteps = 0
    /// The latest R1 penalty value `γ/2·mean‖∇ₓD‖²` (NaN before the first).
    public internal(set) var lastR1: Float = .nan
    public internal(set) var extraMetadata: [String: String] = [:]
    /// RMS per pixel of the finite-difference step of R1's gradient. The minibatch-stddev layer is
    /// strongly curved where a group's images nearly agree: at 1e-2 some gradients were 7% off
    /// PyTorch's double backward, at 1e-4 all agree within 1.5e-4 (`StyleGANTrainingParityTests`).
    public static let r1Step: Float = 1e-4

    public convenience init(generator g: StyleGANConfig, discriminator d: StyleGANDiscriminatorConfig,
                            config: StyleGANTrainingConfig = StyleGANTrainingConfig(), seed: UInt64) throws {
        try self.init(generator: g, discriminator: d, config: config, rng: NoiseGenerator(seed: seed))
        generator.initialise(rng: &rng)
        discriminator.initialise(rng: &rng)
        ema.copyState(from: generator)
    }

    init(generator g: StyleGANConfig, discriminator d: StyleGANDiscriminatorConfig, config: StyleGANTrainingConfig, rng: NoiseGenerator) throws {
        guard g.outChannels == d.inputChannels, g.resolution == d.resolution, g.labelSize == d.labelSize else {
            throw CheckpointError(file: "<training config>",
                                  "G makes \(g.resolution)² × \(g.outChannels) images of \(g.labelSize) classes; D takes \(d.resolution)² × \(d.inputChannels) of \(d.labelSize)")
        }
        self.config = config
        generator = try TrainableStyleGAN(config: g)
        ema = try TrainableStyleGAN(config: g)
        discriminator = try StyleGANDiscriminator(config: d)
        gOptimizer = Adam(parameters: generator.parameters, learningRate: config.gLearningRate, beta1: config.beta1, beta2: config.beta2, eps: config.adamEps)
        dOptimizer = Adam(parameters: discriminator.parameters, learningRate: config.dLearningRate, beta1: config.beta1, beta2: config.beta2, eps: config.adamEps)
        self.rng = rng
    }

    /// One G pass's random inputs: z `[B, z_dim]`, uniform labels, the mixing z and cutoff (with
    /// probability `mixing_prob`, cutoff uniform in `1..<layers`), and per-layer noise maps.
    public struct Inputs {
        public var z: Tensor
        public var labels: [Int]
        public var mixing: (z2: Tensor, cutoff: Int)?
        public var noise: [Tensor]
    }

    /// Draws `Inputs` for `b` images from `rng`, in a fixed order: z, labels, the mixing draw
    /// (uniform; then z2 and the cutoff when it mixes), noise layer by layer.
    public func drawInputs(batch b: Int, rng: inout NoiseGenerator) -> Inputs {
        let c = generator.config
        let z = Tensor(uninitializedShape: [b, c.zDim])
        for i in 0..<z.count { z[i] = rng.nextNormal() }
        let classes = max(c.labelSize, 1)
        let labels = (0..<b).map { _ in min(classes - 1, Int(rng.nextUniform() * Double(classes))) }
        var mixing: (Tensor, Int)?
        if rng.nextUniform() < config.mixingProbability {
            let z2 = Tensor(uninitializedShape: [b, c.zDim])
            for i in 0..<z2.count { z2[i] = rng.nextNormal() }
            mixing = (z2, 1 + Int(rng.nextUInt64() % UInt64(generator.layerCount - 1)))
        }
        let noise = generator.sides.map { side -> Tensor in
            let t = Tensor(uninitializedShape: [b, side * side])
            for i in 0..<t.count { t[i] = rng.nextNormal() }
            return t
        }
        return Inputs(z: z, labels: labels, mixing: mixing, noise: noise)
    }

    // MARK: Data parallelism

    /// The rows of a global batch of `b` that this rank of a data-parallel job takes, so that its
    /// minibatch-stddev groups are the single process's. NVlabs groups image `i` into slot
    /// `i mod m` (`m = b/G`, G = min(group size, b)); rank r takes slots `r·m/N ..< (r+1)·m/N` of
    /// every group member, in the order `(member, slot)`, and its own layer (stride `m/N`) then
    /// forms exactly those groups. One process: `0..<b`.
    public static func localRows(globalBatch b: Int, groupSize: Int, ranks n: Int = Distributed.world.size,
                                 rank r: Int = Distributed.world.rank) -> [Int] {
        guard n > 1 else { return Array(0..<b) }
        let g = min(groupSize, b), m = b / g
        precondition(b % g == 0 && m % n == 0, "batch \(b) cannot be split over \(n) ranks in minibatch-stddev groups of \(g)")
        let local = m / n
        return (0..<g).flatMap { j in (0..<local).map { s in j * m + r * local + s } }
    }

    /// `localRows` for this trainer's discriminator.
    public func localRows(globalBatch b: Int) -> [Int] {
        Self.localRows(globalBatch: b, groupSize: discriminator.mbstd.groupSize)
    }

    /// Whether a data-parallel job of `ranks` ranks can split a global batch of `b` (`localRows`).
    public static func splits(batch b: Int, groupSize: Int, ranks n: Int) -> Bool {
        let g = min(groupSize, b)
        return b % g == 0 && (b / g) % n == 0
    }

    /// The draws of `rows` only (a rank's share of a global batch's `Inputs`).
    static func select(_ x: Inputs, rows: [Int]) -> Inputs {
        func pick(_ t: Tensor) -> Tensor {
            let per = t.count / t.shape[0]
            let out = Tensor(uninitializedShape: [rows.count] + t.shape.dropFirst())
            for (k, i) in rows.enumerated() { (out.data + k * per).update(from: t.data + i * per, count: per) }
            return out
        }
        return Inputs(z: pick(x.z), labels: rows.map { x.labels[$0] }, mixing: x.mixing.map { (pick($0.z2), $0.cutoff) },
                      noise: x.noise.map(pick))
    }

    /// This rank's share of inputs drawn for a global batch of `b` (every rank draws them all, so
    /// the draws do not depend on the number of ranks).
    func drawShare(globalBatch b: Int, rng: inout NoiseGenerator) -> Inputs {
        let all = drawInputs(batch: b, rng: &rng)
        return Distributed.world.size > 1 ? Self.select(all, rows: localRows(globalBatch: b)) : all
    }

    // MARK: Losses

    static func softplus(_ x: Float) -> Double { let v = Double(x); return max(v, 0) + log1p(exp(-abs(v))) }
    static func sigmoid(_ x: Float) -> Float { Float(1 / (1 + exp(-Double(x)))) }

    // MARK: Discriminator step

    @discardableResult
    public func dStep(realImages: Tensor, realLabels: [Int]) -> (lossReal: Float, lossFake: Float) {
        var r = rng
        defer { rng = r }
        let inputs = drawShare(globalBatch: realImages.shape[0] * Distributed.world.size, rng: &r)
        return dStep(realImages: realImages, realLabels: realLabels, fakes: inputs)
    }

    /// One D step with explicit fake inputs. Returns the two logistic terms (batch means).
    @discardableResult
    public func dStep(realImages: Tensor, realLabels: [Int], fakes inputs: Inputs) -> (lossReal: Float, lossFake: Float) {
        let b = realImages.shape[0]
        let fakes = Profiler.measure("step: G forward") {
            generator.forward(z: inputs.z, labels: inputs.labels, mixing: inputs.mixing, noise: inputs.noise)
        }
        discriminator.zeroGradients()
        var lossFake = 0.0, lossReal = 0.0
        Profiler.measure("step: D fakes") {
            let s = discriminator.forward(fakes, labels: inputs.labels)
            lossFake = s.reduce(0) { $0 + Self.softplus($1) } / Double(s.count)
            discriminator.backward(s.map { Self.sigmoid($0) / Float(s.count) })
        }
        Profiler.measure("step: D reals") {
            let s = discriminator.forward(realImages, labels: realLabels)
            lossReal = s.reduce(0) { $0 + Self.softplus(-$1) } / Double(b)
            discriminator.backward(s.map { -Self.sigmoid(-$0) / Float(b) })
        }
        dSteps += 1
        if config.r1Gamma > 0 && dSteps % config.r1Interval == 0 {
            Profiler.measure("step: R1") {
                lastR1 = addR1Gradient(realImages, labels: realLabels, weight: Float(config.r1Gamma) * Float(config.r1Interval))
            }
        }
        Trainer.averageGradients(discriminator)
        Profiler.measure("Adam") { dOptimizer.update() }
        return (Float(lossReal), Float(lossFake))
    }

    /// Adds `∇θ (weight/2 · mean_i ‖∇ₓ S‖²)` to D's gradients (see the type's notes) and returns
    /// the penalty `γ/2 · mean_i ‖∇ₓS‖²` with γ = `config.r1Gamma`.
    @discardableResult
    func addR1Gradient(_ x: Tensor, labels: [Int], weight: Float) -> Float {
        let b = x.shape[0]
        _ = discriminator.forward(x, labels: labels)
        let g = discriminator.backward([Float](repeating: 1, count: b), parameterGradients: false, inputGradient: true)!
        var squares = 0.0
        for i in 0..<g.count { squares += Double(g[i]) * Double(g[i]) }
        // Under mpirun: the global batch's sum, so every rank steps by the single process's ε.
        let n = Distributed.world.size
        if n > 1 { withUnsafeMutablePointer(to: &squares) { Distributed.world.sum($0, count: 1) } }
        let penalty = Float(config.r1Gamma / 2 * squares / Double(b * n))
        let rms = Float((squares / Double(g.count * n)).squareRoot())
        guard rms > 0, rms.isFinite else { return penalty }
        let eps = Self.r1Step / rms
        let c = weight / (2 * eps * Float(b))
        // The shifted passes keep the LeakyReLU branches of x, so the difference quotient is the
        // derivative double backward gives (kinks crossed inside ±εg would add jumps).
        discriminator.frozenMasks = discriminator.activations
        defer { discriminator.frozenMasks = nil }
        for sign: Float in [1, -1] {
            let shifted = Tensor(uninitializedShape: x.shape)
            for i in 0..<x.count { shifted[i] = x[i] + sign * eps * g[i] }
            _ = discriminator.forward(shifted, labels: labels)
            discriminator.backward([Float](repeating: sign * c, count: b))
        }
        return penalty
    }

    // MARK: Generator step

    @discardableResult
    public func gStep() -> Float {
        var r = rng
        defer { rng = r }
        return gStep(drawShare(globalBatch: config.batchSize, rng: &r))
    }

    /// One G step with explicit inputs. Returns the non-saturating loss (batch mean).
    @discardableResult
    public func gStep(_ inputs: Inputs) -> Float {
        generator.zeroGradients()
        let fakes = Profiler.measure("step: G forward") {
            generator.forward(z: inputs.z, labels: inputs.labels, mixing: inputs.mixing, noise: inputs.noise)
        }
        let s = Profiler.measure("step: D forward") { discriminator.forward(fakes, labels: inputs.labels) }
        let b = Float(s.count)
        let loss = s.reduce(0) { $0 + Self.softplus(-$1) } / Double(s.count)
        let dImages = Profiler.measure("step: D backward (input only)") {
            discriminator.backward(s.map { -Self.sigmoid(-$0) / b }, parameterGradients: false, inputGradient: true)!
        }
        Profiler.measure("step: G backward") { generator.backward(dImages) }
        Trainer.averageGradients(generator)
        Profiler.measure("Adam") { gOptimizer.update() }
        generator.updateAverages()
        iteration += 1
        Profiler.measure("EMA") {
            ExponentialMovingAverage(decay: config.emaDecay).update(target: ema, source: generator, iteration: iteration)
        }
        return Float(loss)
    }
}
