import BigGANTestSupport
import Testing
@testable import BigGANEngine
@testable import BigGANTraining

extension TrainingTests {
/// Finite differences through composed layers: the projection head, generator and discriminator
/// blocks, and whole models.
///
/// Block- and model-level checks are limited by ReLU kinks: with training-mode batch norm every
/// parameter moves every downstream pre-activation, so a few units cross zero inside ±eps and the
/// quotients of those elements are off (see `expectGradient(kinkTolerant:)`). Whole-model
/// gradients are also checked exactly against PyTorch autograd in `ParityTests`.
@Suite struct ModelGradientTests {
    @Test func projectionHead() throws {
        let head = ProjectionHead(channels: 6, classes: 3, snEps: 1e-6)
        randomise(head, seed: 131)
        let h = randomTensor([3, 2, 2, 6], seed: 132)
        for i in 0..<h.count where abs(h[i]) < 0.05 { h[i] = 0.3 }   // away from the ReLU kink
        let labels = [2, 0, 2]
        _ = head.forward(h, labels: labels, mode: .training)
        freezeSpectralNorms(head)
        let r: [Float] = [0.9, -0.6, 1.2]
        let rt = Tensor(shape: [3], values: r)
        head.zeroGradients()
        let dh = head.backward(r, parameterGradients: true)
        let loss = { weightedSum(Tensor(shape: [3], values: head.forward(h, labels: labels, mode: .training)), rt) }
        expectGradient("head dh", h, dh, eps: 1e-3, samples: 36, loss: loss)
        expectGradient("head linear.weight", head.linear.weight.value, head.linear.weight.grad.copy(), loss: loss)
        expectGradient("head linear.bias", head.linear.bias!.value, head.linear.bias!.grad.copy(), loss: loss)
        expectGradient("head embed.weight", head.embed.weight.value, head.embed.weight.grad.copy(), loss: loss)
    }

    @Test(arguments: [(true, true), (false, false)])
    func generatorBlock(up: Bool, attention: Bool) {
        let blk = GeneratorBlock(index: 0, spec: .init(8, up ? 16 : 8, up: up), condDim: 5, bnEps: 1e-5, snEps: 1e-6, attention: attention)
        #expect((blk.shortcut == nil) == !up)
        randomise(blk, seed: 141)
        let x = randomTensor([2, 4, 4, 8], seed: 142)
        let y = randomTensor([2, 5], seed: 143)
        let out = blk.forward(x, condition: y, mode: .training)
        freezeSpectralNorms(blk)
        let r = randomTensor(out.shape, seed: 144)
        blk.zeroGradients()
        let (dx, dy) = blk.backward(r)
        let loss = { weightedSum(blk.forward(x, condition: y, mode: .training), r) }
        expectGradient("G block dx", x, dx, eps: 1e-3, kinkTolerant: true, loss: loss)
        expectGradient("G block dy", y, dy, eps: 1e-3, kinkTolerant: true, loss: loss)
        for p in blk.parameters where !p.name.hasSuffix("conv1.bias") {   // conv1.bias: zero by construction (bn2 follows)
            expectGradient("G block \(p.name)", p.value, p.grad.copy(), eps: 1e-3, samples: 12, kinkTolerant: true, loss: loss)
        }
    }

    @Test(arguments: [(0, true, true), (1, true, false), (1, false, false)])
    func discriminatorBlock(index: Int, down: Bool, attention: Bool) {
        let cin = index == 0 ? 3 : 8, cout = down ? 16 : 8
        let blk = DiscriminatorBlock(index: index, spec: .init(cin, cout, down: down), snEps: 1e-6, attention: attention)
        #expect((blk.shortcut == nil) == (cin == cout && !down))
        randomise(blk, seed: 151)
        let x = randomTensor([2, 8, 8, cin], seed: 152)
        let out = blk.forward(x, mode: .training)
        freezeSpectralNorms(blk)
        let r = randomTensor(out.shape, seed: 153)
        blk.zeroGradients()
        let dx = blk.backward(r, parameterGradients: true, inputGradient: true)!
        let loss = { weightedSum(blk.forward(x, mode: .training), r) }
        expectGradient("D block dx", x, dx, eps: 1e-3, kinkTolerant: true, loss: loss)
        // θ and φ get gradients ~1e-3 of the others here (near-uniform attention on this input), below
        // the differencing noise; they are checked in `LayerGradientTests.attention` and the G block.
        for p in blk.parameters where !p.name.hasSuffix("theta.weight") && !p.name.hasSuffix("phi.weight") {
            expectGradient("D block \(p.name)", p.value, p.grad.copy(), eps: 1e-3, samples: 12, kinkTolerant: true, loss: loss)
        }
    }

    @Test func generatorParameters() throws {
        let g = try TrainableGenerator(config: tinyGeneratorConfig())
        randomise(g, seed: 101)
        let z = randomTensor([3, 9], seed: 102)
        let labels = [2, 0, 2]
        let img = g.forward(z: z, labels: labels, mode: .training)
        #expect(img.shape == [3, 16, 16, 1])
        freezeSpectralNorms(g)
        let r = randomTensor(img.shape, seed: 103)
        g.zeroGradients()
        g.backward(r)
        let loss = { weightedSum(g.forward(z: z, labels: labels, mode: .training), r) }
        // Through the whole generator the kink error is a few per cent at any usable eps (more units,
        // all coupled by the batch norms), hence the looser tolerance; ParityTests checks exactly.
        let names = ["shared.weight", "linear.weight", "blocks.0.bn1.gain.weight", "blocks.0.conv1.weight",
                     "blocks.0.attention.phi.weight", "blocks.1.bn2.gain.weight", "output.bn.weight", "output.bn.bias",
                     "output.conv.weight"]
        let byName = Dictionary(uniqueKeysWithValues: g.parameters.map { ($0.name, $0) })
        for n in names {
            let p = try #require(byName[n], "no parameter \(n)")
            expectGradient("G \(n)", p.value, p.grad.copy(), eps: 1e-3, samples: 12, tolerance: 5e-2, loss: loss)
        }
    }

    /// Without `hier`, every block is conditioned on the embedding alone and the linear layer
    /// takes all of z; blocks without upsampling and with equal channels use an identity shortcut.
    @Test func generatorVariants() throws {
        var cfg = tinyGeneratorConfig(outChannels: 3, attention: [])
        cfg.hier = false
        cfg.blocks = [.init(16, 16, up: true), .init(16, 16, up: false), .init(16, 8, up: true)]
        let g = try TrainableGenerator(config: cfg)
        #expect(g.blocks[1].shortcut == nil && g.linear.inFeatures == 9)
        randomise(g, seed: 111)
        let z = randomTensor([2, 9], seed: 112)
        let e = randomTensor([2, 4], seed: 113)
        let img = g.forward(z: z, embeddings: e, mode: .training)
        #expect(img.shape == [2, 16, 16, 3])
        freezeSpectralNorms(g)
        let r = randomTensor(img.shape, seed: 114)
        g.zeroGradients()
        let dE = g.backward(r)
        let loss = { weightedSum(g.forward(z: z, embeddings: e, mode: .training), r) }
        expectGradient("G embeddings", e, dE, eps: 1e-3, tolerance: 5e-2, loss: loss)
        let p = g.blocks[1].conv1.weight
        expectGradient("G identity block conv1", p.value, p.grad.copy(), eps: 1e-3, samples: 12, tolerance: 5e-2, loss: loss)
    }

    @Test func discriminatorInputAndParameters() throws {
        let d = try Discriminator(config: tinyDiscriminatorConfig())
        randomise(d, seed: 121)
        let x = randomTensor([3, 16, 16, 1], seed: 122, scale: 0.5)
        let labels = [1, 0, 1]
        let scores = d.forward(x, labels: labels, mode: .training)
        #expect(scores.count == 3)
        freezeSpectralNorms(d)
        let r: [Float] = [0.7, -1.3, 0.4]
        let rt = Tensor(shape: [3], values: r)
        d.zeroGradients()
        let dx = try #require(d.backward(r, parameterGradients: true, inputGradient: true))
        let loss = { weightedSum(Tensor(shape: [3], values: d.forward(x, labels: labels, mode: .training)), rt) }
        expectGradient("D input", x, dx, eps: 4e-3, samples: 24, tolerance: 2e-2, loss: loss)
        let byName = Dictionary(uniqueKeysWithValues: d.parameters.map { ($0.name, $0) })
        for n in ["blocks.0.conv1.weight", "blocks.0.conv_sc.weight", "blocks.0.attention.gamma", "blocks.0.attention.g.weight",
                  "blocks.1.conv2.weight", "blocks.1.conv_sc.bias", "blocks.2.conv1.weight", "linear.weight", "linear.bias",
                  "embed.weight"] {
            let p = try #require(byName[n], "no parameter \(n)")
            expectGradient("D \(n)", p.value, p.grad.copy(), eps: 4e-3, samples: 12, tolerance: 2e-2, loss: loss)
        }
        // Without parameter gradients nothing accumulates, and the input gradient is unchanged.
        d.zeroGradients()
        _ = d.forward(x, labels: labels, mode: .training)
        let dx2 = try #require(d.backward(r, parameterGradients: false, inputGradient: true))
        #expect(maxAbsDiff(dx, dx2) < 1e-5)
        #expect(d.parameters.allSatisfy { $0.grad.array.allSatisfy { $0 == 0 } })
    }

    @Test func discriminatorConfigs() throws {
        let d32 = try #require(DiscriminatorConfig.biggan(resolution: 32, ch: 4, inputChannels: 1, nClasses: 10))
        #expect(d32.blocks.map { [$0.inChannels, $0.outChannels] } == [[1, 16], [16, 16], [16, 16], [16, 16]])
        #expect(d32.blockResolutions == [16, 8, 8, 8])
        let d128 = try #require(DiscriminatorConfig.biggan(resolution: 128, ch: 8, nClasses: 5, attention: [64]))
        #expect(d128.attentionBlocks == [0] && d128.blocks.last!.down == false)
        try d128.validate()
        var bad = d32
        bad.blocks[2].inChannels = 8
        #expect(throws: CheckpointError.self) { try bad.validate() }
    }
}
}
