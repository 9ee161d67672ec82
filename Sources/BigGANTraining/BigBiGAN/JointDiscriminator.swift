import BigGANEngine
import Foundation

/// Architecture of BigBiGAN's joint discriminator D = (F, H, J) (Donahue & Simonyan 2019,
/// section 3; ../shared/reference/stylegan-bigbigan-serving.md, section 2.1).
public struct JointDiscriminatorConfig: Codable, Equatable, Sendable {
    /// F: the BigGAN discriminator's blocks on x (its class projection is not used).
    public var x: DiscriminatorConfig
    public var zDim: Int
    /// Hidden widths of H (on z) and J (on [F(x), H(z)]), each layer SN-linear then ReLU.
    public var hWidths: [Int]
    public var jWidths: [Int]

    enum CodingKeys: String, CodingKey { case x, zDim = "z_dim", hWidths = "h_widths", jWidths = "j_widths" }

    public init(x: DiscriminatorConfig, zDim: Int, hWidths: [Int], jWidths: [Int]) {
        self.x = x; self.zDim = zDim; self.hWidths = hWidths; self.jWidths = jWidths
    }

    public func validate() throws {
        try x.validate()
        func fail(_ m: String) -> CheckpointError { CheckpointError(file: "<joint discriminator config>", m) }
        guard (1...4096).contains(zDim) else { throw fail("z_dim must be in 1...4096") }
        guard !hWidths.isEmpty, !jWidths.isEmpty, (hWidths + jWidths).allSatisfy({ (1...8192).contains($0) }), hWidths.count + jWidths.count <= 32 else {
            throw fail("h_widths and j_widths need 1 or more widths in 1...8192")
        }
    }
}

/// A stack of spectral-norm linear layers, each followed by ReLU: `[B, in]` → `[B, widths.last]`.
final class ReLUStack: ParameterContainer {
    let layers: [LinearLayer]
    private var outputs: [Tensor] = []

    init(name: String, input: Int, widths: [Int], snEps: Float) {
        var width = input
        layers = widths.enumerated().map { i, w in
            defer { width = w }
            return LinearLayer(name: "\(name).\(i)", inFeatures: width, outFeatures: w, snEps: snEps)
        }
    }

    var parameters: [Parameter] { layers.flatMap(\.parameters) }
    var buffers: [Buffer] { layers.flatMap(\.buffers) }
    var spectralNorms: [SpectralNorm] { layers.flatMap(\.spectralNorms) }

    func forward(_ x: Tensor, mode: Mode) -> Tensor {
        var h = x
        outputs = []
        for l in layers { h = Pointwise.relu(l.forward(h, mode: mode)); outputs.append(h) }
        return h
    }

    func backward(_ dy: Tensor, parameterGradients: Bool) -> Tensor {
        var g = dy
        for (i, l) in layers.enumerated().reversed() {
            g = l.backward(Pointwise.reluBackward(g, output: outputs[i]), parameterGradients: parameterGradients)!
        }
        return g
    }
}

/// BigBiGAN's joint discriminator: F, a BigGAN discriminator trunk on x (its blocks, then ReLU
/// and global sum pooling: `[B, C]`); H, an MLP on z; J, an MLP on `[F(x), H(z)]`; and three
/// scores `s_x = θ_xᵀF(x)`, `s_z = θ_zᵀH(z)`, `s_xz = θ_xzᵀJ(F(x), H(z))` (spectral norm
/// everywhere, as BigGAN's D). Images `[B, R, R, C]` NHWC in [−1, 1], z `[B, z_dim]`.
public final class JointDiscriminator: ParameterContainer {
    public let config: JointDiscriminatorConfig
    let blocks: [DiscriminatorBlock]
    let h: ReLUStack, j: ReLUStack
    let scoreX: LinearLayer, scoreZ: LinearLayer, scoreXZ: LinearLayer
    private var trunk: Tensor?   // relu(blocks(x)), for the sum pool's backward

    public init(config: JointDiscriminatorConfig, snEps: Float = 1e-6) throws {
        try config.validate()
        self.config = config
        let attentionAt = Set(config.x.attentionBlocks)
        blocks = config.x.blocks.enumerated().map { DiscriminatorBlock(index: $0.offset, spec: $0.element, snEps: snEps, attention: attentionAt.contains($0.offset)) }
        let cf = config.x.blocks.last!.outChannels
        h = ReLUStack(name: "H", input: config.zDim, widths: config.hWidths, snEps: snEps)
        j = ReLUStack(name: "J", input: cf + config.hWidths.last!, widths: config.jWidths, snEps: snEps)
        scoreX = LinearLayer(name: "score_x", inFeatures: cf, outFeatures: 1, snEps: snEps)
        scoreZ = LinearLayer(name: "score_z", inFeatures: config.hWidths.last!, outFeatures: 1, snEps: snEps)
        scoreXZ = LinearLayer(name: "score_xz", inFeatures: config.jWidths.last!, outFeatures: 1, snEps: snEps)
    }

    var layers: [ParameterContainer] { blocks + [h, j, scoreX, scoreZ, scoreXZ] }
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var buffers: [Buffer] { layers.flatMap(\.buffers) }
    public var spectralNorms: [SpectralNorm] { layers.flatMap(\.spectralNorms) }

    /// The three scores, `[B]` each.
    public func forward(x: Tensor, z: Tensor, mode: Mode) -> (x: [Float], z: [Float], xz: [Float]) {
        let b = x.shape[0]
        precondition(x.shape.count == 4 && x.shape[3] == config.x.inputChannels && z.shape == [b, config.zDim],
                     "joint discriminator: x \(x.shape), z \(z.shape)")
        var t = x
        for blk in blocks { t = blk.forward(t, mode: mode) }
        let r = Pointwise.relu(t)
        trunk = r
        let f = Pointwise.sumPool(r)
        let hz = h.forward(z, mode: mode)
        let joint = j.forward(concatenateColumns(f, hz), mode: mode)
        return (scoreX.forward(f, mode: mode).array, scoreZ.forward(hz, mode: mode).array, scoreXZ.forward(joint, mode: mode).array)
    }

    /// Backpropagates the scores' gradients (`[B]` each). Accumulates parameter gradients when
    /// `parameterGradients`; returns ∂/∂x and ∂/∂z when `inputGradients`.
    @discardableResult
    public func backward(x dx: [Float], z dz: [Float], xz dxz: [Float], parameterGradients: Bool = true,
                         inputGradients: Bool = false) -> (x: Tensor, z: Tensor)? {
        guard let r = trunk else { preconditionFailure("joint discriminator: backward before forward") }
        let b = dx.count, cf = scoreX.inFeatures
        let p = parameterGradients
        var dF = scoreX.backward(Tensor(shape: [b, 1], values: dx), parameterGradients: p)!
        var dH = scoreZ.backward(Tensor(shape: [b, 1], values: dz), parameterGradients: p)!
        let dJ = j.backward(scoreXZ.backward(Tensor(shape: [b, 1], values: dxz), parameterGradients: p)!, parameterGradients: p)
        let (dFj, dHj) = splitColumns(dJ, first: cf)
        dF = adding(dF, dFj); dH = adding(dH, dHj)
        let dZ = h.backward(dH, parameterGradients: p)
        var d: Tensor? = Pointwise.reluBackward(Pointwise.sumPoolBackward(dF, shape: r.shape), output: r)
        for (i, blk) in blocks.enumerated().reversed() {
            guard let g = d else { break }
            d = blk.backward(g, parameterGradients: p, inputGradient: i > 0 || inputGradients)
        }
        guard inputGradients, let dX = d else { return nil }
        return (dX, dZ)
    }
}

/// `[B, a] ++ [B, b]` → `[B, a + b]`, row by row.
func concatenateColumns(_ x: Tensor, _ y: Tensor) -> Tensor {
    let b = x.shape[0], a = x.count / b, c = y.count / b
    precondition(y.shape[0] == b)
    let out = Tensor(uninitializedShape: [b, a + c])
    for i in 0..<b {
        (out.data + i * (a + c)).update(from: x.data + i * a, count: a)
        (out.data + i * (a + c) + a).update(from: y.data + i * c, count: c)
    }
    return out
}

/// The inverse of `concatenateColumns`: `[B, n]` → `[B, first]`, `[B, n − first]`.
func splitColumns(_ x: Tensor, first a: Int) -> (Tensor, Tensor) {
    let b = x.shape[0], n = x.count / b, c = n - a
    let l = Tensor(uninitializedShape: [b, a]), r = Tensor(uninitializedShape: [b, c])
    for i in 0..<b {
        l.data.advanced(by: i * a).update(from: x.data + i * n, count: a)
        r.data.advanced(by: i * c).update(from: x.data + i * n + a, count: c)
    }
    return (l, r)
}
