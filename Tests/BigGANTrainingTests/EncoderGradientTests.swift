import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANTraining

/// A small encoder: 16×16 grey input, stem 4, blocks 4→6 (down), 6→6, 6→8 (down), MLP [10], z 5.
func tinyEncoderConfig(sigma: EncoderConfig.SigmaParameterisation = .softplus) -> EncoderConfig {
    EncoderConfig(resolution: 16, inChannels: 1, stemChannels: 4,
                  blocks: [.init(4, 6, down: true), .init(6, 6, down: false), .init(6, 8, down: true)],
                  mlp: [10], zDim: 5, sigma: sigma)
}

extension TrainingTests {
@Suite struct EncoderGradientTests {
    /// Every parameter's gradient (batch statistics in training mode) against finite differences
    /// of `L = Σ z_mean ⊙ R₁ + Σ σ ⊙ R₂`, for both σ parameterisations.
    @Test(arguments: [EncoderConfig.SigmaParameterisation.softplus, .logvar])
    func encoderGradients(sigma: EncoderConfig.SigmaParameterisation) throws {
        let e = try TrainableEncoder(config: tinyEncoderConfig(sigma: sigma))
        randomise(e, seed: 81)
        let x = randomTensor([6, 16, 16, 1], seed: 82)
        let out = e.forward(x, mode: .training)
        #expect(out.zMean.shape == [6, 5] && out.sigma.shape == [6, 5] && out.features.shape == [6, 8])
        let r1 = randomTensor([6, 5], seed: 83), r2 = randomTensor([6, 5], seed: 84)
        e.zeroGradients()
        e.backward(dZMean: r1, dSigma: r2)
        let loss = { () -> Double in
            let o = e.forward(x, mode: .training)
            return weightedSum(o.zMean, r1) + weightedSum(o.sigma, r2)
        }
        for p in e.parameters {
            // Every convolution here feeds a batch norm (training mode), which removes any
            // per-channel constant: its bias's gradient is zero up to rounding.
            if p.name.hasSuffix(".bias") && !p.name.contains("bn") && !p.name.contains("mlp") && !p.name.contains("head") {
                let norm = (0..<p.grad.count).reduce(0.0) { $0 + Double(p.grad[$1] * p.grad[$1]) }.squareRoot()
                #expect(norm < 1e-4, "\(p.name): gradient \(norm), expected 0 (a batch norm follows)")
                continue
            }
            expectDirectionalGradient("E \(p.name)", p.value, p.grad.copy(), step: 1e-4, tolerance: 3e-2, loss: loss)
        }
    }

    /// The exported tensors, read by the engine's `BigBiGANEncoder`, give the trainable encoder's
    /// evaluation-mode outputs (running statistics).
    @Test func exportMatchesTheEngineEncoder() throws {
        let e = try TrainableEncoder(config: tinyEncoderConfig())
        randomise(e, seed: 91)
        let x = randomTensor([2, 16, 16, 1], seed: 92)
        _ = e.forward(x, mode: .training)   // moves the running statistics off their start
        let mine = e.forward(x, mode: .evaluation)
        let engine = try BigBiGANEncoder(config: e.config, weights: NamedTensors(e.stateTensors))
        let theirs = engine.encode(x)
        #expect(maxAbsDiff(mine.zMean, theirs.zMean) < 1e-5 && maxAbsDiff(mine.sigma, theirs.sigma) < 1e-5)
        #expect(maxAbsDiff(mine.features, theirs.features) < 1e-5)
    }
}
}
