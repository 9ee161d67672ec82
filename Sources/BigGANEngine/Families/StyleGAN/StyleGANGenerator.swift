import Foundation

/// A StyleGAN (v1) generator (Karras et al. 2019; NVlabs `networks_stylegan.py`, operation order in
/// ../shared/reference/stylegan-bigbigan-serving.md, section 1): the mapping network turns z (and a
/// class embedding) into W, and the synthesis network draws from a learned 4×4 constant with every
/// layer's style taken from W. Activations NHWC; convolutions on oneDNN (`Conv2D`).
///
/// - `truncation` is ψ: `w ← w̄ + ψ·(w − w̄)` on the first `truncation_cutoff` layers, towards the
///   stored `dlatent_avg`; nil or 1 means none.
/// - Noise is the checkpoint's stored maps (`synthesis/noise{i}`, NVlabs' `randomize_noise=False`)
///   when it has them (`stored_noise`), else none.
public final class StyleGANGenerator: Generator, @unchecked Sendable {
    public let config: StyleGANConfig
    public let info: ModelInfo
    public let capabilities: ModelCapabilities
    public let parameterCount: Int
    public let macsPerImage: Int

    /// One synthesis layer: its convolution (nil for the constant's layer), blur, noise and style.
    struct Layer {
        let conv: Conv2D?
        let blur: Bool
        let noise: Tensor?          // [H, W]
        let noiseWeight: Tensor     // [C]
        let bias: Tensor            // [C]
        let style: Linear           // [2C, w_dim], equalised
    }

    let labelEmbedding: Tensor?     // [label_size, z_dim]
    let mapping: [Linear]           // equalised, lrmul applied
    let dlatentAvg: Tensor          // [w_dim]
    let constant: Tensor            // [1, 4, 4, C] NHWC
    let layers: [Layer]
    let toRGB: Conv2D

    init(config c: StyleGANConfig, weights: WeightSource, file: String) throws {
        try c.validate(file: file)
        config = c
        let w = CountingSource(weights)
        let sqrt2 = Float(2).squareRoot(), lrmul = Float(c.mappingLrmul)
        /// NVlabs' runtime multiplier `gain/√fan_in · lrmul` (`lrmul` alone without wscale).
        func scaled(_ t: Tensor, gain: Float, fanIn: Int, lrmul: Float = 1) -> Tensor {
            let m = c.wscale ? gain / Float(fanIn).squareRoot() * lrmul : lrmul
            let out = Tensor(uninitializedShape: t.shape)
            for k in 0..<t.count { out.data[k] = t.data[k] * m }
            return out
        }
        func biasScaled(_ t: Tensor, _ m: Float) -> Tensor {
            let out = Tensor(uninitializedShape: t.shape)
            for k in 0..<t.count { out.data[k] = t.data[k] * m }
            return out
        }
        labelEmbedding = c.labelSize > 0 ? try w("mapping/LabelConcat/weight", [c.labelSize, c.zDim]) : nil
        mapping = try (0..<c.mappingLayers).map { i in
            let fanIn = i == 0 ? c.mappingInput : c.wDim
            return Linear(weight: scaled(try w("mapping/Dense\(i)/weight", [c.wDim, fanIn]), gain: sqrt2, fanIn: fanIn, lrmul: lrmul),
                          bias: biasScaled(try w("mapping/Dense\(i)/bias", [c.wDim]), lrmul))
        }
        dlatentAvg = try w("dlatent_avg", [c.wDim])
        let c0 = c.channels[0]
        let const = try w("synthesis/4x4/Const/const", [1, c0, 4, 4])
        constant = Tensor(uninitializedShape: [1, 4, 4, c0])
        for ch in 0..<c0 { for p in 0..<16 { constant.data[p * c0 + ch] = const.data[ch * 16 + p] } }
        var noiseIndex = 0
        func layer(_ prefix: String, channels ch: Int, side: Int, conv: Conv2D?, blur: Bool) throws -> Layer {
            defer { noiseIndex += 1 }
            let noise = c.storedNoise ?? true ? try w("synthesis/noise\(noiseIndex)", [1, 1, side, side]).reshaped([side, side]) : nil
            return Layer(conv: conv, blur: blur, noise: noise, noiseWeight: try w(prefix + "/Noise/weight", [ch]), bias: try w(prefix + "/bias", [ch]),
                         style: Linear(weight: scaled(try w(prefix + "/StyleMod/weight", [2 * ch, c.wDim]), gain: 1, fanIn: c.wDim),
                                       bias: try w(prefix + "/StyleMod/bias", [2 * ch])))
        }
        func conv(_ name: String, _ cout: Int, _ cin: Int, side: Int, upsampled: Bool, flipped: Bool) throws -> Conv2D {
            var k = scaled(try w(name, [cout, cin, 3, 3]), gain: sqrt2, fanIn: cin * 9)
            if flipped {
                let f = Tensor(uninitializedShape: k.shape)
                for p in 0..<(cout * cin) { for t in 0..<9 { f.data[p * 9 + t] = k.data[p * 9 + 8 - t] } }
                k = f
            }
            let conv = Conv2D(weight: k, bias: nil, input: upsampled ? .upsampled : .same, size: (side, side))
            BufferPool.shared.drain()
            return conv
        }
        var layers = [try layer("synthesis/4x4/Const", channels: c0, side: 4, conv: nil, blur: false)]
        layers.append(try layer("synthesis/4x4/Conv", channels: c0, side: 4,
                                conv: try conv("synthesis/4x4/Conv/weight", c0, c0, side: 4, upsampled: false, flipped: false), blur: false))
        for r in 3...c.resolutionLog2 {
            let side = 1 << r, cin = c.channels[r - 3], cout = c.channels[r - 2], p = "synthesis/\(side)x\(side)"
            // NVlabs' fused up-convolution (a transposed convolution) equals nearest ×2 followed by
            // the spatially flipped 3×3 kernel.
            let up = try conv(p + "/Conv0_up/weight", cout, cin, side: side / 2, upsampled: true, flipped: side >= c.fusedScaleFrom)
            layers.append(try layer(p + "/Conv0_up", channels: cout, side: side, conv: up, blur: c.blur))
            layers.append(try layer(p + "/Conv1", channels: cout, side: side,
                                    conv: try conv(p + "/Conv1/weight", cout, cout, side: side, upsampled: false, flipped: false), blur: false))
        }
        self.layers = layers
        let cl = c.channels.last!
        toRGB = Conv2D(weight: scaled(try w("synthesis/ToRGB_lod0/weight", [c.outChannels, cl, 1, 1]), gain: 1, fanIn: cl),
                       bias: try w("synthesis/ToRGB_lod0/bias", [c.outChannels]), size: (c.resolution, c.resolution))
        parameterCount = w.count
        info = ModelInfo(architecture: c.architecture, resolution: c.resolution, channels: c.outChannels, dimZ: c.zDim,
                         classNames: c.classNames ?? (c.labelSize > 0 ? (0..<c.labelSize).map { "class \($0)" } : ["unconditional"]),
                         dataset: c.dataset, classifier: c.classifier, provenance: c.provenance, configJSON: c.canonicalJSON)
        capabilities = ModelCapabilities(
            conditional: c.labelSize > 0, latentSpaces: [.z, .w],
            truncation: TruncationRule(name: "psi", symbol: "ψ", minimum: -1, minimumIncluded: true, maximum: 2,
                                       summary: "ψ: W is pulled towards its average on the first \(c.cutoff) layers (NVlabs); 1 or omitted: none, above 1 extrapolates"))
        var macs = c.mappingInput * c.wDim + (c.mappingLayers - 1) * c.wDim * c.wDim
        for l in layers {
            let ch = l.noiseWeight.count
            macs += 2 * ch * c.wDim
            if let cv = l.conv {
                let side = l.noise?.shape[0] ?? (cv.input == .upsampled ? 0 : 4)
                macs += cv.macs(outputPixels: max(side, 1) * max(side, 1))
            }
        }
        macsPerImage = macs + c.resolution * c.resolution * cl * c.outChannels
    }

    public func latent(seed: UInt64, truncation: Double?) -> [Float] {
        var rng = NoiseGenerator(seed: seed)
        return (0..<config.zDim).map { _ in rng.nextNormal() }
    }

    /// One-hot `[label_size]` for conditional models; `[1]` (unused) otherwise.
    public func conditioning(forClass index: Int) -> [Float] {
        guard config.labelSize > 0 else { return [0] }
        precondition(index >= 0 && index < config.labelSize)
        var v = [Float](repeating: 0, count: config.labelSize)
        v[index] = 1
        return v
    }

    /// ψ is applied to the whole batch: only equal ψ share a forward pass.
    public func batchKey(truncation: Double?) -> String { Truncation.describe(truncation) }

    /// W `[B, w_dim]` for z `[B, z_dim]` and labels `[B, label_size]` (ignored when unconditional).
    public func mapping(z: Tensor, labels: Tensor) -> Tensor {
        let b = z.shape[0], zd = config.zDim
        var x = z
        if let e = labelEmbedding {
            let l = config.labelSize
            x = Tensor(uninitializedShape: [b, 2 * zd])
            for i in 0..<b {
                (x.data + i * 2 * zd).update(from: z.data + i * zd, count: zd)
                for j in 0..<zd {
                    var s: Float = 0
                    for k in 0..<l { s += labels.data[i * l + k] * e.data[k * zd + j] }
                    x.data[i * 2 * zd + zd + j] = s
                }
            }
        }
        let width = x.shape[1]
        for i in 0..<b {
            let row = x.data + i * width
            var ms: Float = 0
            for k in 0..<width { ms += row[k] * row[k] }
            let inv = 1 / (ms / Float(width) + 1e-8).squareRoot()
            for k in 0..<width { row[k] *= inv }
        }
        for layer in mapping {
            x = layer(x)
            for k in 0..<x.count { let v = x.data[k]; x.data[k] = v < 0 ? 0.2 * v : v }
        }
        return x
    }

    public func forward(z: Tensor, conditioning: Tensor, truncation: Double?) -> Tensor {
        let b = z.shape[0], wd = config.wDim
        let w = Profiler.measure("mapping") { mapping(z: z, labels: conditioning) }
        // Truncated W for the first `cutoff` layers (the others use `w`).
        var wt = w
        if let psi = truncation, psi != 1, config.cutoff > 0 {
            wt = Tensor(uninitializedShape: w.shape)
            let p = Float(psi), avg = dlatentAvg.data
            for i in 0..<b { for k in 0..<wd { wt.data[i * wd + k] = avg[k] + (w.data[i * wd + k] - avg[k]) * p } }
        }
        let c0 = config.channels[0]
        var x = Tensor(uninitializedShape: [b, 4, 4, c0])
        for i in 0..<b { (x.data + i * 16 * c0).update(from: constant.data, count: 16 * c0) }
        for (index, layer) in layers.enumerated() {
            if let conv = layer.conv { x = conv.profiled(x) }
            if layer.blur { x = Profiler.measure("blur") { blur121(x) } }
            let style = Profiler.measure("style projections") { layer.style(index < config.cutoff ? wt : w) }
            Profiler.measure("noise, bias, LeakyReLU, instance norm, style") {
                styleEpilogue(x, noise: layer.noise.map { UnsafePointer($0.data) }, noiseWeight: layer.noiseWeight, bias: layer.bias, style: style)
            }
        }
        return toRGB.profiled(x)
    }
}

extension StyleGANConfig {
    /// The config as canonical JSON (sorted keys), for `ModelInfo`.
    var canonicalJSON: String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return (try? e.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
