/// Latent vectors from seeds, under the checkpoint's truncation convention.
public enum Truncation {
    /// Smallest threshold accepted for the `resample` convention: below it rejection sampling
    /// needs hundreds of draws per entry.
    public static let minimumThreshold = 0.01

    /// Checks `t` for `convention`; the error message is meant for users.
    public static func validate(_ t: Double, convention: ModelConfig.TruncationConvention) throws {
        guard t.isFinite else { throw SamplingError("truncation must be a finite number") }
        switch convention {
        case .resample:
            guard t >= minimumThreshold else { throw SamplingError("truncation must be at least \(minimumThreshold) (got \(t))") }
        case .truncnormScaled:
            guard t > 0, t <= 1 else { throw SamplingError("truncation must be in (0, 1] for this model (got \(t))") }
        }
    }

    /// `dim` entries drawn from `NoiseGenerator(seed:)` in order:
    /// - `resample` (paper, section 3.1): each entry is redrawn while `|z| > t`.
    /// - `truncnorm-scaled`: each entry is redrawn while `|z| > 2`, then multiplied by `t`.
    public static func latent(seed: UInt64, dim: Int, truncation t: Double,
                              convention: ModelConfig.TruncationConvention) -> [Float] {
        var rng = NoiseGenerator(seed: seed)
        let bound = Float(convention == .resample ? t : 2)
        let scale = Float(convention == .resample ? 1 : t)
        return (0..<dim).map { _ in
            var v = rng.nextNormal()
            while abs(v) > bound { v = rng.nextNormal() }
            return v * scale
        }
    }
}

/// A request the sampler cannot honour (bad class, truncation, latent length, ...).
public struct SamplingError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
