import BigGANEngine
import Foundation

/// The complete StyleGAN training state as one safetensors file, so `--resume` continues bit for
/// bit. Tensors (F32): `G.<name>`, `D.<name>`, `G_ema.<name>` for every parameter and buffer, and
/// `adam.G.m.<name>`, `adam.G.v.<name>`, `adam.D.m.<name>`, `adam.D.v.<name>`. `__metadata__`:
/// `format` = `stylegan-training-state-1`, `generator_config` (`StyleGANConfig` JSON),
/// `discriminator_config`, `training_config`, `iteration`, `d_steps`, `adam_G_step`,
/// `adam_D_step`, `rng_state`, `rng_spare`, and the caller's keys prefixed `extra.`.
extension StyleGANTrainer {
    public static let formatName = "stylegan-training-state-1"

    var checkpointTensors: [(String, Tensor)] {
        generator.stateTensors.map { ("G." + $0.0, $0.1) } + discriminator.stateTensors.map { ("D." + $0.0, $0.1) }
            + ema.stateTensors.map { ("G_ema." + $0.0, $0.1) }
            + gOptimizer.stateTensors(prefix: "adam.G.") + dOptimizer.stateTensors(prefix: "adam.D.")
    }

    /// `config` with the optimisers' current learning rates (a resumed run may have changed them).
    var currentConfig: StyleGANTrainingConfig {
        var c = config
        c.gLearningRate = gOptimizer.learningRate
        c.dLearningRate = dOptimizer.learningRate
        return c
    }

    /// Writes the state atomically to `path`, with `extra` as `extra.<key>` metadata.
    public func save(to path: String, extra: [String: String] = [:]) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let meta: [String: String] = [
            "format": Self.formatName,
            "generator_config": generator.config.canonicalJSON,
            "discriminator_config": String(decoding: try enc.encode(discriminator.config), as: UTF8.self),
            "training_config": currentConfig.jsonString(),
            "iteration": String(iteration), "d_steps": String(dSteps),
            "adam_G_step": String(gOptimizer.step), "adam_D_step": String(dOptimizer.step),
        ]
        try TrainingStateFile.write(checkpointTensors, metadata: meta, rng: rng, extra: extra, to: path)
    }

    /// Restores a state written by `save`; every tensor must be present with its shape.
    public convenience init(resumingFrom path: String) throws {
        let (file, name, m) = try TrainingStateFile.open(path, format: Self.formatName, kind: "a StyleGAN training state")
        func fail(_ why: String) -> CheckpointError { CheckpointError(file: name, why) }
        let g: StyleGANConfig, d: StyleGANDiscriminatorConfig, t: StyleGANTrainingConfig
        do {
            g = try JSONDecoder().decode(StyleGANConfig.self, from: Data((m["generator_config"] ?? "").utf8))
            d = try JSONDecoder().decode(StyleGANDiscriminatorConfig.self, from: Data((m["discriminator_config"] ?? "").utf8))
            t = try JSONDecoder().decode(StyleGANTrainingConfig.self, from: Data((m["training_config"] ?? "").utf8))
        } catch { throw fail("missing or bad configuration metadata: \(error)") }
        try g.validate(file: name)
        do { try d.validate() } catch let e as CheckpointError { throw fail("discriminator_config: \(e.reason)") }
        try t.validate(fail: fail)
        let counters = ["iteration", "d_steps", "adam_G_step", "adam_D_step"].map { ($0, m[$0].flatMap(Int.init)) }
        for (key, v) in counters { guard let v, (0...(1 << 40)).contains(v) else { throw fail("missing or bad \(key)") } }
        try self.init(generator: g, discriminator: d, config: t, rng: try TrainingStateFile.rng(m, fail: fail))
        try TrainingStateFile.restore(checkpointTensors, from: file, name: name)
        iteration = counters[0].1!; dSteps = counters[1].1!
        gOptimizer.step = counters[2].1!; dOptimizer.step = counters[3].1!
        extraMetadata = TrainingStateFile.extra(m)
    }
}

extension StyleGANTrainingConfig {
    /// Bounds on every setting, naming the first that is out of range.
    public func validate(fail: (String) -> CheckpointError = { CheckpointError(file: "<training config>", $0) }) throws {
        func check(_ v: Double, _ name: String, _ r: ClosedRange<Double>) throws {
            guard v.isFinite, r.contains(v) else { throw fail("training_config: \(name) \(v) out of range \(r)") }
        }
        try check(gLearningRate, "g_lr", 1e-12...1); try check(dLearningRate, "d_lr", 1e-12...1)
        try check(beta1, "beta1", 0...0.999_999); try check(beta2, "beta2", 0...0.999_999_999); try check(adamEps, "adam_eps", 1e-30...1)
        try check(r1Gamma, "r1_gamma", 0...1e6); try check(mixingProbability, "mixing_prob", 0...1); try check(emaHalfLifeKimg, "ema_kimg", 0...1e6)
        guard (2...65536).contains(batchSize) else { throw fail("training_config: batch_size \(batchSize) out of range 2...65536") }
        guard (1...1000).contains(r1Interval) else { throw fail("training_config: r1_interval \(r1Interval) out of range 1...1000") }
    }
}
