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
    @Option(help: ArgumentHelp("Standing statistics: recompute every BN's statistics as the average over N batches of G in training mode (0: keep the running averages).",
                               discussion: "ajbrock BigGAN-PyTorch's --use_standing_stats; z ~ N(0, I), uniform classes, seed --standing-seed."))
    var standingStats: Int = 0
    @Option(help: "StyleGAN: latents per class for the exported dlatent_avg and class centroids (exact means of W; 0: the training run's moving averages).")
    var centroidSamples: Int = 2000
    @Option(help: "Batch size of the standing-statistics passes.") var standingBatch: Int = 64
    @Option(help: "Seed of the standing-statistics latents.") var standingSeed: UInt64 = 0

    func validate() throws {
        guard (0...10_000).contains(standingStats) else { throw ValidationError("--standing-stats must be in 0...10000") }
        guard (2...1024).contains(standingBatch) else { throw ValidationError("--standing-batch must be in 2...1024") }
        guard (0...1_000_000).contains(centroidSamples) else { throw ValidationError("--centroid-samples must be in 0...1000000") }
    }

    func run() throws {
        do { try OutputFile.check(out, label: "--out") } catch let e as FileAccessError { throw TrainError(e.description) }
        let statePath = (runDir as NSString).appendingPathComponent("state.safetensors")
        if try TrainingStateFormat.isStyleGAN(statePath) {
            guard standingStats == 0 else { throw TrainError("--standing-stats applies to BigGAN (StyleGAN has no batch norm)") }
            let trainer = try StyleGANTrainer(resumingFrom: statePath)
            let g = raw ? trainer.generator : trainer.ema
            try g.saveCheckpoint(to: out, centroidSamples: centroidSamples > 0 ? centroidSamples : nil,
                                 provenance: "biggan-train export of \(runDir) at iteration \(trainer.iteration)\(raw ? " (raw G)" : " (EMA)")",
                                 classNames: g.config.classNames, dataset: g.config.dataset, classifier: g.config.classifier)
            print("wrote \(out) (\(raw ? "G" : "EMA G") at iteration \(trainer.iteration))")
            return
        }
        if try TrainingStateFormat.isBigBiGAN(statePath) {
            guard standingStats == 0 else { throw TrainError("a BigBiGAN run exports its generator with its encoder; --standing-stats does not apply") }
            let trainer = try BigBiGANTrainer(resumingFrom: statePath)
            let g = trainer.ema.config
            let what = raw ? "G and E" : trainer.emaEncoder == nil ? "EMA G and E" : "EMA G and EMA E"
            try trainer.saveCheckpoint(to: out, raw: raw, provenance: "biggan-train export of \(runDir) at iteration \(trainer.iteration) (\(what))",
                                       classNames: g.classNames, dataset: g.dataset, classifier: g.classifier)
            print("wrote \(out) (\(what) at iteration \(trainer.iteration))")
            return
        }
        let trainer = try Trainer(resumingFrom: statePath)
        let g = raw ? trainer.generator : trainer.ema
        if standingStats > 0 { g.accumulateStandingStatistics(batches: standingStats, batchSize: standingBatch, seed: standingSeed) }
        let standing = standingStats > 0 ? ", standing statistics over \(standingStats)×\(standingBatch) samples" : ""
        try g.saveCheckpoint(to: out, provenance: "biggan-train export of \(runDir) at iteration \(trainer.iteration)\(raw ? " (raw G)" : " (EMA)")\(standing)",
                             classNames: g.config.classNames)
        print("wrote \(out) (\(raw ? "G" : "EMA G") at iteration \(trainer.iteration)\(standing))")
    }
}
