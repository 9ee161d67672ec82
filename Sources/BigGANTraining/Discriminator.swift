import BigGANEngine
import Foundation

/// One discriminator block (ajbrock `DBlock`, wide), NHWC:
///
///     h   = [avgpool](conv2(relu(conv1([relu](x)))))      (pre-activation ReLU except in block 0)
///     out = h + shortcut(x)
///
/// shortcut, when `in != out` or downsampling: ajbrock computes `[avgpool](conv_sc(x))` in
/// pre-activated blocks and `conv_sc([avgpool](x))` in block 0; a 1×1 convolution commutes with
/// average pooling, so both are computed as the latter (a quarter of the cost). Identity
/// otherwise. Then optional attention. `avgpool(conv2(·))` runs as one stride-2 4×4
/// convolution (`Resampling.averagePoolOutput`).
public final class DiscriminatorBlock: ParameterContainer {
    public let conv1: ConvLayer, conv2: ConvLayer
    public let shortcut: ConvLayer?
    public let preactivation: Bool, down: Bool
    public let attention: AttentionLayer?
    var activated: Tensor?, hidden: Tensor?

    init(index i: Int, spec: DiscriminatorConfig.Block, snEps: Float, attention: Bool) {
        let p = "blocks.\(i)", (ci, co) = (spec.inChannels, spec.outChannels)
        conv1 = ConvLayer(name: p + ".conv1", inChannels: ci, outChannels: co, kernelSize: 3, snEps: snEps)
        conv2 = ConvLayer(name: p + ".conv2", inChannels: co, outChannels: co, kernelSize: 3, snEps: snEps,
                          resampling: spec.down ? .averagePoolOutput : .none)
        shortcut = (ci != co || spec.down) ? ConvLayer(name: p + ".conv_sc", inChannels: ci, outChannels: co, kernelSize: 1, snEps: snEps) : nil
        preactivation = i > 0
        down = spec.down
        self.attention = attention ? AttentionLayer(name: p + ".attention", channels: co, snEps: snEps) : nil
    }

    var layers: [ParameterContainer] { [conv1, conv2] + (shortcut.map { [$0] } ?? []) + (attention.map { [$0] } ?? []) }
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var buffers: [Buffer] { layers.flatMap(\.buffers) }
    public var spectralNorms: [SpectralNorm] { layers.flatMap(\.spectralNorms) }

    func forward(_ x: Tensor, mode: Mode) -> Tensor {
        let a = preactivation ? Pointwise.relu(x) : x
        let r = Pointwise.relu(conv1.forward(a, mode: mode))
        var out = conv2.forward(r, mode: mode)   // avgpool(conv2(r)) when downsampling
        if let shortcut {
            addInPlace(out, shortcut.forward(down ? Pointwise.averagePool(x) : x, mode: mode))
        } else {
            addInPlace(out, x)
        }
        if let attention { out = attention.forward(out, mode: mode) }
        activated = a; hidden = r
        return out
    }

    /// Accumulates parameter gradients (when `parameterGradients`); returns `dx` when `inputGradient`.
    func backward(_ dOut: Tensor, parameterGradients: Bool, inputGradient: Bool) -> Tensor? {
        guard let a = activated, let r = hidden else { preconditionFailure("discriminator block: backward before forward") }
        let d = attention?.backward(dOut, parameterGradients: parameterGradients) ?? dOut
        let dr = conv2.backward(d, parameterGradients: parameterGradients)!
        let da = conv1.backward(Pointwise.reluBackward(dr, output: r), inputGradient: inputGradient,
                                parameterGradients: parameterGradients)
        var dx = da.map { preactivation ? Pointwise.reluBackward($0, output: a) : $0 }
        if let shortcut {
            let ds = shortcut.backward(d, inputGradient: inputGradient, parameterGradients: parameterGradients)
            if let dx, let ds { addInPlace(dx, down ? Pointwise.averagePoolBackward(ds) : ds) }
        } else if let x = dx {
            addInPlace(x, d)
        }
        if !inputGradient { dx = nil }
        return dx
    }
}

/// The projection discriminator's head (ajbrock `Discriminator.forward` after the blocks):
///
///     s   = Σ_pixels relu(h)                           [B, C]   (global sum pooling of h [B, r, r, C])
///     out = linear(s) + Σ_j embed(label)_j · s_j       [B]      (SN linear C → 1, SN embedding [n, C])
///
/// Backward: `ds = dout·W_lin + dout·embed(label)`, `d embed(label) = dout·s`, `dlinear` from
/// `(s, dout)`, then `dh = relu'(h) · broadcast(ds)`.
public final class ProjectionHead: ParameterContainer {
    public let linear: LinearLayer
    public let embed: EmbeddingLayer
    var activated: Tensor?, pooled: Tensor?, embedded: Tensor?

    init(channels c: Int, classes: Int, snEps: Float) {
        linear = LinearLayer(name: "linear", inFeatures: c, outFeatures: 1, snEps: snEps)
        embed = EmbeddingLayer(name: "embed", count: classes, dimension: c, spectralNorm: true, snEps: snEps)
    }

    public var parameters: [Parameter] { linear.parameters + embed.parameters }
    public var buffers: [Buffer] { linear.buffers + embed.buffers }
    public var spectralNorms: [SpectralNorm] { linear.spectralNorms + embed.spectralNorms }

    /// Scores `[B]` for features `h` (`[B, r, r, C]`) and labels.
    func forward(_ h: Tensor, labels: [Int], mode: Mode) -> [Float] {
        let r = Pointwise.relu(h)
        let s = Pointwise.sumPool(r)
        let lin = linear.forward(s, mode: mode)
        let e = embed.forward(labels, mode: mode)
        let c = s.shape[1]
        var out = [Float](repeating: 0, count: labels.count)
        for i in 0..<labels.count {
            var p: Float = 0
            for j in 0..<c { p += e[i * c + j] * s[i * c + j] }
            out[i] = lin[i] + p
        }
        activated = r; pooled = s; embedded = e
        return out
    }

    /// Returns `dh` (`[B, r, r, C]`); accumulates parameter gradients when `parameterGradients`.
    func backward(_ dOut: [Float], parameterGradients: Bool) -> Tensor {
        guard let r = activated, let s = pooled, let e = embedded else { preconditionFailure("projection head: backward before forward") }
        let b = dOut.count, c = s.shape[1]
        let ds = linear.backward(Tensor(shape: [b, 1], values: dOut), parameterGradients: parameterGradients)!
        let de = Tensor(uninitializedShape: [b, c])
        for i in 0..<b {
            for j in 0..<c {
                ds[i * c + j] += dOut[i] * e[i * c + j]
                de[i * c + j] = dOut[i] * s[i * c + j]
            }
        }
        if parameterGradients { embed.backward(de) }
        return Pointwise.reluBackward(Pointwise.sumPoolBackward(ds, shape: r.shape), output: r)
    }
}

/// ajbrock's projection discriminator, trainable. Images `x` `[B, R, R, inputChannels]` (NHWC,
/// values in [−1, 1]) and labels → one score per image: `head(blocks(x), label)` (see
/// `DiscriminatorBlock`, `ProjectionHead`).
///
/// Names: `blocks.{i}.conv1|conv2|conv_sc|attention.*`, `linear.weight|bias`, `embed.weight`,
/// spectral-norm vectors `<layer>.u`.
public final class Discriminator: ParameterContainer {
    public let config: DiscriminatorConfig
    public let blocks: [DiscriminatorBlock]
    public let head: ProjectionHead
    public var linear: LinearLayer { head.linear }
    public var embed: EmbeddingLayer { head.embed }

    public init(config: DiscriminatorConfig, snEps: Float = 1e-6) throws {
        try config.validate()
        self.config = config
        let attentionAt = Set(config.attentionBlocks)
        blocks = config.blocks.enumerated().map { i, spec in
            DiscriminatorBlock(index: i, spec: spec, snEps: snEps, attention: attentionAt.contains(i))
        }
        head = ProjectionHead(channels: config.blocks[config.blocks.count - 1].outChannels, classes: config.nClasses, snEps: snEps)
    }

    var layers: [ParameterContainer] { blocks + [head] }
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var buffers: [Buffer] { layers.flatMap(\.buffers) }
    public var spectralNorms: [SpectralNorm] { layers.flatMap(\.spectralNorms) }

    /// Scores `[B]` for images `x` and `labels`.
    public func forward(_ x: Tensor, labels: [Int], mode: Mode) -> [Float] {
        precondition(x.shape.count == 4 && x.shape[3] == config.inputChannels && labels.count == x.shape[0],
                     "discriminator: images \(x.shape), \(labels.count) labels")
        var h = x
        for blk in blocks { h = blk.forward(h, mode: mode) }
        return head.forward(h, labels: labels, mode: mode)
    }

    /// Backpropagates `dOut` (`[B]`, ∂loss/∂score). Accumulates parameter gradients when
    /// `parameterGradients`; returns ∂loss/∂x (`[B, R, R, inputChannels]`) when `inputGradient`.
    @discardableResult
    public func backward(_ dOut: [Float], parameterGradients: Bool = true, inputGradient: Bool = false) -> Tensor? {
        var d: Tensor? = head.backward(dOut, parameterGradients: parameterGradients)
        for (i, blk) in blocks.enumerated().reversed() {
            guard let g = d else { break }
            d = blk.backward(g, parameterGradients: parameterGradients, inputGradient: i > 0 || inputGradient)
        }
        return d
    }
}
