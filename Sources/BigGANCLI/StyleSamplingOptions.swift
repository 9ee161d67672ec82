import ArgumentParser
import BigGANEngine

/// The StyleGAN sampling options of `sample`, `interpolate` and `mix`, named as the HTTP
/// parameters are (`--psi`, `--cutoff`, `--noise-mode`, `--truncation-target`, `--seed-mode`).
/// Models without style controls refuse every one of them except `--seed-mode engine`.
struct StyleSamplingOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("StyleGAN ψ in [-1, 2], the same as --truncation (give one of them); none or omitted: no truncation.", valueName: "none|ψ"),
            transform: PsiArgument.parse)
    var psi: PsiArgument?

    @Option(help: "StyleGAN: the number of leading synthesis layers ψ applies to, 1 to L (default: the checkpoint's truncation_cutoff).")
    var cutoff: Int?

    @Option(help: "StyleGAN noise: const (the stored maps; the default when stored), random (drawn from each image's seed) or none.")
    var noiseMode: StyleOptions.Noise?

    @Option(help: "StyleGAN: what ψ pulls W towards: class (the class's W centroid; the default when the checkpoint stores them) or average (dlatent_avg).")
    var truncationTarget: StyleOptions.TruncationTarget?

    @Option(help: "How a seed becomes z: engine (the documented generator) or numpy (NumPy's legacy RandomState(seed).randn(1, z_dim), as NVlabs' StyleGAN scripts draw it; StyleGAN models, seeds below 2^32).")
    var seedMode: SeedMode = .engine

    var style: StyleOptions { StyleOptions(cutoff: cutoff, noise: noiseMode, truncationTarget: truncationTarget) }

    /// ψ from `--psi` or the command's `--truncation` (not both), and the flag's API name.
    func truncation(_ truncation: TruncationArgument) throws -> (value: Double?, parameter: String) {
        guard let psi else { return (truncation.value, "truncation") }
        guard truncation.value == nil else { throw ValidationError("give --psi or --truncation, not both") }
        return (psi.value, "psi")
    }

    /// A request of `kind` with these options and ψ (`--psi` or `--truncation`).
    func request(_ kind: GenerationRequest.Kind, truncation t: TruncationArgument) throws -> GenerationRequest {
        let (value, parameter) = try truncation(t)
        return GenerationRequest(kind, truncation: value, style: style, seedMode: seedMode, truncationParameter: parameter)
    }
}

extension StyleOptions.Noise: ExpressibleByArgument {}
extension StyleOptions.TruncationTarget: ExpressibleByArgument {}
extension SeedMode: ExpressibleByArgument {}

/// A `--psi` value: `none` or any finite number (the model checks the range, [-1, 2]).
struct PsiArgument: Sendable {
    let value: Double?

    @Sendable static func parse(_ text: String) throws -> PsiArgument {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        if s == "none" { return PsiArgument(value: nil) }
        guard let v = Double(s), v.isFinite else { throw ValidationError("--psi must be a number or 'none', got '\(text.prefix(40))'") }
        return PsiArgument(value: v)
    }
}
extension ModelCapabilities.LatentSpace: ExpressibleByArgument {}
