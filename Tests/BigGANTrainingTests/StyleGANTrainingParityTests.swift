import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANTraining

extension TrainingTests {
/// One StyleGAN D step (logistic loss and R1) and one G step (non-saturating loss through D, with
/// style mixing and per-image noise) against PyTorch in double precision on the same weights and
/// inputs (`Tests/Fixtures/train/stylegan-step.safetensors`, written by
/// `scripts/make_stylegan_training_fixtures.py`, whose docstring describes the models). PyTorch
/// computes R1's gradient by double backward, this trainer by a finite difference of first
/// derivatives (`StyleGANTrainer`).
@Suite struct StyleGANTrainingParityTests {
    let file: SafeTensorsFile

    init() throws { file = try SafeTensorsFile(path: TestPaths.fixture("train/stylegan-step.safetensors")) }

    /// A trainer with the fixture's weights, R1 on every D step with the fixture's γ, no mixing draws
    /// of its own (the inputs are given).
    func trainer() throws -> StyleGANTrainer {
        var cfg = StyleGANTrainingConfig()
        cfg.batchSize = 4
        cfg.r1Interval = 1
        cfg.r1Gamma = try #require(file.metadata["gamma"].flatMap(Double.init))
        let t = try StyleGANTrainer(generator: tinyStyleGANConfig(), discriminator: tinyStyleGANDiscriminatorConfig(), config: cfg, seed: 0)
        for p in t.generator.parameters {
            let key = "G/" + checkpointName(p.name)
            let src = try file.tensor(key)
            try #require(src.shape == p.value.shape, "\(key): \(src.shape) vs \(p.value.shape)")
            p.value.data.update(from: src.data, count: src.count)
        }
        for p in t.discriminator.parameters {
            let src = try file.tensor("D/" + p.name)
            try #require(src.shape == p.value.shape, "D/\(p.name): \(src.shape) vs \(p.value.shape)")
            p.value.data.update(from: src.data, count: src.count)
        }
        return t
    }

    func checkpointName(_ n: String) -> String {
        for suffix in [".weight", ".bias"] where n.hasSuffix(suffix) { return String(n.dropLast(suffix.count)) + "/" + suffix.dropFirst() }
        return n
    }

    func inputs(_ t: StyleGANTrainer) throws -> StyleGANTrainer.Inputs {
        let cutoff = try #require(file.metadata["cutoff"].flatMap(Int.init))
        let noise = try (0..<t.generator.layerCount).map { try file.tensor("noise\($0)") }
        return StyleGANTrainer.Inputs(z: try file.tensor("z"), labels: try file.tensor("labels").array.map { Int($0) },
                                      mixing: (try file.tensor("z2"), cutoff), noise: noise)
    }

    /// `‖got − want‖ ≤ tolerance · ‖want‖`.
    func expectClose(_ label: String, _ got: Tensor, _ want: Tensor, tolerance: Double, sourceLocation: SourceLocation = #_sourceLocation) {
        var num = 0.0, den = 0.0
        for i in 0..<want.count { let d = Double(got[i]) - Double(want[i]); num += d * d; den += Double(want[i]) * Double(want[i]) }
        let rel = num.squareRoot() / max(den.squareRoot(), 1e-30)
        if ProcessInfo.processInfo.environment["BIGGAN_GRAD_VERBOSE"] != nil { print("parity \(label): relative error \(rel)") }
        #expect(den > 0 && rel <= tolerance, "\(label): relative error \(rel), ‖PyTorch‖ \(den.squareRoot())", sourceLocation: sourceLocation)
    }

    func meta(_ key: String) throws -> Double { try #require(file.metadata[key].flatMap(Double.init), "metadata \(key)") }

    @Test func discriminatorStepMatchesPyTorch() throws {
        let t = try trainer()
        let inputs = try inputs(t)
        let fakes = t.generator.forward(z: inputs.z, labels: inputs.labels, mixing: inputs.mixing, noise: inputs.noise)
        expectClose("fakes", fakes, try file.tensor("fakes"), tolerance: 1e-5)
        let losses = t.dStep(realImages: try file.tensor("reals"), realLabels: inputs.labels, fakes: inputs)
        #expect(abs(Double(losses.lossReal) - (try meta("loss_d_real"))) < 1e-5)
        #expect(abs(Double(losses.lossFake) - (try meta("loss_d_fake"))) < 1e-5)
        #expect(abs(Double(t.lastR1) - (try meta("r1"))) < 1e-4 * (try meta("r1")))
        // Gradients are read after the step (Adam changes the values, not the gradients). R1's
        // finite difference costs a little precision against double backward.
        for p in t.discriminator.parameters { expectClose("D \(p.name)", p.grad, try file.tensor("dgrad/" + p.name), tolerance: 1e-3) }
    }

    @Test func generatorStepMatchesPyTorch() throws {
        let t = try trainer()
        let loss = t.gStep(try inputs(t))
        #expect(abs(Double(loss) - (try meta("loss_g"))) < 1e-5)
        for p in t.generator.parameters {
            expectClose("G \(p.name)", p.grad, try file.tensor("ggrad/" + checkpointName(p.name)), tolerance: 1e-3)
        }
    }
}
}
