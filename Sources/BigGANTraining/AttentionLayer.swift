import BigGANEngine

/// SAGAN-style self-attention as in ajbrock's `layers.Attention`, trainable, on NHWC
/// activations `x`: `[B, H, W, C]` (H, W even, C divisible by 8), `N = H·W`, `M = N/4`.
///
/// Forward, per image (all four projections are bias-free spectral-norm 1×1 convolutions):
///
///     θ = theta(x)              [N, C/8]
///     φ = maxpool2(phi(x))      [M, C/8]
///     g = maxpool2(g(x))        [M, C/2]
///     β = softmax_rows(θ φᵀ)    [N, M]     (softmax over keys)
///     m = β g                   [N, C/2]
///     y = x + γ · o(m)          [N, C]     (o: C/2 → C; γ a scalar parameter, 0 at init)
///
/// Backward, with `G = dY`:
///
///     dγ = Σ G ⊙ o(m),   dx = G + (θ, φ, g paths),   d o(m) = γ G → o.backward → dm
///     dβ = dm gᵀ,   dg = βᵀ dm,   dL = β ⊙ (dβ − rowsum(dβ ⊙ β))        (softmax)
///     dθ = dL φ,    dφ = dLᵀ θ,   max-pool backward routes dφ, dg to the winning inputs.
///
/// β is not kept between forward and backward: it is recomputed per image (two small GEMMs).
public final class AttentionLayer: ParameterContainer {
    public let name: String
    public let channels: Int
    public let theta: ConvLayer, phi: ConvLayer, g: ConvLayer, o: ConvLayer
    public let gamma: Parameter
    // Saved by forward.
    var thetaOut: Tensor?, phiPooled: Tensor?, gPooled: Tensor?, oOut: Tensor?
    var phiIndex: [UInt8] = [], gIndex: [UInt8] = []

    public init(name: String, channels c: Int, snEps: Float = 1e-6) {
        precondition(c >= 8 && c % 8 == 0, "attention needs channels divisible by 8, got \(c)")
        self.name = name
        channels = c
        theta = ConvLayer(name: name + ".theta", inChannels: c, outChannels: c / 8, kernelSize: 1, bias: false, snEps: snEps)
        phi = ConvLayer(name: name + ".phi", inChannels: c, outChannels: c / 8, kernelSize: 1, bias: false, snEps: snEps)
        g = ConvLayer(name: name + ".g", inChannels: c, outChannels: c / 2, kernelSize: 1, bias: false, snEps: snEps)
        o = ConvLayer(name: name + ".o", inChannels: c / 2, outChannels: c, kernelSize: 1, bias: false, snEps: snEps)
        gamma = Parameter(name: name + ".gamma", shape: [1])
    }

    public var parameters: [Parameter] { theta.parameters + phi.parameters + g.parameters + o.parameters + [gamma] }
    public var buffers: [Buffer] { theta.buffers + phi.buffers + g.buffers + o.buffers }
    public var spectralNorms: [SpectralNorm] { theta.spectralNorms + phi.spectralNorms + g.spectralNorms + o.spectralNorms }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(c == channels && h % 2 == 0 && w % 2 == 0, "\(name): bad input \(x.shape)")
        let n = h * w, m = n / 4, c8 = c / 8, c2 = c / 2
        let th = theta.forward(x, mode: mode)
        let (ph, pi) = Pointwise.maxPool(phi.forward(x, mode: mode))
        let (gp, gi) = Pointwise.maxPool(g.forward(x, mode: mode))
        let beta = Tensor(uninitializedShape: [n, m])
        let mixed = Tensor(uninitializedShape: [b, h, w, c2])
        Profiler.measure("attention core forward", macs: b * n * m * (c8 + c2)) {
        for i in 0..<b {
            Self.attentionWeights(theta: th.data + i * n * c8, phi: ph.data + i * m * c8, n: n, m: m, c8: c8, into: beta.data)
            sgemm(m: n, n: c2, k: m, a: beta.data, lda: m, b: gp.data + i * m * c2, ldb: c2,
                  c: mixed.data + i * n * c2, ldc: c2)
        }
        }
        let oy = o.forward(mixed, mode: mode)
        let out = addingScaled(x, gamma.value[0], oy)
        thetaOut = th; phiPooled = ph; gPooled = gp; oOut = oy
        phiIndex = pi; gIndex = gi
        return out
    }

    /// Accumulates parameter gradients (when `parameterGradients`) and returns `dx`.
    public func backward(_ dy: Tensor, parameterGradients: Bool = true) -> Tensor {
        guard let th = thetaOut, let ph = phiPooled, let gp = gPooled, let oy = oOut else {
            preconditionFailure("\(name): backward before forward")
        }
        let (b, h, w, c) = (dy.shape[0], dy.shape[1], dy.shape[2], dy.shape[3])
        let n = h * w, m = n / 4, c8 = c / 8, c2 = c / 2
        let gm = gamma.value[0]
        if parameterGradients { gamma.grad[0] += Float(Reduce.dot(dy.data, oy.data, count: dy.count)) }
        let dO = Tensor(uninitializedShape: dy.shape)
        let src = dy.data, dd = dO.data
        Parallel.forRanges(dy.count, minChunk: 1 << 16) { r in for k in r { dd[k] = gm * src[k] } }
        let dMixed = o.backward(dO, parameterGradients: parameterGradients)!
        let beta = Tensor(uninitializedShape: [n, m]), dBeta = Tensor(uninitializedShape: [n, m])
        let dTheta = Tensor(uninitializedShape: th.shape)
        let dPhi = Tensor(uninitializedShape: ph.shape), dG = Tensor(uninitializedShape: gp.shape)
        Profiler.measure("attention core backward", macs: b * n * m * (2 * c8 + 3 * c2)) {
        for i in 0..<b {
            let thi = th.data + i * n * c8, phi_ = ph.data + i * m * c8, gi = gp.data + i * m * c2
            let dmi = dMixed.data + i * n * c2
            Self.attentionWeights(theta: thi, phi: phi_, n: n, m: m, c8: c8, into: beta.data)
            // dβ = dm gᵀ [N, M];  dg = βᵀ dm [M, C/2]
            sgemm(transB: true, m: n, n: m, k: c2, a: dmi, lda: c2, b: gi, ldb: c2, c: dBeta.data, ldc: m)
            sgemm(transA: true, m: m, n: c2, k: n, a: beta.data, lda: m, b: dmi, ldb: c2, c: dG.data + i * m * c2, ldc: c2)
            Self.softmaxBackward(beta.data, dBeta.data, rows: n, cols: m)
            // dθ = dL φ [N, C/8];  dφ = dLᵀ θ [M, C/8]
            sgemm(m: n, n: c8, k: m, a: dBeta.data, lda: m, b: phi_, ldb: c8, c: dTheta.data + i * n * c8, ldc: c8)
            sgemm(transA: true, m: m, n: c8, k: n, a: dBeta.data, lda: m, b: thi, ldb: c8, c: dPhi.data + i * m * c8, ldc: c8)
        }
        }
        let dx = dy.copy()
        addInPlace(dx, theta.backward(dTheta, parameterGradients: parameterGradients)!)
        addInPlace(dx, phi.backward(Pointwise.maxPoolBackward(dPhi, index: phiIndex), parameterGradients: parameterGradients)!)
        addInPlace(dx, g.backward(Pointwise.maxPoolBackward(dG, index: gIndex), parameterGradients: parameterGradients)!)
        return dx
    }

    /// `β = softmax_rows(θ φᵀ)` for one image: `θ` `[n, c8]`, `φ` `[m, c8]` → `β` `[n, m]`.
    static func attentionWeights(theta: UnsafePointer<Float>, phi: UnsafePointer<Float>, n: Int, m: Int, c8: Int,
                                 into beta: UnsafeMutablePointer<Float>) {
        sgemm(transB: true, m: n, n: m, k: c8, a: theta, lda: c8, b: phi, ldb: c8, c: beta, ldc: m)
        softmaxRows(beta, rows: n, cols: m)
    }

    /// In place: `d ← β ⊙ (d − rowsum(d ⊙ β))`, both `[rows, cols]` (softmax backward per row).
    static func softmaxBackward(_ beta: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        Parallel.forRanges(rows, minChunk: 64) { range in
            for r in range {
                let p = beta + r * cols, q = d + r * cols
                var s: Float = 0
                for j in 0..<cols { s += p[j] * q[j] }
                for j in 0..<cols { q[j] = p[j] * (q[j] - s) }
            }
        }
    }
}
