import BigGANEngine
import Foundation

/// The complete training state as one safetensors file, so `--resume` continues bit for bit.
///
/// Tensors (all F32): `G.<name>`, `D.<name>`, `G_ema.<name>` for every parameter and buffer
/// (raw weights, spectral-norm `u`, running statistics), and `adam.G.m.<name>`,
/// `adam.G.v.<name>`, `adam.D.m.<name>`, `adam.D.v.<name>` for the optimiser moments.
/// `__metadata__` (strings): `format` = `biggan-training-state-1`, `generator_config`
/// (`ModelConfig` JSON), `discriminator_config`, `training_config`, `iteration`,
/// `adam_G_step`, `adam_D_step`, `rng_state` (decimal UInt64), `rng_spare` (hex bits of the
/// pending Float normal, or empty), and the caller's own keys prefixed `extra.`.
extension Trainer {
    static let formatName = "biggan-training-state-1"

    var checkpointTensors: [(String, Tensor)] {
        generator.stateTensors.map { ("G." + $0.0, $0.1) }
            + discriminator.stateTensors.map { ("D." + $0.0, $0.1) }
            + ema.stateTensors.map { ("G_ema." + $0.0, $0.1) }
            + gOptimizer.stateTensors(prefix: "adam.G.") + dOptimizer.stateTensors(prefix: "adam.D.")
    }

    /// `config` with the optimisers' current learning rates (a caller may have changed them).
    var currentConfig: TrainingConfig {
        var c = config
        c.gLearningRate = gOptimizer.learningRate
        c.dLearningRate = dOptimizer.learningRate
        c.emaDecay = emaSchedule.decay
        return c
    }

    /// Writes the state atomically to `path`. `extra` is stored as metadata (`extra.<key>`), e.g.
    /// a data loader's position; `init(resumingFrom:)` returns it in `extraMetadata`.
    public func save(to path: String, extra: [String: String] = [:]) throws {
        let meta: [String: String] = [
            "format": Self.formatName,
            "generator_config": generator.config.jsonString(),
            "discriminator_config": discriminator.config.jsonString(),
            "training_config": currentConfig.jsonString(),
            "iteration": String(iteration),
            "adam_G_step": String(gOptimizer.step),
            "adam_D_step": String(dOptimizer.step),
        ]
        try TrainingStateFile.write(checkpointTensors, metadata: meta, rng: rng, extra: extra, to: path)
    }

    /// Restores a state written by `save`. Every tensor must be present with its shape; the
    /// models are rebuilt from the stored configurations.
    public convenience init(resumingFrom path: String) throws {
        let (file, name, m) = try TrainingStateFile.open(path, format: Self.formatName, kind: "a training state")
        func fail(_ why: String) -> CheckpointError { CheckpointError(file: name, why) }
        guard let gJSON = m["generator_config"], let dJSON = m["discriminator_config"], let tJSON = m["training_config"] else {
            throw fail("missing configuration metadata")
        }
        let g = try ModelConfig.decode(json: gJSON, file: name)
        let d: DiscriminatorConfig, t: TrainingConfig
        do {
            d = try JSONDecoder().decode(DiscriminatorConfig.self, from: Data(dJSON.utf8))
            t = try JSONDecoder().decode(TrainingConfig.self, from: Data(tJSON.utf8))
        } catch { throw fail("bad discriminator or training configuration: \(error)") }
        // Validated here, before any model is built, so that errors name this file.
        try g.validate(file: name)
        do { try d.validate() } catch let e as CheckpointError { throw fail("discriminator_config: \(e.reason)") }
        guard let it = m["iteration"].flatMap(Int.init), let gs = m["adam_G_step"].flatMap(Int.init),
              let ds = m["adam_D_step"].flatMap(Int.init) else {
            throw fail("missing or bad step counters")
        }
        try Self.checkResumed(training: t, counters: [("iteration", it), ("adam_G_step", gs), ("adam_D_step", ds)], fail: fail)
        try self.init(generator: g, discriminator: d, config: t, rng: try TrainingStateFile.rng(m, fail: fail))
        try TrainingStateFile.restore(checkpointTensors, from: file, name: name)
        iteration = it
        gOptimizer.step = gs
        dOptimizer.step = ds
        extraMetadata = TrainingStateFile.extra(m)
    }
}

extension Trainer {
    /// Largest step counter accepted from a file (so that `+= 1` and `pow(β, step)` stay safe).
    static let maxStoredStep = 1 << 40

    /// Bounds on the numbers a training state's metadata holds, before any of them is used.
    static func checkResumed(training t: TrainingConfig, counters: [(String, Int)], fail: (String) -> CheckpointError) throws {
        for (name, v) in counters where !(0...maxStoredStep).contains(v) { throw fail("\(name) \(v) out of range 0...\(maxStoredStep)") }
        func rate(_ v: Double, _ name: String, _ r: ClosedRange<Double>) throws {
            guard v.isFinite, r.contains(v) else { throw fail("training_config: \(name) \(v) out of range \(r)") }
        }
        try rate(t.gLearningRate, "g_lr", 0...1); try rate(t.dLearningRate, "d_lr", 0...1)
        try rate(t.beta1, "beta1", 0...0.999_999); try rate(t.beta2, "beta2", 0...0.999_999_999)
        try rate(t.adamEps, "adam_eps", 1e-30...1); try rate(t.snEps, "sn_eps", 1e-30...1)
        try rate(t.emaDecay, "ema_decay", 0...1); try rate(t.gOrthogonal, "g_ortho", 0...1e6); try rate(t.dOrthogonal, "d_ortho", 0...1e6)
        guard (1...65536).contains(t.batchSize) else { throw fail("training_config: batch_size \(t.batchSize) out of range 1...65536") }
        guard (1...1000).contains(t.dStepsPerGStep) else { throw fail("training_config: d_steps \(t.dStepsPerGStep) out of range 1...1000") }
        guard (0...maxStoredStep).contains(t.emaStart) else { throw fail("training_config: ema_start \(t.emaStart) out of range") }
    }
}
