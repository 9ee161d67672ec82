import BigGANEngine

/// Trainable fully connected layer with optional bias and optional spectral norm.
///
/// - Input `x`: `[B, in]`; output `y = x · Wᵀ + bias`: `[B, out]`.
/// - `weight`: PyTorch layout `[out, in]` (used as is through transposed GEMMs); `bias`: `[out]`.
/// - Backward: `dW += dYᵀ · x` (`[out, in]`, through σ with spectral norm), `db += Σ_B dY`,
///   `dX = dY · W` (`[B, in]`).
public final class LinearLayer: ParameterContainer {
    public let name: String
    public let inFeatures: Int, outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?
    public let spectralNorm: SpectralNorm?
    /// Equalised learning rate (NVlabs `get_weight`, `apply_bias`): the stored weight is used as
    /// `gain·W` and the stored bias as `biasGain·b` (`gain = lrmul·g/√fan_in`, `biasGain = lrmul`
    /// in StyleGAN's mapping network); gradients are scaled to match. Both 1 for BigGAN.
    public let gain: Float, biasGain: Float
    /// The weight used by the latest forward pass (`W/σ` or `W`), and that pass's input.
    var used: Tensor?
    var input: Tensor?

    public init(name: String, inFeatures: Int, outFeatures: Int, bias: Bool = true,
                spectralNorm: Bool = true, snEps: Float = 1e-6, orthogonalRegularised: Bool? = nil, gain: Float = 1, biasGain: Float = 1) {
        precondition(gain == 1 || !spectralNorm, "a runtime weight gain with spectral norm")
        self.name = name
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        self.gain = gain; self.biasGain = biasGain
        weight = Parameter(name: name + ".weight", shape: [outFeatures, inFeatures], orthogonalRegularised: orthogonalRegularised)
        self.bias = bias ? Parameter(name: name + ".bias", shape: [outFeatures]) : nil
        self.spectralNorm = spectralNorm ? SpectralNorm(weight: weight, eps: snEps) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
    public var buffers: [Buffer] { spectralNorm.map { [Buffer(name: name + ".u", value: $0.u)] } ?? [] }
    public var spectralNorms: [SpectralNorm] { spectralNorm.map { [$0] } ?? [] }

    func effectiveWeight(mode: Mode) -> Tensor { spectralNorm?.normalize(mode: mode) ?? scaledCopy(weight.value, gain) }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        let b = x.shape[0]
        precondition(x.count == b * inFeatures, "\(name): expects [B, \(inFeatures)], got \(x.shape)")
        let w = effectiveWeight(mode: mode)
        used = w; input = x
        let out = Tensor(uninitializedShape: [b, outFeatures])
        let usedBias = bias.map { scaledCopy($0.value, biasGain) }
        withExtendedLifetime(usedBias) { fillRows(out.data, rows: b, with: usedBias?.data, count: outFeatures) }
        sgemm(transB: true, m: b, n: outFeatures, k: inFeatures, a: x.data, lda: inFeatures,
              b: w.data, ldb: inFeatures, beta: bias == nil ? 0 : 1, c: out.data, ldc: outFeatures)
        return out
    }

    /// Accumulates parameter gradients (when `parameterGradients`) and returns `dX` (`[B, in]`).
    @discardableResult
    public func backward(_ dy: Tensor, inputGradient: Bool = true, parameterGradients: Bool = true) -> Tensor? {
        guard let x = input, let w = used else { preconditionFailure("\(name): backward before forward") }
        let b = x.shape[0]
        precondition(dy.count == b * outFeatures)
        if parameterGradients {
            let dW = Tensor(uninitializedShape: [outFeatures, inFeatures])
            sgemm(transA: true, m: outFeatures, n: inFeatures, k: b, a: dy.data, lda: outFeatures,
                  b: x.data, ldb: inFeatures, c: dW.data, ldc: inFeatures)
            if let sn = spectralNorm { sn.backward(dW) } else { addInPlace(weight.grad, scaledCopy(dW, gain)) }
            if let bias {
                let s = Reduce.columnSums(dy.data, rows: b, cols: outFeatures)
                for j in 0..<outFeatures { bias.grad[j] += Float(s[j]) * biasGain }
            }
        }
        guard inputGradient else { return nil }
        let dx = Tensor(uninitializedShape: [b, inFeatures])
        sgemm(m: b, n: inFeatures, k: outFeatures, a: dy.data, lda: outFeatures, b: w.data, ldb: inFeatures,
              c: dx.data, ldc: inFeatures)
        return dx
    }
}

/// Trainable embedding table (the generator's shared class embedding, without spectral norm,
/// and the discriminator's projection embedding, with it).
///
/// - `weight`: `[n, dim]` (PyTorch `nn.Embedding` layout); with spectral norm the table is viewed
///   as `[out = n, in = dim]`, as ajbrock's `SNEmbedding` does.
/// - Forward: `y[b] = W[label[b]]`, `[B, dim]`.
/// - Backward: `dW[label[b]] += dY[b]`, a serial scatter-add (labels repeat within a batch).
public final class EmbeddingLayer: ParameterContainer {
    public let name: String
    public let count: Int, dimension: Int
    public let weight: Parameter
    public let spectralNorm: SpectralNorm?
    var labels: [Int] = []

    public init(name: String, count: Int, dimension: Int, spectralNorm: Bool, snEps: Float = 1e-6,
                orthogonalRegularised: Bool? = nil) {
        self.name = name
        self.count = count; self.dimension = dimension
        weight = Parameter(name: name + ".weight", shape: [count, dimension], orthogonalRegularised: orthogonalRegularised)
        self.spectralNorm = spectralNorm ? SpectralNorm(weight: weight, eps: snEps) : nil
    }

    public var parameters: [Parameter] { [weight] }
    public var buffers: [Buffer] { spectralNorm.map { [Buffer(name: name + ".u", value: $0.u)] } ?? [] }
    public var spectralNorms: [SpectralNorm] { spectralNorm.map { [$0] } ?? [] }

    func effectiveWeight(mode: Mode) -> Tensor { spectralNorm?.normalize(mode: mode) ?? weight.value }

    public func forward(_ labels: [Int], mode: Mode) -> Tensor {
        let w = effectiveWeight(mode: mode)
        self.labels = labels
        let out = Tensor(uninitializedShape: [labels.count, dimension])
        for (i, l) in labels.enumerated() {
            precondition(l >= 0 && l < count, "\(name): label \(l) out of range 0..<\(count)")
            (out.data + i * dimension).update(from: w.data + l * dimension, count: dimension)
        }
        return out
    }

    /// Accumulates `dW` given `dy` (`[B, dim]`) for the labels of the latest forward pass.
    public func backward(_ dy: Tensor) {
        precondition(dy.count == labels.count * dimension)
        let target = spectralNorm == nil ? weight.grad : Tensor(shape: weight.value.shape)
        for (i, l) in labels.enumerated() {
            let d = target.data + l * dimension, s = dy.data + i * dimension
            for j in 0..<dimension { d[j] += s[j] }
        }
        spectralNorm?.backward(target)
    }
}
