import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANEvaluation

/// The linear probe learns a linearly separable problem, stays near chance on labels that carry
/// no information, and is deterministic.
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
}
