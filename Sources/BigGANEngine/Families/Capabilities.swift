/// What a generator can do, declared by its family. Routes, the CLI and the gallery read this
/// instead of assuming a class-conditional BigGAN (served in `/v1/models` as `capabilities`).
public struct ModelCapabilities: Sendable, Equatable {
    /// A latent space requests can address (`z` for every family; `w` for StyleGAN).
    public enum LatentSpace: String, Sendable, Equatable, CaseIterable { case z, w }

    /// Class-conditional (requests name a class) or unconditional (requests never do).
    public var conditional: Bool
    /// The latent spaces the model exposes, input space first.
    public var latentSpaces: [LatentSpace]
    /// How a truncation value is applied.
    public var truncation: TruncationRule
    /// Whether the model has an encoder (image → latent; BigBiGAN).
    public var encoder: Bool
    /// Style controls (StyleGAN): per-layer styles, cutoff, noise modes, truncation targets,
    /// style mixing and NumPy seeds. nil for every other family, which refuses those options.
    public var style: StyleCapabilities?

    public init(conditional: Bool, latentSpaces: [LatentSpace] = [.z], truncation: TruncationRule, encoder: Bool = false,
                style: StyleCapabilities? = nil) {
        self.conditional = conditional; self.latentSpaces = latentSpaces; self.truncation = truncation; self.encoder = encoder
        self.style = style
    }
}

/// A family's truncation rule: its name, the symbol users know, and the values it accepts.
/// `nil` (untruncated) is valid under every rule.
public struct TruncationRule: Sendable, Equatable {
    /// `resample`, `truncnorm-scaled`; the checkpoint's `truncation` field.
    public let name: String
    /// The symbol in the papers: `t` for BigGAN's threshold, `ψ` for StyleGAN.
    public let symbol: String
    /// Smallest accepted value, and whether it is itself accepted.
    public let minimum: Double
    public let minimumIncluded: Bool
    /// Largest accepted value (always included), or nil for no bound.
    public let maximum: Double?
    /// One sentence for users: what a value does.
    public let summary: String

    public init(name: String, symbol: String, minimum: Double, minimumIncluded: Bool, maximum: Double?, summary: String) {
        self.name = name; self.symbol = symbol; self.minimum = minimum; self.minimumIncluded = minimumIncluded
        self.maximum = maximum; self.summary = summary
    }

    /// The accepted values in interval notation: `[0.01, ∞)`, `(0, 1]`.
    public var rangeText: String {
        (minimumIncluded ? "[" : "(") + Self.format(minimum) + ", " + (maximum.map { Self.format($0) + "]" } ?? "∞)")
    }

    /// Checks `t` (`nil`, untruncated, is always valid).
    /// - Throws: `SamplingError` for `parameter` (`truncation`, or `psi` where the request
    ///   named it so), saying which values are accepted.
    public func validate(_ t: Double?, parameter: String = "truncation") throws {
        guard let t else { return }
        guard t.isFinite else { throw SamplingError(parameter: parameter, "'\(parameter)' must be a finite number") }
        let aboveMin = minimumIncluded ? t >= minimum : t > minimum
        guard aboveMin, maximum.map({ t <= $0 }) ?? true else {
            if maximum == nil { throw SamplingError(parameter: parameter, "'\(parameter)' must be at least \(Self.format(minimum)), got \(t)") }
            throw SamplingError(parameter: parameter, "'\(parameter)' must be in \(rangeText) for this model, got \(t)")
        }
    }

    /// Whether values at or below zero can be valid (ψ can be 0 or negative; BigGAN thresholds
    /// cannot): parsers refuse them early only when they cannot.
    public var acceptsNonPositive: Bool { minimum < 0 || (minimum == 0 && minimumIncluded) }

    static func format(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)" }
}
