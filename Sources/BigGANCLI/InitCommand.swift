import ArgumentParser
import BigGANEngine

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a checkpoint with seeded random weights (for tests, benchmarks and stand-ins).")

    @Option(help: "Preset: \(ModelConfig.presetNames.joined(separator: "|")).")
    var preset: String
    @Option(help: "Channel width (default: the preset's).") var ch: Int?
    @Option(help: "Number of classes (fashion-mnist-32 always has its 10).") var classes: Int = 1000
    @Option(parsing: .unconditional, help: "Weight seed.") var seed: UInt64 = 0
    @Option(help: "Output .safetensors file.") var out: String

    func run() throws {
        guard var config = ModelConfig.preset(preset, ch: ch, nClasses: classes) else {
            throw ValidationError("unknown preset '\(preset)'; choose one of \(ModelConfig.presetNames.joined(separator: ", "))")
        }
        try checkOutput(out)
        config.provenance = "random weights (biggan init --preset \(preset) --seed \(seed)); not a trained model"
        let (_, tensors) = try GeneratorLoader.random(config: config, seed: seed)
        do { try GeneratorLoader.save(config: config, tensors: tensors, to: out) }
        catch let e as FileAccessError { throw CLIError(e.description) }
        print("wrote \(out)")
    }
}
