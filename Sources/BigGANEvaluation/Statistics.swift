import BigGANEngine
import Foundation

/// Mean and covariance of a set of feature vectors, in double precision.
public struct FeatureStatistics: Sendable {
    public let mean: [Double]
    /// Row-major `[D, D]`, normalised by `n − 1` (as numpy's `np.cov`).
    public let covariance: [Double]
    public let count: Int
    public var dimension: Int { mean.count }

    /// `features`: `[N, D]`.
    public init(features: Tensor) {
        let n = features.shape[0], d = features.count / max(n, 1)
        var mu = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mu[j] += Double(features[i * d + j]) } }
        for j in 0..<d { mu[j] /= Double(max(n, 1)) }
        // Centred copy, then Xᵀ X through a double-precision loop over rows (D is small).
        var cov = [Double](repeating: 0, count: d * d)
        var row = [Double](repeating: 0, count: d)
        for i in 0..<n {
            for j in 0..<d { row[j] = Double(features[i * d + j]) - mu[j] }
            for a in 0..<d { let ra = row[a]; if ra == 0 { continue }; for b in a..<d { cov[a * d + b] += ra * row[b] } }
        }
        let norm = 1 / Double(max(n - 1, 1))
        for a in 0..<d { for b in a..<d { cov[a * d + b] *= norm; cov[b * d + a] = cov[a * d + b] } }
        mean = mu; covariance = cov; count = n
    }

    public init(mean: [Double], covariance: [Double], count: Int) {
        self.mean = mean; self.covariance = covariance; self.count = count
    }
}

public enum EvaluationMetrics {
    /// Fréchet distance between two Gaussians (Heusel et al. 2017):
    /// `‖μ₁ − μ₂‖² + Tr(Σ₁) + Tr(Σ₂) − 2·Tr((Σ₁Σ₂)^½)`, with `Tr((Σ₁Σ₂)^½) = Σ √λᵢ` over the
    /// eigenvalues of the symmetric `Σ₁^½ Σ₂ Σ₁^½` (negative round-off clamped to 0).
    public static func frechetDistance(_ a: FeatureStatistics, _ b: FeatureStatistics) -> Double {
        frechetParts(a, b).total
    }

    /// The Fréchet distance split into its two terms: `meanTerm` = `‖μ₁ − μ₂‖²` (where the sets
    /// sit) and `total − meanTerm` (their shapes), and `spread` = `Tr(Σ₁)/Tr(Σ₂)` (below 1: the
    /// first set varies less than the second, e.g. samples less varied than the data).
    public static func frechetParts(_ a: FeatureStatistics, _ b: FeatureStatistics) -> (total: Double, meanTerm: Double, spread: Double) {
        let d = a.dimension
        precondition(b.dimension == d)
        var diff = 0.0
        for j in 0..<d { diff += (a.mean[j] - b.mean[j]) * (a.mean[j] - b.mean[j]) }
        var tr = 0.0
        for j in 0..<d { tr += a.covariance[j * d + j] + b.covariance[j * d + j] }
        let s1 = SymmetricEigen(a.covariance, n: d).sqrtMatrix()
        let m = matmul(matmul(s1, b.covariance, d), s1, d)
        let eig = SymmetricEigen(m, n: d).values
        let trSqrt = eig.reduce(0) { $0 + max($1, 0).squareRoot() }
        var trA = 0.0, trB = 0.0
        for j in 0..<d { trA += a.covariance[j * d + j]; trB += b.covariance[j * d + j] }
        return (diff + tr - 2 * trSqrt, diff, trA / max(trB, 1e-300))
    }

    /// Inception-style score (Salimans et al. 2016) of class probabilities `[N, C]`:
    /// `exp(E_x KL(p(y|x) ‖ p(y)))`, averaged over `splits` equal parts; returns (mean, std).
    public static func inceptionScore(probabilities p: [[Double]], splits: Int = 10) -> (mean: Double, std: Double) {
        let n = p.count, parts = max(1, min(splits, n))
        var scores: [Double] = []
        for s in 0..<parts {
            let part = Array(p[(s * n / parts)..<((s + 1) * n / parts)])
            guard let c = part.first?.count else { continue }
            var marginal = [Double](repeating: 0, count: c)
            for row in part { for k in 0..<c { marginal[k] += row[k] / Double(part.count) } }
            var kl = 0.0
            for row in part { for k in 0..<c where row[k] > 0 { kl += row[k] * (log(row[k]) - log(max(marginal[k], 1e-300))) } }
            scores.append(exp(kl / Double(part.count)))
        }
        let mean = scores.reduce(0, +) / Double(scores.count)
        let std = (scores.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(scores.count)).squareRoot()
        return (mean, std)
    }

    /// Row-wise softmax of logits `[N, C]`, in double precision.
    public static func softmax(_ logits: Tensor) -> [[Double]] {
        let n = logits.shape[0], c = logits.count / max(n, 1)
        return (0..<n).map { i in
            let row = (0..<c).map { Double(logits[i * c + $0]) }
            let m = row.max() ?? 0
            let e = row.map { exp($0 - m) }
            let s = e.reduce(0, +)
            return e.map { $0 / s }
        }
    }

    /// Fraction of rows whose arg-max equals the label.
    public static func accuracy(logits: Tensor, labels: [Int]) -> Double { Classifier.accuracy(logits: logits, labels: labels) }

    static func matmul(_ a: [Double], _ b: [Double], _ n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for k in 0..<n { let v = a[i * n + k]; if v == 0 { continue }; for j in 0..<n { c[i * n + j] += v * b[k * n + j] } } }
        return c
    }
}

/// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations (double precision;
/// adequate for the ≤ 512-dimensional feature covariances used here).
struct SymmetricEigen {
    let n: Int
    var values: [Double]
    var vectors: [Double]   // columns are eigenvectors, row-major [n, n]

    init(_ matrix: [Double], n: Int, sweeps: Int = 100) {
        self.n = n
        var a = matrix
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        for _ in 0..<sweeps {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<max(p + 1, n) { off += a[p * n + q] * a[p * n + q] } }
            if off < 1e-22 { break }
            for p in 0..<n {
                for q in (p + 1)..<max(p + 1, n) {
                    let apq = a[p * n + q]
                    if abs(apq) < 1e-300 { continue }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq; a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk; a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq; v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        values = (0..<n).map { a[$0 * n + $0] }
        vectors = v
    }

    /// `V · diag(√max(λ, 0)) · Vᵀ`.
    func sqrtMatrix() -> [Double] {
        var out = [Double](repeating: 0, count: n * n)
        for k in 0..<n {
            let s = max(values[k], 0).squareRoot()
            if s == 0 { continue }
            for i in 0..<n { let vik = vectors[i * n + k] * s; if vik == 0 { continue }; for j in 0..<n { out[i * n + j] += vik * vectors[j * n + k] } }
        }
        return out
    }
}
