import ArgumentParser
import BigGANEngine

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a checkpoint with seeded random weights (for tests, benchmarks and stand-ins).")

    @Option(help: "Preset: biggan-32|biggan-64|biggan-128|biggan-256|biggan-512|deep-128|deep-256|deep-512|fashion-mnist-32.")
    var preset: String
    @Option(help: "Channel width (default: the preset's).") var ch: Int?
    @Option(help: "Number of classes (fashion-mnist-32 always has its 10).") var classes: Int = 1000
    @Option(help: "Weight seed.") var seed: UInt64 = 0
    @Option(help: "Output .safetensors file.") var out: String

    func run() throws {
        guard var config = Presets.config(preset, ch: ch, nClasses: classes) else {
            throw ValidationError("unknown preset '\(preset)'; choose one of \(Presets.names.joined(separator: ", "))")
        }
        try checkOutput(out)
        config.provenance = "random weights (biggan init --preset \(preset) --seed \(seed)); not a trained model"
        let (_, tensors) = try GeneratorLoader.random(config: config, seed: seed)
        do { try GeneratorLoader.save(config: config, tensors: tensors, to: out) }
        catch let e as FileAccessError { throw CLIError(e.description) }
        print("wrote \(out)")
    }
}

public enum Presets {
    public static let names = ["biggan-32", "biggan-64", "biggan-128", "biggan-256", "biggan-512", "deep-128", "deep-256", "deep-512",
                               "fashion-mnist-32"]

    /// Standard configurations; `ch` overrides the channel width.
    public static func config(_ name: String, ch: Int? = nil, nClasses: Int = 1000) -> ModelConfig? {
        if name == "fashion-mnist-32" { return ModelConfig.fashionMNIST32() }
        let parts = name.split(separator: "-")
        guard parts.count == 2, let res = Int(parts[1]) else { return nil }
        switch parts[0] {
        case "biggan":
            // ajbrock's TF-Hub placements: attention at 64 (128, 512) or 128 (256); at 32/64 use the middle block.
            let att = res == 256 ? [128] : res == 32 ? [16] : res == 64 ? [32] : [64]
            return ModelConfig.biggan(resolution: res, ch: ch ?? (res == 32 ? 64 : 96), dimZ: res == 256 ? 140 : res == 512 ? 128 : 120,
                                      nClasses: nClasses, attention: att)
        case "deep":
            return ModelConfig.bigganDeep(resolution: res, ch: ch ?? 128, nClasses: nClasses)
        default: return nil
        }
    }
}
