import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANTraining

extension TrainingTests {
/// One training iteration against PyTorch on the same weights and batch
/// (`Tests/Fixtures/train/parity.safetensors`, written by `scripts/make_train_fixtures.py`,
/// whose docstring describes the models and the iteration).
@Suite struct ParityTests {
    @Test func oneIterationMatchesPyTorch() throws {
        let file = try SafeTensorsFile(path: TestPaths.fixture("train/parity.safetensors"))
        func meta(_ k: String) throws -> Double { try #require(file.metadata[k].flatMap(Double.init), "metadata \(k)") }
        var cfg = TrainingConfig()
        cfg.gLearningRate = try meta("g_lr")
        cfg.dLearningRate = try meta("d_lr")
        cfg.gOrthogonal = try meta("ortho")
        cfg.snEps = try meta("sn_eps")
        cfg.emaDecay = try meta("ema_decay")
        cfg.batchSize = 4
        let t = try Trainer(generator: tinyGeneratorConfig(), discriminator: tinyDiscriminatorConfig(), config: cfg, seed: 0)
        for (prefix, model) in [("G.", t.generator as ParameterContainer), ("D.", t.discriminator)] {
            for (name, tensor) in model.stateTensors {
                let src = try file.tensor("init." + prefix + name)
                try #require(src.count == tensor.count, "init.\(prefix)\(name): \(src.shape) vs \(tensor.shape)")
                tensor.data.update(from: src.data, count: tensor.count)
            }
        }
        t.ema.copyState(from: t.generator)
        func labels(_ k: String) throws -> [Int] { try file.tensor(k).array.map { Int($0) } }

        /// `‖got − want‖ ≤ 1e-3 · max(‖want‖, floor)`. The floor matters for gradients that are zero
        /// by construction and only rounding noise on both sides: biases of convolutions followed
        /// directly by a training-mode batch norm (the norm removes any per-channel constant).
        func expectClose(_ label: String, _ got: Tensor, _ key: String, floor: Double = 0,
                         sourceLocation: SourceLocation = #_sourceLocation) throws {
            let want = try file.tensor(key)
            var num = 0.0, den = 0.0
            for i in 0..<want.count { let d = Double(got[i]) - Double(want[i]); num += d * d; den += Double(want[i]) * Double(want[i]) }
            let err = num.squareRoot() / max(den.squareRoot(), floor, 1e-30)
            if ProcessInfo.processInfo.environment["BIGGAN_GRAD_VERBOSE"] != nil { print("parity \(label): \(err)") }
            #expect(err <= 1e-3, "\(label): relative error \(err)", sourceLocation: sourceLocation)
        }
        /// 1e-3 of the largest reference gradient norm of a model.
        func gradientFloor(_ prefix: String) throws -> Double {
            try file.entries.keys.filter { $0.hasPrefix(prefix) }.map { k in
                try file.tensor(k).array.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            }.max().map { 1e-3 * $0 } ?? 0
        }

        // Forward passes alone, on copies (training mode changes u and running statistics).
        let z1 = try file.tensor("input.z1")
        let g2 = try TrainableGenerator(config: tinyGeneratorConfig(), snEps: Float(cfg.snEps))
        let d2 = try Discriminator(config: tinyDiscriminatorConfig(), snEps: Float(cfg.snEps))
        g2.copyState(from: t.generator)
        d2.copyState(from: t.discriminator)
        let fakes = g2.forward(z: z1, labels: try labels("input.fake_labels1"), mode: .training)
        try expectClose("G images", fakes, "expect.fake1")
        let scores = d2.forward(concatenateBatch(fakes, try file.tensor("input.real")),
                                labels: try labels("input.fake_labels1") + labels("input.real_labels"), mode: .training)
        try expectClose("D scores", Tensor(shape: [scores.count], values: scores), "expect.d_scores")

        // D step.
        let (lossReal, lossFake) = t.dStep(realImages: try file.tensor("input.real"), realLabels: try labels("input.real_labels"),
                                           z: z1, fakeLabels: try labels("input.fake_labels1"))
        #expect(abs(Double(lossReal) - Double(try file.tensor("expect.loss_real")[0])) <= 1e-3 * max(1, Double(lossReal)))
        #expect(abs(Double(lossFake) - Double(try file.tensor("expect.loss_fake")[0])) <= 1e-3 * max(1, Double(lossFake)))
        let dFloor = try gradientFloor("expect.dgrad.")
        for p in t.discriminator.parameters {
            try expectClose("D grad \(p.name)", p.grad, "expect.dgrad." + p.name, floor: dFloor)
        }

        // G step.
        let gLoss = t.gStep(z: try file.tensor("input.z2"), labels: try labels("input.fake_labels2"))
        let wantG = Double(try file.tensor("expect.g_loss")[0])
        #expect(abs(Double(gLoss) - wantG) <= 1e-3 * max(1, abs(wantG)))
        let gFloor = try gradientFloor("expect.ggrad.")
        for p in t.generator.parameters {
            try expectClose("G grad \(p.name)", p.grad, "expect.ggrad." + p.name, floor: gFloor)
        }

        // State after the iteration: Adam updates, u vectors, running statistics, EMA.
        for (prefix, model) in [("G.", t.generator as ParameterContainer), ("D.", t.discriminator), ("G_ema.", t.ema)] {
            for (name, tensor) in model.stateTensors where file.entries["expect.after." + prefix + name] != nil {
                try expectClose("\(prefix)\(name) after the iteration", tensor, "expect.after." + prefix + name)
            }
        }
    }
}
}
