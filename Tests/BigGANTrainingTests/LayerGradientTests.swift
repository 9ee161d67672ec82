import BigGANTestSupport
import Testing
@testable import BigGANEngine
@testable import BigGANTraining

/// Central finite differences against every layer's backward pass, on tiny shapes, with the loss
/// `L = Σ out ⊙ R` for a fixed random `R` (so `dOut = R`). Spectral norms are frozen after the
/// first pass (see `freezeSpectralNorms`), batch norms run in training mode (batch statistics).
extension TrainingTests {
@Suite struct LayerGradientTests {
    @Test(arguments: [(3, true, true), (3, false, false), (1, true, true), (1, false, true)])
    func convolution(kernel: Int, bias: Bool, spectralNorm: Bool) {
        let conv = ConvLayer(name: "c", inChannels: 5, outChannels: 6, kernelSize: kernel, bias: bias, spectralNorm: spectralNorm)
        randomise(conv, seed: 1)
        let x = randomTensor([2, 5, 4, 5], seed: 2)
        let y = conv.forward(x, mode: .training)
        #expect(y.shape == [2, 5, 4, 6])
        freezeSpectralNorms(conv)
        let r = randomTensor(y.shape, seed: 3)
        conv.zeroGradients()
        let dx = conv.backward(r)!
        let loss = { weightedSum(conv.forward(x, mode: .training), r) }
        expectGradient("conv\(kernel) dx", x, dx, loss: loss)
        expectGradient("conv\(kernel) dW", conv.weight.value, conv.weight.grad.copy(), loss: loss)
        if let b = conv.bias { expectGradient("conv\(kernel) db", b.value, b.grad.copy(), loss: loss) }
    }

    /// The forward pass equals a direct convolution with `W/σ`, and a band boundary falls inside the
    /// batch (small column budget is not configurable, so use a tall input instead).
    @Test func convolutionMatchesDirectSum() {
        let conv = ConvLayer(name: "c", inChannels: 3, outChannels: 4, kernelSize: 3)
        randomise(conv, seed: 5)
        let x = randomTensor([2, 6, 5, 3], seed: 6)
        let y = conv.forward(x, mode: .evaluation)
        let w = conv.spectralNorm!.normalized
        var worst: Float = 0
        for n in 0..<2 { for i in 0..<6 { for j in 0..<5 { for o in 0..<4 {
            var s = Double(conv.bias!.value[o])
            for c in 0..<3 { for ky in 0..<3 { for kx in 0..<3 {
                let (sy, sx) = (i + ky - 1, j + kx - 1)
                if sy < 0 || sy >= 6 || sx < 0 || sx >= 5 { continue }
                s += Double(x[((n * 6 + sy) * 5 + sx) * 3 + c]) * Double(w[((o * 3 + c) * 3 + ky) * 3 + kx])
            } } }
            worst = max(worst, abs(Float(s) - y[((n * 6 + i) * 5 + j) * 4 + o]))
        } } } }
        #expect(worst < 1e-5)
    }

    /// `conv(up2(x))` as four phase convolutions and `avgpool2(conv(x))` as a stride-2 4×4
    /// convolution equal the plain compositions, forward and backward, and pass finite differences.
    @Test(arguments: [Resampling.upsampleInput, .averagePoolOutput])
    func resampledConvolution(resampling: Resampling) {
        let conv = ConvLayer(name: "c", inChannels: 5, outChannels: 6, kernelSize: 3, resampling: resampling)
        let plain = ConvLayer(name: "c", inChannels: 5, outChannels: 6, kernelSize: 3)
        randomise(conv, seed: 71)
        plain.copyState(from: conv)
        let x = randomTensor([2, 4, 6, 5], seed: 72)
        let up = resampling == .upsampleInput
        let y = conv.forward(x, mode: .training)
        let yp = plain.forward(up ? Pointwise.upsample(x) : x, mode: .training)
        let reference = up ? yp : Pointwise.averagePool(yp)
        #expect(y.shape == reference.shape)
        #expect(maxAbsDiff(y, reference) < 1e-5)
        freezeSpectralNorms(conv)
        freezeSpectralNorms(plain)
        let r = randomTensor(y.shape, seed: 73)
        conv.zeroGradients(); plain.zeroGradients()
        let dx = conv.backward(r)!
        let dxp = plain.backward(up ? r : Pointwise.averagePoolBackward(r))!
        #expect(maxAbsDiff(dx, up ? Pointwise.upsampleBackward(dxp) : dxp) < 1e-5)
        #expect(maxAbsDiff(conv.weight.grad, plain.weight.grad) < 1e-4)
        let loss = { weightedSum(conv.forward(x, mode: .training), r) }
        expectGradient("\(resampling) dx", x, dx, loss: loss)
        expectGradient("\(resampling) dW", conv.weight.value, conv.weight.grad.copy(), loss: loss)
        expectGradient("\(resampling) db", conv.bias!.value, conv.bias!.grad.copy(), loss: loss)
    }

    /// Banding (im2col/col2im over a few output rows at a time, neighbouring bands sharing input
    /// rows in col2im) gives the same results as one band.
    @Test(arguments: [(true, true), (false, false), (true, false)])
    func linear(bias: Bool, spectralNorm: Bool) {
        let lin = LinearLayer(name: "l", inFeatures: 7, outFeatures: 5, bias: bias, spectralNorm: spectralNorm)
        randomise(lin, seed: 11)
        let x = randomTensor([3, 7], seed: 12)
        let y = lin.forward(x, mode: .training)
        freezeSpectralNorms(lin)
        let r = randomTensor(y.shape, seed: 13)
        lin.zeroGradients()
        let dx = lin.backward(r)!
        let loss = { weightedSum(lin.forward(x, mode: .training), r) }
        expectGradient("linear dx", x, dx, loss: loss)
        expectGradient("linear dW", lin.weight.value, lin.weight.grad.copy(), loss: loss)
        if let b = lin.bias { expectGradient("linear db", b.value, b.grad.copy(), loss: loss) }
    }

    @Test(arguments: [false, true])
    func embedding(spectralNorm: Bool) {
        let emb = EmbeddingLayer(name: "e", count: 4, dimension: 6, spectralNorm: spectralNorm)
        randomise(emb, seed: 21)
        let labels = [2, 0, 2, 3, 2]   // repeated labels exercise the scatter-add
        let y = emb.forward(labels, mode: .training)
        freezeSpectralNorms(emb)
        let r = randomTensor(y.shape, seed: 22)
        emb.zeroGradients()
        emb.backward(r)
        if !spectralNorm { #expect(emb.weight.grad[1 * 6] == 0) }   // class 1 unused
        expectGradient("embedding dW", emb.weight.value, emb.weight.grad.copy(), samples: 24) {
            weightedSum(emb.forward(labels, mode: .training), r)
        }
    }

    @Test func batchNormTrainingMode() {
        let bn = BatchNormLayer(name: "bn", channels: 4, eps: 1e-5)
        randomise(bn, seed: 31)
        let x = randomTensor([3, 3, 2, 4], seed: 32, scale: 2, offset: 0.5)
        let y = bn.forward(x, mode: .training)
        let r = randomTensor(y.shape, seed: 33)
        bn.zeroGradients()
        let dx = bn.backward(r)
        let loss = { weightedSum(bn.forward(x, mode: .training), r) }
        expectGradient("bn dx", x, dx, eps: 1e-2, samples: 40, loss: loss)
        expectGradient("bn dgain", bn.gain.value, bn.gain.grad.copy(), loss: loss)
        expectGradient("bn dbias", bn.bias.value, bn.bias.grad.copy(), loss: loss)
    }

    /// Batch statistics and running-statistics update as torch: biased variance to normalise,
    /// unbiased variance into the running estimate, momentum 0.1.
    @Test func batchNormStatistics() {
        let bn = BatchNormLayer(name: "bn", channels: 2, eps: 1e-5)
        let x = Tensor(shape: [2, 1, 2, 2], values: [1, 10, 2, 20, 3, 30, 6, 60])
        let y = bn.forward(x, mode: .training)
        // channel 0: 1, 2, 3, 6 → mean 3, biased var 3.5, unbiased 14/3
        #expect(abs(y[0] - Float((1 - 3) / (3.5 + 1e-5).squareRoot())) < 1e-6)
        #expect(abs(bn.runningMean[0] - 0.3) < 1e-6 && abs(bn.runningVar[0] - Float(0.9 + 0.1 * 14.0 / 3)) < 1e-6)
        #expect(abs(bn.runningMean[1] - 3) < 1e-5 && abs(bn.runningVar[1] - Float(0.9 + 0.1 * 1400.0 / 3)) < 1e-4)
    }

    @Test func conditionalBatchNorm() {
        let cbn = ConditionalBNLayer(name: "cbn", channels: 4, conditionDim: 5, eps: 1e-5)
        randomise(cbn, seed: 41)
        let x = randomTensor([3, 2, 3, 4], seed: 42, scale: 1.5, offset: -0.3)
        let cond = randomTensor([3, 5], seed: 43)
        let y = cbn.forward(x, condition: cond, mode: .training)
        freezeSpectralNorms(cbn)
        let r = randomTensor(y.shape, seed: 44)
        cbn.zeroGradients()
        let (dx, dc) = cbn.backward(r)
        let loss = { weightedSum(cbn.forward(x, condition: cond, mode: .training), r) }
        expectGradient("cbn dx", x, dx, samples: 40, loss: loss)
        expectGradient("cbn dy", cond, dc, loss: loss)
        expectGradient("cbn dgain", cbn.gain.weight.value, cbn.gain.weight.grad.copy(), loss: loss)
        expectGradient("cbn dbias", cbn.bias.weight.value, cbn.bias.weight.grad.copy(), loss: loss)
    }

    @Test func attention() {
        let att = AttentionLayer(name: "att", channels: 16)
        randomise(att, seed: 51)
        let x = randomTensor([2, 4, 6, 16], seed: 52)
        let y = att.forward(x, mode: .training)
        freezeSpectralNorms(att)
        let r = randomTensor(y.shape, seed: 53)
        att.zeroGradients()
        let dx = att.backward(r)
        let loss = { weightedSum(att.forward(x, mode: .training), r) }
        // Max-pool switches make large steps unreliable; 1e-3 stays on one side of most ties.
        expectGradient("attention dx", x, dx, eps: 1e-3, samples: 40, loss: loss)
        expectGradient("attention dgamma", att.gamma.value, att.gamma.grad.copy(), loss: loss)
        for conv in [att.theta, att.phi, att.g, att.o] {
            expectGradient("attention d\(conv.name)", conv.weight.value, conv.weight.grad.copy(), eps: 1e-3, loss: loss)
        }
    }

    @Test func poolingAndResampling() {
        let x = randomTensor([2, 4, 6, 3], seed: 61)
        let checks: [(String, (Tensor) -> Tensor, (Tensor, Tensor) -> Tensor)] = [
            ("upsample", Pointwise.upsample, { dy, _ in Pointwise.upsampleBackward(dy) }),
            ("avgpool", Pointwise.averagePool, { dy, _ in Pointwise.averagePoolBackward(dy) }),
            ("sumpool", Pointwise.sumPool, { dy, x in Pointwise.sumPoolBackward(dy, shape: x.shape) }),
            ("maxpool", { Pointwise.maxPool($0).0 }, { dy, x in Pointwise.maxPoolBackward(dy, index: Pointwise.maxPool(x).1) }),
            ("tanh", Pointwise.tanh, { dy, x in Pointwise.tanhBackward(dy, output: Pointwise.tanh(x)) }),
        ]
        for (name, f, b) in checks {
            let y = f(x)
            let r = randomTensor(y.shape, seed: 62)
            expectGradient(name, x, b(r, x), eps: 1e-3, samples: 48) { weightedSum(f(x), r) }
        }
        // ReLU: away from the kink.
        let xr = randomTensor([2, 3, 3, 4], seed: 63)
        for i in 0..<xr.count where abs(xr[i]) < 0.05 { xr[i] = 0.5 }
        let yr = Pointwise.relu(xr), rr = randomTensor(yr.shape, seed: 64)
        expectGradient("relu", xr, Pointwise.reluBackward(rr, output: yr), samples: 72) { weightedSum(Pointwise.relu(xr), rr) }
    }
}
}
