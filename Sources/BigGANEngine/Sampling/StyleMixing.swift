/// Style mixing as NVlabs' `style_mixing.py` draws it (Karras et al. 2019, figure 3): a grid with
/// a blank top-left cell, the column seeds' images across the top, the row seeds' images down the
/// left, and in cell (r, c) the row's per-layer W with the layers of `styles` taken from the
/// column's W. The HTTP route (`GET /v1/mix`) and `biggan mix` build a `StyleMixRequest` from
/// the same text forms (`StyleMixRequest.seeds`, `.layers`), and `Sampler.prepare(mix:)`
/// checks it once.
public struct StyleMixRequest: Sendable, Equatable {
    public var rowSeeds: [UInt64]
    public var columnSeeds: [UInt64]
    /// Style layers taken from the column (each in 0..<L).
    public var styles: Set<Int>
    /// The class of every image (conditional models; nil for unconditional ones).
    public var `class`: Int?
    /// ψ (nil: none).
    public var truncation: Double?
    public var style: StyleOptions
    public var seedMode: SeedMode
    /// The name the request gave ψ (`psi` or `truncation`), for error messages.
    public var truncationParameter: String

    public init(rowSeeds: [UInt64], columnSeeds: [UInt64], styles: Set<Int>, class c: Int?, truncation: Double?,
                style: StyleOptions = StyleOptions(), seedMode: SeedMode = .engine, truncationParameter: String = "psi") {
        self.rowSeeds = rowSeeds; self.columnSeeds = columnSeeds; self.styles = styles; self.class = c
        self.truncation = truncation; self.style = style; self.seedMode = seedMode; self.truncationParameter = truncationParameter
    }

    /// Most seeds in one list (`rows`, `cols`).
    public static let maxSeedsPerList = 16
    /// Highest style layer a `styles` text may name (NVlabs' 1024 px model has 18 layers).
    public static let maxLayer = 63

    /// Seeds from `"1,2,3"`: 1 to `maxSeedsPerList` integers from 0 to 2^64 − 1.
    /// - Throws: `SamplingError` naming `parameter`.
    public static func seeds(_ text: String, parameter: String) throws -> [UInt64] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let seeds = try parts.map { p -> UInt64 in
            guard let v = UInt64(p) else {
                throw SamplingError(parameter: parameter, "'\(parameter)': \(Echo.quoted(p)) is not a seed (an integer from 0 to \(UInt64.max))")
            }
            return v
        }
        guard (1...maxSeedsPerList).contains(seeds.count) else {
            throw SamplingError(parameter: parameter, "'\(parameter)' takes 1 to \(maxSeedsPerList) seeds, got \(seeds.count)")
        }
        return seeds
    }

    /// Style layers from ranges and numbers: `"0-6"`, `"0,2,4-5"` → {0, 2, 4, 5}.
    /// - Throws: `SamplingError` naming `parameter` for an empty part, a reversed range or a
    ///   layer above `maxLayer` (layers beyond the model's are refused by `Sampler.prepare`).
    public static func layers(_ text: String, parameter: String = "styles") throws -> Set<Int> {
        var out = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(ends.count), let lo = ends.first!, let hi = ends.last!, lo >= 0, lo <= hi, hi <= maxLayer else {
                throw SamplingError(parameter: parameter, "'\(parameter)': \(Echo.quoted(String(part))) is not a layer number or a range like 0-3")
            }
            out.formUnion(lo...hi)
        }
        return out
    }
}

/// A checked `StyleMixRequest`: every seed's z, the shared conditioning and the style options
/// with the model's defaults.
public struct PreparedMix: Sendable {
    public let rowSeeds: [UInt64]
    public let columnSeeds: [UInt64]
    public let styles: Set<Int>
    /// `[dim_z]` per seed, rows first, then columns.
    public let latents: [[Float]]
    public let conditioning: [Float]
    public let truncation: Double?
    public let style: ResolvedStyle

    /// Cells of the grid: `(rows + 1) · (columns + 1)`.
    public var cells: Int { (rowSeeds.count + 1) * (columnSeeds.count + 1) }
}

/// A generator that can draw a style-mixing grid (its capabilities have `style`).
public protocol StyleMixingGenerator: Generator {
    /// The grid's images `[(rows+1)·(columns+1), R, R, C]`, row-major, `columns + 1` wide, the
    /// top-left cell white (1). Synthesised in chunks of at most `maxBatch` images. Random noise
    /// follows each cell's seed: the column seed on the top row, the row seed elsewhere.
    func mixingGrid(_ mix: PreparedMix, maxBatch: Int) -> Tensor
}

extension Sampler {
    /// Checks `request` against the model and draws its latents.
    /// - Throws: `SamplingError` naming the parameter: `model` (no style mixing), `psi`,
    ///   `cutoff`, `noise_mode`, `truncation_target`, `styles` (a layer beyond the model's),
    ///   `class`, `rows`/`cols` (a NumPy seed of 2^32 or more).
    public func prepare(mix request: StyleMixRequest) throws -> PreparedMix {
        guard let caps = generator.capabilities.style, generator is StyleMixingGenerator else {
            throw SamplingError(parameter: "model", "style mixing needs a StyleGAN model; this one is \(info.architecture)")
        }
        let asRequest = GenerationRequest(.samples(classes: [], latents: .seeds([])), truncation: request.truncation, style: request.style,
                                          seedMode: request.seedMode, truncationParameter: request.truncationParameter)
        try generator.capabilities.truncation.validate(request.truncation, parameter: request.truncationParameter)
        let style = try resolveStyle(asRequest)!
        if let bad = request.styles.sorted().first(where: { !(0..<caps.layers).contains($0) }) {
            throw SamplingError(parameter: "styles", "'styles': layer \(bad) does not exist: this model's style layers are 0-\(caps.layers - 1)")
        }
        guard !request.styles.isEmpty else { throw SamplingError(parameter: "styles", "'styles' names no layer") }
        let label: Int
        if generator.capabilities.conditional {
            guard let c = request.class, (0..<info.nClasses).contains(c) else {
                throw SamplingError(parameter: "class", "'class': a class in 0-\(info.nClasses - 1) is needed for this conditional model")
            }
            label = c
        } else {
            guard request.class == nil else { throw SamplingError(parameter: "class", "'class': this model is unconditional") }
            label = 0
        }
        let latents = try request.rowSeeds.map { try latent(seed: $0, asRequest, parameter: "rows") }
            + request.columnSeeds.map { try latent(seed: $0, asRequest, parameter: "cols") }
        return PreparedMix(rowSeeds: request.rowSeeds, columnSeeds: request.columnSeeds, styles: request.styles, latents: latents,
                           conditioning: generator.conditioning(forClass: label), truncation: request.truncation, style: style)
    }

    /// The grid of a prepared mix (see `StyleMixingGenerator.mixingGrid`), in chunks of
    /// `maxBatch`; not checked for non-finite values (pass it through `finite`).
    public func mixingGrid(_ mix: PreparedMix) -> Tensor {
        (generator as! StyleMixingGenerator).mixingGrid(mix, maxBatch: maxBatch)
    }
}
