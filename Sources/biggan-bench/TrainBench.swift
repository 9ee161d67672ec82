import ArgumentParser
import BigGANEngine
import BigGANTraining
import Foundation

/// Times whole training iterations — `dSteps` discriminator steps and one generator step (with
/// the EMA update and G's orthogonal regulariser, as `biggan-train` runs them) — on random
/// data, for comparison with `scripts/bench_torch_train.py` on the same model and batch.
struct TrainBench {
    /// `shipped`: `biggan-train`'s defaults (G 256→128→64→32 with attention at 16, z 64, grey;
    /// D 64 channels; batch 32). `width32`: BigGAN-PyTorch's CIFAR-style 32×32 pair at ch 32
    /// (G 1.25 M, D 1.06 M parameters, RGB; batch 64).
    /// `stylegan`: `biggan-train --architecture stylegan`'s defaults (channels 128, 128, 64, 32 in
    /// G and D, z = W = 128, 8 mapping layers, grey, batch 32, one D step, R1 every 4th D step).
    static let presets = ["shipped", "width32", "stylegan"]

    let preset: String
    let batch: Int?
    let iterations: Int
    /// D steps per iteration: 2 for BigGAN (the shipped recipe), 1 for StyleGAN (NVlabs).
    var dSteps: Int { preset == "stylegan" ? 1 : 2 }

    var defaultBatch: Int { preset == "width32" ? 64 : 32 }

    func models() throws -> (ModelConfig, DiscriminatorConfig) {
        let names = (0..<10).map { "class \($0)" }
        switch preset {
        case "shipped":
            guard let d = DiscriminatorConfig.biggan(resolution: 32, ch: 16, inputChannels: 1, nClasses: 10) else { throw ValidationError("no D") }
            return (ModelConfig.tapered(width: 32, dimZ: 64, classNames: names, channels: 1), d)
        case "width32":
            guard let g = ModelConfig.biggan(resolution: 32, ch: 32, dimZ: 128, sharedDim: 128, nClasses: 10, attention: [], outChannels: 3),
                  let d = DiscriminatorConfig.biggan(resolution: 32, ch: 32, inputChannels: 3, nClasses: 10) else { throw ValidationError("no model") }
            return (g, d)
        default:
            throw ValidationError("--train must be one of \(Self.presets.joined(separator: ", "))")
        }
    }

    /// Returns seconds per iteration (median) and the trainer's parameter counts.
    func run(profile: Bool) throws -> (median: Double, best: Double, gParams: Int, dParams: Int) {
        if preset == "stylegan" { return try runStyleGAN(profile: profile) }
        let (g, d) = try models()
        let b = batch ?? defaultBatch
        var cfg = TrainingConfig()
        cfg.batchSize = b; cfg.dStepsPerGStep = dSteps; cfg.emaStart = 0
        let trainer = try Trainer(generator: g, discriminator: d, config: cfg, seed: 1)
        var rng = NoiseGenerator(seed: 2)
        let x = Tensor(uninitializedShape: [b, 32, 32, g.outChannels])
        for i in 0..<x.count { x[i] = max(-1, min(1, rng.nextNormal() * 0.5)) }
        let labels = (0..<b).map { $0 % g.nClasses }
        func iteration() {
            for _ in 0..<dSteps { _ = trainer.dStep(realImages: x, realLabels: labels) }
            _ = trainer.gStep()
        }
        iteration()   // warm-up
        Profiler.reset()
        Profiler.isEnabled = profile
        defer { Profiler.isEnabled = false }
        var times: [Double] = []
        for _ in 0..<iterations {
            let s = DispatchTime.now().uptimeNanoseconds
            iteration()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9)
        }
        if profile { print("profile over \(iterations) iterations:\n" + Profiler.report()) }
        return (times.sorted()[times.count / 2], times.min()!,
                trainer.generator.parameters.reduce(0) { $0 + $1.value.count },
                trainer.discriminator.parameters.reduce(0) { $0 + $1.value.count })
    }

    /// The `stylegan` preset: one D step and one G step per iteration (R1 on every 4th D step).
    func runStyleGAN(profile: Bool) throws -> (median: Double, best: Double, gParams: Int, dParams: Int) {
        let b = batch ?? 32
        let names = (0..<10).map { "class \($0)" }
        let g = StyleGANConfig(resolution: 32, zDim: 128, wDim: 128, labelSize: 10, channels: [128, 128, 64, 32], outChannels: 1, classNames: names)
        let d = StyleGANDiscriminatorConfig(resolution: 32, inputChannels: 1, channels: [128, 128, 64, 32], labelSize: 10)
        var cfg = StyleGANTrainingConfig()
        cfg.batchSize = b
        let trainer = try StyleGANTrainer(generator: g, discriminator: d, config: cfg, seed: 1)
        var rng = NoiseGenerator(seed: 2)
        let x = Tensor(uninitializedShape: [b, 32, 32, 1])
        for i in 0..<x.count { x[i] = max(-1, min(1, rng.nextNormal() * 0.5)) }
        let labels = (0..<b).map { $0 % 10 }
        func iteration() { trainer.dStep(realImages: x, realLabels: labels); trainer.gStep() }
        iteration()
        Profiler.reset()
        Profiler.isEnabled = profile
        defer { Profiler.isEnabled = false }
        var times: [Double] = []
        for _ in 0..<max(iterations, 4) {
            let s = DispatchTime.now().uptimeNanoseconds
            iteration()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9)
        }
        if profile { print("profile over \(times.count) iterations:\n" + Profiler.report()) }
        return (times.sorted()[times.count / 2], times.min()!, trainer.generator.parameters.reduce(0) { $0 + $1.value.count },
                trainer.discriminator.parameters.reduce(0) { $0 + $1.value.count })
    }
}
