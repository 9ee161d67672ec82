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

    public typealias Block = BlockSpec<Upsampling>

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
