import Foundation

/// The package's executables (`biggan`, `biggan-server`, …), built beside the test bundle
/// (`.build/release`), run as separate processes.
public enum Executables {
    /// The path of executable `name` in the build folder the tests run from.
    public static func path(_ name: String) -> String {
        URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Runs `name` with `arguments` to the end: its exit status and its standard output and
    /// error together.
    public static func run(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: path(name))
        p.arguments = arguments
        p.standardOutput = out; p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }
}
