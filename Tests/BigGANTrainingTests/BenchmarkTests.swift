import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANTraining

extension TrainingTests {
/// Training-iteration timing (not a timed test: runs only with `BIGGAN_TRAIN_BENCH=1`).
/// Model: 32×32 grey, 10 classes, G ch 32 (128 channels, blocks at 8/16/32, attention at 16),
/// D ch 32 (ajbrock D_arch 32, attention at 16), batch `BIGGAN_TRAIN_BENCH_BATCH` (default 32);
/// one iteration = one D step + one G step. Compare with PyTorch on the same model:
/// `python3 scripts/bench_train_torch.py`.
@Suite struct BenchmarkTests {
    static var enabled: Bool { ProcessInfo.processInfo.environment["BIGGAN_TRAIN_BENCH"] != nil }

    @Test(.enabled(if: BenchmarkTests.enabled)) func trainingIteration() throws {
        let env = ProcessInfo.processInfo.environment
        let batch = env["BIGGAN_TRAIN_BENCH_BATCH"].flatMap(Int.init) ?? 32
        let ch = env["BIGGAN_TRAIN_BENCH_CH"].flatMap(Int.init) ?? 32
        let iters = env["BIGGAN_TRAIN_BENCH_ITERS"].flatMap(Int.init) ?? 5
        let savedBudget = ConvLayer.columnBudget
        if let b = env["BIGGAN_TRAIN_BENCH_BUDGET"].flatMap(Int.init) { ConvLayer.columnBudget = b }
        defer { ConvLayer.columnBudget = savedBudget }
        let g = try #require(ModelConfig.biggan(resolution: 32, ch: ch, dimZ: 128, sharedDim: 128, nClasses: 10,
                                                attention: [16], outChannels: 1))
        let d = try #require(DiscriminatorConfig.biggan(resolution: 32, ch: ch, inputChannels: 1, nClasses: 10, attention: [16]))
        var cfg = TrainingConfig()
        cfg.batchSize = batch
        let t = try Trainer(generator: g, discriminator: d, config: cfg, seed: 1)
        var rng = NoiseGenerator(seed: 2)
        let x = Tensor(shape: [batch, 32, 32, 1])
        for i in 0..<x.count { x[i] = max(-1, min(1, rng.nextNormal() * 0.5)) }
        let labels = (0..<batch).map { $0 % 10 }
        func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
        _ = t.dStep(realImages: x, realLabels: labels); _ = t.gStep()   // warm-up
        TrainingProfiler.reset()
        TrainingProfiler.isEnabled = env["BIGGAN_TRAIN_PROFILE"] != nil
        defer { TrainingProfiler.isEnabled = false }
        var dTimes: [Double] = [], gTimes: [Double] = []
        for _ in 0..<iters {
            let t0 = now()
            _ = t.dStep(realImages: x, realLabels: labels)
            let t1 = now()
            _ = t.gStep()
            let t2 = now()
            dTimes.append(t1 - t0); gTimes.append(t2 - t1)
        }
        let dm = dTimes.sorted()[iters / 2], gm = gTimes.sorted()[iters / 2]
        let best = zip(dTimes, gTimes).map { $0 + $1 }.min()!
        print(String(format: "swift train bench: batch %d ch %d: D step %.1f ms, G step %.1f ms, iteration %.1f ms (median of %d), best %.1f ms; BLAS threads %d, workers %d",
                     batch, ch, dm * 1e3, gm * 1e3, (dm + gm) * 1e3, iters, best * 1e3, BLAS.threads, Parallel.workers))
        if TrainingProfiler.isEnabled { print("profile over \(iters) iterations:\n" + TrainingProfiler.report()) }
    }
}
}
