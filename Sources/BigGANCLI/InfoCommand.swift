import ArgumentParser
import BigGANEngine
import Foundation

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Print a checkpoint's config and parameter count.")

    @Argument(help: "Checkpoint file (.safetensors).") var file: String
    @Flag(help: "Print the config as JSON.") var json = false

    func run() throws {
        try requireInputFile(file, what: "model file")
        let g = try GeneratorLoader.load(path: file)
        let c = g.config
        if json { print(c.jsonString()); return }
        print("""
        file:          \(file)
        architecture:  \(c.architecture.rawValue)
        resolution:    \(c.resolution)×\(c.resolution), \(c.outChannels == 3 ? "RGB" : "grey")
        dim_z:         \(c.dimZ)\(c.hier == true ? " (hierarchical, \(c.blocks.count + 1) chunks of \(c.zChunk))" : "")
        classes:       \(c.nClasses), embedding \(c.sharedDim)
        channels:      \(c.blocks.map { "\($0.inChannels)→\($0.outChannels)\($0.up ? "↑" : "")" }.joined(separator: " "))
        attention:     \(c.attention.isEmpty ? "none" : c.attention.map(String.init).joined(separator: ", "))
        bn eps:        \(c.bnEps)
        truncation:    \(c.truncation.rawValue)\(c.nStats.map { ", \($0) truncation-indexed BN statistics" } ?? "")
        parameters:    \(g.parameterCount) stored scalars (\(String(format: "%.1f", Double(g.parameterCount) * 4 / 1_048_576)) MiB)
        provenance:    \(c.provenance ?? "-")
        """)
        let names = (0..<min(c.nClasses, 10)).map { "\($0): \(c.className($0))" }.joined(separator: ", ")
        print("class names:   \(names)\(c.nClasses > 10 ? ", ..." : "")")
    }
}
