/// The sampling options of style-based generators (StyleGAN; ../shared/reference/
/// stylegan-bigbigan-serving.md, section 1), as a request gives them: every field is optional
/// and nil means the checkpoint's default. `StyleCapabilities.resolve` checks them against a
/// model and fills in the defaults.
///
/// Field names follow the API's parameters (`cutoff`, `noise_mode`, `truncation_target`), and
/// so do the `SamplingError.parameter`s of their errors.
public struct StyleOptions: Sendable, Equatable {
    /// Where a layer's noise comes from (HTTP `noise_mode`).
    public enum Noise: String, Sendable, CaseIterable {
        /// The checkpoint's stored maps (NVlabs' `randomize_noise=False`, stylegan2-ada's `const`).
        case const
        /// Maps drawn from the image's seed (see `PreparedBatch.noiseSeeds`): the same request
        /// gives the same bytes.
        case random
        /// No noise.
        case none
    }

    /// What ψ pulls W towards (HTTP `truncation_target`).
    public enum TruncationTarget: String, Sendable, CaseIterable {
        /// The image's class centroid in W (`dlatent_class_avg[class]`); for a mixture of
        /// classes, the same mixture of centroids.
        case `class`
        /// The global `dlatent_avg` (NVlabs, and every public port).
        case average
    }

    /// The number of leading synthesis layers ψ applies to, 1…L (NVlabs' `truncation_cutoff`).
    public var cutoff: Int?
    public var noise: Noise?
    public var truncationTarget: TruncationTarget?

    public init(cutoff: Int? = nil, noise: Noise? = nil, truncationTarget: TruncationTarget? = nil) {
        self.cutoff = cutoff; self.noise = noise; self.truncationTarget = truncationTarget
    }

    /// The API names of the fields that are set, in the order of the API (`cutoff`,
    /// `noise_mode`, `truncation_target`).
    public var givenParameters: [String] {
        [("cutoff", cutoff != nil), ("noise_mode", noise != nil), ("truncation_target", truncationTarget != nil)].filter(\.1).map(\.0)
    }
}

/// How a seed becomes z (HTTP `seed_mode`, CLI `--seed-mode`).
public enum SeedMode: String, Sendable, CaseIterable {
    /// The engine's documented generator (`NoiseGenerator`), under the family's truncation rule.
    case engine
    /// NumPy's legacy `RandomState(seed).randn(1, z_dim)` (`NumPyRandomState`), as NVlabs'
    /// StyleGAN scripts draw z: a seed gives NVlabs' image. Seeds below 2^32; style-based models
    /// only (their truncation acts in W, never on z).
    case numpy
}

/// Style options with every default filled in for one model: what a forward pass runs with.
public struct ResolvedStyle: Sendable, Equatable {
    /// 0…L: ψ applies to layers `0 ..< cutoff`.
    public var cutoff: Int
    public var noise: StyleOptions.Noise
    public var truncationTarget: StyleOptions.TruncationTarget

    public init(cutoff: Int, noise: StyleOptions.Noise, truncationTarget: StyleOptions.TruncationTarget) {
        self.cutoff = cutoff; self.noise = noise; self.truncationTarget = truncationTarget
    }

    /// `cutoff=4,noise=const,target=class`: part of batch keys and ETags.
    public var key: String { "cutoff=\(cutoff),noise=\(noise.rawValue),target=\(truncationTarget.rawValue)" }
}

/// What a style-based model offers (served in `/v1/models` under `capabilities.style`).
public struct StyleCapabilities: Sendable, Equatable {
    /// Synthesis layers L (each takes its own style).
    public var layers: Int
    /// The checkpoint's `truncation_cutoff`, at most `layers`.
    public var defaultCutoff: Int
    /// Whether the checkpoint stores noise maps (`noise_mode=const` is possible and the default).
    public var storedNoise: Bool
    /// Whether the checkpoint stores per-class W centroids (`dlatent_class_avg`): then
    /// `truncation_target=class` is possible and, for a conditional model, the default.
    public var classCentroids: Bool

    public init(layers: Int, defaultCutoff: Int, storedNoise: Bool, classCentroids: Bool) {
        self.layers = layers; self.defaultCutoff = min(max(defaultCutoff, 0), layers)
        self.storedNoise = storedNoise; self.classCentroids = classCentroids
    }

    /// The defaults: the checkpoint's cutoff, const noise when stored (else none), the class
    /// target when there are centroids (else the average).
    public var defaults: ResolvedStyle {
        ResolvedStyle(cutoff: defaultCutoff, noise: storedNoise ? .const : .none, truncationTarget: classCentroids ? .class : .average)
    }

    /// `options` checked against this model, defaults filled in.
    /// - Throws: `SamplingError` naming `cutoff` (outside 1…L), `noise_mode` (`const` without
    ///   stored maps) or `truncation_target` (`class` without centroids).
    public func resolve(_ options: StyleOptions) throws -> ResolvedStyle {
        var r = defaults
        if let c = options.cutoff {
            guard (1...layers).contains(c) else {
                throw SamplingError(parameter: "cutoff", "'cutoff' must be between 1 and \(layers) (this model's synthesis layers), got \(c)")
            }
            r.cutoff = c
        }
        if let n = options.noise {
            guard n != .const || storedNoise else {
                throw SamplingError(parameter: "noise_mode", "'noise_mode' const needs stored noise maps, and this checkpoint has none (use random or none)")
            }
            r.noise = n
        }
        if let t = options.truncationTarget {
            guard t != .class || classCentroids else {
                throw SamplingError(parameter: "truncation_target",
                                    "'truncation_target' class needs per-class W centroids (dlatent_class_avg), and this model has none (use average)")
            }
            r.truncationTarget = t
        }
        return r
    }
}
