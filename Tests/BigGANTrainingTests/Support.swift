import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANTraining

/// Parent of every training suite. Serialised: the tests issue GEMMs, and concurrent OpenBLAS calls
/// with different transposes are not safe in the OpenBLAS this project links (0.3.21).
@Suite(.serialized) struct TrainingTests {}

func fill(_ t: Tensor, seed: UInt64, scale: Float = 1, offset: Float = 0) {
    var rng = NoiseGenerator(seed: seed)
    for i in 0..<t.count { t[i] = offset + rng.nextNormal() * scale }
}

/// Random non-trivial values for every parameter and buffer of `model`: weights ~ N(0, 1/fan-in)
/// (so activations stay O(1)), biases ~ 0.1·N, batch-norm gains 1 + 0.2·N, attention γ 0.5 + 0.2·N,
/// spectral-norm `u` ~ N(0, 1); running statistics mean 0.1·N, var 1 + 0.3·|N|.
func randomise(_ model: ParameterContainer, seed: UInt64) {
    var s = seed
    for p in model.parameters {
        s &+= 1
        let shape = p.value.shape
        if p.name.hasSuffix("gamma") { fill(p.value, seed: s, scale: 0.2, offset: 0.5) }
        else if shape.count >= 2 {
            let fan = shape.dropFirst().reduce(1, *)
            fill(p.value, seed: s, scale: 1 / Float(fan).squareRoot())
        } else if p.name.hasSuffix("bn.weight") { fill(p.value, seed: s, scale: 0.2, offset: 1) }
        else { fill(p.value, seed: s, scale: 0.1) }
    }
    for b in model.buffers {
        s &+= 1
        if b.name.hasSuffix(".var") {
            var rng = NoiseGenerator(seed: s)
            for i in 0..<b.value.count { b.value[i] = 1 + 0.3 * abs(rng.nextNormal()) }
        } else if b.name.hasSuffix(".mean") { fill(b.value, seed: s, scale: 0.1) }
        else { fill(b.value, seed: s) }
    }
}

/// Stops every spectral norm of `model` from iterating: later forward passes reuse the `u'`, `v`
/// of the latest pass, so σ = u'ᵀWv is the function of W whose derivative backward computes.
func freezeSpectralNorms(_ model: ParameterContainer) {
    for sn in model.spectralNorms { sn.frozen = true }
}

/// `Σ a ⊙ r` in double precision.
func weightedSum(_ a: Tensor, _ r: Tensor) -> Double {
    precondition(a.count == r.count, "\(a.shape) vs \(r.shape)")
    var s = 0.0
    for i in 0..<a.count { s += Double(a[i]) * Double(r[i]) }
    return s
}

/// Central finite differences of `loss` with respect to a sample of `tensor`'s elements, compared
/// with `analytic` (the same shape): passes when `‖fd − analytic‖ ≤ tolerance·‖analytic‖` over
/// the sampled elements and the analytic gradient is not identically zero there.
///
/// `kinkTolerant` (for composed layers): with ReLUs, max-pools and training-mode batch norm,
/// some units may switch branch inside ±eps (batch norm couples every unit of a channel, so one
/// parameter moves them all), and the central quotient of that element is then off by an amount
/// unrelated to the gradient. Each element's two one-sided quotients are compared; where they
/// differ by more than `tolerance · rms(analytic)` a branch switch lies inside the step and the
/// element is skipped (at most a third may be).
func expectGradient(_ label: String, _ tensor: Tensor, _ analytic: Tensor, eps: Float = 1e-2, samples: Int = 24,
                    tolerance: Double = 1e-2, kinkTolerant: Bool = false, seed: UInt64 = 99,
                    sourceLocation: SourceLocation = #_sourceLocation, loss: () -> Double) {
    precondition(tensor.count == analytic.count)
    var indices = Array(0..<tensor.count)
    if indices.count > samples {
        var rng = NoiseGenerator(seed: seed)
        for i in 0..<samples {   // partial Fisher–Yates
            let j = i + Int(rng.nextUInt64() % UInt64(indices.count - i))
            indices.swapAt(i, j)
        }
        indices = Array(indices.prefix(samples))
    }
    let l0 = kinkTolerant ? loss() : 0
    var rms = 0.0
    for i in indices { rms += Double(analytic[i]) * Double(analytic[i]) }
    rms = (rms / Double(indices.count)).squareRoot()
    var num = 0.0, den = 0.0, skipped = 0, worst = (index: -1, fd: 0.0, an: 0.0)
    for i in indices {
        let saved = tensor[i]
        tensor[i] = saved + eps
        let lp = loss()
        tensor[i] = saved - eps
        let lm = loss()
        tensor[i] = saved
        let fd = (lp - lm) / (2 * Double(eps))
        if kinkTolerant, abs((lp - l0) - (l0 - lm)) / Double(eps) > tolerance * rms { skipped += 1; continue }
        let an = Double(analytic[i])
        let e = (fd - an) * (fd - an)
        if worst.index < 0 || e > (worst.fd - worst.an) * (worst.fd - worst.an) { worst = (i, fd, an) }
        num += e; den += an * an
    }
    let rel = num.squareRoot() / max(den.squareRoot(), 1e-30)
    if ProcessInfo.processInfo.environment["BIGGAN_GRAD_VERBOSE"] != nil {
        print("gradient check \(label): relative error \(rel) over \(indices.count - skipped) elements (\(skipped) at kinks), ‖analytic‖ \(den.squareRoot())")
    }
    #expect(3 * skipped <= indices.count, "\(label): \(skipped) of \(indices.count) elements straddle kinks", sourceLocation: sourceLocation)
    #expect(den > 0, "\(label): analytic gradient is zero on the sampled elements", sourceLocation: sourceLocation)
    #expect(rel <= tolerance,
            "\(label): relative error \(rel) (worst element \(worst.index): fd \(worst.fd), analytic \(worst.an))",
            sourceLocation: sourceLocation)
}

/// Relative error `‖a − b‖ / ‖b‖`.
func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.count == b.count, "\(a.shape) vs \(b.shape)")
    var num = 0.0, den = 0.0
    for i in 0..<a.count { let d = Double(a[i]) - Double(b[i]); num += d * d; den += Double(b[i]) * Double(b[i]) }
    return num.squareRoot() / max(den.squareRoot(), 1e-30)
}

/// Tiny generator configuration used across the tests: 4 → 8 → 16 pixels, tapering channels
/// 16 → 16 → 8, attention at 8×8 (16 channels), hierarchical z (3 chunks of 3), grey output.
func tinyGeneratorConfig(outChannels: Int = 1, attention: [Int] = [8]) -> ModelConfig {
    ModelConfig(architecture: .biggan, resolution: 16, dimZ: 9, sharedDim: 4, nClasses: 3, classNames: nil, ch: 4,
                blocks: [.init(16, 16, up: true), .init(16, 8, up: true)], attention: attention, hier: true,
                bnEps: 1e-5, outputBnEps: 1e-5, outChannels: outChannels, nStats: nil, truncation: .resample, provenance: nil)
}

/// Tiny discriminator: 16 → 8 → 4 → 4 pixels, 1 → 16 → 16 → 16 channels, attention at 8×8.
func tinyDiscriminatorConfig(attention: [Int] = [8]) -> DiscriminatorConfig {
    DiscriminatorConfig(resolution: 16, inputChannels: 1, nClasses: 3, ch: 4,
                        blocks: [.init(1, 16, down: true), .init(16, 16, down: true), .init(16, 16, down: false)],
                        attention: attention)
}
