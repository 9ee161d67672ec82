import ArgumentParser
import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANCLI

/// Every `--help` names each default once: the parser appends `(default: X)` for options with
/// a default value, so the help string must not say it too.
@Suite struct HelpTests {
    /// The help's entries (an option or argument with its wrapped lines joined) that name a
    /// default twice, or name one beside the parser's `(default: X)`.
    static func repeatedDefaults(_ help: String) -> [String] {
        var entries: [String] = []
        for line in help.components(separatedBy: "\n") {
            let text = line.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("  -") || line.hasPrefix("  <") || entries.isEmpty || text.isEmpty { entries.append(text) }
            else { entries[entries.count - 1] += " " + text }
        }
        return entries.filter { entry in
            let lower = entry.lowercased()
            let defaults = lower.components(separatedBy: "default").count - 1
            return lower.components(separatedBy: "(default:").count > 2 || (lower.contains("(default:") && defaults > 1)
        }
    }

    /// The subcommand names listed under `SUBCOMMANDS:` in a help text.
    static func subcommands(_ help: String) -> [String] {
        guard let section = help.components(separatedBy: "SUBCOMMANDS:\n").dropFirst().first else { return [] }
        return section.components(separatedBy: "\n").prefix { !$0.isEmpty }.compactMap { line in
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            return line.split(separator: " ").first.map(String.init)
        }
    }

    @Test func theCheckFindsARepeatedDefault() {
        #expect(Self.repeatedDefaults("OPTIONS:\n  --batch <batch>    Batch (default: 8). (default: 8)\n").count == 1)
        #expect(Self.repeatedDefaults("OPTIONS:\n  --kind <kind>    a (default) or b\n                  (default: a)\n").count == 1)
        #expect(Self.repeatedDefaults("OPTIONS:\n  --batch <batch>    Batch. (default: 8)\n  --seed <seed>    Seed (default: 0).\n").isEmpty)
        #expect(Self.subcommands("SUBCOMMANDS:\n  sample (default)   x\n  info               y\n                     more\n\n  See") == ["sample", "info"])
    }

    @Test func bigganHelpNamesEachDefaultOnce() {
        var helps = [("biggan", BigGANCommand.helpMessage(for: BigGANCommand.self, columns: 100))]
        for sub in BigGANCommand.configuration.subcommands {
            helps.append((sub._commandName, BigGANCommand.helpMessage(for: sub, columns: 100)))
        }
        #expect(helps.count > 3)
        for (name, help) in helps { #expect(Self.repeatedDefaults(help).isEmpty, "\(name): \(Self.repeatedDefaults(help))") }
    }

    @Test(arguments: ["biggan-train", "biggan-server", "biggan-bench"])
    func executableHelpNamesEachDefaultOnce(_ executable: String) throws {
        let top = try Executables.run(executable, ["--help"])
        #expect(top.status == 0 && top.output.contains("OPTIONS:"), "\(top.output)")
        var helps = [(executable, top.output)]
        for sub in Self.subcommands(top.output) {
            let r = try Executables.run(executable, [sub, "--help"])
            #expect(r.status == 0, "\(executable) \(sub): \(r.output)")
            helps.append(("\(executable) \(sub)", r.output))
        }
        if executable == "biggan-train" { #expect(helps.count >= 3) }
        for (name, help) in helps { #expect(Self.repeatedDefaults(help).isEmpty, "\(name): \(Self.repeatedDefaults(help))") }
    }
}
