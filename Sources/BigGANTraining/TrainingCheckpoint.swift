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
        return c
    }

    /// Writes the state atomically to `path`. `extra` is stored as metadata (`extra.<key>`), e.g.
    /// a data loader's position; `init(resumingFrom:)` returns it in `extraMetadata`.
    public func save(to path: String, extra: [String: String] = [:]) throws {
        var meta: [String: String] = [
            "format": Self.formatName,
            "generator_config": generator.config.jsonString(),
            "discriminator_config": discriminator.config.jsonString(),
            "training_config": currentConfig.jsonString(),
            "iteration": String(iteration),
            "adam_G_step": String(gOptimizer.step),
            "adam_D_step": String(dOptimizer.step),
            "rng_state": String(rng.state),
            "rng_spare": rng.spare.map { String($0.bitPattern, radix: 16) } ?? "",
        ]
        for (k, v) in extra { meta["extra." + k] = v }
        try SafeTensorsWriter.write(checkpointTensors, metadata: meta, to: path)
    }

    /// Restores a state written by `save`. Every tensor must be present with its shape; the
    /// models are rebuilt from the stored configurations.
    public convenience init(resumingFrom path: String) throws {
        let file = try SafeTensorsFile(path: path)
        let name = (path as NSString).lastPathComponent
        func fail(_ why: String) -> CheckpointError { CheckpointError(file: name, why) }
        let m = file.metadata
        guard m["format"] == Self.formatName else { throw fail("not a training state (format \(m["format"] ?? "missing"))") }
        guard let gJSON = m["generator_config"], let dJSON = m["discriminator_config"], let tJSON = m["training_config"] else {
            throw fail("missing configuration metadata")
        }
        let g = try ModelConfig.decode(json: gJSON, file: name)
        let d: DiscriminatorConfig, t: TrainingConfig
        do {
            d = try JSONDecoder().decode(DiscriminatorConfig.self, from: Data(dJSON.utf8))
            t = try JSONDecoder().decode(TrainingConfig.self, from: Data(tJSON.utf8))
        } catch { throw fail("bad discriminator or training configuration: \(error)") }
        guard let it = m["iteration"].flatMap(Int.init), let gs = m["adam_G_step"].flatMap(Int.init),
              let ds = m["adam_D_step"].flatMap(Int.init), let state = m["rng_state"].flatMap({ UInt64($0) }) else {
            throw fail("missing or bad step counters / RNG state")
        }
        var spare: Float? = nil
        if let s = m["rng_spare"], !s.isEmpty {
            guard let bits = UInt32(s, radix: 16) else { throw fail("bad rng_spare '\(s)'") }
            spare = Float(bitPattern: bits)
        }
        try self.init(generator: g, discriminator: d, config: t, rng: NoiseGenerator(state: state, spare: spare))
        var expected = Set<String>()
        for (key, tensor) in checkpointTensors {
            expected.insert(key)
            guard let e = file.entries[key] else { throw CheckpointError(file: name, tensor: key, "missing tensor") }
            guard e.shape == tensor.shape else { throw CheckpointError(file: name, tensor: key, "shape \(e.shape), expected \(tensor.shape)") }
            let loaded = try file.tensor(key)
            tensor.data.update(from: loaded.data, count: tensor.count)
        }
        if let extra = Set(file.entries.keys).subtracting(expected).sorted().first {
            throw CheckpointError(file: name, tensor: extra, "unexpected tensor")
        }
        iteration = it
        gOptimizer.step = gs
        dOptimizer.step = ds
        extraMetadata = m.filter { $0.key.hasPrefix("extra.") }
            .reduce(into: [:]) { $0[String($1.key.dropFirst(6))] = $1.value }
    }
}
