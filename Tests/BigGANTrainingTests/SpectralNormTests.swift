import BigGANTestSupport
import Testing
@testable import BigGANEngine
@testable import BigGANTraining

extension TrainingTests {
@Suite struct SpectralNormTests {
    /// Top singular value by many power iterations in double precision.
    func topSingularValue(_ w: Tensor) -> Double {
        let r = w.shape[0], c = w.count / r
        var v = [Double](repeating: 1, count: c)
        var s = 0.0
        for _ in 0..<2000 {
            var u = [Double](repeating: 0, count: r)
            for i in 0..<r { for j in 0..<c { u[i] += Double(w[i * c + j]) * v[j] } }
            var nv = [Double](repeating: 0, count: c)
            for i in 0..<r { for j in 0..<c { nv[j] += Double(w[i * c + j]) * u[i] } }
            let n = nv.reduce(0) { $0 + $1 * $1 }.squareRoot()
            s = n.squareRoot()
            v = nv.map { $0 / n }
        }
        return s
    }

    /// One iteration per training forward, as ajbrock: `u` is updated in training mode only; σ
    /// converges to the top singular value; `W_sn = W/σ`.
    @Test func powerIteration() {
        let p = Parameter(name: "w.weight", shape: [5, 3, 2, 2])
        fill(p.value, seed: 201)
        let sn = SpectralNorm(weight: p, eps: 1e-12)
        fill(sn.u, seed: 202)
        let u0 = sn.u.copy()
        sn.normalize(mode: .evaluation)
        #expect(maxAbsDiff(sn.u, u0) == 0)
        // By hand: v = normalize(uᵀW), u' = normalize(Wv), σ = u'ᵀWv.
        let (r, c) = (5, 12)
        var v = [Double](repeating: 0, count: c)
        for i in 0..<r { for j in 0..<c { v[j] += Double(u0[i]) * Double(p.value[i * c + j]) } }
        let nv = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        v = v.map { $0 / nv }
        var wv = [Double](repeating: 0, count: r)
        for i in 0..<r { for j in 0..<c { wv[i] += Double(p.value[i * c + j]) * v[j] } }
        let sigma = wv.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(abs(Double(sn.sigma) - sigma) < 1e-5 * sigma)
        #expect(abs(sn.normalized[7] - p.value[7] / Float(sigma)) < 1e-6)
        sn.normalize(mode: .training)
        #expect(abs(Double(sn.u[0]) - wv[0] / sigma) < 1e-6)
        for _ in 0..<200 { sn.normalize(mode: .training) }
        let top = topSingularValue(p.value)
        #expect(abs(Double(sn.sigma) - top) < 1e-4 * top)
    }

    /// At convergence u', v are the top singular pair and σ's true derivative is u'vᵀ, so the
    /// backward pass (which treats u', v as constants) also matches finite differences of the
    /// *iterating* spectral norm.
    @Test func gradientAtConvergence() {
        let lin = LinearLayer(name: "l", inFeatures: 6, outFeatures: 4, bias: false)
        randomise(lin, seed: 211)
        let x = randomTensor([3, 6], seed: 212)
        for _ in 0..<300 { _ = lin.forward(x, mode: .training) }
        let r = randomTensor([3, 4], seed: 213)
        lin.zeroGradients()
        _ = lin.forward(x, mode: .training)
        lin.backward(r)
        expectGradient("converged SN", lin.weight.value, lin.weight.grad.copy(), eps: 1e-3, tolerance: 2e-3) {
            weightedSum(lin.forward(x, mode: .evaluation), r)
        }
    }

    /// `singularValues` names each layer and reports the latest σ.
    @Test func logging() throws {
        let g = try TrainableGenerator(config: tinyGeneratorConfig())
        randomise(g, seed: 221)
        _ = g.forward(z: randomTensor([2, 9], seed: 222), labels: [0, 1], mode: .training)
        let sv = g.singularValues
        #expect(sv.count == g.spectralNorms.count)
        #expect(sv.contains { $0.0 == "blocks.0.conv1" } && sv.contains { $0.0 == "blocks.0.attention.theta" })
        #expect(!sv.contains { $0.0.hasPrefix("shared") })
        #expect(sv.allSatisfy { $0.1 > 0 && $0.1.isFinite })
    }
}
}
