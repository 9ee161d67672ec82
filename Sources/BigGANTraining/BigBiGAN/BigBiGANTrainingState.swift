import BigGANEngine
import Foundation

extension BigBiGANTrainer {
    public static let formatName = "bigbigan-training-state-1"

    var checkpointTensors: [(String, Tensor)] {
        generator.stateTensors.map { ("G." + $0.0, $0.1) } + encoder.stateTensors.map { ("E." + $0.0, $0.1) }
            + discriminator.stateTensors.map { ("D." + $0.0, $0.1) } + ema.stateTensors.map { ("G_ema." + $0.0, $0.1) }
            + (emaEncoder?.stateTensors.map { ("E_ema." + $0.0, $0.1) } ?? [])
            + gOptimizer.stateTensors(prefix: "adam.G.") + eOptimizer.stateTensors(prefix: "adam.E.") + dOptimizer.stateTensors(prefix: "adam.D.")
    }

    /// `config` with the optimisers' current learning rates.
    var currentConfig: BigBiGANTrainingConfig {
        var c = config
        c.gLearningRate = gOptimizer.learningRate; c.eLearningRate = eOptimizer.learningRate; c.dLearningRate = dOptimizer.learningRate
        return c
    }

    /// The whole training state as one safetensors file (written atomically): `G.`, `E.`, `D.`,
    /// `G_ema.` (and `E_ema.`) parameters and buffers, the three optimisers' moments; metadata
    /// `format` = `bigbigan-training-state-1`, the configurations, counters, RNG and `extra.<key>`.
    public func save(to path: String, extra: [String: String] = [:]) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        func json<T: Encodable>(_ v: T) throws -> String { String(decoding: try enc.encode(v), as: UTF8.self) }
        let meta: [String: String] = [
            "format": Self.formatName, "generator_config": generator.config.jsonString(), "encoder_config": try json(encoder.config),
            "discriminator_config": try json(discriminator.config), "training_config": try json(currentConfig),
            "iteration": String(iteration), "adam_G_step": String(gOptimizer.step), "adam_E_step": String(eOptimizer.step),
            "adam_D_step": String(dOptimizer.step),
        ]
        try TrainingStateFile.write(checkpointTensors, metadata: meta, rng: rng, extra: extra, to: path)
    }

    /// Restores a state written by `save`; every tensor must be present with its shape.
    public convenience init(resumingFrom path: String) throws {
        let (file, name, m) = try TrainingStateFile.open(path, format: Self.formatName, kind: "a BigBiGAN training state")
        func fail(_ why: String) -> CheckpointError { CheckpointError(file: name, why) }
        let g = try ModelConfig.decode(json: m["generator_config"] ?? "", file: name)
        let e: EncoderConfig, d: JointDiscriminatorConfig, t: BigBiGANTrainingConfig
        do {
            e = try JSONDecoder().decode(EncoderConfig.self, from: Data((m["encoder_config"] ?? "").utf8))
            d = try JSONDecoder().decode(JointDiscriminatorConfig.self, from: Data((m["discriminator_config"] ?? "").utf8))
            t = try JSONDecoder().decode(BigBiGANTrainingConfig.self, from: Data((m["training_config"] ?? "").utf8))
        } catch { throw fail("missing or bad configuration metadata: \(error)") }
        try g.validate(file: name)
        try e.validate(file: name, generatorDimZ: g.dimZ)
        do { try d.validate() } catch let err as CheckpointError { throw fail("discriminator_config: \(err.reason)") }
        for (v, key) in [(t.gLearningRate, "g_lr"), (t.eLearningRate, "e_lr"), (t.dLearningRate, "d_lr"), (t.beta2, "beta2"), (t.emaDecay, "ema_decay")]
        where !(v.isFinite && v >= 0 && v <= 1) { throw fail("training_config: \(key) \(v) out of range 0...1") }
        guard (2...65536).contains(t.batchSize), t.adamEps > 0, t.snEps > 0 else { throw fail("training_config: bad batch_size, adam_eps or sn_eps") }
        let keys = ["iteration", "adam_G_step", "adam_E_step", "adam_D_step"]
        let counters = keys.map { m[$0].flatMap(Int.init) }
        for (k, v) in zip(keys, counters) { guard let v, (0...(1 << 40)).contains(v) else { throw fail("missing or bad \(k)") } }
        try self.init(generator: g, encoder: e, discriminator: d, config: t, rng: try TrainingStateFile.rng(m, fail: fail))
        try TrainingStateFile.restore(checkpointTensors, from: file, name: name)
        iteration = counters[0]!; gOptimizer.step = counters[1]!; eOptimizer.step = counters[2]!; dOptimizer.step = counters[3]!
        extraMetadata = TrainingStateFile.extra(m)
    }

    // MARK: Export

    /// The serving checkpoint (`docs/CHECKPOINT_FORMAT.md`, architecture `bigbigan`): the EMA
    /// generator exported as a BigGAN checkpoint's tensors (spectral norm baked in) and the
    /// encoder's parameters and running statistics under `encoder.` (the EMA encoder when kept);
    /// with `raw`, G and E themselves (the pair the discriminator trained against each other).
    public func export(raw: Bool = false) -> ([(String, Tensor)], BigBiGANConfig) {
        let (gTensors, gConfig) = (raw ? generator : ema).export()
        let e = raw ? encoder : emaEncoder ?? encoder
        return (gTensors + e.stateTensors.map { ($0.0, $0.1.copy()) }, BigBiGANConfig(generator: gConfig, encoder: e.config))
    }

    /// Writes `export()` with the given provenance and class names.
    public func saveCheckpoint(to path: String, raw: Bool = false, provenance: String, classNames: [String]?, dataset: String?, classifier: String?) throws {
        let (tensors, exported) = export(raw: raw)
        var cfg = exported
        cfg.generator.provenance = provenance
        cfg.generator.classNames = classNames
        cfg.generator.dataset = dataset
        cfg.generator.classifier = classifier
        try GeneratorLoader.save(configJSON: cfg.jsonString(), tensors: tensors, to: path)
    }

    /// An engine model with the exported weights (sample and reconstruction sheets, evaluation).
    public func inferenceModel() throws -> any Generator {
        let (tensors, cfg) = export()
        return try GeneratorLoader.build(configJSON: cfg.jsonString(), weights: NamedTensors(tensors), file: "<exported>")
    }
}
