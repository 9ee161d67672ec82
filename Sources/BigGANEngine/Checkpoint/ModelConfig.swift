import Foundation

/// A generator's configuration, stored as JSON in the checkpoint's `__metadata__["config"]`.
/// Field meanings are specified in `docs/CHECKPOINT_FORMAT.md`.
public struct ModelConfig: Codable, Equatable, Sendable {
    public enum Architecture: String, Codable, Sendable {
        case biggan
        case bigganDeep = "biggan-deep"
    }

    /// How a truncation value turns into a latent vector (see `Truncation`).
    public enum TruncationConvention: String, Codable, Sendable {
        /// Paper: entries with |z| > t are redrawn until inside.
        case resample
        /// pytorch-pretrained-BigGAN / TF-Hub: truncated normal on [−2, 2] scaled by t, t ∈ (0, 1].
        case truncnormScaled = "truncnorm-scaled"
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

    /// Width of the conditioning vector fed to every conditional batch norm.
    public var condDim: Int {
        switch architecture {
        case .biggan: return (hier ?? false) ? Self.saturatingSum(sharedDim, zChunk) : sharedDim
        case .bigganDeep: return Self.saturatingSum(dimZ, sharedDim)
        }
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
