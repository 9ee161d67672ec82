import ArgumentParser
import BigGANEngine
import BigGANTraining
import Foundation

/// Writes the generator of a run's current state as a serving checkpoint (e.g. to evaluate a run
/// in progress), without touching the run.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export the EMA generator (or, with --raw, G itself) of a run's saved state.",
        discussion: "  biggan-train export --run-dir runs/fashion-mnist-32 --out /tmp/now.safetensors")

    @Option(help: "The run folder holding state.safetensors.") var runDir: String
    @Option(help: "Output checkpoint.") var out: String
    @Flag(help: "Export G instead of its EMA.") var raw = false

    func run() throws {
        do { try OutputFile.check(out, label: "--out") } catch let e as FileAccessError { throw TrainError(e.description) }
        let trainer = try Trainer(resumingFrom: (runDir as NSString).appendingPathComponent("state.safetensors"))
        let g = raw ? trainer.generator : trainer.ema
        try g.saveCheckpoint(to: out, provenance: "biggan-train export of \(runDir) at iteration \(trainer.iteration)\(raw ? " (raw G)" : " (EMA)")",
                             classNames: g.config.classNames)
        print("wrote \(out) (\(raw ? "G" : "EMA G") at iteration \(trainer.iteration))")
    }
}
