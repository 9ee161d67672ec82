import BigGANEngine
import Foundation

/// Adam as `torch.optim.Adam` computes it (no weight decay, no amsgrad), one state pair per
/// parameter. For each parameter `p` with gradient `g` at step `t` (1-based):
///
///     m ← lerp(m, g, 1 − β1)          v ← β2·v + (1 − β2)·g²
///     p ← p − (lr / (1 − β1ᵗ)) · m / (sqrt(v) / sqrt(1 − β2ᵗ) + eps)
///
/// (`lerp(a, b, w) = a + w·(b − a)` for `w < 0.5`, else `b − (b − a)·(1 − w)`, as torch; with
/// β1 = 0 this makes `m = g` exactly). The bias corrections are computed in double precision.
public final class Adam {
    public var learningRate: Double
    public let beta1: Double, beta2: Double, eps: Double
    public let parameters: [Parameter]
    /// First and second moments, one per parameter, same shapes (zero at start).
    public let m: [Tensor], v: [Tensor]
    /// Number of updates done.
    public internal(set) var step = 0

    /// Hyperparameters are doubles, like torch's Python floats; each scalar is rounded to `Float`
    /// where torch rounds it (when it reaches the float kernel).
    public init(parameters: [Parameter], learningRate: Double, beta1: Double = 0, beta2: Double = 0.999, eps: Double = 1e-8) {
        self.parameters = parameters
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        m = parameters.map { Tensor(shape: $0.value.shape) }
        v = parameters.map { Tensor(shape: $0.value.shape) }
    }

    /// One update of every parameter from its current gradient.
    public func update() {
        step += 1
        let t = Double(step)
        let bc1 = 1 - pow(beta1, t), bc2 = 1 - pow(beta2, t)
        let stepSize = Float(learningRate / bc1), bc2Sqrt = Float(bc2.squareRoot())
        let w = Float(1 - beta1), b2 = Float(beta2), oneMinusB2 = Float(1 - beta2), e = Float(eps)
        for (k, p) in parameters.enumerated() {
            let pv = p.value.data, g = p.grad.data, mm = m[k].data, vv = v[k].data
            Parallel.forRanges(p.value.count, minChunk: 1 << 15) { r in
                for i in r {
                    let gi = g[i]
                    mm[i] = w < 0.5 ? mm[i] + w * (gi - mm[i]) : gi - (gi - mm[i]) * (1 - w)
                    vv[i] = vv[i] * b2 + oneMinusB2 * (gi * gi)
                    let denom = vv[i].squareRoot() / bc2Sqrt + e
                    pv[i] -= stepSize * (mm[i] / denom)
                }
            }
        }
    }

    /// Moments as named tensors (`<prefix>m.<name>`, `<prefix>v.<name>`) for checkpoints.
    func stateTensors(prefix: String) -> [(String, Tensor)] {
        zip(parameters, m).map { (prefix + "m." + $0.name, $1) } + zip(parameters, v).map { (prefix + "v." + $0.name, $1) }
    }
}

/// Exponential moving average of a generator's state (ajbrock's `utils.ema`): after each
/// generator step, every parameter *and buffer* (spectral-norm `u`, running statistics) of
/// `target` becomes `target·decay + source·(1 − decay)`, except that before iteration `start`
/// the decay is 0 (a plain copy).
public struct ExponentialMovingAverage: Sendable {
    public var decay: Double
    public var start: Int

    public init(decay: Double = 0.9999, start: Int = 0) { self.decay = decay; self.start = start }

    /// `iteration` is 1-based (ajbrock increments its counter before the step).
    public func update(target: ParameterContainer, source: ParameterContainer, iteration: Int) {
        let dst = target.stateTensors, src = source.stateTensors
        precondition(dst.count == src.count, "EMA: different models")
        let copy = iteration < start || decay == 0
        let d = Float(decay), e = Float(1 - decay)
        for ((n1, a), (n2, b)) in zip(dst, src) {
            precondition(n1 == n2 && a.count == b.count, "EMA: \(n1) vs \(n2)")
            let pa = a.data, pb = b.data
            if copy { pa.update(from: pb, count: a.count); continue }
            Parallel.forRanges(a.count, minChunk: 1 << 15) { r in for i in r { pa[i] = pa[i] * d + pb[i] * e } }
        }
    }
}
