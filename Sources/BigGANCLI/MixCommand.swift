import ArgumentParser
import BigGANEngine

/// `biggan mix`: NVlabs' style-mixing figure for a StyleGAN model.
struct MixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mix",
        abstract: "Write a StyleGAN style-mixing grid: column seeds across the top, row seeds down the left.",
        discussion: """
          Each cell is the row's styles with the layers of --styles taken from the column's
          (NVlabs style_mixing.py; coarse 0-3, middle 4-7, fine 8 and up at 1024 px).
            biggan mix --model stylegan.safetensors --rows 1,2,3 --cols 4,5 --styles 0-3 --truncation 0.7 --out mix.png
        """)

    enum Noise: String, ExpressibleByArgument, CaseIterable { case stored, none, random }

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Row seeds, comma-separated (1-16 of them).") var rows: String
    @Option(help: "Column seeds, comma-separated (1-16 of them).") var cols: String
    @Option(help: "Style layers taken from the column: ranges and numbers, e.g. 0-3 or 0,1,8-13.") var styles: String
    @Option(name: [.customLong("class")], help: "Class of every image (conditional models; default 0).") var classText: String?
    @Option(help: "ψ (omitted: none).", transform: TruncationArgument.parse) var truncation: TruncationArgument = .none
    @Option(help: "Noise: stored (the checkpoint's maps; the default when it has them), none, or random (from each row's seed).")
    var noise: Noise?
    @Option(help: "Output PNG.") var out: String

    static func seeds(_ text: String, flag: String) throws -> [UInt64] {
        let s = try text.split(separator: ",", omittingEmptySubsequences: false).map { try parseSeed(String($0), flag: flag) }
        guard (1...16).contains(s.count) else { throw ValidationError("\(flag) takes 1 to 16 seeds, got \(s.count)") }
        return s
    }

    /// "0-3,8" → {0, 1, 2, 3, 8}.
    static func layers(_ text: String) throws -> Set<Int> {
        var out = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard (1...2).contains(ends.count), let lo = ends.first!, let hi = ends.last!, lo >= 0, lo <= hi, hi < 64 else {
                throw ValidationError("--styles: '\(part)' is not a layer number or a range like 0-3")
            }
            out.formUnion(lo...hi)
        }
        return out
    }

    func validate() throws {
        _ = try Self.seeds(rows, flag: "--rows"); _ = try Self.seeds(cols, flag: "--cols"); _ = try Self.layers(styles)
    }

    func run() throws {
        try checkOutput(out)
        let sampler = try modelOptions.load()
        guard let g = sampler.generator as? StyleGANGenerator else {
            throw ValidationError("biggan mix needs a StyleGAN model; \(modelOptions.model) is \(sampler.info.architecture)")
        }
        let label = try resolveClass(classText, sampler)
        try g.capabilities.truncation.validate(truncation.value)
        let stored = g.config.storedNoise ?? true
        let mode: StyleGANGenerator.NoiseMode
        switch noise ?? (stored ? .stored : .none) {
        case .stored:
            guard stored else { throw ValidationError("--noise stored: \(modelOptions.model) stores no noise maps (use none or random)") }
            mode = .stored
        case .none: mode = .none
        case .random: mode = .random(seeds: [])
        }
        let columns = try Self.seeds(cols, flag: "--cols")
        let grid: Tensor
        do {
            grid = try g.mixingGrid(rowSeeds: try Self.seeds(rows, flag: "--rows"), columnSeeds: columns, styles: try Self.layers(styles),
                                    label: label, truncation: truncation.value, noise: mode)
        } catch let e as SamplingError {
            throw ValidationError("--\(e.parameter ?? "styles"): \(e.message)")
        }
        try writePNG(Image8.grid(grid, columns: columns.count + 1), to: out, label: "--out")
        print("wrote \(out) (\(grid.shape[0]) cells)")
    }
}
