import ArgumentParser
import BigGANEngine
import Foundation

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Write one image, a grid (--n), or many files (--out-dir with --count).",
        discussion: """
        Image i uses seed S+i. Examples:
          biggan sample --model m.safetensors --class 3 --seed 7 --out one.png
          biggan sample --model m.safetensors --class sneaker --n 16 --out grid.png
          biggan sample --model m.safetensors --class 0 --out-dir out/ --count 1000
          biggan sample --model m.safetensors --class 0 --out-dir out/ --count 1000 --shard 2/4   (images 500-749)
          biggan sample --model m.safetensors --class all --n 10 --out sheet.png   (one row per class)
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: [.customLong("class")], parsing: .unconditional, help: "Class index or name, or 'all' for a sheet with one row of --n images per class (default: 0; none for unconditional models).")
    var classText: String?

    @Option(parsing: .unconditional, help: "Base seed.")
    var seed: String = "0"

    @Option(parsing: .unconditional, help: truncationHelp, transform: TruncationArgument.parse) var truncation: TruncationArgument = .none

    @Option(help: "Images in the grid written to --out (1...256).")
    var n: Int = 1

    @Option(help: "Grid columns (default: ceil(sqrt(n))).")
    var columns: Int?

    @Option(help: "JSON file with explicit latents: [[z...], ...]; overrides --seed and --n.")
    var z: String?

    @OptionGroup(title: "StyleGAN options") var styleOptions: StyleSamplingOptions

    @Option(help: "Output PNG (one image or a grid).")
    var out: String?

    @Option(help: "Directory for many PNGs, one per image: <class>-<seed>.png (<seed>.png for unconditional models).")
    var outDir: String?

    @Option(help: "Number of images written to --out-dir (1...1000000).")
    var count: Int?

    @Option(help: ArgumentHelp("K/M: write only shard K (0-based) of M of the --count images: images ⌊K·count/M⌋ ..< ⌊(K+1)·count/M⌋.",
                               discussion: "The M shards together write exactly the files of the unsharded run, byte for byte (the same seeds; outputs do not depend on the batch). A Kubernetes indexed Job passes its JOB_COMPLETION_INDEX as K."))
    var shard: String?

    var allClasses: Bool { classText?.lowercased() == "all" }

    func validate() throws {
        if allClasses {
            if outDir != nil || z != nil { throw ValidationError("--class all writes one sheet: use it with --out and --n, not --out-dir or --z") }
            if columns != nil { throw ValidationError("--class all puts --n images in each row; --columns does not apply") }
        }
        guard (1...256).contains(n) else { throw ValidationError("--n must be between 1 and 256, got \(n)") }
        if let c = columns, !(1...n).contains(c) { throw ValidationError("--columns must be between 1 and --n (\(n)), got \(c)") }
        _ = try parseSeed(seed, flag: "--seed")
        if styleOptions.seedMode == .numpy && z != nil { throw ValidationError("--seed-mode numpy draws z from seeds; it does not apply to --z") }
        switch (out, outDir) {
        case (nil, nil): throw ValidationError("give --out FILE.png or --out-dir DIR")
        case (.some, .some): throw ValidationError("--out and --out-dir cannot be used together")
        case (nil, .some):
            guard let c = count else { throw ValidationError("--out-dir needs --count") }
            guard (1...1_000_000).contains(c) else { throw ValidationError("--count must be between 1 and 1000000") }
            if z != nil { throw ValidationError("--z is for --out only") }
            if let shard { _ = try Self.parseShard(shard, count: c) }
        case (.some, nil):
            if count != nil { throw ValidationError("--count is for --out-dir; use --n for a grid") }
            if shard != nil { throw ValidationError("--shard splits --out-dir --count runs") }
        }
    }

    /// `K/M` → the image indices of shard K (0-based) of M over `count` images.
    static func parseShard(_ text: String, count: Int) throws -> Range<Int> {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let m = Int(parts[1]) else {
            throw ValidationError("--shard must be K/M (shard K of M, K from 0), got '\(text)'")
        }
        guard m >= 1, m <= count else { throw ValidationError("--shard \(text): M must be between 1 and --count (\(count))") }
        guard (0..<m).contains(k) else { throw ValidationError("--shard \(text): K must be between 0 and \(m - 1)") }
        return (k * count / m)..<((k + 1) * count / m)
    }

    func run() throws {
        if let out { try checkOutput(out) }
        let sampler = try modelOptions.load()
        let base = try parseSeed(seed, flag: "--seed")
        if allClasses { try writeSheet(sampler: sampler, base: base); return }
        let cls = try resolveClass(classText, sampler)
        if let dir = outDir {
            let range = try shard.map { try Self.parseShard($0, count: count!) } ?? 0..<count!
            try writeMany(sampler: sampler, classIndex: cls, base: base, indices: range, dir: dir)
            return
        }
        let latents: GenerationRequest.Latents = try z.map { .explicit(try readLatents($0)) } ?? .seeds((0..<n).map { base &+ UInt64($0) })
        let images = try images(sampler, try styleOptions.request(.samples(classes: cls.map { [$0] } ?? [], latents: latents), truncation: truncation))
        let what = cls.map { " of class \($0) '\(sampler.info.className($0))'" } ?? ""
        try writePNG(Image8.grid(images, columns: columns), to: out!, label: "--out")
        print("wrote \(out!) (\(images.shape[0]) image\(images.shape[0] == 1 ? "" : "s")\(what))")
    }

    /// One row per class, `n` images each with seeds `base ..< base+n` (the same seeds in every row).
    private func writeSheet(sampler: Sampler, base: UInt64) throws {
        let classes = sampler.info.nClasses
        guard classes * n <= 4096 else { throw CLIError("a sheet of \(classes) classes × \(n) images is over 4096 images; lower --n") }
        let images = try images(sampler, try styleOptions.request(.classSheet(perClass: n, seed: base), truncation: truncation))
        try writePNG(Image8.grid(images, columns: n), to: out!, label: "--out")
        print("wrote \(out!) (\(classes) rows, one per class, of \(n) image\(n == 1 ? "" : "s"))")
    }

    /// Images `indices` (image i has seed base + i), one file each.
    private func writeMany(sampler: Sampler, classIndex: Int?, base: UInt64, indices: Range<Int>, dir: String) throws {
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        catch { throw CLIError("cannot create \(dir): \(error.localizedDescription)") }
        var bar = ProgressBar(total: indices.count, label: "sampling")
        var i = indices.lowerBound
        while i < indices.upperBound {
            let m = min(sampler.maxBatch, indices.upperBound - i)
            let first = base &+ UInt64(i)
            let images = try images(sampler, try styleOptions.request(.samples(classes: classIndex.map { [$0] } ?? [],
                                                                               latents: .seeds((0..<m).map { first &+ UInt64($0) })),
                                                                      truncation: truncation))
            for k in 0..<m {
                let name = (classIndex.map { "\($0)-" } ?? "") + "\(first &+ UInt64(k)).png"
                try writePNG(Image8(batch: images, index: k), to: (dir as NSString).appendingPathComponent(name))
            }
            i += m
            bar.advance(by: m)
        }
        let which = indices.count == count ? "" : " (images \(indices.lowerBound)..<\(indices.upperBound) of \(count!), shard \(shard!))"
        print("wrote \(indices.count) images to \(dir)\(which)")
    }

    private func readLatents(_ path: String) throws -> [[Float]] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        guard let v = try? JSONDecoder().decode([[Float]].self, from: data), !v.isEmpty else {
            throw CLIError("\(path): expected a JSON array of latent vectors, e.g. [[0.1, -0.3, ...]]")
        }
        guard v.count <= 256 else { throw CLIError("\(path): at most 256 latents, got \(v.count)") }
        return v
    }
}
