import BigGANEngine

/// A trainable StyleGAN (v1) generator (Karras et al. 2019; NVlabs `G_style`, `G_mapping`,
/// `G_synthesis`, ../shared/reference/stylegan-bigbigan-serving.md, section 1), the same function
/// as the engine's `StyleGANGenerator` and exported to its checkpoint format.
///
/// - Mapping: `[z, E[label]]` → pixel norm → `mapping_layers` × (equalised dense with learning-rate
///   multiplier `mapping_lrmul`, LeakyReLU 0.2) → W `[B, w_dim]`.
/// - Synthesis: the learned 4×4 constant, then per layer (convolution (nearest ×2 first on up
///   layers), blur on up layers, `StyleEpilogueLayer`), then ToRGB (1×1, gain 1). NVlabs' fused
///   transposed up-convolution (from `fused_scale_from` px) is not trained here: configs must keep
///   it above the resolution.
/// - Parameters carry checkpoint names (`mapping/Dense0.weight` exports as `mapping/Dense0/weight`),
///   raw (equalised-learning-rate multipliers are applied at run time), initialised as NVlabs does
///   by `initialise(rng:)`.
/// - Buffers: `dlatent_avg` `[w_dim]` and, when conditional, `dlatent_class_avg` `[label_size, w_dim]`
///   (moving averages of W, `updateAverages`), and the fixed noise maps `synthesis/noise{l}`
///   `[1, 1, r, r]` exported for `noise_mode=const`.
public final class TrainableStyleGAN: ParameterContainer {
    public let config: StyleGANConfig
    let labelEmbedding: Parameter?
    let mapping: [LinearLayer]
    let constant: Parameter
    /// Per synthesis layer: its convolution (nil for layer 0), whether it blurs, its epilogue.
    let convs: [ConvLayer?]
    let blurs: [Bool]
    let epilogues: [StyleEpilogueLayer]
    let toRGB: ConvLayer
    public let dlatentAvg: Tensor
    public let classAverages: Tensor?
    let storedNoise: [Tensor]
    /// Output side of every synthesis layer.
    public let sides: [Int]

    /// Moving-average rate of `dlatent_avg` (NVlabs `dlatent_avg_beta`).
    public static let averageBeta: Float = 0.995

    // Cache of the latest forward pass.
    private var mappingInput: Tensor?
    private var mappingOutputs: [Tensor] = []
    private var batch = 0, labels: [Int] = [], mixingCutoff: Int?

    public init(config c: StyleGANConfig) throws {
        try c.validate(file: "<stylegan training config>")
        guard c.fusedScaleFrom > c.resolution else {
            throw CheckpointError(file: "<stylegan training config>", "config: training uses nearest ×2 up-convolutions; set fused_scale_from above the resolution")
        }
        guard c.biasBeforeBlur != true, c.normEps == 1e-8 else {
            throw CheckpointError(file: "<stylegan training config>", "config: training implements NVlabs' layer (bias after the blur, instance_norm_eps 1e-8), not bias_before_blur or another eps")
        }
        config = c
        let sqrt2 = Float(2).squareRoot(), lrmul = Float(c.mappingLrmul)
        labelEmbedding = c.labelSize > 0 ? Parameter(name: "mapping/LabelConcat/weight", shape: [c.labelSize, c.zDim], orthogonalRegularised: false) : nil
        mapping = (0..<c.mappingLayers).map { i in
            let fanIn = i == 0 ? c.mappingInput : c.wDim
            return LinearLayer(name: "mapping/Dense\(i)", inFeatures: fanIn, outFeatures: c.wDim, spectralNorm: false,
                               orthogonalRegularised: false, gain: sqrt2 / Float(fanIn).squareRoot() * lrmul, biasGain: lrmul)
        }
        let c0 = c.channels[0]
        constant = Parameter(name: "synthesis/4x4/Const/const", shape: [1, c0, 4, 4], orthogonalRegularised: false)
        func conv(_ name: String, _ cin: Int, _ cout: Int, up: Bool) -> ConvLayer {
            ConvLayer(name: name, inChannels: cin, outChannels: cout, kernelSize: 3, bias: false, spectralNorm: false,
                      resampling: up ? .upsampleInput : .none, gain: sqrt2 / Float(cin * 9).squareRoot())
        }
        var convs: [ConvLayer?] = [nil, conv("synthesis/4x4/Conv", c0, c0, up: false)]
        var blurs = [false, false], sides = [4, 4]
        var epilogues = [StyleEpilogueLayer(prefix: "synthesis/4x4/Const", channels: c0, wDim: c.wDim),
                         StyleEpilogueLayer(prefix: "synthesis/4x4/Conv", channels: c0, wDim: c.wDim)]
        for r in 3...c.resolutionLog2 {
            let side = 1 << r, cin = c.channels[r - 3], cout = c.channels[r - 2], p = "synthesis/\(side)x\(side)"
            convs.append(conv(p + "/Conv0_up", cin, cout, up: true)); blurs.append(c.blur); sides.append(side)
            epilogues.append(StyleEpilogueLayer(prefix: p + "/Conv0_up", channels: cout, wDim: c.wDim))
            convs.append(conv(p + "/Conv1", cout, cout, up: false)); blurs.append(false); sides.append(side)
            epilogues.append(StyleEpilogueLayer(prefix: p + "/Conv1", channels: cout, wDim: c.wDim))
        }
        self.convs = convs; self.blurs = blurs; self.epilogues = epilogues; self.sides = sides
        let cl = c.channels.last!
        toRGB = ConvLayer(name: "synthesis/ToRGB_lod0", inChannels: cl, outChannels: c.outChannels, kernelSize: 1, spectralNorm: false,
                          gain: 1 / Float(cl).squareRoot())
        dlatentAvg = Tensor(shape: [c.wDim])
        classAverages = c.labelSize > 0 ? Tensor(shape: [c.labelSize, c.wDim]) : nil
        storedNoise = sides.map { Tensor(shape: [1, 1, $0, $0]) }
    }

    public var parameters: [Parameter] {
        var out: [Parameter] = labelEmbedding.map { [$0] } ?? []
        for layer in mapping { out += layer.parameters }
        out.append(constant)
        for (conv, epilogue) in zip(convs, epilogues) {
            if let conv { out += conv.parameters }
            out += epilogue.parameters
        }
        return out + toRGB.parameters
    }
    public var buffers: [Buffer] {
        var out = [Buffer(name: "dlatent_avg", value: dlatentAvg)]
        if let classAverages { out.append(Buffer(name: "dlatent_class_avg", value: classAverages)) }
        for (l, t) in storedNoise.enumerated() { out.append(Buffer(name: "synthesis/noise\(l)", value: t)) }
        return out
    }
    public var spectralNorms: [SpectralNorm] { [] }
    public var layerCount: Int { epilogues.count }

    /// NVlabs' initialisation: equalised weights `N(0, 1/lrmul²)` (mapping) or `N(0, 1)`, biases
    /// and noise weights 0, the constant 1, the label embedding `N(0, 1)` (NVlabs' `LabelConcat`
    /// initialiser), fixed noise maps `N(0, 1)`.
    public func initialise(rng: inout NoiseGenerator) {
        for p in parameters {
            if p.name == constant.name { p.value.data.update(repeating: 1, count: p.value.count); continue }
            guard p.value.shape.count >= 2 else { p.value.data.update(repeating: 0, count: p.value.count); continue }
            let std: Float = p.name.hasPrefix("mapping/Dense") ? 1 / Float(config.mappingLrmul) : 1
            for i in 0..<p.value.count { p.value[i] = rng.nextNormal() * std }
        }
        for t in storedNoise { for i in 0..<t.count { t[i] = rng.nextNormal() } }
    }

    // MARK: Forward

    /// W `[B, w_dim]` of `z` `[B, z_dim]` and `labels` (ignored when unconditional); caches for
    /// `backward` when `cache`.
    public func mapping(z: Tensor, labels: [Int], cache: Bool = false) -> Tensor {
        let b = z.shape[0], zd = config.zDim
        precondition(z.shape == [b, zd] && (config.labelSize == 0 || labels.count == b), "mapping: z \(z.shape), \(labels.count) labels")
        var x = z
        if let e = labelEmbedding {
            x = Tensor(uninitializedShape: [b, 2 * zd])
            for i in 0..<b {
                precondition((0..<config.labelSize).contains(labels[i]), "label \(labels[i]) out of range")
                (x.data + i * 2 * zd).update(from: z.data + i * zd, count: zd)
                (x.data + i * 2 * zd + zd).update(from: e.value.data + labels[i] * zd, count: zd)
            }
        }
        var outputs: [Tensor] = []
        var h = StyleGANOps.pixelNorm(x)
        for layer in mapping {
            h = StyleGANOps.leakyReLU(layer.forward(h, mode: .training))
            outputs.append(h)
        }
        if cache { mappingInput = x; mappingOutputs = outputs }
        return h
    }

    /// Images `[B, R, R, out_channels]` for `z` `[B, z_dim]` and `labels`.
    ///
    /// - `mixing`: style-mixing regularisation (NVlabs `style_mixing_prob`): W of `z2` (same
    ///   labels) replaces W on the layers from `cutoff` (in `1..<layers`) on.
    /// - `noise`: per layer `[B, r·r]` maps (`r` = `sides[l]`), or nil for none.
    public func forward(z: Tensor, labels: [Int], mixing: (z2: Tensor, cutoff: Int)? = nil, noise: [Tensor]?) -> Tensor {
        let b = z.shape[0], wd = config.wDim
        if let m = mixing { precondition(m.z2.shape == z.shape && (1..<layerCount).contains(m.cutoff), "mixing: z2 \(m.z2.shape), cutoff \(m.cutoff)") }
        precondition(noise == nil || noise!.count == layerCount, "noise for \(noise!.count) layers, expected \(layerCount)")
        let w = mapping(z: mixing.map { concatenateBatch(z, $0.z2) } ?? z, labels: mixing == nil ? labels : labels + labels, cache: true)
        batch = b; self.labels = labels; mixingCutoff = mixing?.cutoff
        let c0 = config.channels[0]
        var x = Tensor(uninitializedShape: [b, 4, 4, c0])
        for p in 0..<16 { for ch in 0..<c0 { x.data[p * c0 + ch] = constant.value.data[ch * 16 + p] } }
        for i in 1..<b { (x.data + i * 16 * c0).update(from: x.data, count: 16 * c0) }
        for l in 0..<layerCount {
            if let conv = convs[l] { x = conv.forward(x, mode: .training) }
            if blurs[l] { x = StyleGANOps.blur(x) }
            let wl = Tensor(uninitializedShape: [b, wd])
            let offset = (mixing.map { l >= $0.cutoff } ?? false) ? b : 0
            (wl.data).update(from: w.data + offset * wd, count: b * wd)
            x = epilogues[l].forward(x, noise: noise?[l], w: wl)
        }
        return toRGB.forward(x, mode: .training)
    }

    /// Backward from `dy` (the images' gradient): accumulates every parameter gradient.
    public func backward(_ dy: Tensor) {
        guard let x0 = mappingInput else { preconditionFailure("TrainableStyleGAN: backward before forward") }
        let b = batch, wd = config.wDim
        let rows = mixingCutoff == nil ? b : 2 * b
        let dW = Tensor(shape: [rows, wd])
        var dx = toRGB.backward(dy)!
        for l in (0..<layerCount).reversed() {
            let (d, dwl) = epilogues[l].backward(dx)
            let offset = (mixingCutoff.map { l >= $0 } ?? false) ? b : 0
            for k in 0..<(b * wd) { dW.data[offset * wd + k] += dwl.data[k] }
            dx = d
            if blurs[l] { dx = StyleGANOps.blurBackward(dx) }
            if let conv = convs[l] { dx = conv.backward(dx)! }
        }
        let c0 = config.channels[0]
        for i in 0..<b { for p in 0..<16 { for ch in 0..<c0 { constant.grad.data[ch * 16 + p] += dx.data[(i * 16 + p) * c0 + ch] } } }
        // Mapping network, last layer first.
        var g = dW
        for (i, layer) in mapping.enumerated().reversed() {
            g = StyleGANOps.leakyReLUBackward(g, output: mappingOutputs[i])
            g = layer.backward(g)!
        }
        g = StyleGANOps.pixelNormBackward(g, input: x0)
        if let e = labelEmbedding {
            let zd = config.zDim, all = mixingCutoff == nil ? labels : labels + labels
            for (i, label) in all.enumerated() {
                for j in 0..<zd { e.grad.data[label * zd + j] += g.data[i * 2 * zd + zd + j] }
            }
        }
    }

    /// NVlabs' W statistics after a training pass, from the first `labels.count` rows of the
    /// cached W (the un-mixed images): `dlatent_avg ← mean + β·(dlatent_avg − mean)`, and the same
    /// for each class present in the batch with its own mean (`dlatent_class_avg`).
    /// Under mpirun every rank applies the same update from the global batch's means (sums and
    /// counts added over the ranks), so the averages stay equal on every rank.
    public func updateAverages() {
        guard let w = mappingOutputs.last else { return }
        if Distributed.world.size > 1 { updateAveragesAcrossRanks(w); return }
        let wd = config.wDim, b = batch, beta = Self.averageBeta
        func pull(_ avg: UnsafeMutablePointer<Float>, rows: [Int]) {
            for k in 0..<wd {
                var s = 0.0
                for i in rows { s += Double(w.data[i * wd + k]) }
                let mean = Float(s / Double(rows.count))
                avg[k] = mean + beta * (avg[k] - mean)
            }
        }
        pull(dlatentAvg.data, rows: Array(0..<b))
        if let classes = classAverages {
            for c in Set(labels).sorted() { pull(classes.data + c * wd, rows: labels.indices.filter { labels[$0] == c }) }
        }
    }

    /// `updateAverages` over the ranks of a data-parallel job: one reduction of every row's W sum
    /// (all images, then each class) and the counts, then the same pull as one process.
    private func updateAveragesAcrossRanks(_ w: Tensor) {
        let wd = config.wDim, b = batch, beta = Self.averageBeta
        let classes = classAverages == nil ? 0 : max(config.labelSize, 1)
        var sums = [Double](repeating: 0, count: (1 + classes) * wd), counts = [Double](repeating: 0, count: 1 + classes)
        for i in 0..<b {
            let slots = classes > 0 ? [0, 1 + labels[i]] : [0]
            for slot in slots {
                counts[slot] += 1
                for k in 0..<wd { sums[slot * wd + k] += Double(w.data[i * wd + k]) }
            }
        }
        sums.withUnsafeMutableBufferPointer { Distributed.world.sum($0.baseAddress!, count: $0.count) }
        counts.withUnsafeMutableBufferPointer { Distributed.world.sum($0.baseAddress!, count: $0.count) }
        for slot in 0..<(1 + classes) where counts[slot] > 0 {
            let avg = slot == 0 ? dlatentAvg.data : classAverages!.data + (slot - 1) * wd
            for k in 0..<wd {
                let mean = Float(sums[slot * wd + k] / counts[slot])
                avg[k] = mean + beta * (avg[k] - mean)
            }
        }
    }
}
