import ArgumentParser
import BigGANEngine

struct InterpolateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interpolate",
        abstract: "Write a strip of images interpolating latents (class held) or classes (z held).",
        discussion: """
          biggan interpolate --model m.safetensors --kind latent --class 3 --seed-a 1 --seed-b 2 --steps 8 --out strip.png
          biggan interpolate --model m.safetensors --kind class --seed 5 --class-a 0 --class-b 9 --out strip.png
          biggan interpolate --model stylegan.safetensors --kind latent --space w --psi 0.7 --out strip.png
        """)

    enum Kind: String, ExpressibleByArgument, CaseIterable { case latent, `class` }

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "latent (z_a → z_b, class held) or class (class a → b, z held).")
    var kind: Kind

    @Option(name: [.customLong("class")], parsing: .unconditional, help: "Class for --kind latent (default: 0; none for unconditional models).")
    var classText: String?
    @Option(parsing: .unconditional, help: "First seed for --kind latent (default: 0).") var seedA: String?
    @Option(parsing: .unconditional, help: "Second seed for --kind latent (default: --seed-a + 1).") var seedB: String?
    @Option(parsing: .unconditional, help: "Seed for --kind class (default: 0).") var seed: String?
    @Option(parsing: .unconditional, help: "First class for --kind class.") var classA: String?
    @Option(parsing: .unconditional, help: "Second class for --kind class.") var classB: String?
    @Option(help: "Images in the strip, ends included (2...64).") var steps: Int = 8
    @Option(parsing: .unconditional, help: truncationHelp, transform: TruncationArgument.parse) var truncation: TruncationArgument = .none
    @Flag(help: "Spherical interpolation of z (latent kind only).") var spherical = false
    @Option(help: "Latent kind: z, or w (StyleGAN: linear in W, per layer, after truncation).")
    var space: ModelCapabilities.LatentSpace = .z
    @OptionGroup(title: "StyleGAN options") var styleOptions: StyleSamplingOptions
    @Option(help: "Output PNG.") var out: String

    func validate() throws {
        guard (2...64).contains(steps) else { throw ValidationError("--steps must be between 2 and 64, got \(steps)") }
        // Options of the other kind would be ignored: refuse them, as the HTTP route does.
        let foreign = kind == .class
            ? [("--class", classText != nil), ("--seed-a", seedA != nil), ("--seed-b", seedB != nil), ("--spherical", spherical), ("--space", space != .z)]
            : [("--seed", seed != nil), ("--class-a", classA != nil), ("--class-b", classB != nil)]
        if let (flag, _) = foreign.first(where: { $0.1 }) {
            throw ValidationError("\(flag) does not apply to --kind \(kind.rawValue)")
        }
        if kind == .class {
            guard classA != nil, classB != nil else { throw ValidationError("--kind class needs --class-a and --class-b") }
            _ = try parseSeed(seed ?? "0", flag: "--seed")
        } else {
            _ = try parseSeed(seedA ?? "0", flag: "--seed-a"); if let seedB { _ = try parseSeed(seedB, flag: "--seed-b") }
        }
    }

    func run() throws {
        try checkOutput(out)
        let sampler = try modelOptions.load()
        let kind: GenerationRequest.Kind
        switch self.kind {
        case .latent:
            let a = try parseSeed(seedA ?? "0", flag: "--seed-a")
            kind = .latentInterpolation(class: try resolveClass(classText, sampler), seedA: a,
                                        seedB: try seedB.map { try parseSeed($0, flag: "--seed-b") } ?? a &+ 1,
                                        steps: steps, method: spherical ? .spherical : .linear, space: space)
        case .class:
            kind = .classInterpolation(seed: try parseSeed(seed ?? "0", flag: "--seed"), classA: try resolveClass(classA, sampler, flag: "--class-a"),
                                       classB: try resolveClass(classB, sampler, flag: "--class-b"), steps: steps)
        }
        let images = try images(sampler, try styleOptions.request(kind, truncation: truncation))
        try writePNG(Image8.grid(images, columns: steps), to: out, label: "--out")
        print("wrote \(out) (\(steps) steps)")
    }
}
