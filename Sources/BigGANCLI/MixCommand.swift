import ArgumentParser
import BigGANEngine

/// `biggan mix`: NVlabs' style-mixing figure for a StyleGAN model (the same request, parsing
/// and checks as `GET /v1/mix`: `StyleMixRequest`, `Sampler.prepare(mix:)`).
struct MixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mix",
        abstract: "Write a StyleGAN style-mixing grid: column seeds across the top, row seeds down the left.",
        discussion: """
          Each cell is the row's styles with the layers of --styles taken from the column's
          (NVlabs style_mixing.py; coarse 0-3, middle 4-7, fine 8 and up at 1024 px).
            biggan mix --model stylegan.safetensors --rows 1,2,3 --cols 4,5 --styles 0-3 --psi 0.7 --out mix.png
        """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(parsing: .unconditional, help: "Row seeds, comma-separated (1-16 of them).") var rows: String
    @Option(parsing: .unconditional, help: "Column seeds, comma-separated (1-16 of them).") var cols: String
    @Option(help: "Style layers taken from the column: ranges and numbers, e.g. 0-3 or 0,1,8-13.") var styles: String
    @Option(name: [.customLong("class")], parsing: .unconditional, help: "Class of every image (conditional models; default 0).") var classText: String?
    @Option(parsing: .unconditional, help: "ψ, as --psi (omitted: none).", transform: TruncationArgument.parse) var truncation: TruncationArgument = .none
    @OptionGroup(title: "StyleGAN options") var styleOptions: StyleSamplingOptions
    @Option(help: "Output PNG.") var out: String

    /// `text` parsed by `StyleMixRequest`, errors naming `flag`.
    static func parsed<T>(_ flag: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as SamplingError { throw ValidationError(flagMessage(e, flag: flag)) }
    }

    func validate() throws {
        _ = try Self.parsed("--rows") { try StyleMixRequest.seeds(rows, parameter: "rows") }
        _ = try Self.parsed("--cols") { try StyleMixRequest.seeds(cols, parameter: "cols") }
        _ = try Self.parsed("--styles") { try StyleMixRequest.layers(styles) }
    }

    func run() throws {
        try checkOutput(out)
        let sampler = try modelOptions.load()
        guard sampler.generator.capabilities.style != nil else {
            throw ValidationError("biggan mix needs a StyleGAN model; \(modelOptions.model) is \(sampler.info.architecture)")
        }
        let (psi, parameter) = try styleOptions.truncation(truncation)
        let request = StyleMixRequest(rowSeeds: try Self.parsed("--rows") { try StyleMixRequest.seeds(rows, parameter: "rows") },
                                      columnSeeds: try Self.parsed("--cols") { try StyleMixRequest.seeds(cols, parameter: "cols") },
                                      styles: try Self.parsed("--styles") { try StyleMixRequest.layers(styles) },
                                      class: try resolveClass(classText, sampler), truncation: psi, style: styleOptions.style,
                                      seedMode: styleOptions.seedMode, truncationParameter: parameter)
        let grid: Tensor
        do {
            grid = try sampler.finite(sampler.mixingGrid(try sampler.prepare(mix: request)))
        } catch let e as SamplingError {
            throw CLIError(flagMessage(e, fallback: "styles"))
        }
        try writePNG(Image8.grid(grid, columns: request.columnSeeds.count + 1), to: out, label: "--out")
        print("wrote \(out) (\(grid.shape[0]) cells)")
    }
}
