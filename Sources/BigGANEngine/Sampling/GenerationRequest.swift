/// Everything a user can ask a generator for, in one type: the request the HTTP routes and the
/// CLI commands build from their parameters, and that `Sampler.prepare` validates (once) and turns
/// into latents and conditioning vectors.
///
/// Field names follow the API's parameter names, and so do `SamplingError.parameter`s.
public struct GenerationRequest: Sendable, Equatable {
    /// Where the latents come from.
    public enum Latents: Sendable, Equatable {
        /// One image per seed, z drawn under the model's truncation rule (`Generator.latent`).
        case seeds([UInt64])
        /// Explicit z vectors (`z[i]`, `dim_z` finite entries each); truncation does not change them.
        case explicit([[Float]])

        public var count: Int {
            switch self { case .seeds(let s): return s.count; case .explicit(let z): return z.count }
        }
    }

    public enum Kind: Sendable, Equatable {
        /// One image per latent. `classes` has one class per image, one class for all, or none
        /// (unconditional models only). A single given class is `class`; a list is `classes`.
        case samples(classes: [Int], latents: Latents)
        /// Latent interpolation: the class held, z(seed_a) → z(seed_b) in `steps` images; in
        /// `space` `.w` (models whose `latentSpaces` include W), linearly between the two ends'
        /// per-layer W after truncation instead.
        case latentInterpolation(class: Int?, seedA: UInt64, seedB: UInt64, steps: Int, method: Interpolation,
                                 space: ModelCapabilities.LatentSpace = .z)
        /// Class interpolation: z(seed) held, conditioning class_a → class_b (linear) in `steps`
        /// images. Both classes are required (nil is reported as a missing parameter).
        case classInterpolation(seed: UInt64, classA: Int?, classB: Int?, steps: Int)
        /// Every class in order, `perClass` images each with seeds `seed ..< seed+perClass`.
        case classSheet(perClass: Int, seed: UInt64)
    }

    public var kind: Kind
    /// `nil`: untruncated (z ~ N(0, I)); else a value the model's `TruncationRule` accepts.
    public var truncation: Double?
    /// Style options (style-based models only; every field nil elsewhere).
    public var style: StyleOptions
    /// How seeds become z (`numpy`: style-based models only).
    public var seedMode: SeedMode
    /// The name the request gave the truncation (`truncation`, or `psi`), for error messages.
    public var truncationParameter: String

    public init(_ kind: Kind, truncation: Double?, style: StyleOptions = StyleOptions(), seedMode: SeedMode = .engine,
                truncationParameter: String = "truncation") {
        self.kind = kind; self.truncation = truncation; self.style = style; self.seedMode = seedMode
        self.truncationParameter = truncationParameter
    }

    /// `n` images of one class (nil for unconditional models) with seeds `seed ..< seed+n` (wrapping).
    public static func samples(class c: Int?, seed: UInt64, count n: Int, truncation: Double?,
                               style: StyleOptions = StyleOptions(), seedMode: SeedMode = .engine) -> GenerationRequest {
        GenerationRequest(.samples(classes: c.map { [$0] } ?? [], latents: .seeds((0..<max(n, 0)).map { seed &+ UInt64($0) })),
                          truncation: truncation, style: style, seedMode: seedMode)
    }
}

/// A validated request: per image, its latent and conditioning vector, plus what the answer
/// reports (seed, class). The compute worker concatenates batches with equal `batchKey`.
public struct PreparedBatch: Sendable {
    /// `[dim_z]` per image.
    public var latents: [[Float]]
    /// The generator's conditioning width per image.
    public var conditioning: [[Float]]
    /// The seed of each image's z (nil for explicit or interpolated latents).
    public var seeds: [UInt64?]
    /// The class of each image (nil for unconditional models and class interpolations).
    public var classes: [Int?]
    public var truncation: Double?
    /// From `Generator.batchKey(truncation:)`, and the resolved style options.
    public var batchKey: String
    /// Style options with the model's defaults filled in (style-based models; nil otherwise).
    public var style: ResolvedStyle?
    /// Per image, the seed of its random noise maps: its own seed; for an interpolation strip,
    /// the seed held or `seed_a` (the noise stays put along the strip); for an explicit z, an
    /// FNV-1a hash of its values.
    public var noiseSeeds: [UInt64]
    /// Per image, the W-space blend of a `space=w` interpolation (nil otherwise).
    public var blends: [WBlend?]

    public init(latents: [[Float]], conditioning: [[Float]], seeds: [UInt64?], classes: [Int?], truncation: Double?, batchKey: String,
                style: ResolvedStyle? = nil, noiseSeeds: [UInt64]? = nil, blends: [WBlend?]? = nil) {
        self.latents = latents; self.conditioning = conditioning; self.seeds = seeds; self.classes = classes
        self.truncation = truncation; self.batchKey = batchKey; self.style = style
        self.noiseSeeds = noiseSeeds ?? seeds.map { $0 ?? 0 }
        self.blends = blends ?? Array(repeating: nil, count: latents.count)
    }

    public var count: Int { latents.count }

    /// The images of `parts` in order, as one batch (all with the first part's truncation and
    /// style: only parts with equal `batchKey`s may be concatenated).
    public static func concatenated(_ parts: [PreparedBatch]) -> PreparedBatch {
        guard parts.count > 1 else { return parts[0] }
        return PreparedBatch(latents: parts.flatMap(\.latents), conditioning: parts.flatMap(\.conditioning),
                             seeds: parts.flatMap(\.seeds), classes: parts.flatMap(\.classes),
                             truncation: parts[0].truncation, batchKey: parts[0].batchKey, style: parts[0].style,
                             noiseSeeds: parts.flatMap(\.noiseSeeds), blends: parts.flatMap(\.blends))
    }
}
