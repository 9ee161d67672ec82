import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANTraining

extension TrainingTests {
/// DiffAugment (issue 12): the policy, the maps and their gradients; trainers that use it stay
/// deterministic and resume exactly.
@Suite struct AugmentationTests {
    let both = try! DiffAugment(policy: "translation, cutout")

    @Test func policiesParse() throws {
        #expect(both.translation && both.cutout && both.policy == "translation,cutout")
        #expect(try DiffAugment(policy: "none").isIdentity && (try DiffAugment(policy: "cutout").policy == "cutout"))
        #expect(throws: DiffAugment.PolicyError.self) { try DiffAugment(policy: "translation,rotate") }
    }

    @Test func translationShiftsAndCutoutZeroes() {
        let x = Tensor(shape: [1, 4, 4, 1], values: (0..<16).map { Float($0 + 1) })
        let up = DiffAugment.Draw(shifts: [[1, 0]], holes: [[0, 0, 0, 0]])
        // out[y, x] = in[y + 1, x]: rows move up, the last row is zero.
        #expect(both.apply(x, up).array == Array((5...16).map(Float.init)) + [0, 0, 0, 0])
        let hole = DiffAugment.Draw(shifts: [[0, 0]], holes: [[1, 3, 0, 2]])
        let cut = both.apply(x, hole).array
        for y in 0..<4 { for xx in 0..<4 {
            #expect(cut[y * 4 + xx] == ((1..<3).contains(y) && xx < 2 ? 0 : x[y * 4 + xx]))
        } }
    }

    @Test func drawsStayInRange() {
        var rng = NoiseGenerator(seed: 3)
        let d = both.draw(batch: 200, height: 32, width: 32, rng: &rng)
        #expect(d.shifts.allSatisfy { $0.allSatisfy { (-4...4).contains($0) } })
        #expect(Set(d.shifts.map { $0[0] }).count == 9)   // every shift occurs
        #expect(d.holes.allSatisfy { $0[0] >= 0 && $0[1] <= 32 && $0[0] <= $0[1] && $0[1] - $0[0] <= 16 && $0[3] - $0[2] <= 16 })
        #expect(d.holes.contains { $0[1] - $0[0] == 16 } && d.holes.contains { $0[1] - $0[0] < 16 })   // clipped at edges
    }

    /// backward is the exact transpose (⟨apply(x), y⟩ = ⟨x, backward(y)⟩), and matches central
    /// finite differences of Σ r ⊙ apply(x).
    @Test func backwardIsTheGradient() {
        var rng = NoiseGenerator(seed: 5)
        let draw = both.draw(batch: 3, height: 8, width: 8, rng: &rng)
        let x = randomTensor([3, 8, 8, 2], seed: 1), r = randomTensor([3, 8, 8, 2], seed: 2)
        let lhs = weightedSum(both.apply(x, draw), r), rhs = weightedSum(x, both.backward(r, draw))
        #expect(abs(lhs - rhs) <= 1e-4 * max(1, abs(lhs)))
        let g = both.backward(r, draw)
        for i in stride(from: 0, to: x.count, by: 7) {
            let keep = x[i], eps: Float = 1e-2
            x[i] = keep + eps; let up = weightedSum(both.apply(x, draw), r)
            x[i] = keep - eps; let down = weightedSum(both.apply(x, draw), r)
            x[i] = keep
            #expect(abs((up - down) / (2 * Double(eps)) - Double(g[i])) < 1e-3, "element \(i)")
        }
    }

    func trainer(seed: UInt64 = 7) throws -> Trainer {
        var cfg = TrainingConfig()
        cfg.batchSize = 4; cfg.emaStart = 2; cfg.augment = "translation,cutout"
        return try Trainer(generator: tinyGeneratorConfig(), discriminator: tinyDiscriminatorConfig(), config: cfg, seed: seed)
    }

    @Test func augmentedTrainingIsDeterministicAndResumesExactly() throws {
        let steps = TrainerTests()
        let a = try trainer(), b = try trainer()
        #expect(a.augmentation == both)
        #expect(steps.iterate(a, from: 0, count: 2) == steps.iterate(b, from: 0, count: 2))
        // The augmentation changes what D sees: the same seed without it trains differently.
        let plain = try steps.makeTrainer()
        #expect(steps.iterate(plain, from: 0, count: 2) != steps.iterate(try trainer(), from: 0, count: 2))
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("state.safetensors").path
        try a.save(to: path, extra: [:])
        let c = try Trainer(resumingFrom: path)
        #expect(c.config.augment == "translation,cutout" && c.augmentation == both)
        #expect(steps.iterate(a, from: 2, count: 2) == steps.iterate(c, from: 2, count: 2))
        var bad = TrainingConfig(); bad.augment = "flip"
        #expect(throws: CheckpointError.self) { try Trainer(generator: tinyGeneratorConfig(), discriminator: tinyDiscriminatorConfig(), config: bad, seed: 1) }
    }
}

/// Standing statistics (issue 12): the plain average of per-batch statistics, nothing else changed.
@Suite struct StandingStatisticsTests {
    func generator() throws -> TrainableGenerator {
        let g = try TrainableGenerator(config: tinyGeneratorConfig())
        randomise(g, seed: 40)
        return g
    }

    func batch(_ seed: UInt64) -> (z: Tensor, labels: [Int]) { (randomTensor([5, 9], seed: seed), [0, 1, 2, 1, 0]) }

    func statistics(_ g: TrainableGenerator) -> [(String, [Float])] {
        g.buffers.filter { $0.name.hasSuffix(".mean") || $0.name.hasSuffix(".var") }.map { ($0.name, $0.value.array) }
    }

    @Test func averagesTheBatchStatisticsAndKeepsEverythingElse() throws {
        let g = try generator()
        let u = g.spectralNorms.map { $0.u.array }, weights = g.parameters.map { $0.value.array }
        g.accumulateStandingStatistics([batch(1), batch(2)])
        let both = statistics(g)
        #expect(g.spectralNorms.map { $0.u.array } == u && g.parameters.map { $0.value.array } == weights)
        // Each batch alone, from different starting statistics: the old values do not matter.
        let one = try generator(); one.accumulateStandingStatistics([batch(1)])
        let two = try generator()
        for b in two.buffers where b.name.hasSuffix(".var") { for i in 0..<b.value.count { b.value[i] = 7 } }
        two.accumulateStandingStatistics([batch(2)])
        #expect(both.count == 10 && both.count == statistics(one).count)   // 5 batch norms × (mean, var)
        for ((name, s), ((_, a), (_, b))) in zip(both, zip(statistics(one), statistics(two))) {
            for i in s.indices { #expect(abs(s[i] - (a[i] + b[i]) / 2) <= 1e-5 * max(1, abs(s[i])), "\(name)[\(i)]") }
        }
        // The running updates are back to momentum 0.1 afterwards.
        #expect(g.batchNormCores.allSatisfy { $0.standingCount == nil })
        let before = statistics(g)
        _ = g.forward(z: batch(3).z, labels: batch(3).labels, mode: .training)
        #expect(statistics(g).map(\.1) != before.map(\.1))
    }
}
}
