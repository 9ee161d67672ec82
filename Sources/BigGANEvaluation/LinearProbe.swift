import BigGANEngine
import Foundation

/// A linear probe (the standard test of a learned representation, e.g. BigBiGAN's section 4):
/// multinomial logistic regression on frozen features, each feature standardised with the
/// training set's mean and standard deviation, trained by mini-batch Adam on the softmax
/// cross-entropy with an L2 penalty on the weights, its learning rate annealed to 0 by a cosine
/// over all steps (without it the last epochs' steps leave the probe about 2 points short of
/// the optimum on Fashion-MNIST's pixels). Deterministic for a given seed.
///
/// - Features `[N, D]`, labels in `0..<classes`; weights `[classes, D]`, biases `[classes]`.
public struct LinearProbe: Sendable {
    public let classes: Int
    public let mean: [Float], scale: [Float]
    public let weights: [Float], biases: [Float]

    public struct Settings: Sendable {
        public var epochs = 30
        public var batch = 256
        public var learningRate: Float = 1e-2
        public var l2: Float = 1e-4
        public var seed: UInt64 = 0
        /// Cosine annealing of the learning rate to 0 over all steps (off: constant).
        public var cosineDecay = true
        public init() {}
    }

    /// Fits the probe to `features` `[N, D]` and `labels`.
    public static func fit(features x: Tensor, labels: [Int], classes k: Int, settings s: Settings = Settings()) -> LinearProbe {
        let n = x.shape[0], d = x.count / max(n, 1)
        precondition(labels.count == n && n > 0 && labels.allSatisfy { (0..<k).contains($0) }, "probe: \(labels.count) labels for \(n) rows")
        let (mean, scale) = standardisation(x)
        var w = [Float](repeating: 0, count: k * d), b = [Float](repeating: 0, count: k)
        var mw = w, vw = w, mb = b, vb = b
        var order = Array(0..<n)
        var rng = NoiseGenerator(seed: s.seed)
        var step = 0
        let batch = min(s.batch, n)
        let totalSteps = s.epochs * ((n + batch - 1) / batch)
        let xb = Tensor(uninitializedShape: [batch, d]), logits = Tensor(uninitializedShape: [batch, k])
        var gw = [Float](repeating: 0, count: k * d), gb = [Float](repeating: 0, count: k)
        for _ in 0..<s.epochs {
            rng.shuffle(&order)
            var start = 0
            while start < n {
                let m = min(batch, n - start)
                for r in 0..<m {
                    let src = order[start + r]
                    for j in 0..<d { xb.data[r * d + j] = (x.data[src * d + j] - mean[j]) * scale[j] }
                }
                // logits = xb · wᵀ + b; softmax; gradient (p − onehot)/m.
                w.withUnsafeBufferPointer { wp in
                    sgemm(transB: true, m: m, n: k, k: d, a: xb.data, lda: d, b: wp.baseAddress!, ldb: d, c: logits.data, ldc: k)
                }
                for r in 0..<m {
                    let row = logits.data + r * k
                    var mx = -Float.infinity
                    for c in 0..<k { row[c] += b[c]; mx = max(mx, row[c]) }
                    var sum: Float = 0
                    for c in 0..<k { row[c] = Foundation.exp(row[c] - mx); sum += row[c] }
                    for c in 0..<k { row[c] = row[c] / sum / Float(m) }
                    row[labels[order[start + r]]] -= 1 / Float(m)
                }
                gw.withUnsafeMutableBufferPointer { gp in
                    sgemm(transA: true, m: k, n: d, k: m, a: logits.data, lda: k, b: xb.data, ldb: d, c: gp.baseAddress!, ldc: d)
                }
                for c in 0..<k { var t: Float = 0; for r in 0..<m { t += logits.data[r * k + c] }; gb[c] = t }
                let lr = s.cosineDecay ? s.learningRate * 0.5 * (1 + Foundation.cos(Float.pi * Float(step) / Float(totalSteps))) : s.learningRate
                step += 1
                let bc1 = 1 - Foundation.pow(Float(0.9), Float(step)), bc2 = 1 - Foundation.pow(Float(0.999), Float(step))
                for i in 0..<(k * d) {
                    let g = gw[i] + s.l2 * w[i]
                    mw[i] = 0.9 * mw[i] + 0.1 * g; vw[i] = 0.999 * vw[i] + 0.001 * g * g
                    w[i] -= lr * (mw[i] / bc1) / ((vw[i] / bc2).squareRoot() + 1e-8)
                }
                for c in 0..<k {
                    mb[c] = 0.9 * mb[c] + 0.1 * gb[c]; vb[c] = 0.999 * vb[c] + 0.001 * gb[c] * gb[c]
                    b[c] -= lr * (mb[c] / bc1) / ((vb[c] / bc2).squareRoot() + 1e-8)
                }
                start += m
            }
        }
        return LinearProbe(classes: k, mean: mean, scale: scale, weights: w, biases: b)
    }

    /// The predicted class of each row of `features` `[N, D]`.
    public func predict(_ x: Tensor) -> [Int] {
        let n = x.shape[0], d = mean.count
        precondition(x.count == n * d, "probe: features \(x.shape), expected [N, \(d)]")
        return (0..<n).map { i in
            var best = 0, bestScore = -Float.infinity
            for c in 0..<classes {
                let t = score(x, row: i, class: c)
                if t > bestScore { best = c; bestScore = t }
            }
            return best
        }
    }

    /// The logit of class `c` for row `i` of `x` `[N, D]` (standardised with the training statistics).
    func score(_ x: Tensor, row i: Int, class c: Int) -> Float {
        let d = mean.count
        var t = biases[c]
        for j in 0..<d { t += weights[c * d + j] * (x.data[i * d + j] - mean[j]) * scale[j] }
        return t
    }

    /// Each column's mean and inverse standard deviation (population; at most 1e6) over the rows
    /// of `x` `[N, D]`.
    static func standardisation(_ x: Tensor) -> (mean: [Float], scale: [Float]) {
        let n = x.shape[0], d = x.count / max(n, 1)
        var mean = [Float](repeating: 0, count: d), scale = [Float](repeating: 1, count: d)
        for j in 0..<d {
            var m = 0.0, v = 0.0
            for i in 0..<n { m += Double(x[i * d + j]) }
            m /= Double(max(n, 1))
            for i in 0..<n { let t = Double(x[i * d + j]) - m; v += t * t }
            mean[j] = Float(m); scale[j] = Float(1 / max((v / Double(max(n, 1))).squareRoot(), 1e-6))
        }
        return (mean, scale)
    }

    /// BigBiGAN's `bn_crelu_feat` (paper section 4; TF-Hub `encode` output): each feature
    /// batch-normalised without a learned scale (here with the statistics of `train`) and passed
    /// through CReLU, `[relu(x̂), relu(−x̂)]`. `[N, D]` → `[N, 2D]` for both sets.
    public static func bnCReLU(train: Tensor, test: Tensor) -> (train: Tensor, test: Tensor) {
        let d = train.shape[1]
        let (mean, scale) = standardisation(train)
        func apply(_ x: Tensor) -> Tensor {
            let rows = x.shape[0]
            let out = Tensor(uninitializedShape: [rows, 2 * d])
            for i in 0..<rows {
                for j in 0..<d {
                    let t = (x[i * d + j] - mean[j]) * scale[j]
                    out[i * 2 * d + j] = max(t, 0); out[i * 2 * d + d + j] = max(-t, 0)
                }
            }
            return out
        }
        return (apply(train), apply(test))
    }

    /// The mean softmax cross-entropy of `features` `[N, D]` against `labels` (no L2 term).
    public func loss(_ x: Tensor, labels: [Int]) -> Double {
        let n = x.shape[0], d = mean.count
        precondition(x.count == n * d && labels.count == n, "probe: features \(x.shape), expected [N, \(d)]")
        var total = 0.0
        var scores = [Double](repeating: 0, count: classes)
        for i in 0..<n {
            for c in 0..<classes { scores[c] = Double(score(x, row: i, class: c)) }
            let mx = scores.max()!
            total += mx + Foundation.log(scores.reduce(0) { $0 + Foundation.exp($1 - mx) }) - scores[labels[i]]
        }
        return total / Double(max(n, 1))
    }

    /// The share of rows predicted as their label.
    public func accuracy(_ x: Tensor, labels: [Int]) -> Double {
        let p = predict(x)
        return Double(zip(p, labels).filter { $0 == $1 }.count) / Double(max(labels.count, 1))
    }
}
