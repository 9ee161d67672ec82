import ArgumentParser
import BigGANEngine
import BigGANImage
import Foundation

/// `biggan encode`: PNG images → the encoder's `z_mean`, σ, a seeded `z_sample` and the pooled
/// features, as JSON (the same values as `POST /v1/encode`).
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode PNG images with a bigbigan model's encoder: z_mean, sigma, a seeded z_sample and pooled features, as JSON.",
        discussion: """
        Each image is centre-cropped to a square, resized to the encoder's resolution (area filter
        when shrinking, bicubic when enlarging), converted to its channels (alpha on black) and
        scaled to [-1, 1], as POST /v1/encode does. Image i of a folder (sorted by name) uses seed S+i.
          biggan encode --model bigbigan.safetensors photo.png
          biggan encode --model bigbigan.safetensors images/ --out codes.json
        """)

    @OptionGroup var modelOptions: ModelOptions
    @Argument(help: "A PNG file, or a folder of them (*.png, not recursive).") var input: String
    @Option(parsing: .unconditional, help: "Seed of ε in z_sample = z_mean + σ·ε (image i of a folder: seed+i).") var seed = "0"
    @Option(help: "Output JSON file (default: standard output).") var out: String?

    func validate() throws { _ = try parseSeed(seed, flag: "--seed") }

    struct Entry: Encodable {
        let file: String, seed: UInt64
        let zMean: [Float], sigma: [Float], zSample: [Float], features: [Float]
        let preprocessing: PreprocessingFacts
        enum CodingKeys: String, CodingKey { case file, seed, zMean = "z_mean", sigma, zSample = "z_sample", features, preprocessing }
    }
    struct Skipped: Encodable { let file: String; let error: String }
    struct Report: Encodable {
        let model: String, dimZ: Int, featureWidth: Int, sigmaParameterisation: String
        let images: [Entry]
        let skipped: [Skipped]
        enum CodingKeys: String, CodingKey {
            case model, dimZ = "dim_z", featureWidth = "feature_width", sigmaParameterisation = "sigma_parameterisation", images, skipped
        }
    }

    func run() throws {
        if let out { try checkOutput(out) }
        let inputs = try EncoderInputs(input)
        let (sampler, e) = try modelOptions.loadEncoding()
        let base = try parseSeed(seed, flag: "--seed")
        var entries: [Entry] = [], skipped: [Skipped] = []
        var failure: Error?
        do {
            try inputs.forEach(label: "encoding") { i, file in
                do {
                    let image = try EncoderInputs.preprocess(file, side: e.resolution, channels: e.channels)
                    let s = base &+ UInt64(i)
                    let o = try sampler.encode(image.tensor())
                    entries.append(Entry(file: file, seed: s, zMean: o.zMean(0), sigma: o.sigma(0), zSample: o.zSample(0, seed: s),
                                         features: o.features(0), preprocessing: PreprocessingFacts(image)))
                } catch let error as CLIError {
                    skipped.append(Skipped(file: file, error: error.description)); throw error
                } catch {
                    skipped.append(Skipped(file: file, error: "\(error)")); throw CLIError("\(file): \(error)")
                }
            }
        } catch { failure = error }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let report = Report(model: modelOptions.model, dimZ: e.dimZ, featureWidth: e.featureWidth, sigmaParameterisation: e.sigma,
                            images: entries, skipped: skipped)
        let data = try enc.encode(report) + Data("\n".utf8)
        if let out {
            try writeOutput(data, to: out, label: "--out")
            print("wrote \(out) (\(entries.count) image\(entries.count == 1 ? "" : "s") encoded)")
        } else {
            FileHandle.standardOutput.write(data)
        }
        if let failure { throw failure }
    }
}
