import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANTraining

extension TrainingTests {
@Suite struct OptimizerTests {
    @Test func hingeLosses() {
        let d = HingeLoss.discriminator(real: [2, 0.5, -1], fake: [-2, 0, 0.5, 1])
        #expect(abs(d.lossReal - Float((0 + 0.5 + 2) / 3.0)) < 1e-6)
        #expect(abs(d.lossFake - Float((0 + 1 + 1.5 + 2) / 4.0)) < 1e-6)
        #expect(d.dReal == [0, -1 / 3, -1 / 3] && d.dFake == [0, 0.25, 0.25, 0.25])
        let g = HingeLoss.generator(fake: [1, -3])
        #expect(g.loss == 1 && g.dFake == [-0.5, -0.5])
    }

    /// Two Adam steps against the formula evaluated in double precision.
    @Test func adam() {
        let p = Parameter(name: "p", shape: [3])
        for (i, v) in [0.5, -1, 2].enumerated() { p.value[i] = Float(v) }
        let opt = Adam(parameters: [p], learningRate: 0.1, beta1: 0.5, beta2: 0.9, eps: 1e-3)
        var m = [0.0, 0, 0], v = [0.0, 0, 0], x = [0.5, -1, 2]
        for (t, grads) in [[0.3, -0.2, 1.5], [-0.1, 0.4, 0.0]].enumerated() {
            for i in 0..<3 { p.grad[i] = Float(grads[i]) }
            opt.update()
            for i in 0..<3 {
                m[i] = 0.5 * m[i] + 0.5 * grads[i]
                v[i] = 0.9 * v[i] + 0.1 * grads[i] * grads[i]
                let mh = m[i] / (1 - pow(0.5, Double(t + 1))), vh = v[i] / (1 - pow(0.9, Double(t + 1)))
                x[i] -= 0.1 * mh / (vh.squareRoot() + 1e-3)
            }
        }
        for i in 0..<3 { #expect(abs(Double(p.value[i]) - x[i]) < 1e-6) }
        #expect(opt.step == 2)
    }

    @Test(arguments: [[6, 4, 1, 1], [3, 2, 3, 3], [5, 5], [20, 3]])
    func orthogonalInitialisation(shape: [Int]) {
        let t = Tensor(shape: shape)
        var rng = NoiseGenerator(seed: 401)
        Orthogonal.initialise(t, rng: &rng)
        let r = shape[0], c = t.count / r
        // rows orthonormal when r ≤ c, columns otherwise.
        let (n, k) = r <= c ? (r, c) : (c, r)
        for a in 0..<n {
            for b in 0..<n {
                var s: Float = 0
                for j in 0..<k { s += r <= c ? t[a * c + j] * t[b * c + j] : t[j * c + a] * t[j * c + b] }
                #expect(abs(s - (a == b ? 1 : 0)) < 1e-5)
            }
        }
    }

    /// Both evaluation orders of the regulariser equal `2β((WWᵀ) ⊙ (1−I))W`, and the shared
    /// embedding is left alone.
    @Test(arguments: [[3, 5], [7, 2, 1, 1]])
    func orthogonalRegulariser(shape: [Int]) {
        let p = Parameter(name: "w", shape: shape)
        fill(p.value, seed: 410)
        fill(p.grad, seed: 411)
        let before = p.grad.copy()
        let skip = Parameter(name: "shared.weight", shape: [4, 3], orthogonalRegularised: false)
        fill(skip.value, seed: 412)
        Orthogonal.addRegulariserGradient([p, skip], strength: 0.01)
        #expect(skip.grad.array.allSatisfy { $0 == 0 })
        let o = shape[0], i = p.value.count / o
        for r in 0..<o {
            for c in 0..<i {
                var s = 0.0
                for k in 0..<o where k != r {
                    var dot = 0.0
                    for j in 0..<i { dot += Double(p.value[r * i + j]) * Double(p.value[k * i + j]) }
                    s += dot * Double(p.value[k * i + c])
                }
                let expected = Double(before[r * i + c]) + 0.02 * s
                #expect(abs(Double(p.grad[r * i + c]) - expected) < 1e-5)
            }
        }
    }

    @Test func exponentialMovingAverage() throws {
        let src = try TrainableGenerator(config: tinyGeneratorConfig())
        let dst = try TrainableGenerator(config: tinyGeneratorConfig())
        randomise(src, seed: 420)
        randomise(dst, seed: 421)
        let ema = ExponentialMovingAverage(decay: 0.9, start: 3)
        let a0 = dst.linear.weight.value[3], b0 = src.linear.weight.value[3]
        ema.update(target: dst, source: src, iteration: 3)
        #expect(abs(dst.linear.weight.value[3] - (0.9 * a0 + 0.1 * b0)) < 1e-6)
        // Buffers too (running statistics, u).
        let m0 = dst.outputBN.runningMean[1], u0 = dst.linear.spectralNorm!.u[2]
        ema.update(target: dst, source: src, iteration: 4)
        #expect(abs(dst.outputBN.runningMean[1] - (0.9 * m0 + 0.1 * src.outputBN.runningMean[1])) < 1e-6)
        #expect(abs(dst.linear.spectralNorm!.u[2] - (0.9 * u0 + 0.1 * src.linear.spectralNorm!.u[2])) < 1e-6)
        ema.update(target: dst, source: src, iteration: 2)   // before start: copy
        #expect(dst.stateTensors.map(\.1.array) == src.stateTensors.map(\.1.array))
    }
}
}
