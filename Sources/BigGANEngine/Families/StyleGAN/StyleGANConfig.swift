import Foundation

/// The config of a `stylegan` checkpoint (StyleGAN v1, NVlabs `networks_stylegan.py`;
/// ../shared/reference/stylegan-bigbigan-serving.md, section 1), stored as JSON in the file's
/// `__metadata__["config"]`. Tensors keep NVlabs' names, flattened as stylegan2-ada does
/// (`mapping/Dense0/weight`, `synthesis/4x4/Const/const`, `dlatent_avg`, `synthesis/noise0`), raw
/// (the equalised-learning-rate multipliers are applied at load), in PyTorch layouts: dense
/// `[out, in]`, convolutions `[out, in, kh, kw]`, StyleMod `[2C, w_dim]`, `mapping/LabelConcat/weight`
/// `[label_size, z_dim]`.
public struct StyleGANConfig: Codable, Sendable, Equatable {
    public var formatVersion: Int
    public var architecture: String
    /// Output side, a power of two (8…1024).
    public var resolution: Int
    public var zDim: Int
    public var wDim: Int
    /// Dense layers of the mapping network (NVlabs: 8) and their learning-rate multiplier (0.01).
    public var mappingLayers: Int
    public var mappingLrmul: Double
    /// Classes of a conditional model (their embedding is concatenated to z); 0: unconditional.
    public var labelSize: Int
    /// Channels of the blocks at 4, 8, …, `resolution` px (`log2(resolution) − 1` entries).
    public var channels: [Int]
    /// Up-convolutions whose output side is at least this use NVlabs' fused transposed
    /// convolution (the 3×3 kernel flipped); smaller ones nearest ×2 then the kernel (NVlabs: 128).
    public var fusedScaleFrom: Int
    /// The [1,2,1]⊗[1,2,1]/16 blur after each up-convolution (NVlabs: on).
    public var blur: Bool
    public var outChannels: Int
    /// Equalised learning rate (NVlabs: on): weights are multiplied by gain/√fan_in at load.
    public var useWscale: Bool?
    /// ψ applies to the first `truncation_cutoff` layers (NVlabs' `Gs.run` default: 8).
    public var truncationCutoff: Int?
    /// Whether the checkpoint stores NVlabs' fixed noise maps `synthesis/noise{i}` `[1, 1, r, r]`
    /// (default true); without them the layers add no noise.
    public var storedNoise: Bool?
    /// Whether the checkpoint stores per-class W centroids `dlatent_class_avg` `[label_size,
    /// w_dim]` (conditional models; default false): ψ then pulls each image towards its class's
    /// centroid by default (`truncation_target=class`).
    public var classCentroids: Bool?
    /// Whether an up layer's convolution bias is added before its blur (rosinality's
    /// `style-based-gan-pytorch`) rather than after it (NVlabs; default false). Needs `blur`.
    public var biasBeforeBlur: Bool?
    /// The instance norm's ε, added to the variance (NVlabs 1e-8, the default; PyTorch's
    /// `InstanceNorm2d`, as rosinality uses it, 1e-5).
    public var instanceNormEps: Double?
    public var classNames: [String]?
    public var dataset: String?
    public var classifier: String?
    public var provenance: String?

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", architecture, resolution, zDim = "z_dim", wDim = "w_dim"
        case mappingLayers = "mapping_layers", mappingLrmul = "mapping_lrmul", labelSize = "label_size", channels
        case fusedScaleFrom = "fused_scale_from", blur, outChannels = "out_channels", useWscale = "use_wscale"
        case truncationCutoff = "truncation_cutoff", storedNoise = "stored_noise", classCentroids = "class_centroids", classNames = "class_names", dataset, classifier, provenance
        case biasBeforeBlur = "bias_before_blur", instanceNormEps = "instance_norm_eps"
    }

    /// A config with NVlabs' defaults for what is not given (wscale on, blur on, fused
    /// up-convolutions from 128 px, cutoff 8, stored noise).
    public init(resolution: Int, zDim: Int, wDim: Int, mappingLayers: Int = 8, mappingLrmul: Double = 0.01, labelSize: Int,
                channels: [Int], outChannels: Int, fusedScaleFrom: Int = 128, blur: Bool = true, truncationCutoff: Int? = 8,
                classNames: [String]? = nil) {
        formatVersion = 1; architecture = "stylegan"
        self.resolution = resolution; self.zDim = zDim; self.wDim = wDim; self.mappingLayers = mappingLayers
        self.mappingLrmul = mappingLrmul; self.labelSize = labelSize; self.channels = channels; self.outChannels = outChannels
        self.fusedScaleFrom = fusedScaleFrom; self.blur = blur; useWscale = true; self.truncationCutoff = truncationCutoff
        storedNoise = true; self.classNames = classNames
    }

    /// Synthesis layers: two per block, `2·log2(resolution) − 2`.
    public var layers: Int { 2 * resolutionLog2 - 2 }
    public var resolutionLog2: Int { Int.bitWidth - 1 - resolution.leadingZeroBitCount }
    public var cutoff: Int { truncationCutoff ?? 8 }
    var wscale: Bool { useWscale ?? true }
    /// The instance norm's ε (`instance_norm_eps`, default 1e-8).
    public var normEps: Double { instanceNormEps ?? 1e-8 }
    /// The mapping network's first layer input: z, plus the label embedding when conditional.
    public var mappingInput: Int { labelSize > 0 ? 2 * zDim : zDim }

    /// Refuses configs this engine cannot build, naming the field.
    public func validate(file: String) throws {
        func fail(_ m: String) -> CheckpointError { CheckpointError(file: file, "config: " + m) }
        guard formatVersion == 1 else { throw fail("format_version \(formatVersion) is not supported (1 is)") }
        guard (8...1024).contains(resolution), resolution & (resolution - 1) == 0 else {
            throw fail("resolution must be a power of two from 8 to 1024, got \(resolution)")
        }
        guard channels.count == resolutionLog2 - 1 else {
            throw fail("channels needs \(resolutionLog2 - 1) entries (4 px to \(resolution) px), got \(channels.count)")
        }
        for (name, v, range) in [("z_dim", zDim, 1...4096), ("w_dim", wDim, 1...4096), ("mapping_layers", mappingLayers, 1...16),
                                 ("label_size", labelSize, 0...100_000), ("out_channels", outChannels, 1...4),
                                 ("fused_scale_from", fusedScaleFrom, 8...4096), ("truncation_cutoff", cutoff, 0...64)] {
            guard range.contains(v) else { throw fail("\(name) must be in \(range.lowerBound)...\(range.upperBound), got \(v)") }
        }
        guard channels.allSatisfy({ (1...4096).contains($0) }) else { throw fail("channels must be in 1...4096, got \(channels)") }
        guard mappingLrmul.isFinite, mappingLrmul > 0, mappingLrmul <= 1 else { throw fail("mapping_lrmul must be in (0, 1], got \(mappingLrmul)") }
        if classCentroids == true && labelSize == 0 { throw fail("class_centroids needs a conditional model (label_size > 0)") }
        if biasBeforeBlur == true && !blur { throw fail("bias_before_blur needs blur (without a blur the bias has one place)") }
        if let eps = instanceNormEps, !(eps.isFinite && eps > 0 && eps <= 1) { throw fail("instance_norm_eps must be in (0, 1], got \(eps)") }
        if let names = classNames, names.count != max(labelSize, 1) {
            throw fail("\(names.count) class names for \(max(labelSize, 1)) classes")
        }
        // The bounds above keep every product below inside Int (at most 2^12 · 2^12 · 2^12 · 9 · 2^5).
        guard storedScalarCount <= ConfigLimits.maxParameters else {
            throw fail("\(storedScalarCount) stored scalars is more than the limit of \(ConfigLimits.maxParameters)")
        }
        // Each block's activations at its own side (channels shrink as the side grows: NVlabs'
        // 1024² model has 512 channels at 4–32 px and 16 at 1024 px); ×4 for an up-convolution's
        // phase grid, +1 for the image.
        let sides = channels.indices.map { 4 << $0 }
        if let (side, c) = zip(sides, channels).max(by: { $0.0 * $0.0 * $0.1 < $1.0 * $1.0 * $1.1 }),
           side * side * (c * 4 + 1) > ConfigLimits.maxActivationElements {
            throw fail("activations of \(side)² × \(c) channels exceed the limit of \(ConfigLimits.maxActivationElements) elements")
        }
    }

    /// Every tensor the checkpoint holds, with its shape, in the order the generator reads them.
    public var tensorShapes: [(String, [Int])] {
        var out: [(String, [Int])] = []
        if labelSize > 0 { out.append(("mapping/LabelConcat/weight", [labelSize, zDim])) }
        for i in 0..<mappingLayers {
            out.append(("mapping/Dense\(i)/weight", [wDim, i == 0 ? mappingInput : wDim]))
            out.append(("mapping/Dense\(i)/bias", [wDim]))
        }
        out.append(("dlatent_avg", [wDim]))
        if classCentroids == true { out.append(("dlatent_class_avg", [labelSize, wDim])) }
        let c0 = channels[0]
        out.append(("synthesis/4x4/Const/const", [1, c0, 4, 4]))
        var noise = 0
        func layer(_ prefix: String, _ c: Int, side: Int) {
            if storedNoise ?? true { out.append(("synthesis/noise\(noise)", [1, 1, side, side])) }
            noise += 1
            out += [(prefix + "/Noise/weight", [c]), (prefix + "/bias", [c]), (prefix + "/StyleMod/weight", [2 * c, wDim]), (prefix + "/StyleMod/bias", [2 * c])]
        }
        layer("synthesis/4x4/Const", c0, side: 4)
        out.append(("synthesis/4x4/Conv/weight", [c0, c0, 3, 3]))
        layer("synthesis/4x4/Conv", c0, side: 4)
        for r in 3..<(resolutionLog2 + 1) {
            let side = 1 << r, cin = channels[r - 3], cout = channels[r - 2], p = "synthesis/\(side)x\(side)"
            out.append((p + "/Conv0_up/weight", [cout, cin, 3, 3]))
            layer(p + "/Conv0_up", cout, side: side)
            out.append((p + "/Conv1/weight", [cout, cout, 3, 3]))
            layer(p + "/Conv1", cout, side: side)
        }
        out.append(("synthesis/ToRGB_lod0/weight", [outChannels, channels.last!, 1, 1]))
        out.append(("synthesis/ToRGB_lod0/bias", [outChannels]))
        return out
    }

    /// Stored scalars of a checkpoint of this config (`tensorShapes`).
    public var storedScalarCount: Int { tensorShapes.reduce(0) { $0 + $1.1.reduce(1, *) } }
}
