import Foundation
/// Latent vectors from seeds, under the checkpoint's truncation convention.
///
/// A truncation of `nil` means untruncated sampling, z ~ N(0, I), for every convention: it is
/// what an omitted truncation means everywhere (HTTP, CLI, gallery). For truncation-indexed
/// models (BigGAN-deep) it uses the BN statistics of threshold 1.0 (`statisticsThreshold`).
public enum Truncation {
    /// Smallest threshold accepted for the `resample` convention: below it rejection sampling
    /// needs hundreds of draws per entry.
    public static let minimumThreshold = 0.01

    /// Parses a user's truncation: `none` (or an empty string) for untruncated, else a number.
    /// Range checks depend on the model: see `validate`.
    public static func parse(_ text: String) throws -> Double? {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        if s == "none" || s.isEmpty { return nil }
        guard let v = Double(s), v.isFinite else {
            throw SamplingError(parameter: "truncation", "'truncation' must be a number or 'none', got \(Echo.quoted(s))")
        }
        guard v > 0 else { throw SamplingError(parameter: "truncation", "'truncation' must be positive or 'none', got \(Echo.quoted(s))") }
        return v
    }

    /// How a truncation is shown in headers, keys and tables: the number, or `none`.
    public static func describe(_ t: Double?) -> String { t.map { "\($0)" } ?? "none" }

    /// The threshold that selects BN statistics in truncation-indexed models: `t`, or 1.0 when untruncated.
    public static func statisticsThreshold(_ t: Double?) -> Double { t ?? 1 }

    /// `dim` entries drawn from `NoiseGenerator(seed:)` in order:
    /// - untruncated (`t == nil`): each entry is one standard normal draw;
    /// - `resample` (paper, section 3.1): each entry is redrawn while `|z| > t`;
    /// - `truncnorm-scaled`: each entry is redrawn while `|z| > 2`, then multiplied by `t`.
    public static func latent(seed: UInt64, dim: Int, truncation t: Double?,
                              convention: TruncationConvention) -> [Float] {
        var rng = NoiseGenerator(seed: seed)
        guard let t else { return (0..<dim).map { _ in rng.nextNormal() } }
        let bound = Float(convention == .resample ? t : 2)
        let scale = Float(convention == .resample ? 1 : t)
        return (0..<dim).map { _ in
            var v = rng.nextNormal()
            while abs(v) > bound { v = rng.nextNormal() }
            return v * scale
        }
    }
}

/// How a truncation value turns a seed into a latent z (see `Truncation.latent`); the BigGAN
/// families' config field `truncation`.
public enum TruncationConvention: String, Codable, Sendable {
    /// Paper, section 3.1: entries with |z| > t are redrawn until inside; t ≥ 0.01.
    case resample
    /// pytorch-pretrained-BigGAN / TF-Hub: truncated normal on [−2, 2] scaled by t, t ∈ (0, 1].
    case truncnormScaled = "truncnorm-scaled"

    /// The values this convention accepts, for `ModelCapabilities.truncation`.
    public var rule: TruncationRule {
        switch self {
        case .resample:
            return TruncationRule(name: rawValue, symbol: "t", minimum: Truncation.minimumThreshold, minimumIncluded: true, maximum: nil,
                                  summary: "each z entry with |z| > t is redrawn (BigGAN paper, section 3.1); smaller t: less variety, higher fidelity")
        case .truncnormScaled:
            return TruncationRule(name: rawValue, symbol: "t", minimum: 0, minimumIncluded: false, maximum: 1,
                                  summary: "z is a normal truncated to [-2, 2] times t, and t selects the batch-norm statistics (pytorch-pretrained-BigGAN)")
        }
    }
}

/// A request the sampler cannot honour (bad class, truncation, latent length, ...). `parameter`
/// names the request field at fault (`class`, `classes[2]`, `z[0]`, `truncation`, `steps`), which
/// HTTP answers and CLI errors repeat.
public struct SamplingError: Error, CustomStringConvertible, Equatable {
    public let parameter: String?
    public let message: String
    public init(parameter: String? = nil, _ message: String) { self.parameter = parameter; self.message = message }
    public var description: String { message }

    /// The message with its parameter called `name` (`'truncation'` over HTTP, `--truncation` on
    /// the command line): a leading `'parameter': ` or `'parameter' ` is replaced by `name: ` or
    /// `name `; a message that does not start with the parameter gets `name: ` in front. Without
    /// a parameter, the message as it is.
    public func message(naming name: String) -> String {
        guard let p = parameter else { return message }
        let quoted = "'\(p)'"
        if message.hasPrefix(quoted + ": ") { return name + ": " + message.dropFirst(quoted.count + 2) }
        if message.hasPrefix(quoted + " ") { return name + " " + message.dropFirst(quoted.count + 1) }
        return name + ": " + message
    }
}
