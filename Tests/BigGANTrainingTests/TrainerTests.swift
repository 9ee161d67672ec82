import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANTraining

extension TrainingTests {
@Suite struct TrainerTests {
    func makeTrainer(seed: UInt64 = 7) throws -> Trainer {
        var cfg = TrainingConfig()
        cfg.batchSize = 4
        cfg.emaStart = 2
        return try Trainer(generator: tinyGeneratorConfig(), discriminator: tinyDiscriminatorConfig(), config: cfg, seed: seed)
    }

    /// A fake "data set": class-dependent blobs in [−1, 1].
    func realBatch(_ step: Int) -> (Tensor, [Int]) {
        var rng = NoiseGenerator(seed: 1000 + UInt64(step))
        let x = Tensor(shape: [4, 16, 16, 1])
        var labels: [Int] = []
        for i in 0..<4 {
            let c = Int(rng.nextUInt64() % 3)
            labels.append(c)
            for y in 0..<16 { for xx in 0..<16 {
                let d = Float((y - 4 * c - 4) * (y - 4 * c - 4) + (xx - 8) * (xx - 8))
                x[(i * 16 + y) * 16 + xx] = 2 * exp(-d / 10) - 1 + 0.05 * rng.nextNormal()
            } }
        }
        return (x, labels)
    }

    func iterate(_ t: Trainer, from: Int, count: Int) -> [Float] {
        var out: [Float] = []
        for s in from..<(from + count) {
            let (x, y) = realBatch(s)
            let (lr, lf) = t.dStep(realImages: x, realLabels: y)
            out += [lr, lf, t.gStep()]
        }
        return out
    }

    /// The initial state follows ajbrock's init; G_ema starts as a copy of G.
    @Test func initialisation() throws {
        let t = try makeTrainer()
        let w = t.generator.blocks[0].conv1.weight.value   // [16, 16·9]: orthonormal rows
        var s: Float = 0
        for j in 0..<144 { s += w[j] * w[j] }
        #expect(abs(s - 1) < 1e-5)
        #expect(t.generator.blocks[0].attention!.gamma.value[0] == 0)
        #expect(t.generator.outputBN.gain.value.array.allSatisfy { $0 == 1 })
        #expect(t.ema.stateTensors.map(\.1.array) == t.generator.stateTensors.map(\.1.array))
        #expect(t.discriminator.embed.spectralNorm!.u.array.contains { $0 != 0 })
    }

    /// Same seed, same run, bit for bit; losses finite; σ logged for G and D.
    @Test func deterministic() throws {
        let a = try makeTrainer(), b = try makeTrainer()
        let la = iterate(a, from: 0, count: 3), lb = iterate(b, from: 0, count: 3)
        #expect(la == lb)
        #expect(la.allSatisfy { $0.isFinite })
        #expect(a.iteration == 3 && a.gOptimizer.step == 3 && a.dOptimizer.step == 3)
        #expect(a.singularValues.contains { $0.0 == "D.embed" } && a.singularValues.contains { $0.0 == "G.output.conv" })
        // After ema_start the EMA differs from G but stays close.
        let e = a.ema.linear.weight.value, g = a.generator.linear.weight.value
        #expect(maxAbsDiff(e, g) > 0 && maxAbsDiff(e, g) < 0.05)
    }

    /// save → load → step gives exactly what stepping without saving gives.
    @Test func resumeIsBitIdentical() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("state.safetensors").path
        let a = try makeTrainer()
        _ = iterate(a, from: 0, count: 2)
        _ = a.rng.nextNormal()   // leave a pending Box–Muller spare in the RNG state
        try a.save(to: path, extra: ["data.epoch": "3"])
        let b = try Trainer(resumingFrom: path)
        #expect(b.extraMetadata == ["data.epoch": "3"])
        #expect(b.iteration == 2 && b.rng.state == a.rng.state && b.rng.spare == a.rng.spare)
        let la = iterate(a, from: 2, count: 2), lb = iterate(b, from: 2, count: 2)
        #expect(la == lb)
        for (x, y) in zip(a.checkpointTensors, b.checkpointTensors) {
            #expect(x.0 == y.0 && x.1.array == y.1.array, "\(x.0) differs after resuming")
        }
        // A damaged file is refused with the tensor named.
        let file = try SafeTensorsFile(path: path)
        var tensors = a.checkpointTensors.filter { $0.0 != "D.linear.u" }
        tensors.append(("D.bogus", Tensor(shape: [1])))
        try SafeTensorsWriter.write(tensors, metadata: file.metadata, to: path)
        let error = #expect(throws: CheckpointError.self) { try Trainer(resumingFrom: path) }
        #expect(error?.tensor == "D.linear.u")
    }
}
}
