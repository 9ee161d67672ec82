import BigGANEngine
import Foundation

/// The sampling options every generating route reads the same way: the family's truncation
/// (`truncation`, or `psi` for models whose rule is ψ), the style options (`cutoff`,
/// `noise_mode`, `truncation_target`) and `seed_mode`.
///
/// StyleGAN-only parameters given to a model without style controls are a 400 `unsupported`
/// naming them (they would otherwise be silently ignored). Values are checked against the model
/// once, by `LoadedModel.prepare`.
struct SamplingParameters {
    /// ψ or t; nil: untruncated.
    var truncation: Double?
    /// The name the request used (`truncation` or `psi`), repeated by errors.
    var truncationParameter = "truncation"
    var style = StyleOptions()
    var seedMode = SeedMode.engine

    /// The parameters only style-based models take (HTTP names).
    static let styleOnly = ["psi", "cutoff", "noise_mode", "truncation_target", "seed_mode"]

    /// A 400 `unsupported` for `parameter`, which `m` cannot honour.
    static func unsupported(_ parameter: String, _ m: LoadedModel, _ what: String = "a StyleGAN option") -> APIError {
        APIError(400, "unsupported", "'\(parameter)' is \(what); model '\(m.name)' (\(m.info.architecture)) does not take it")
    }

    /// Reads the options from `value(name)` (a query parameter, or a JSON field rendered as
    /// text); `truncation(name)` parses the given `truncation` or `psi` (default: the query
    /// form, `SamplingParameters.truncation`).
    /// - Throws: 400 naming the parameter for a malformed value, both `psi` and `truncation`, or
    ///   a StyleGAN-only parameter for another family (`unsupported`).
    init(_ m: LoadedModel, value: (String) -> String?, truncation parse: ((String) throws -> Double?)? = nil) throws {
        if m.capabilities.style == nil, let first = Self.styleOnly.first(where: { value($0) != nil }) {
            throw Self.unsupported(first, m)
        }
        let rule = m.capabilities.truncation
        func read(_ name: String) throws -> Double? {
            if let parse { return try parse(name) }
            return try Self.truncation(value(name) ?? "none", name, rule)
        }
        switch (value("truncation") != nil, value("psi") != nil) {
        case (true, true): throw APIError.badRequest("give 'psi' or 'truncation', not both (for this model they are the same ψ)")
        case (true, false): truncation = try read("truncation")
        case (false, true): truncation = try read("psi"); truncationParameter = "psi"
        case (false, false): truncation = nil
        }
        if let text = value("cutoff") {
            guard let c = Int(text) else { throw APIError.badRequest("'cutoff' must be an integer, got \(Echo.quoted(text))") }
            style.cutoff = c
        }
        style.noise = try Self.choice(value("noise_mode"), "noise_mode")
        style.truncationTarget = try Self.choice(value("truncation_target"), "truncation_target")
        seedMode = try Self.choice(value("seed_mode"), "seed_mode") ?? .engine
    }

    /// `none` (or empty) is untruncated; else a finite number, positive unless the rule accepts
    /// others (ψ may be 0 or negative). The rule's range is checked by `LoadedModel.prepare`.
    static func truncation(_ text: String, _ name: String, _ rule: TruncationRule) throws -> Double? {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        if s == "none" || s.isEmpty { return nil }
        let kind = rule.acceptsNonPositive ? "a number" : "a positive number"
        guard let v = Double(s), v.isFinite, rule.acceptsNonPositive || v > 0 else {
            throw APIError.badRequest("'\(name)' must be \(kind) or 'none', got \(Echo.quoted(text))")
        }
        return v
    }

    static func choice<T: RawRepresentable & CaseIterable>(_ text: String?, _ name: String) throws -> T? where T.RawValue == String {
        guard let text else { return nil }
        guard let v = T(rawValue: text) else {
            throw APIError.badRequest("'\(name)' must be \(T.allCases.map(\.rawValue).joined(separator: ", ")), got \(Echo.quoted(text))")
        }
        return v
    }

    /// A request of `kind` with these options.
    func request(_ kind: GenerationRequest.Kind) -> GenerationRequest {
        GenerationRequest(kind, truncation: truncation, style: style, seedMode: seedMode, truncationParameter: truncationParameter)
    }

    /// ETag and cache-key parts: the truncation, the resolved style of `batch` (defaults filled
    /// in, so an omitted option and its default share bytes and tag) and the seed mode.
    static func keyParts(_ truncation: Double?, _ style: ResolvedStyle?, _ seedMode: SeedMode) -> [String] {
        [Truncation.describe(truncation), style?.key ?? "-", seedMode.rawValue]
    }
}

extension Parameters {
    /// The sampling options of this query for model `m` (see `SamplingParameters`).
    func sampling(_ m: LoadedModel) throws -> SamplingParameters {
        try SamplingParameters(m) { string($0) }
    }
}
