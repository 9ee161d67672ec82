import ArgumentParser
import BigGANEngine
import BigGANImage
import Foundation

/// `biggan reconstruct`: PNG images → G(E(x)) as PNGs (the same images as `POST /v1/reconstruct`).
struct ReconstructCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconstruct",
        abstract: "Reconstruct PNG images with a bigbigan model: G(E(x)), optionally beside the preprocessed input.",
        discussion: """
        One file writes --out FILE.png; a folder writes DIR/<name>.png for each *.png in it.
        Preprocessing as in biggan encode. G decodes z_mean unless --sample (z_sample of --seed).
          biggan reconstruct --model bigbigan.safetensors photo.png --out recon.png --side --class Sneaker
          biggan reconstruct --model bigbigan.safetensors images/ --out recons/
        """)

    @OptionGroup var modelOptions: ModelOptions
    @Argument(help: "A PNG file, or a folder of them (*.png, not recursive).") var input: String
    @Option(help: "Output PNG (for one file) or folder (for a folder).") var out: String
    @Flag(help: "Write the preprocessed input beside its reconstruction.") var side = false
    @Option(name: [.customLong("class")], parsing: .unconditional, help: "Class of the reconstruction (conditional generators; default 0).") var classText: String?
    @Flag(help: "Decode z_sample = z_mean + σ·ε (ε from --seed; image i of a folder: seed+i) instead of z_mean.") var sample = false
    @Option(parsing: .unconditional, help: "Seed of ε with --sample.") var seed = "0"

    func validate() throws { _ = try parseSeed(seed, flag: "--seed") }

    func run() throws {
        let inputs = try EncoderInputs(input)
        if inputs.isFolder {
            do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
            catch { throw CLIError("cannot create the folder --out \(out): \(error.localizedDescription)") }
        } else {
            try checkOutput(out)
        }
        let (sampler, e) = try modelOptions.loadEncoding()
        let cls = try resolveClass(classText, sampler)
        let template: PreparedBatch
        do { template = try sampler.prepareReconstruction(class: cls, count: 1) }
        catch let error as SamplingError { throw CLIError(flagMessage(error, fallback: "class")) }
        let base = try parseSeed(seed, flag: "--seed")
        let info = sampler.info
        var written = 0
        try inputs.forEach(label: "reconstructing") { i, file in
            let image = try EncoderInputs.preprocess(file, side: e.resolution, channels: e.channels)
            let latent: Sampler.ReconstructionLatent = sample ? .sample(seed: base &+ UInt64(i)) : .mean
            let recon: Tensor
            do { recon = try sampler.reconstruct(image.tensor(), latent: latent, template: template).images }
            catch { throw CLIError("\(file): \(error)") }
            var row = recon
            if side {
                let shown = info.resolution == e.resolution && info.channels == e.channels ? image
                    : try EncoderInputs.preprocess(file, side: info.resolution, channels: info.channels)
                row = Tensor(shape: [2, info.resolution, info.resolution, info.channels], values: shown.values + recon.array)
            }
            let path = inputs.isFolder ? (out as NSString).appendingPathComponent((file as NSString).lastPathComponent) : out
            try writePNG(Image8.grid(row, columns: 2), to: path, label: "--out")
            written += 1
        }
        print("wrote \(inputs.isFolder ? "\(written) reconstructions to \(out)" : out)")
    }
}
