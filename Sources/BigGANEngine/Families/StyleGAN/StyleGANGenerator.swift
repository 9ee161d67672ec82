import Foundation

/// A StyleGAN (v1) generator (Karras et al. 2019; NVlabs `networks_stylegan.py`, operation order in
/// ../shared/reference/stylegan-bigbigan-serving.md, section 1): the mapping network turns z (and a
/// class embedding) into W, and the synthesis network draws from a learned 4×4 constant with every
/// layer's style taken from W. Activations NHWC; convolutions on oneDNN (`Conv2D`).
///
/// - `truncation` is ψ: `w ← w̄ + ψ·(w − w̄)` on the first `cutoff` layers (default the
///   checkpoint's `truncation_cutoff`); nil or 1 means none. `w̄` is the image's class centroid
///   (`dlatent_class_avg`, the default when the checkpoint stores them) or the global
///   `dlatent_avg` (`StyleOptions.TruncationTarget`).
/// - Noise (`NoiseMode`): the checkpoint's stored maps (`synthesis/noise{i}`, NVlabs'
///   `randomize_noise=False`), none, or maps drawn from each image's seed. `forward` uses the
///   stored maps when the checkpoint has them (`stored_noise`), else none.
public final class StyleGANGenerator: Generator, @unchecked Sendable {
    /// What each synthesis layer adds as noise.
    public enum NoiseMode: Sendable, Equatable {
        /// The checkpoint's maps `synthesis/noise{l}` (NVlabs' `randomize_noise=False`).
        case stored
        /// No noise.
        case none
        /// Maps drawn for each image from its seed: the engine's `NoiseGenerator` seeded with
        /// `seed ^ noiseSeedSalt`, one standard normal per pixel, layer after layer. The same seed
        /// gives the same maps whatever the batch.
        case random(seeds: [UInt64])
    }

    /// Mixed into a request's seed for its noise maps, so they do not repeat its z.
    public static let noiseSeedSalt: UInt64 = 0x5354_594C_454E_4F49   // "STYLENOI"

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
        let biasMask: Tensor?       // [H·W]: the bias goes in before the blur (`bias_before_blur`)
        let noiseWeight: Tensor     // [C]
        let bias: Tensor            // [C]
        let style: Linear           // [2C, w_dim], equalised
    }

    let labelEmbedding: Tensor?     // [label_size, z_dim]
    let mapping: [Linear]           // equalised, lrmul applied
    let dlatentAvg: Tensor          // [w_dim]
    let classAvg: Tensor?           // [label_size, w_dim]
    let constant: Tensor            // [1, 4, 4, C] NHWC
    let layers: [Layer]
    let toRGB: Conv2D

    init(config c: StyleGANConfig, weights: WeightSource, file: String) throws {
        try c.validate(file: file)
        config = c
        let w = CountingSource(weights)
        let sqrt2 = Float(2).squareRoot(), lrmul = Float(c.mappingLrmul)
        /// NVlabs' runtime multiplier `gain/√fan_in · lrmul` (`lrmul` alone without wscale).
        func multiplied(_ t: Tensor, _ m: Float) -> Tensor {
            let out = Tensor(uninitializedShape: t.shape)
            for k in 0..<t.count { out.data[k] = t.data[k] * m }
            return out
        }
        func scaled(_ t: Tensor, gain: Float, fanIn: Int, lrmul: Float = 1) -> Tensor {
            multiplied(t, c.wscale ? gain / Float(fanIn).squareRoot() * lrmul : lrmul)
        }
        labelEmbedding = c.labelSize > 0 ? try w("mapping/LabelConcat/weight", [c.labelSize, c.zDim]) : nil
        mapping = try (0..<c.mappingLayers).map { i in
            let fanIn = i == 0 ? c.mappingInput : c.wDim
            return Linear(weight: scaled(try w("mapping/Dense\(i)/weight", [c.wDim, fanIn]), gain: sqrt2, fanIn: fanIn, lrmul: lrmul),
                          bias: multiplied(try w("mapping/Dense\(i)/bias", [c.wDim]), lrmul))
        }
        dlatentAvg = try w("dlatent_avg", [c.wDim])
        classAvg = c.classCentroids == true ? try w("dlatent_class_avg", [c.labelSize, c.wDim]) : nil
        let c0 = c.channels[0]
        let const = try w("synthesis/4x4/Const/const", [1, c0, 4, 4])
        constant = Tensor(uninitializedShape: [1, 4, 4, c0])
        for ch in 0..<c0 { for p in 0..<16 { constant.data[p * c0 + ch] = const.data[ch * 16 + p] } }
        var noiseIndex = 0
        func layer(_ prefix: String, channels ch: Int, side: Int, conv: Conv2D?, blur: Bool) throws -> Layer {
            defer { noiseIndex += 1 }
            let noise = c.storedNoise ?? true ? try w("synthesis/noise\(noiseIndex)", [1, 1, side, side]).reshaped([side, side]) : nil
            // rosinality adds an up layer's bias before the blur: blur(x + b) = blur(x) + b·M.
            let biasMask = blur && c.biasBeforeBlur == true ? blurredOnes(side: side) : nil
            return Layer(conv: conv, blur: blur, noise: noise, biasMask: biasMask,
                         noiseWeight: try w(prefix + "/Noise/weight", [ch]), bias: try w(prefix + "/bias", [ch]),
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
                                       summary: "ψ: W is pulled towards its " + (c.classCentroids == true ? "class centroid" : "average")
                                                + (c.cutoff >= c.layers ? " on every layer" : " on the first \(c.cutoff) layers (NVlabs)")
                                                + "; 1 or omitted: none, above 1 extrapolates"),
            style: StyleCapabilities(layers: c.layers, defaultCutoff: c.cutoff, storedNoise: c.storedNoise ?? true,
                                     classCentroids: c.classCentroids == true))
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

    /// Per-layer styles `[B, L, w_dim]`: W of `z` and `labels` on every layer, truncated by ψ
    /// (nil or 1: none) on the first `style.cutoff` layers towards `style.truncationTarget`
    /// (the class target mixes the centroids with the weights of `labels`). `style` nil: the
    /// checkpoint's defaults.
    public func styles(z: Tensor, labels: Tensor, truncation: Double?, style: ResolvedStyle? = nil) -> Tensor {
        let b = z.shape[0], wd = config.wDim, l = config.layers
        let style = style ?? capabilities.style!.defaults
        let w = Profiler.measure("mapping") { mapping(z: z, labels: labels) }
        let ws = Tensor(uninitializedShape: [b, l, wd])
        let psi = truncation.map(Float.init)
        let targets = truncationTargets(labels: labels, count: b, style.truncationTarget)
        for i in 0..<b {
            let avg = targets.data + (targets.shape[0] == 1 ? 0 : i * wd)
            for layer in 0..<l {
                let d = ws.data + (i * l + layer) * wd, s = w.data + i * wd
                if let psi, psi != 1, layer < style.cutoff {
                    for k in 0..<wd { d[k] = avg[k] + (s[k] - avg[k]) * psi }
                } else {
                    d.update(from: s, count: wd)
                }
            }
        }
        return ws
    }

    /// What ψ pulls each image towards: `[1, w_dim]` (`dlatent_avg`) or, for the class target,
    /// `[B, w_dim]` with row i = Σ_c labels[i, c] · `dlatent_class_avg[c]` (exactly the class's
    /// centroid for a one-hot label).
    func truncationTargets(labels: Tensor, count b: Int, _ target: StyleOptions.TruncationTarget) -> Tensor {
        guard target == .class, let centroids = classAvg else { return dlatentAvg.reshaped([1, config.wDim]) }
        let wd = config.wDim, n = config.labelSize
        let out = Tensor(shape: [b, wd])
        for i in 0..<b {
            for c in 0..<n {
                let y = labels.data[i * n + c]
                guard y != 0 else { continue }
                for k in 0..<wd { out.data[i * wd + k] += y * centroids.data[c * wd + k] }
            }
        }
        return out
    }

    /// Images `[B, R, R, out_channels]` (not clamped) from per-layer styles `ws` `[B, L, w_dim]`.
    public func synthesis(ws: Tensor, noise: NoiseMode) -> Tensor {
        let b = ws.shape[0], wd = config.wDim, l = config.layers
        precondition(ws.shape == [b, l, wd], "styles \(ws.shape), expected [B, \(l), \(wd)]")
        if case .random(let seeds) = noise { precondition(seeds.count == b, "\(seeds.count) noise seeds for \(b) images") }
        if case .stored = noise { precondition(layers.allSatisfy { $0.noise != nil }, "this checkpoint stores no noise maps") }
        var generators = { () -> [NoiseGenerator] in
            guard case .random(let seeds) = noise else { return [] }
            return seeds.map { NoiseGenerator(seed: $0 ^ Self.noiseSeedSalt) }
        }()
        let c0 = config.channels[0]
        var x = Tensor(uninitializedShape: [b, 4, 4, c0])
        for i in 0..<b { (x.data + i * 16 * c0).update(from: constant.data, count: 16 * c0) }
        let layerStyle = Tensor(uninitializedShape: [b, wd])
        for (index, layer) in layers.enumerated() {
            if let conv = layer.conv { x = conv.profiled(x) }
            if layer.blur { x = Profiler.measure("blur") { blur121(x) } }
            for i in 0..<b { (layerStyle.data + i * wd).update(from: ws.data + (i * l + index) * wd, count: wd) }
            let style = Profiler.measure("style projections") { layer.style(layerStyle) }
            let pixels = x.shape[1] * x.shape[2]
            var maps: Tensor?
            if !generators.isEmpty {
                let m = Tensor(uninitializedShape: [b, pixels])
                for i in 0..<b { for p in 0..<pixels { m.data[i * pixels + p] = generators[i].nextNormal() } }
                maps = m
            }
            Profiler.measure("noise, bias, LeakyReLU, instance norm, style") {
                styleEpilogue(x, noise: { i in
                    switch noise {
                    case .stored: return UnsafePointer(layer.noise!.data)
                    case .none: return nil
                    case .random: return UnsafePointer(maps!.data + i * pixels)
                    }
                }, noiseWeight: layer.noiseWeight, bias: layer.bias, style: style,
                   biasMask: layer.biasMask.map { UnsafePointer($0.data) }, eps: config.normEps)
            }
        }
        return toRGB.profiled(x)
    }

    /// Images with the checkpoint's defaults (`StyleCapabilities.defaults`).
    public func forward(z: Tensor, conditioning: Tensor, truncation: Double?) -> Tensor {
        forward(ForwardInput(z: z, conditioning: conditioning, truncation: truncation))
    }

    /// Images for `input`: its style options (nil: the defaults), W blends (interpolation in W
    /// after truncation, per layer) and, for random noise, each image's noise seed.
    public func forward(_ input: ForwardInput) -> Tensor {
        let style = input.style ?? capabilities.style!.defaults
        var ws = styles(z: input.z, labels: input.conditioning, truncation: input.truncation, style: style)
        let blended = input.blends.indices.filter { input.blends[$0] != nil }
        if !blended.isEmpty {
            let zd = config.zDim, c = input.conditioning.shape[1], per = config.layers * config.wDim
            let partners = Tensor(shape: [blended.count, zd], values: blended.flatMap { input.blends[$0]!.partner })
            let labels = Tensor(shape: [blended.count, c], values: blended.flatMap {
                Array(UnsafeBufferPointer(start: input.conditioning.data + $0 * c, count: c))
            })
            let other = styles(z: partners, labels: labels, truncation: input.truncation, style: style)
            let mixed = Tensor(uninitializedShape: ws.shape)
            mixed.data.update(from: ws.data, count: ws.count)
            for (j, i) in blended.enumerated() {
                let t = input.blends[i]!.weight
                for k in 0..<per {
                    mixed.data[i * per + k] = Float((1 - t) * Double(ws.data[i * per + k]) + t * Double(other.data[j * per + k]))
                }
            }
            ws = mixed
        }
        return synthesis(ws: ws, noise: noiseMode(style.noise, seeds: input.noiseSeeds))
    }

    /// The synthesis noise of `mode` for images with noise seeds `seeds`.
    func noiseMode(_ mode: StyleOptions.Noise, seeds: [UInt64]) -> NoiseMode {
        switch mode {
        case .const: return .stored
        case .none: return .none
        case .random: return .random(seeds: seeds)
        }
    }
}

extension StyleGANConfig {
    /// The config as canonical JSON (sorted keys), for `ModelInfo`.
    public var canonicalJSON: String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return (try? e.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
