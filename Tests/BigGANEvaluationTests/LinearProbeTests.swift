import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANEvaluation

/// The linear probe learns a linearly separable problem, stays near chance on labels that carry
/// no information, is deterministic, and (with its cosine schedule) converges to the optimum.
@Suite struct LinearProbeTests {
    /// Three Gaussian clusters in 5 dimensions around well-separated centres (plus scale
    /// differences between features, which standardisation removes).
    func clusters(_ n: Int, seed: UInt64) -> (Tensor, [Int]) {
        var rng = NoiseGenerator(seed: seed)
        let labels = (0..<n).map { $0 % 3 }
        let x = Tensor(uninitializedShape: [n, 5])
        for i in 0..<n { for j in 0..<5 { x[i * 5 + j] = (rng.nextNormal() * 0.3 + (j == labels[i] ? 2 : 0)) * Float(j + 1) * 10 } }
        return (x, labels)
    }

    @Test func separableClassesAreLearned() {
        let (x, y) = clusters(600, seed: 1), (xt, yt) = clusters(300, seed: 2)
        var s = LinearProbe.Settings()
        s.epochs = 20
        let probe = LinearProbe.fit(features: x, labels: y, classes: 3, settings: s)
        #expect(probe.accuracy(xt, labels: yt) > 0.98)
        let again = LinearProbe.fit(features: x, labels: y, classes: 3, settings: s)
        #expect(again.weights == probe.weights && again.biases == probe.biases)
    }

    @Test func uninformativeLabelsStayNearChance() {
        let (x, _) = clusters(600, seed: 3), (xt, _) = clusters(600, seed: 4)
        var rng = NoiseGenerator(seed: 5)
        let y = (0..<600).map { _ in Int(rng.nextUInt64() % 3) }, yt = (0..<600).map { _ in Int(rng.nextUInt64() % 3) }
        let probe = LinearProbe.fit(features: x, labels: y, classes: 3)
        #expect(abs(probe.accuracy(xt, labels: yt) - 1.0 / 3) < 0.08)
    }

    /// Overlapping classes: 30 epochs with the cosine schedule end within 2e-3 of the training
    /// loss that 300 epochs reach; the constant learning rate ends further away.
    @Test func cosineScheduleConvergesToTheOptimum() {
        var rng = NoiseGenerator(seed: 7)
        let n = 2000, d = 20
        let y = (0..<n).map { $0 % 4 }
        let x = Tensor(uninitializedShape: [n, d])
        for i in 0..<n { for j in 0..<d { x[i * d + j] = rng.nextNormal() * 2 + (j % 4 == y[i] ? 1 : 0) } }
        var s = LinearProbe.Settings()
        s.l2 = 0
        s.batch = 64
        s.epochs = 300
        let best = LinearProbe.fit(features: x, labels: y, classes: 4, settings: s).loss(x, labels: y)
        s.epochs = 30
        let annealed = LinearProbe.fit(features: x, labels: y, classes: 4, settings: s).loss(x, labels: y)
        s.cosineDecay = false
        let constant = LinearProbe.fit(features: x, labels: y, classes: 4, settings: s).loss(x, labels: y)
        #expect(annealed - best < 2e-3 && annealed < constant, "optimum \(best), annealed \(annealed), constant \(constant)")
        #expect(constant - best > 2 * (annealed - best), "optimum \(best), annealed \(annealed), constant \(constant)")
    }

    /// BN+CReLU: standardised with the training rows' statistics, positive part first, then the
    /// negative part; the test rows use the training statistics.
    @Test func bnCReLUStandardisesAndSplitsSigns() {
        let train = Tensor(shape: [4, 2], values: [1, 10, 3, 10, 1, 30, 3, 30])
        let test = Tensor(shape: [1, 2], values: [5, 0])
        let (a, b) = LinearProbe.bnCReLU(train: train, test: test)
        #expect(a.shape == [4, 4] && b.shape == [1, 4])
        #expect(Array(a.array.prefix(8)) == [0, 0, 1, 1, 1, 0, 0, 1])
        #expect(b.array == [3, 0, 0, 2])
    }
}
