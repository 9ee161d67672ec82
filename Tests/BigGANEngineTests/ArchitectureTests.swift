import Testing
@testable import BigGANEngine

/// Every standard resolution builds from its config and produces images of the right shape.
@Suite struct ArchitectureTests {
    @Test(arguments: [32, 64, 128, 256, 512])
    func bigganResolutions(resolution: Int) throws {
        let att = resolution == 32 ? [16] : [32]
        let cfg = try #require(ModelConfig.biggan(resolution: resolution, ch: 2, dimZ: 2 * (ModelConfig.bigganArch[resolution]!.count + 1),
                                                  sharedDim: 3, nClasses: 2, attention: resolution == 32 ? [] : att))
        let (g, _) = try GeneratorLoader.random(config: cfg, seed: 3)
        let out = try Sampler(generator: g).images(for: GenerationRequest(.samples(classes: [1], latents: .seeds([4])), truncation: 1))
        #expect(out.shape == [1, resolution, resolution, 3])
        #expect(out.array.allSatisfy { $0.isFinite && abs($0) <= 1 })
    }

    @Test(arguments: [128, 256, 512])
    func deepResolutions(resolution: Int) throws {
        let cfg = try #require(ModelConfig.bigganDeep(resolution: resolution, ch: 4, dimZ: 4, sharedDim: 4, nClasses: 3, attention: []))
        let (g, _) = try GeneratorLoader.random(config: cfg, seed: 3)
        let out = try Sampler(generator: g).images(for: GenerationRequest(.samples(classes: [2], latents: .seeds([4])), truncation: 0.5))
        #expect(out.shape == [1, resolution, resolution, 3])
    }

    @Test func publicArchitecturesHaveTheReferenceParameterCounts() throws {
        // pytorch-pretrained-BigGAN README: 50.4M (128). Our file drops conv_to_rgb outputs 3..127
        // (125·128·9 weights + 125 biases) and the SN u/v vectors, and keeps the 51-row statistics.
        let deep = try #require(ModelConfig.bigganDeep(resolution: 128))
        #expect(deep.macsPerImage > 8_900_000_000 && deep.macsPerImage < 9_000_000_000)
        let blocks = ModelConfig.biggan(resolution: 128)!.blocks.map { [$0.inChannels, $0.outChannels] }
        #expect(blocks == [[1536, 1536], [1536, 768], [768, 384], [384, 192], [192, 96]])
        #expect(ModelConfig.biggan(resolution: 128)!.attentionBlocks == [3])
        #expect(deep.attentionBlocks == [7])
    }
}
