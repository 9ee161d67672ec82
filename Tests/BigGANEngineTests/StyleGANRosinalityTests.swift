import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine

/// A rosinality `style-based-gan-pytorch` net converted by `scripts/checkpoint/convert_rosinality.py`
/// against the PyTorch reference of rosinality's semantics (`scripts/rosinality_ref.py`); fixtures
/// from `scripts/make_rosinality_fixtures.py`: a reduced random net (rosinality's key names, smaller
/// shapes) converted at 128 px, so up-layers at 8–64 px are nearest ×2 and the 128 px one fused.
/// The config fields the conversion needs (`bias_before_blur`, `instance_norm_eps`) are checked here
/// too.
@Suite struct StyleGANRosinalityTests {
    static let name = "stylegan-rosinality-128"

    /// Max |engine − reference| over `expected` NCHW and `out` NHWC.
    static func maxError(_ out: Tensor, _ expected: Tensor) -> Float {
        let (b, h, w, c) = (out.shape[0], out.shape[1], out.shape[2], out.shape[3])
        precondition(expected.shape == [b, c, h, w])
        var err: Float = 0
        for n in 0..<b { for y in 0..<h { for x in 0..<w { for k in 0..<c {
            err = max(err, abs(out[((n * h + y) * w + x) * c + k] - expected[((n * c + k) * h + y) * w + x]))
        } } } }
        return err
    }

    /// With the stored noise maps (one per block, both layers), ψ = 1 and ψ = 0.7 on every layer
    /// towards `dlatent_avg` (rosinality's `mean_style`): within 1e-3 of the reference (one grey
    /// level is 2/255 ≈ 7.8e-3); the same bytes on 1 and 2 threads.
    @Test func outputMatchesRosinalityReference() throws {
        let g = try #require(try GeneratorLoader.load(path: TestPaths.fixture(Self.name + ".safetensors")) as? StyleGANGenerator)
        let io = try SafeTensorsFile(path: TestPaths.fixture(Self.name + "-io.safetensors"))
        let z = try io.tensor("z"), labels = Tensor(shape: [z.shape[0], 1])
        #expect(g.config.biasBeforeBlur == true && g.config.normEps == 1e-5 && g.config.cutoff == g.config.layers)
        #expect(g.config.fusedScaleFrom == 128 && g.config.resolution == 128 && !g.capabilities.conditional)
        for (key, psi) in [("out_psi1", nil), ("out_psi07", 0.7)] as [(String, Double?)] {
            let outs = [1, 2].map { threads in BLAS.withThreads(threads) { g.forward(z: z, conditioning: labels, truncation: psi) } }
            #expect(outs[0].array == outs[1].array, "\(key): 1 and 2 threads differ")
            let err = Self.maxError(outs[0], try io.tensor(key))
            print("\(Self.name) \(key): max abs error \(err)")
            #expect(err < 1e-3, "\(key): max abs error \(err)")
        }
    }

    /// `bias·blurredOnes` after the blur equals the bias added before it, whatever the thread count.
    @Test func biasMaskEqualsBiasBeforeBlur() {
        var rng = NoiseGenerator(seed: 3)
        let (b, side, c) = (2, 8, 16)
        func random(_ shape: [Int], _ scale: Float = 1) -> Tensor {
            Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in rng.nextNormal() * scale })
        }
        let x = random([b, side, side, c]), bias = random([c], 0.5), noiseWeight = random([c], 0.3)
        let style = random([b, 2 * c], 0.2), noise = random([side * side])
        let early = Tensor(uninitializedShape: x.shape)
        for p in 0..<(b * side * side) { for k in 0..<c { early.data[p * c + k] = x.data[p * c + k] + bias.data[k] } }
        let expected = blur121(early)
        styleEpilogue(expected, noise: { _ in UnsafePointer(noise.data) }, noiseWeight: noiseWeight, bias: Tensor(shape: [c]), style: style, eps: 1e-5)
        let mask = blurredOnes(side: side)
        #expect(mask[0] == 0.5625 && mask[1] == 0.75 && mask[side + 1] == 1 && mask[side * side - 1] == 0.5625)
        let outs = [1, 2].map { threads in
            BLAS.withThreads(threads) { () -> [Float] in
                let y = blur121(x)
                styleEpilogue(y, noise: { _ in UnsafePointer(noise.data) }, noiseWeight: noiseWeight, bias: bias, style: style,
                              biasMask: UnsafePointer(mask.data), eps: 1e-5)
                return y.array
            }
        }
        #expect(outs[0] == outs[1])
        #expect(zip(outs[0], expected.array).map { abs($0 - $1) }.max()! < 1e-4)
    }

    @Test(arguments: [("bias_before_blur", "true", "blur", "false", "bias_before_blur needs blur"),
                      ("instance_norm_eps", "0", nil, nil, "instance_norm_eps must be in (0, 1], got 0.0"),
                      ("instance_norm_eps", "2", nil, nil, "instance_norm_eps must be in (0, 1], got 2.0")] as [(String, String, String?, String?, String)])
    func badFieldsAreRefusedNamingThem(field: String, value: String, other: String?, otherValue: String?, message: String) throws {
        let file = try SafeTensorsFile(path: TestPaths.fixture(Self.name + ".safetensors"))
        var config = try JSONSerialization.jsonObject(with: Data(file.metadata["config"]!.utf8)) as! [String: Any]
        config[field] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
        if let other, let otherValue { config[other] = try JSONSerialization.jsonObject(with: Data(otherValue.utf8), options: .fragmentsAllowed) }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        #expect {
            try GeneratorLoader.build(configJSON: json, weights: CheckpointWeights(file: file), file: "x.safetensors")
        } throws: { ($0 as? CheckpointError)?.reason.contains(message) == true }
    }
}
