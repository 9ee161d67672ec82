import BigGANEngine

extension TrainableGenerator {
    /// Every batch norm of G (each block's two conditional BNs, then the output BN).
    var batchNormCores: [BatchNormCore] { blocks.flatMap { [$0.bn1.core, $0.bn2.core] } + [outputBN.core] }

    /// Standing statistics (ajbrock BigGAN-PyTorch `accumulate_standing_stats`): every BN's
    /// running mean and variance are replaced by the plain average, over `inputs`, of the batch
    /// mean and (unbiased) batch variance G computes in training mode on each batch. Nothing else
    /// changes: every pass starts from the same spectral-norm vectors `u` (restored before each
    /// pass and at the end), so each normalises its weights exactly as `export()` then bakes them.
    /// - Parameter inputs: latents `[B, dim_z]` and `B` labels per batch.
    public func accumulateStandingStatistics(_ inputs: [(z: Tensor, labels: [Int])]) {
        guard !inputs.isEmpty else { return }
        let savedU = spectralNorms.map { $0.u.copy() }
        let cores = batchNormCores
        for core in cores { core.standingCount = 0 }
        let norms = spectralNorms
        func restoreU() { for (sn, u) in zip(norms, savedU) { sn.u.data.update(from: u.data, count: u.count) } }
        for (z, labels) in inputs {
            restoreU()
            _ = forward(z: z, labels: labels, mode: .training)
        }
        for core in cores { core.standingCount = nil }
        restoreU()
    }

    /// Standing statistics over `batches` batches of `batchSize` latents `z ~ N(0, I)` and uniform
    /// labels drawn from `NoiseGenerator(seed:)` (as `Trainer.sampleLatents`).
    public func accumulateStandingStatistics(batches: Int, batchSize: Int, seed: UInt64) {
        var rng = NoiseGenerator(seed: seed)
        let n = config.nClasses
        let inputs = (0..<max(0, batches)).map { _ -> (z: Tensor, labels: [Int]) in
            let z = Tensor(uninitializedShape: [batchSize, config.dimZ])
            for i in 0..<z.count { z[i] = rng.nextNormal() }
            return (z, (0..<batchSize).map { _ in min(n - 1, Int(rng.nextUniform() * Double(n))) })
        }
        accumulateStandingStatistics(inputs)
    }
}
