import ArgumentParser

/// The `biggan` command line: sampling, interpolation, encoding and reconstruction, checkpoint inspection.
public struct BigGANCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "biggan",
        abstract: "Sample class-conditional images from BigGAN checkpoints on the CPU.",
        subcommands: [SampleCommand.self, InterpolateCommand.self, MixCommand.self, NeighboursCommand.self, EncodeCommand.self, ReconstructCommand.self,
                      EvalCommand.self, InfoCommand.self, InitCommand.self])

    public init() {}
}
