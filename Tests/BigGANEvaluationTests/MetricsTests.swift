import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANEvaluation

/// Reference values from `scripts/make_eval_fixtures.py` (numpy / scipy).
struct EvalFixture: Decodable {
    struct FD: Decodable { let a: [[Float]]; let b: [[Float]]; let frechet: Double }
    struct IS: Decodable { let probabilities: [[Double]]; let splits: Int; let mean: Double; let std: Double }
    let frechet: [FD]
    let inception: IS
    static func load() throws -> EvalFixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/eval.json")
        return try JSONDecoder().decode(EvalFixture.self, from: Data(contentsOf: url))
    }
}

func tensor(_ rows: [[Float]]) -> Tensor { Tensor(shape: [rows.count, rows[0].count], values: rows.flatMap { $0 }) }

@Suite struct MetricsTests {
    @Test func frechetDistanceMatchesScipy() throws {
        let f = try EvalFixture.load()
        #expect(f.frechet.count == 3)
        for c in f.frechet {
            let got = EvaluationMetrics.frechetDistance(FeatureStatistics(features: tensor(c.a)), FeatureStatistics(features: tensor(c.b)))
            #expect(abs(got - c.frechet) <= 1e-6 * max(1, abs(c.frechet)) + 1e-8, "got \(got), scipy \(c.frechet)")
        }
    }

    @Test func frechetDistanceOfIdenticalSetsIsZero() {
        let x = randomTensor([400, 6], seed: 2)
        let s = FeatureStatistics(features: x)
        #expect(abs(EvaluationMetrics.frechetDistance(s, s)) < 1e-9)
    }

    /// A shifted, scaled copy: the mean term is the squared shift, the spread the squared scale,
    /// and for a pure shift the whole distance is the mean term.
    @Test func frechetPartsSeparateLocationAndShape() {
        let x = randomTensor([400, 6], seed: 3)
        let shifted = Tensor(shape: x.shape, values: x.array.enumerated().map { $0.element + ($0.offset % 6 == 2 ? 0.5 : 0) })
        let scaled = Tensor(shape: x.shape, values: x.array.map { $0 * 1.5 })
        let s = FeatureStatistics(features: x)
        let a = EvaluationMetrics.frechetParts(FeatureStatistics(features: shifted), s)
        #expect(abs(a.meanTerm - 0.25) < 1e-6 && abs(a.total - 0.25) < 1e-5 && abs(a.spread - 1) < 1e-6, "\(a)")
        let b = EvaluationMetrics.frechetParts(FeatureStatistics(features: scaled), s)
        #expect(abs(b.spread - 2.25) < 1e-6 && b.total > 0.1 && abs(b.total - EvaluationMetrics.frechetDistance(FeatureStatistics(features: scaled), s)) < 1e-12)
    }

    @Test func inceptionScoreMatchesNumpy() throws {
        let f = try EvalFixture.load()
        let (m, s) = EvaluationMetrics.inceptionScore(probabilities: f.inception.probabilities, splits: f.inception.splits)
        #expect(abs(m - f.inception.mean) < 1e-9 && abs(s - f.inception.std) < 1e-9)
        // Confident, uniformly spread predictions over C classes score C; identical ones score 1.
        let confident = (0..<100).map { i in (0..<4).map { $0 == i % 4 ? 1.0 : 0.0 } }
        #expect(abs(EvaluationMetrics.inceptionScore(probabilities: confident, splits: 1).mean - 4) < 1e-9)
        #expect(abs(EvaluationMetrics.inceptionScore(probabilities: Array(repeating: [0.5, 0.5], count: 10), splits: 1).mean - 1) < 1e-12)
    }

    @Test func sampleOrderPutsEveryClassInEverySplit() {
        // Perfectly confident, correct predictions score the number of classes over the default ten
        // splits only if each split holds every class (in class order each would score 1).
        let (perClass, c) = (50, 10)
        let p = (0..<perClass * c).map { i in (0..<c).map { $0 == Evaluator.sampleClass(i, nClasses: c) ? 1.0 : 0.0 } }
        #expect(abs(EvaluationMetrics.inceptionScore(probabilities: p).mean - Double(c)) < 1e-9)
        #expect(Set((0..<perClass * c).map { Evaluator.sampleClass($0, nClasses: c) }.prefix(c)).count == c)
    }

    @Test func accuracyAndSoftmax() {
        let logits = Tensor(shape: [3, 2], values: [1, 2, 5, 0, 0, 0.1])
        #expect(EvaluationMetrics.accuracy(logits: logits, labels: [1, 0, 0]) == 2.0 / 3)
        let p = EvaluationMetrics.softmax(logits)
        #expect(abs(p[0][1] - 1 / (1 + exp(-1.0))) < 1e-9)
    }
}
