import Foundation
import BigGANTestSupport
import Testing
@testable import BigGANEngine
@testable import BigGANTraining

/// Tiny StyleGAN: 4 → 8 → 16 px, channels 8 → 6 → 4, W of 8 from 2 mapping layers, 3 classes,
/// grey output, blur on (6 synthesis layers).
func tinyStyleGANConfig(labels: Int = 3) -> StyleGANConfig {
    StyleGANConfig(resolution: 16, zDim: 6, wDim: 8, mappingLayers: 2, labelSize: labels, channels: [8, 6, 4], outChannels: 1,
                   fusedScaleFrom: 4096, truncationCutoff: 4)
}

func tinyStyleGANDiscriminatorConfig(labels: Int = 3) -> StyleGANDiscriminatorConfig {
    StyleGANDiscriminatorConfig(resolution: 16, inputChannels: 1, channels: [6, 5, 4], labelSize: labels, mbstdGroup: 4)
}

/// NVlabs' initialisation with a random constant, then every 1-D parameter (biases, noise weights) `0.1·N` so that no
/// branch is trivially zero.
func randomiseStyleGAN(_ model: ParameterContainer, seed: UInt64) {
    var rng = NoiseGenerator(seed: seed)
    if let g = model as? TrainableStyleGAN {
        g.initialise(rng: &rng)
        // NVlabs' constant of ones is spatially flat: instance norm then divides by the noise alone.
        for i in 0..<g.constant.value.count { g.constant.value[i] = rng.nextNormal() }
    }
    if let d = model as? StyleGANDiscriminator { d.initialise(rng: &rng) }
    for p in model.parameters where p.value.shape.count == 1 { for i in 0..<p.value.count { p.value[i] = 0.1 * rng.nextNormal() } }
}

/// Each parameter's run-time multiplier (equalised learning rate), so that finite differences
/// step the weight the layer computes with by the same amount everywhere.
func runtimeGains(_ model: ParameterContainer) -> [ObjectIdentifier: Float] {
    var linears: [LinearLayer] = [], convs: [ConvLayer] = []
    if let g = model as? TrainableStyleGAN {
        linears = g.mapping + g.epilogues.map(\.style)
        convs = g.convs.compactMap { $0 } + [g.toRGB]
    }
    if let d = model as? StyleGANDiscriminator {
        linears = [d.dense0, d.dense1]
        convs = [d.fromRGB, d.finalConv] + d.blocks.flatMap { [$0.0, $0.1] }
    }
    var m: [ObjectIdentifier: Float] = [:]
    for l in linears { m[ObjectIdentifier(l.weight)] = l.gain; if let b = l.bias { m[ObjectIdentifier(b)] = l.biasGain } }
    for c in convs { m[ObjectIdentifier(c.weight)] = c.gain }
    return m
}

/// A gradient check robust to strong curvature (instance norm over a few pixels): the analytic
/// gradient's projection on a random direction `v` against central differences of `loss` along
/// `v`, Richardson-extrapolated from steps `h` and `h/2` (error O(h⁴)). Passes when the difference
/// is at most `tolerance·‖analytic‖` (the projection's expected size for a standard normal `v`).
func expectDirectionalGradient(_ label: String, _ tensor: Tensor, _ analytic: Tensor, step h: Float, tolerance: Double = 1e-2,
                               seed: UInt64 = 7, sourceLocation: SourceLocation = #_sourceLocation, loss: () -> Double) {
    let v = randomTensor(tensor.shape, seed: seed)
    let saved = tensor.copy()
    func difference(_ step: Float) -> Double {
        for i in 0..<tensor.count { tensor[i] = saved[i] + step * v[i] }
        let lp = loss()
        for i in 0..<tensor.count { tensor[i] = saved[i] - step * v[i] }
        let lm = loss()
        tensor.data.update(from: saved.data, count: tensor.count)
        return (lp - lm) / (2 * Double(step))
    }
    let fd = (4 * difference(h / 2) - difference(h)) / 3
    var projection = 0.0, norm = 0.0
    for i in 0..<tensor.count { projection += Double(analytic[i]) * Double(v[i]); norm += Double(analytic[i]) * Double(analytic[i]) }
    norm = norm.squareRoot()
    if ProcessInfo.processInfo.environment["BIGGAN_GRAD_VERBOSE"] != nil {
        print("directional check \(label): fd \(fd), analytic \(projection), ‖analytic‖ \(norm), error \(abs(fd - projection) / max(norm, 1e-30))")
    }
    #expect(norm > 0, "\(label): analytic gradient is zero", sourceLocation: sourceLocation)
    #expect(abs(fd - projection) <= tolerance * norm, "\(label): directional derivative \(fd), analytic \(projection) (‖analytic‖ \(norm))",
            sourceLocation: sourceLocation)
}

extension TrainingTests {
@Suite struct StyleGANGradientTests {
    @Test func epilogue() {
        let layer = StyleEpilogueLayer(prefix: "l", channels: 5, wDim: 7)
        randomise(layer, seed: 1)
        for p in layer.parameters where p.value.shape.count == 2 { for i in 0..<p.value.count { p.value[i] *= 4 } }
        let x = randomTensor([2, 3, 4, 5], seed: 2), w = randomTensor([2, 7], seed: 3), noise = randomTensor([2, 12], seed: 4)
        let y = layer.forward(x, noise: noise, w: w)
        let r = randomTensor(y.shape, seed: 5)
        layer.zeroGradients()
        let (dx, dw) = layer.backward(r)
        let loss = { weightedSum(layer.forward(x, noise: noise, w: w), r) }
        expectGradient("epilogue dx", x, dx, eps: 1e-3, kinkTolerant: true, loss: loss)
        expectGradient("epilogue dw", w, dw, eps: 1e-3, loss: loss)
        for p in layer.parameters { expectGradient("epilogue \(p.name)", p.value, p.grad.copy(), eps: 1e-3, kinkTolerant: true, loss: loss) }
    }

    @Test func minibatchStdDev() {
        let layer = MinibatchStdDev(groupSize: 2)
        let x = randomTensor([4, 3, 2, 5], seed: 11)
        let y = layer.forward(x)
        #expect(y.shape == [4, 3, 2, 6])
        // Images 0 and 2 form one group (strided, as NVlabs reshapes [G, M]), 1 and 3 the other.
        var s = 0.0
        for e in 0..<30 { s += Double(abs(x[e] - x[60 + e]) / 2) }
        #expect(abs(Float(s / 30) - y[5]) < 1e-4)
        #expect(y[5] == y[2 * 36 + 5] && y[5] != y[36 + 5])
        let r = randomTensor(y.shape, seed: 12)
        let dx = layer.backward(r)
        expectGradient("mbstd dx", x, dx, eps: 1e-3, loss: { weightedSum(layer.forward(x), r) })
    }

    @Test func pixelNormAndLeakyReLU() {
        let x = randomTensor([3, 7], seed: 21), r = randomTensor([3, 7], seed: 22)
        expectGradient("pixel norm", x, StyleGANOps.pixelNormBackward(r, input: x), eps: 1e-3) { weightedSum(StyleGANOps.pixelNorm(x), r) }
        expectGradient("leaky relu", x, StyleGANOps.leakyReLUBackward(r, output: StyleGANOps.leakyReLU(x)), eps: 1e-3, kinkTolerant: true) {
            weightedSum(StyleGANOps.leakyReLU(x), r)
        }
        let b = StyleGANOps.blur(randomTensor([2, 5, 4, 3], seed: 23))
        let rb = randomTensor(b.shape, seed: 24), xb = randomTensor(b.shape, seed: 23)
        expectGradient("blur", xb, StyleGANOps.blurBackward(rb), eps: 1e-2) { weightedSum(StyleGANOps.blur(xb), rb) }
    }

    /// The whole generator, with style mixing and noise, against finite differences.
    @Test(arguments: [true, false]) func generator(mixing: Bool) throws {
        let g = try TrainableStyleGAN(config: tinyStyleGANConfig())
        randomiseStyleGAN(g, seed: 31)
        let z = randomTensor([3, 6], seed: 32), z2 = randomTensor([3, 6], seed: 33), labels = [2, 0, 1]
        let noise = g.sides.enumerated().map { randomTensor([3, $0.element * $0.element], seed: 40 + UInt64($0.offset)) }
        let mix = mixing ? (z2, 3) : nil
        let y = g.forward(z: z, labels: labels, mixing: mix, noise: noise)
        #expect(y.shape == [3, 16, 16, 1])
        let r = randomTensor(y.shape, seed: 34)
        g.zeroGradients()
        g.backward(r)
        let loss = { weightedSum(g.forward(z: z, labels: labels, mixing: mix, noise: noise), r) }
        let gains = runtimeGains(g)
        for p in g.parameters {
            // Instance norm over a few pixels is strongly curved: 5% (the layer tests are exact to 1e-4).
            expectDirectionalGradient("G \(p.name)", p.value, p.grad.copy(), step: 2e-4 / (gains[ObjectIdentifier(p)] ?? 1), tolerance: 5e-2, loss: loss)
        }
    }

    /// The whole discriminator (conditional and not), parameters and input, against finite differences.
    @Test(arguments: [3, 0]) func discriminator(labels: Int) throws {
        let d = try StyleGANDiscriminator(config: tinyStyleGANDiscriminatorConfig(labels: labels))
        randomiseStyleGAN(d, seed: 51)
        let x = randomTensor([4, 16, 16, 1], seed: 52), l = [1, 2, 0, 2]
        let s = d.forward(x, labels: l)
        #expect(s.count == 4)
        let r: [Float] = [0.3, -1.2, 0.7, 0.5]
        d.zeroGradients()
        let dx = d.backward(r, parameterGradients: true, inputGradient: true)!
        let loss = { zip(d.forward(x, labels: l), r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }
        expectDirectionalGradient("D dx", x, dx, step: 2e-4, tolerance: 2e-2, loss: loss)
        let gains = runtimeGains(d)
        for p in d.parameters {
            expectDirectionalGradient("D \(p.name)", p.value, p.grad.copy(), step: 2e-4 / (gains[ObjectIdentifier(p)] ?? 1), tolerance: 2e-2, loss: loss)
        }
    }

    /// R1's parameter gradient (a finite difference of first derivatives along ∇ₓS) against
    /// finite differences of the penalty itself, `γ/2·mean‖∇ₓS‖²`, computed by backward passes
    /// with the LeakyReLU branches of `x` held.
    @Test func r1Gradient() throws {
        let t = try StyleGANTrainer(generator: tinyStyleGANConfig(), discriminator: tinyStyleGANDiscriminatorConfig(), seed: 61)
        randomiseStyleGAN(t.discriminator, seed: 62)
        let x = randomTensor([4, 16, 16, 1], seed: 63), l = [0, 1, 2, 0]
        let d = t.discriminator
        d.zeroGradients()
        let penalty = t.addR1Gradient(x, labels: l, weight: Float(t.config.r1Gamma))
        // The penalty with the branches of x held (the function double backward differentiates;
        // the true penalty jumps wherever a unit changes branch as the weights move).
        _ = d.forward(x, labels: l)
        let masks = d.activations
        func measured() -> Double {
            d.frozenMasks = masks
            defer { d.frozenMasks = nil }
            _ = d.forward(x, labels: l)
            let g = d.backward([Float](repeating: 1, count: 4), parameterGradients: false, inputGradient: true)!
            var s = 0.0
            for i in 0..<g.count { s += Double(g[i]) * Double(g[i]) }
            return t.config.r1Gamma / 2 * s / 4
        }
        #expect(abs(measured() - Double(penalty)) <= 1e-4 * Double(penalty))
        let gains = runtimeGains(d)
        for p in d.parameters where p.value.shape.count >= 2 {
            expectDirectionalGradient("R1 \(p.name)", p.value, p.grad.copy(), step: 2e-4 / gains[ObjectIdentifier(p)]!, tolerance: 1e-2, loss: measured)
        }
    }

    /// The exported checkpoint, served by the engine's `StyleGANGenerator` with its stored noise
    /// maps, equals the trainable forward pass with the same maps and no mixing.
    @Test func exportMatchesEngine() throws {
        let g = try TrainableStyleGAN(config: tinyStyleGANConfig())
        randomiseStyleGAN(g, seed: 71)
        let z = randomTensor([2, 6], seed: 72), labels = [1, 2]
        let noise = g.storedNoise.map { map -> Tensor in
            let t = Tensor(uninitializedShape: [2, map.count])
            for i in 0..<2 { (t.data + i * map.count).update(from: map.data, count: map.count) }
            return t
        }
        let y = g.forward(z: z, labels: labels, mixing: nil, noise: noise)
        let engine = try g.inferenceGenerator()
        let cond = Tensor(shape: [2, 3], values: [0, 1, 0, 0, 0, 1])
        let e = engine.forward(z: z, conditioning: cond, truncation: nil)
        #expect(maxAbsDiff(y, e) < 1e-4)
        // The exported centroids are the exact means of W over the given latents per class.
        let (tensors, cfg) = g.export(centroidSamples: 5)
        #expect(cfg.classCentroids == true)
        let centroids = try #require(tensors.first { $0.0 == "dlatent_class_avg" }?.1)
        #expect(centroids.shape == [3, 8])
        var rng = NoiseGenerator(seed: 0)
        for c in 0..<3 {
            let zc = Tensor(shape: [5, 6], values: (0..<30).map { _ in rng.nextNormal() })
            let w = g.mapping(z: zc, labels: Array(repeating: c, count: 5))
            for k in 0..<8 {
                let mean = (0..<5).reduce(Float(0)) { $0 + w[$1 * 8 + k] } / 5
                #expect(abs(centroids[c * 8 + k] - mean) < 1e-5 * max(1, abs(mean)))
            }
        }
    }
}
}
