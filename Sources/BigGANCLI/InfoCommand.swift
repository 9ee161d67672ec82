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
        let i = g.info, caps = g.capabilities
        if json { print(i.configJSON); return }
        let shown: Set<String> = ["architecture", "resolution", "out_channels", "dim_z", "n_classes", "class_names", "truncation", "provenance"]
        print("""
        file:          \(file)
        architecture:  \(i.architecture)
        resolution:    \(i.resolution)×\(i.resolution), \(i.channels == 3 ? "RGB" : "grey")
        latents:       \(caps.latentSpaces.map(\.rawValue).joined(separator: ", ")); dim_z \(i.dimZ)
        classes:       \(caps.conditional ? "\(i.nClasses) (class-conditional)" : "unconditional")
        truncation:    \(caps.truncation.name), \(caps.truncation.symbol) in \(caps.truncation.rangeText) or none
        encoder:       \(g.imageEncoder.map { e in "yes: \(e.encoderInfo.resolution)² × \(e.encoderInfo.channels) → z \(e.encoderInfo.dimZ), \(e.encoderInfo.featureWidth) pooled features, σ by \(e.encoderInfo.sigma)" } ?? "no")
        parameters:    \(g.parameterCount) stored scalars (\(String(format: "%.1f", Double(g.parameterCount) * 4 / 1_048_576)) MiB)
        provenance:    \(i.provenance ?? "-")
        """)
        // The family's own fields, as stored.
        if let object = try? JSONSerialization.jsonObject(with: Data(i.configJSON.utf8)) as? [String: Any] {
            // `encoder` has its line above; a nested generator config shows as one JSON line.
            for key in object.keys.sorted() where !shown.contains(key) && key != "encoder" {
                guard let value = object[key], let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) else { continue }
                let text = String(decoding: data, as: UTF8.self)
                print((key + ":").padding(toLength: max(15, key.count + 2), withPad: " ", startingAt: 0) + (text.count > 100 ? text.prefix(100) + "…" : text))
            }
        }
        if caps.conditional {
            let names = (0..<min(i.nClasses, 10)).map { "\($0): \(i.className($0))" }.joined(separator: ", ")
            print("class names:   \(names)\(i.nClasses > 10 ? ", ..." : "")")
        }
    }
}
