import Foundation

/// The configuration of the BigGAN families (`biggan`, `biggan-deep`), stored as JSON in the
/// checkpoint's `__metadata__["config"]`. Field meanings are specified in `docs/CHECKPOINT_FORMAT.md`.
///
/// What differs between the families (conditioning width, stored tensors, cost, extra checks) is
/// not switched on here: each family's folder implements `BigGANVariant`, found through the
/// registry by `architecture`.
public struct ModelConfig: Codable, Equatable, Sendable {
    /// The `architecture` field: a `GeneratorFamilies` key. Each family folder declares its value
    /// (`.biggan`, `.bigganDeep`).
    public struct Architecture: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(from d: Decoder) throws { rawValue = try d.singleValueContainer().decode(String.self) }
        public func encode(to e: Encoder) throws { var c = e.singleValueContainer(); try c.encode(rawValue) }
        public var description: String { rawValue }
    }

    public struct Block: Codable, Equatable, Sendable {
        public var inChannels: Int
        public var outChannels: Int
        public var up: Bool
        enum CodingKeys: String, CodingKey { case inChannels = "in", outChannels = "out", up }
        public init(_ i: Int, _ o: Int, up: Bool) { inChannels = i; outChannels = o; self.up = up }
    }

    public var formatVersion: Int = 1
    public var architecture: Architecture
    public var resolution: Int
    public var dimZ: Int
    public var sharedDim: Int
    public var nClasses: Int
    public var classNames: [String]?
    public var ch: Int
    public var bottomWidth: Int = 4
    public var blocks: [Block]
    public var attention: [Int]
    public var hier: Bool?
    public var bnEps: Double
    public var outputBnEps: Double?
    public var outChannels: Int = 3
    public var nStats: Int?
    public var truncation: TruncationConvention
    public var provenance: String?
    /// The training data, for nearest-neighbour lookups and evaluation: `fashion-mnist`,
    /// `fashion-mnist:<folder of IDX files>` or `folder:<root with one sub-folder per class>`.
    public var dataset: String?
    /// File name of the data-set classifier next to the checkpoint (feature space, evaluation).
    public var classifier: String?

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", architecture, resolution, dimZ = "dim_z", sharedDim = "shared_dim"
        case nClasses = "n_classes", classNames = "class_names", ch, bottomWidth = "bottom_width", blocks, attention
        case hier, bnEps = "bn_eps", outputBnEps = "output_bn_eps", outChannels = "out_channels", nStats = "n_stats"
        case truncation, provenance, dataset, classifier
    }

    /// Class name `i`, or `"class i"` when the checkpoint has no names.
    public func className(_ i: Int) -> String { classNames?[i] ?? "class \(i)" }

    /// Output resolution after each block. Saturates at `Int.max` instead of overflowing, so that
    /// it is safe on a configuration that has not been validated.
    public var blockResolutions: [Int] {
        var r = bottomWidth
        return blocks.map { b in
            if b.up { let (d, o) = r.multipliedReportingOverflow(by: 2); r = o ? Int.max : d }
            return r
        }
    }

    /// Index of the block after which attention runs, for each attention resolution.
    public var attentionBlocks: [Int] {
        let res = blockResolutions
        return attention.compactMap { a in res.firstIndex(of: a) }
    }

    /// Size of each hierarchical z chunk (`biggan` with `hier`), else `dim_z`.
    public var zChunk: Int { (hier ?? false) ? dimZ / (blocks.count + 1) : dimZ }

    /// The family code for this config's `architecture` (nil when it names no BigGAN family).
    var variant: (any BigGANVariant.Type)? { GeneratorFamilies.family(for: architecture.rawValue) as? any BigGANVariant.Type }

    /// Width of the conditioning vector fed to every conditional batch norm (the family's rule;
    /// `shared_dim` for an architecture that is no BigGAN family).
    public var condDim: Int { variant?.conditioningWidth(self) ?? sharedDim }

    /// Nominal multiply-adds of one image's forward pass (see `Generator.macsPerImage`).
    public var macsPerImage: Int { variant?.macsPerImage(self) ?? 0 }

    /// The family-neutral description that routes and tools read.
    public var info: ModelInfo {
        ModelInfo(architecture: architecture.rawValue, resolution: resolution, channels: outChannels, dimZ: dimZ,
                  classNames: (0..<nClasses).map(className), dataset: dataset, classifier: classifier,
                  provenance: provenance, configJSON: jsonString())
    }

    static func saturatingSum(_ a: Int, _ b: Int) -> Int {
        let (s, o) = a.addingReportingOverflow(b)
        return o ? (a < 0 ? Int.min : Int.max) : s
    }

    public func jsonString() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: try! enc.encode(self), as: UTF8.self)
    }

    public static func decode(json: String, file: String) throws -> ModelConfig {
        do { return try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8)) }
        catch let DecodingError.keyNotFound(key, _) { throw CheckpointError(file: file, "config: missing field '\(key.stringValue)'") }
        catch let DecodingError.typeMismatch(_, ctx) {
            throw CheckpointError(file: file, "config: wrong type at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))'")
        }
        catch let DecodingError.dataCorrupted(ctx) {
            let at = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw CheckpointError(file: file, "config: invalid value\(at.isEmpty ? "" : " at '\(at)'"): \(ctx.debugDescription)")
        }
        catch { throw CheckpointError(file: file, "config: \(error)") }
    }
}

extension ModelConfig {
    /// ajbrock BigGAN-PyTorch `G_arch` channel multipliers (in, out) per block, by resolution.
    static let bigganArch: [Int: [(Int, Int)]] = [
        32: [(4, 4), (4, 4), (4, 4)],
        64: [(16, 16), (16, 8), (8, 4), (4, 2)],
        128: [(16, 16), (16, 8), (8, 4), (4, 2), (2, 1)],
        256: [(16, 16), (16, 8), (8, 8), (8, 4), (4, 2), (2, 1)],
        512: [(16, 16), (16, 8), (8, 8), (8, 4), (4, 2), (2, 1), (1, 1)],
    ]

    /// pytorch-pretrained-BigGAN layer lists (upsample, in, out multipliers), by resolution.
    static let deepArch: [Int: [(Bool, Int, Int)]] = {
        let base: [(Bool, Int, Int)] = [(false, 16, 16), (true, 16, 16), (false, 16, 16), (true, 16, 8), (false, 8, 8)]
        let r128 = base + [(true, 8, 4), (false, 4, 4), (true, 4, 2), (false, 2, 2), (true, 2, 1)]
        let r256 = base + [(true, 8, 8), (false, 8, 8), (true, 8, 4), (false, 4, 4), (true, 4, 2), (false, 2, 2), (true, 2, 1)]
        return [128: r128, 256: r256, 512: r256 + [(false, 1, 1), (true, 1, 1)]]
    }()

    /// The ajbrock BigGAN generator at a standard resolution (32, 64, 128, 256, 512).
    public static func biggan(resolution: Int, ch: Int = 96, dimZ: Int = 120, sharedDim: Int = 128, nClasses: Int = 1000,
                              hier: Bool = true, attention: [Int] = [64], bnEps: Double = 1e-5, outChannels: Int = 3) -> ModelConfig? {
        guard let arch = bigganArch[resolution] else { return nil }
        return ModelConfig(architecture: .biggan, resolution: resolution, dimZ: dimZ, sharedDim: sharedDim, nClasses: nClasses,
                           classNames: nil, ch: ch, blocks: arch.map { Block($0.0 * ch, $0.1 * ch, up: true) },
                           attention: attention, hier: hier, bnEps: bnEps, outputBnEps: 1e-5, outChannels: outChannels,
                           nStats: nil, truncation: .resample, provenance: nil)
    }

    /// Fashion-MNIST's ten class names, in label order.
    public static let fashionMNISTClasses = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// The architecture of the shipped Fashion-MNIST model: 32×32 grey, channels tapering
    /// 256 → 128 → 64 → 32 over three upsampling blocks, attention at 16×16, hierarchical z.
    public static func fashionMNIST32() -> ModelConfig {
        ModelConfig(architecture: .biggan, resolution: 32, dimZ: 64, sharedDim: 64, nClasses: 10, classNames: fashionMNISTClasses,
                    ch: 32, blocks: [Block(256, 128, up: true), Block(128, 64, up: true), Block(64, 32, up: true)],
                    attention: [16], hier: true, bnEps: 1e-5, outputBnEps: 1e-5, outChannels: 1, nStats: nil,
                    truncation: .resample, provenance: nil, dataset: "fashion-mnist", classifier: "fashion-mnist-classifier.safetensors")
    }

    /// The pytorch-pretrained-BigGAN BigGAN-deep generator (128, 256, 512).
    public static func bigganDeep(resolution: Int, ch: Int = 128, dimZ: Int = 128, sharedDim: Int = 128,
                                  nClasses: Int = 1000, attention: [Int] = [64]) -> ModelConfig? {
        guard let arch = deepArch[resolution] else { return nil }
        return ModelConfig(architecture: .bigganDeep, resolution: resolution, dimZ: dimZ, sharedDim: sharedDim, nClasses: nClasses,
                           classNames: nil, ch: ch, blocks: arch.map { Block($0.1 * ch, $0.2 * ch, up: $0.0) },
                           attention: attention, hier: nil, bnEps: 1e-4, outputBnEps: nil, outChannels: 3,
                           nStats: 51, truncation: .truncnormScaled, provenance: nil)
    }
}
