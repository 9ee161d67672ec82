import BigGANEngine
import BigGANImage
import Foundation

/// The images `biggan encode` and `biggan reconstruct` read: one PNG file, or every `*.png` in a
/// folder (not recursive, sorted by name). A file that cannot be read or decoded is reported and
/// skipped; the command finishes the others and then fails (exit code 1) naming how many.
struct EncoderInputs {
    /// The files, in order.
    let files: [String]
    /// Whether the input was a folder.
    let isFolder: Bool

    init(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw CLIError("input not found: \(path)") }
        if isDir.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            files = names.filter { $0.lowercased().hasSuffix(".png") }.sorted().map { (path as NSString).appendingPathComponent($0) }
            guard !files.isEmpty else { throw CLIError("\(path) holds no .png files") }
            isFolder = true
        } else {
            try requireInputFile(path, what: "input image")
            files = [path]; isFolder = false
        }
    }

    /// `file` decoded, centre-cropped and resized for an input of `side × side × channels`.
    /// - Throws: `CLIError` naming the file (not a PNG, damaged, too many pixels).
    static func preprocess(_ file: String, side: Int, channels: Int) throws -> PreprocessedImage {
        guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("\(file): cannot read the file") }
        do { return try ImagePreprocessing.decode(png: Array(data), side: side, channels: channels) }
        catch let e as PNGError { throw CLIError("\(file): \(e.message)") }
        catch let e as ImageTooLarge { throw CLIError("\(file): \(e.description)") }
    }

    /// Runs `body` on each file with a progress bar for folders; failures are printed to standard
    /// error and collected. Throws at the end when any file was skipped.
    func forEach(label: String, _ body: (Int, String) throws -> Void) throws {
        var bar = isFolder ? ProgressBar(total: files.count, label: label) : nil
        var skipped: [String] = []
        for (i, file) in files.enumerated() {
            do { try body(i, file) }
            catch let e as CLIError {
                skipped.append(file)
                FileHandle.standardError.write(Data(((isFolder && bar?.isTTY == true ? "\n" : "") + "skipped \(e.description)\n").utf8))
            }
            bar?.advance(by: 1)
        }
        if !skipped.isEmpty {
            throw CLIError("\(skipped.count) of \(files.count) file\(files.count == 1 ? "" : "s") could not be read: "
                           + skipped.prefix(5).map { ($0 as NSString).lastPathComponent }.joined(separator: ", ") + (skipped.count > 5 ? ", …" : ""))
        }
    }
}

extension ModelOptions {
    /// The model and its encoder; a model without one is an error naming the file.
    func loadEncoding() throws -> (Sampler, EncoderInfo) {
        let sampler = try load()
        guard let e = sampler.generator.imageEncoder else {
            throw CLIError("--model \(model) is a \(sampler.info.architecture) model without an encoder; encode and reconstruct need a bigbigan model")
        }
        return (sampler, e.encoderInfo)
    }
}
