import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANTraining

/// Tiny BigBiGAN pieces at 16×16 grey: the tiny generator made unconditional (one class) with
/// z 9, the tiny encoder's blocks, and a joint D with F = the tiny D's blocks, H [12], J [10].
func tinyBigBiGAN() throws -> (ModelConfig, EncoderConfig, JointDiscriminatorConfig) {
    var g = tinyGeneratorConfig()
    g.nClasses = 1
    let e = EncoderConfig(resolution: 16, inChannels: 1, stemChannels: 4,
                          blocks: [.init(4, 6, down: true), .init(6, 8, down: true)], mlp: [10], zDim: g.dimZ)
    let d = JointDiscriminatorConfig(x: tinyDiscriminatorConfig(attention: []), zDim: g.dimZ, hWidths: [12], jWidths: [10])
    return (g, e, d)
}

extension TrainingTests {
@Suite struct BigBiGANGradientTests {
    /// D's parameters and both inputs against finite differences of `Σ r_x·s_x + r_z·s_z + r_xz·s_xz`.
    @Test func jointDiscriminator() throws {
        let (_, _, cfg) = try tinyBigBiGAN()
        let d = try JointDiscriminator(config: cfg)
        randomise(d, seed: 101)
        let x = randomTensor([3, 16, 16, 1], seed: 102), z = randomTensor([3, 9], seed: 103)
        _ = d.forward(x: x, z: z, mode: .training)
        freezeSpectralNorms(d)
        let (rx, rz, rxz): ([Float], [Float], [Float]) = ([0.5, -1, 0.3], [1, 0.2, -0.7], [-0.4, 0.9, 0.6])
        d.zeroGradients()
        let dIn = try #require(d.backward(x: rx, z: rz, xz: rxz, inputGradients: true))
        func loss() -> Double {
            let s = d.forward(x: x, z: z, mode: .training)
            var total = 0.0
            for i in 0..<3 { total += Double(s.x[i]) * Double(rx[i]) + Double(s.z[i]) * Double(rz[i]) + Double(s.xz[i]) * Double(rxz[i]) }
            return total
        }
        expectDirectionalGradient("D dx", x, dIn.x, step: 1e-3, loss: loss)
        expectDirectionalGradient("D dz", z, dIn.z, step: 1e-3, loss: loss)
        for p in d.parameters { expectDirectionalGradient("D \(p.name)", p.value, p.grad.copy(), step: 1e-4, tolerance: 2e-2, loss: loss) }
    }

    /// `ℓ_EG`'s gradient in E (through D's ∂/∂z and the reparameterisation) and in G (through
    /// ∂/∂x) against finite differences of `ℓ_EG` itself; and the D step's gradient of `ℓ_D`;
    /// without augmentation and with a fixed DiffAugment draw (G's gradient then flows back
    /// through the shifts and cutouts).
    @Test(arguments: [false, true]) func encoderGeneratorAndDiscriminatorSteps(augment: Bool) throws {
        let (g, e, d) = try tinyBigBiGAN()
        var cfg = BigBiGANTrainingConfig()
        cfg.batchSize = 4
        cfg.augment = augment ? "translation,cutout" : nil
        let t = try BigBiGANTrainer(generator: g, encoder: e, discriminator: d, config: cfg, seed: 111)
        randomise(t.encoder, seed: 112)
        let x = randomTensor([4, 16, 16, 1], seed: 113), z = randomTensor([4, 9], seed: 114), eps = randomTensor([4, 9], seed: 115)
        var rng = NoiseGenerator(seed: 116)
        let draw = try augment ? #require(t.augmentation).draw(batch: 8, height: 16, width: 16, rng: &rng) : nil
        #expect((t.augmentation != nil) == augment)
        _ = t.egGradients(realImages: x, z: z, epsilon: eps, augmentation: draw)
        freezeSpectralNorms(t.discriminator); freezeSpectralNorms(t.generator)
        _ = t.egGradients(realImages: x, z: z, epsilon: eps, augmentation: draw)
        let eg = { Double(t.egGradients(realImages: x, z: z, epsilon: eps, augmentation: draw)) }
        let eGrads = t.encoder.parameters.map { $0.grad.copy() }, gGrads = t.generator.parameters.map { $0.grad.copy() }
        for (p, grad) in zip(t.encoder.parameters, eGrads) where !(p.name.hasSuffix(".bias") && (p.name.contains("conv") || p.name.contains("stem"))) {
            // Batch norm over 4 images and ReLU kinks make ℓ_EG strongly curved in the trunks'
            // weights (errors up to ~6% at any step); a wrong or missing path (one of the three
            // scores, the ε factor of dσ, a sign) is off by far more.
            expectDirectionalGradient("E \(p.name)", p.value, grad, step: 1e-4, tolerance: 8e-2, loss: eg)
        }
        for (p, grad) in zip(t.generator.parameters, gGrads) where p.name.contains("conv") && p.name.hasSuffix("weight") {
            expectDirectionalGradient("G \(p.name)", p.value, grad, step: 1e-3, tolerance: 8e-2, loss: eg)
        }
        _ = t.dGradients(realImages: x, z: z, epsilon: eps, augmentation: draw)
        let dGrads = t.discriminator.parameters.map { $0.grad.copy() }
        let dLoss = { () -> Double in let l = t.dGradients(realImages: x, z: z, epsilon: eps, augmentation: draw); return Double(l.lossReal + l.lossFake) }
        for (p, grad) in zip(t.discriminator.parameters, dGrads) where p.value.shape.count >= 2 {
            expectDirectionalGradient("D \(p.name)", p.value, grad, step: 1e-4, tolerance: 3e-2, loss: dLoss)
        }
    }
}
}
