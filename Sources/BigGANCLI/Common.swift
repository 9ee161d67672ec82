import ArgumentParser
import BigGANEngine
import BigGANImage
import Foundation

/// Options shared by every command that loads a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Checkpoint file (.safetensors).")
    var model: String

    @Option(name: .long, help: "Engine threads for GEMMs and other loops (default: number of cores; OpenBLAS itself runs single-threaded).")
    var threads: Int?

    @Option(name: .long, help: "Largest batch per forward pass.")
    var batch: Int = 8

    func validate() throws {
        if let t = threads, !(1...256).contains(t) { throw ValidationError("--threads must be between 1 and 256") }
        guard (1...256).contains(batch) else { throw ValidationError("--batch must be between 1 and 256") }
    }

    func load() throws -> Sampler {
        if let t = threads { BLAS.setThreads(t) }
        try requireInputFile(model, what: "model file")
        return Sampler(generator: try GeneratorLoader.load(path: model), maxBatch: batch)
    }
}

/// The class a command's `--class` names (see `ClassResolver`); without `--class`, class 0 for
/// a conditional model and none for an unconditional one.
func resolveClass(_ text: String?, _ sampler: Sampler, flag: String = "--class") throws -> Int? {
    guard let text else { return sampler.generator.capabilities.conditional ? 0 : nil }
    do { return try ClassResolver.resolve(text, info: sampler.info) }
    catch let e as SamplingError { throw CLIError("\(flag): \(e.message)") }
}

/// `sampler.images(for:)`; a bad request's error names the command-line flag at fault
/// (`--class: class 12 is out of range ...`), as HTTP errors name the parameter.
func images(_ sampler: Sampler, _ request: GenerationRequest) throws -> Tensor {
    do { return try sampler.images(for: request) }
    catch let e as SamplingError {
        throw CLIError(flagMessage(e))
    }
}

/// A sampling error in command-line terms: the parameter's flag takes its place (`--cutoff must
/// be between ...`) when the flag is the parameter's own name; a flag that stands for it under
/// another name (`--spherical` for `method`) goes in front of the message as it is. An error
/// without a parameter is taken as `fallback`'s (when given).
func flagMessage(_ e: SamplingError, flag given: String? = nil, fallback: String? = nil) -> String {
    guard let p = e.parameter ?? fallback else { return given.map { "\($0): \(e.message)" } ?? e.message }
    let e = SamplingError(parameter: p, e.message)
    let f = given ?? flag(for: p)
    return f == "--" + p.replacingOccurrences(of: "_", with: "-") ? e.message(naming: f) : "\(f): \(e.message)"
}

/// The command-line flag of an API parameter: class_a → --class-a; z[3] → --z (entry 3 of the
/// file); classes → --class; rows → --rows; method → --spherical; noise_mode → --noise-mode.
func flag(for parameter: String) -> String {
    if parameter.hasPrefix("z[") { return "--z" }
    if parameter.hasPrefix("classes") { return "--class" }
    if parameter == "method" { return "--spherical" }
    return "--" + parameter.replacingOccurrences(of: "_", with: "-")
}

/// A user-facing failure: printed as `Error: <message>` with exit code 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Encodes an image as PNG and writes it with `OutputFile.write` (atomic replacement; links,
/// devices and FIFOs written through). `label` names the flag in errors, e.g. `--out`.
func writePNG(_ image: Image8, to path: String, label: String? = nil) throws {
    let bytes = try PNGCodec.encode(image)
    try writeOutput(Data(bytes), to: path, label: label)
}

/// `OutputFile.write` with its error as a `CLIError` ("--out X is a directory").
func writeOutput(_ data: Data, to path: String, label: String? = nil) throws {
    do { try OutputFile.write(data, to: path, label: label) }
    catch let e as FileAccessError { throw CLIError(e.description) }
}

/// Checks, before any work, that `--out` can be written (not a directory, its folder exists).
func checkOutput(_ path: String, label: String = "--out") throws {
    do { try OutputFile.check(path, label: label) }
    catch let e as FileAccessError { throw CLIError(e.description) }
}

/// A folder output (`eval --out DIR`): refused when it exists and is not a folder.
func checkOutputFolder(_ path: String, label: String = "--out") throws {
    guard FileManager.default.fileExists(atPath: path) || (try? OutputFile.resolve(path)) == nil else { return }
    do { try InputFile.requireDirectory(path, label: label) }
    catch let e as FileAccessError { throw CLIError(e.description) }
}

/// Throws a `CLIError` unless `path` is a regular file: "<what> not found: X", "X is a
/// directory", "X is not a regular file (it is a FIFO)", "X: too many levels of symbolic links".
func requireInputFile(_ path: String, what: String) throws {
    do { try InputFile.requireRegularFile(path) }
    catch let e as FileAccessError where e.kind == .notFound { throw CLIError("\(what) not found: \(path)") }
    catch let e as FileAccessError { throw CLIError(e.description) }
}

/// Parses a seed (non-negative integer below 2^64).
func parseSeed(_ s: String, flag: String) throws -> UInt64 {
    guard let v = UInt64(s) else { throw ValidationError("\(flag) must be a non-negative integer, got '\(s)'") }
    return v
}

/// A `--truncation` value: `none` (untruncated, z ~ N(0, I): the default everywhere) or a
/// positive number; the model checks the number's range for its convention (see `Truncation`).
struct TruncationArgument: CustomStringConvertible, Sendable {
    let value: Double?
    static let none = TruncationArgument(value: nil)
    init(value: Double?) { self.value = value }
    var description: String { Truncation.describe(value) }

    /// The `transform` of every `--truncation` option: a clear message for a bad value.
    @Sendable static func parse(_ text: String) throws -> TruncationArgument {
        do { return TruncationArgument(value: try Truncation.parse(text)) }
        catch { throw ValidationError("--truncation must be a positive number or 'none', got \(Echo.quoted(text))") }
    }
}

/// The `--truncation` help text, shared by every command that samples.
let truncationHelp = ArgumentHelp("Truncation: none (untruncated, the default), the threshold for 'resample' models, or the scale in (0, 1] for 'truncnorm-scaled' ones.",
                                  valueName: "none|T")

/// A one-line progress bar on standard error: `[#####.....] 50/100  12.3 img/s  ETA 4s`.
struct ProgressBar {
    let total: Int
    let label: String
    let start = Date()
    var done = 0
    let isTTY = isatty(2) != 0

    init(total: Int, label: String) { self.total = total; self.label = label; draw() }

    mutating func advance(by n: Int) { done += n; draw() }

    func draw() {
        let width = 30
        let frac = total == 0 ? 1 : Double(done) / Double(total)
        let filled = Int(frac * Double(width))
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(format: "%@ [%@] %d/%d  %.2f %@/s  ETA %@", label, bar, done, total, rate, "img", formatDuration(eta))
        if isTTY { FileHandle.standardError.write(Data(("\r" + line + (done == total ? "\n" : "")).utf8)) }
        else if done == total || done == 0 || done % max(1, total / 10) == 0 { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }
}

func formatDuration(_ s: Double) -> String {
    if !s.isFinite { return "?" }
    let t = Int(s.rounded())
    return t >= 3600 ? "\(t / 3600)h\((t % 3600) / 60)m" : t >= 60 ? "\(t / 60)m\(t % 60)s" : "\(t)s"
}
