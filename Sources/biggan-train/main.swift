import BigGANEngine
import ArgumentParser

/// `biggan-train`: trains BigGAN (default) or the data-set classifier.
struct BigGANTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "biggan-train",
        abstract: "Train BigGAN on the CPU (Fashion-MNIST by default), or the data-set classifier used for evaluation.",
        subcommands: [TrainCommand.self, ClassifierCommand.self, ExportCommand.self, MPICheckCommand.self],
        defaultSubcommand: TrainCommand.self)
}

OpenMPSettings.restartWithShortSpinIfNeeded()
BigGANTrain.main()
