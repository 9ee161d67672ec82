import BigGANEngine
import Foundation

/// Architecture of a StyleGAN (v1) discriminator (NVlabs `D_basic`, no progressive growing).
public struct StyleGANDiscriminatorConfig: Codable, Equatable, Sendable {
    public var resolution: Int
    public var inputChannels: Int
    /// Channels at 4, 8, …, `resolution` px (`log2(resolution) − 1` entries), like the generator's.
    public var channels: [Int]
    /// Classes (scores are projected on the one-hot label, NVlabs' conditional D); 0: unconditional.
    public var labelSize: Int
    /// Minibatch-stddev group size (NVlabs: 4); batches must be multiples of `min(group, B)`.
    public var mbstdGroup: Int

    enum CodingKeys: String, CodingKey {
        case resolution, inputChannels = "input_channels", channels, labelSize = "label_size", mbstdGroup = "mbstd_group"
    }

    /// NVlabs' minibatch-stddev group size, which `biggan-train` uses.
    public static let defaultMbstdGroup = 4

    public init(resolution: Int, inputChannels: Int, channels: [Int], labelSize: Int, mbstdGroup: Int = defaultMbstdGroup) {
        self.resolution = resolution; self.inputChannels = inputChannels; self.channels = channels
        self.labelSize = labelSize; self.mbstdGroup = mbstdGroup
    }

    var resolutionLog2: Int { Int.bitWidth - 1 - resolution.leadingZeroBitCount }

    public func validate() throws {
        func fail(_ m: String) -> CheckpointError { CheckpointError(file: "<discriminator config>", m) }
        guard (8...1024).contains(resolution), resolution & (resolution - 1) == 0 else { throw fail("resolution must be a power of two from 8 to 1024") }
        guard channels.count == resolutionLog2 - 1, channels.allSatisfy({ (1...4096).contains($0) }) else {
            throw fail("channels needs \(resolutionLog2 - 1) entries in 1...4096, got \(channels)")
        }
        guard (1...4).contains(inputChannels), (0...100_000).contains(labelSize), (1...64).contains(mbstdGroup) else {
            throw fail("input_channels 1...4, label_size 0...100000, mbstd_group 1...64")
        }
    }
}

/// A trainable StyleGAN (v1) discriminator (NVlabs `D_basic`): FromRGB (1×1) → per block from
/// `resolution` down to 8 px (3×3 conv, blur, 3×3 conv then 2×2 average pool) → minibatch stddev
/// → 3×3 conv → dense → dense to `max(label_size, 1)` scores, projected on the one-hot label.
/// Every layer is equalised (gain √2, the last dense gain 1), with a bias and LeakyReLU 0.2
/// (except the output). Input `[B, R, R, C]` NHWC in [−1, 1]; output one score per image. The
/// flattening before the first dense layer is NHWC order (no checkpoint of D is served).
public final class StyleGANDiscriminator: ParameterContainer {
    public let config: StyleGANDiscriminatorConfig
    let fromRGB: ConvLayer
    /// Per block (largest first): the plain conv and the pooled conv.
    let blocks: [(ConvLayer, ConvLayer)]
    let mbstd: MinibatchStdDev
    let finalConv: ConvLayer
    let dense0: LinearLayer, dense1: LinearLayer
    // Cache of the latest forward pass.
    private(set) var activations: [Tensor] = []
    private var labels: [Int] = []
    /// When set (the activations of an earlier pass), every LeakyReLU keeps that pass's branches.
    var frozenMasks: [Tensor]?

    public init(config c: StyleGANDiscriminatorConfig) throws {
        try c.validate()
        config = c
        let sqrt2 = Float(2).squareRoot()
        func conv(_ name: String, _ cin: Int, _ cout: Int, k: Int = 3, pool: Bool = false) -> ConvLayer {
            ConvLayer(name: name, inChannels: cin, outChannels: cout, kernelSize: k, spectralNorm: false,
                      resampling: pool ? .averagePoolOutput : .none, gain: sqrt2 / Float(cin * k * k).squareRoot())
        }
        let top = c.channels.last!
        fromRGB = conv("FromRGB_lod0", c.inputChannels, top, k: 1)
        var blocks: [(ConvLayer, ConvLayer)] = []
        for r in stride(from: c.resolutionLog2, through: 3, by: -1) {
            let side = 1 << r, cin = c.channels[r - 2], cout = c.channels[r - 3]
            blocks.append((conv("\(side)x\(side)/Conv0", cin, cin), conv("\(side)x\(side)/Conv1_down", cin, cout, pool: true)))
        }
        self.blocks = blocks
        let c4 = c.channels[0]
        mbstd = MinibatchStdDev(groupSize: c.mbstdGroup)
        finalConv = conv("4x4/Conv", c4 + 1, c4)
        dense0 = LinearLayer(name: "4x4/Dense0", inFeatures: 16 * c4, outFeatures: c4, spectralNorm: false, gain: sqrt2 / Float(16 * c4).squareRoot())
        dense1 = LinearLayer(name: "4x4/Dense1", inFeatures: c4, outFeatures: max(c.labelSize, 1), spectralNorm: false, gain: 1 / Float(c4).squareRoot())
    }

    public var parameters: [Parameter] {
        fromRGB.parameters + blocks.flatMap { $0.0.parameters + $0.1.parameters } + finalConv.parameters + dense0.parameters + dense1.parameters
    }
    public var buffers: [Buffer] { [] }
    public var spectralNorms: [SpectralNorm] { [] }

    /// NVlabs' initialisation: every weight `N(0, 1)` (the gains do the scaling), biases 0.
    public func initialise(rng: inout NoiseGenerator) {
        for p in parameters {
            if p.value.shape.count >= 2 { for i in 0..<p.value.count { p.value[i] = rng.nextNormal() } }
            else { p.value.data.update(repeating: 0, count: p.value.count) }
        }
    }

    /// Scores `[B]` for images `x` and their labels (ignored when unconditional).
    public func forward(_ x: Tensor, labels: [Int]) -> [Float] {
        let b = x.shape[0]
        precondition(x.shape == [b, config.resolution, config.resolution, config.inputChannels], "D: images \(x.shape)")
        precondition(config.labelSize == 0 || labels.count == b, "D: \(labels.count) labels for \(b) images")
        var acts: [Tensor] = []
        func act(_ t: Tensor) -> Tensor {
            if let masks = frozenMasks {
                let m = masks[acts.count]
                acts.append(m)
                return StyleGANOps.leakyReLU(t, mask: m)
            }
            let y = StyleGANOps.leakyReLU(t)
            acts.append(y)
            return y
        }
        var h = act(fromRGB.forward(x, mode: .training))
        for (c0, c1) in blocks {
            h = act(c0.forward(h, mode: .training))
            h = act(c1.forward(StyleGANOps.blur(h), mode: .training))
        }
        h = act(finalConv.forward(mbstd.forward(h), mode: .training))
        h = act(dense0.forward(h.reshaped([b, h.count / b]), mode: .training))
        let out = dense1.forward(h, mode: .training)
        self.labels = labels
        activations = acts
        let n = max(config.labelSize, 1)
        return (0..<b).map { i in config.labelSize == 0 ? out[i] : out[i * n + labels[i]] }
    }

    /// Backward from the scores' gradient `dScores` `[B]`: accumulates parameter gradients when
    /// `parameterGradients`, returns the images' gradient when `inputGradient`.
    @discardableResult
    public func backward(_ dScores: [Float], parameterGradients: Bool = true, inputGradient: Bool = false) -> Tensor? {
        let b = dScores.count, n = max(config.labelSize, 1)
        precondition(activations.count == 2 * blocks.count + 3, "D: backward before forward")
        let dOut = Tensor(shape: [b, n])
        for i in 0..<b { dOut[i * n + (config.labelSize == 0 ? 0 : labels[i])] = dScores[i] }
        var k = activations.count - 1
        func through(_ g: Tensor) -> Tensor { defer { k -= 1 }; return StyleGANOps.leakyReLUBackward(g, output: activations[k]) }
        let p = parameterGradients
        var g = dense1.backward(dOut, parameterGradients: p)!
        g = dense0.backward(through(g), parameterGradients: p)!
        let c4 = config.channels[0]
        g = mbstd.backward(finalConv.backward(through(g.reshaped([b, 4, 4, c4])), parameterGradients: p)!)
        for (c0, c1) in blocks.reversed() {
            g = StyleGANOps.blurBackward(c1.backward(through(g), parameterGradients: p)!)
            g = c0.backward(through(g), parameterGradients: p)!
        }
        let needInput = inputGradient
        let dx = fromRGB.backward(through(g), inputGradient: needInput, parameterGradients: p)
        return dx
    }
}
