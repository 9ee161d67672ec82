import ArgumentParser
import BigGANCLI
import BigGANEngine
import Foundation

/// Times the generator's forward pass (milliseconds per image, effective GFLOP/s), with
/// `--encoder` a BigBiGAN model's encoder (`EncoderBench`), or with `--train` whole training
/// iterations. Run beside `scripts/bench_torch.py` / `scripts/bench_torch_train.py` /
/// `scripts/bench_runtimes.py`, which time the same models in PyTorch and other runtimes.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "biggan-bench",
        abstract: "Time the generator forward pass, a BigBiGAN encoder or a training iteration (build with -c release).",
        discussion: """
            Examples: swift run -c release biggan-bench --model deep-128 --batch 8 --json
                      swift run -c release biggan-bench --model bigbigan.safetensors --encoder --batch 8 --json
                      swift run -c release biggan-bench --train shipped --iters 5
            """)

    @Option(help: "A preset (\(ModelConfig.presetNames.joined(separator: ", "))) with random weights, or a checkpoint file.")
    var model: String = "deep-128"
    @Option(help: "Images per forward pass, or per training batch with --train (default: 1; 32 for shipped, 64 for width32).") var batch: Int?
    @Option(help: "Time training iterations (2 D steps + 1 G step) of a model pair instead: \(TrainBench.presets.joined(separator: " or ")).")
    var train: String?
    @Option(help: "Timed iterations after one warm-up.") var iters: Int = 5
    @Option(help: "Engine threads for GEMMs and other loops (default: number of cores; OpenBLAS itself runs single-threaded).") var threads: Int?
    @Option(help: "Truncation.") var truncation: Double = 0.5
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "Print time and GFLOP/s per layer kind (one extra profiled pass).") var profile = false
    @Flag(help: "With --profile: split convolutions by size and channels.") var detailed = false
    @Flag(help: "Print resident memory (now and peak) after loading, after the warm-up pass and at the end, relative to the weights' size.")
    var memory = false
    @Option(help: "With --memory: idle activation buffers kept by the final trim, in MiB (default: the engine's, 40).")
    var poolMb: Int?
    @Option(help: "Parity check: an io file from scripts/check_full_parity.py (with --encoder: x [B, C, R, R] and z_mean, from scripts/bench_runtimes.py); prints the max abs error and fails above 1e-3.")
    var check: String?
    @Flag(help: "Time (or with --check, check) the encoder of a bigbigan checkpoint instead of its generator: images → z_mean, σ, features.")
    var encoder = false

    func validate() throws {
        if let batch, !(1...512).contains(batch) { throw ValidationError("--batch must be between 1 and 512") }
        if let poolMb, poolMb < 0 { throw ValidationError("--pool-mb must be 0 or more") }
        if let train, !TrainBench.presets.contains(train) { throw ValidationError("--train must be one of \(TrainBench.presets.joined(separator: ", "))") }
        guard (1...1000).contains(iters) else { throw ValidationError("--iters must be between 1 and 1000") }
        if encoder, train != nil { throw ValidationError("--encoder times a model's encoder; it cannot be combined with --train") }
        if encoder, ModelConfig.preset(model) != nil {
            throw ValidationError("--encoder needs a bigbigan checkpoint; the preset '\(model)' has no encoder")
        }
    }

    func run() throws {
        if let t = threads { BLAS.setThreads(t) }
        if let poolMb { BufferPool.shared.capacityBytes = poolMb << 20 }
        if let train { try runTraining(train); return }
        let batch = self.batch ?? 1
        let g: any Generator
        let loadStart = Date()
        if let cfg = ModelConfig.preset(model) { g = try GeneratorLoader.random(config: cfg, seed: 1).0 }
        else { g = try GeneratorLoader.load(path: model) }
        let loadSeconds = Date().timeIntervalSince(loadStart)
        let weightBytes = g.parameterCount * MemoryLayout<Float>.stride
        if memory { printMemory("after loading", weightBytes: weightBytes) }
        if encoder {
            let bench = try EncoderBench(generator: g, model: model, maxBatch: batch)
            if let check { try bench.check(ioPath: check); return }
            try runEncoder(bench, batch: batch, loadSeconds: loadSeconds, weightBytes: weightBytes)
            return
        }
        if let check { try runCheck(g, ioPath: check); return }

        let sampler = Sampler(generator: g, maxBatch: batch)
        let classes = (0..<batch).map { $0 % g.info.nClasses }
        let seeds = (0..<batch).map { UInt64($0) }
        let t = g.capabilities.truncation.maximum.map { min(truncation, $0) } ?? truncation
        let request = GenerationRequest(.samples(classes: g.capabilities.conditional ? classes : [], latents: .seeds(seeds)), truncation: t)
        _ = try sampler.images(for: request)   // warm-up
        if memory { printMemory("after the warm-up pass", weightBytes: weightBytes) }
        var times: [Double] = []
        let faultsBefore = ProcessMemory.current()?.minorPageFaults ?? 0
        for _ in 0..<iters {
            let s = DispatchTime.now().uptimeNanoseconds
            _ = try sampler.images(for: request)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9)
        }
        let median = times.sorted()[times.count / 2]
        if memory {
            printMemory("after \(iters) timed passes", weightBytes: weightBytes)
            let faults = (ProcessMemory.current()?.minorPageFaults ?? 0) - faultsBefore
            print(String(format: "page faults per timed pass: %.0f", Double(faults) / Double(iters)))
            BufferPool.shared.trim()
            printMemory("after trimming the pool (the server does this after 2 s idle)", weightBytes: weightBytes)
        }
        if profile { try printProfile(detailed: detailed) { _ = try sampler.images(for: request) } }
        let msPerImage = median * 1000 / Double(batch)
        let gflopPerImage = 2 * Double(g.macsPerImage) / 1e9
        let gflops = gflopPerImage / (median / Double(batch))
        if json {
            let obj: [String: Any] = ["impl": "swift", "model": model, "batch": batch, "threads": BLAS.threads,
                                      "ms_per_image": msPerImage, "gflops": gflops, "gflop_per_image": gflopPerImage,
                                      "load_seconds": loadSeconds, "iters": iters]
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print(String(format: "%@ batch %d, %d BLAS threads: %.1f ms/image, %.1f GFLOP/s (%.2f GFLOP/image, median of %d)",
                         model, batch, BLAS.threads, msPerImage, gflops, gflopPerImage, iters))
            print(BLAS.configDescription)
        }
    }

    func runTraining(_ preset: String) throws {
        let bench = TrainBench(preset: preset, batch: batch, iterations: iters)
        let r = try bench.run(profile: profile)
        let b = batch ?? bench.defaultBatch
        if json {
            let obj: [String: Any] = ["impl": "swift", "train": preset, "batch": b, "threads": BLAS.threads, "d_steps": bench.dSteps,
                                      "s_per_iteration": r.median, "iterations_per_s": 1 / r.median, "best_s": r.best,
                                      "g_params": r.gParams, "d_params": r.dParams, "iters": iters]
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print(String(format: "train %@ batch %d (%d D steps + 1 G step), %d BLAS threads: %.3f s/iteration, %.2f iterations/s (median of %d, best %.3f s); G %d, D %d parameters",
                         preset, b, bench.dSteps, BLAS.threads, r.median, 1 / r.median, iters, r.best, r.gParams, r.dParams))
        }
    }

    func printMemory(_ moment: String, weightBytes: Int) {
        guard let m = ProcessMemory.current() else { print("memory: /proc/self/status not readable"); return }
        let mb = { (b: Int) in Double(b) / 1_048_576 }
        print(String(format: "memory %@: resident %.0f MiB (%.2f× weights), peak %.0f MiB (%.2f×), pool idle %.0f MiB, buffers in use at most %.0f MiB; weights %.0f MiB",
                     moment, mb(m.residentBytes), Double(m.residentBytes) / Double(weightBytes),
                     mb(m.peakResidentBytes), Double(m.peakResidentBytes) / Double(weightBytes),
                     mb(BufferPool.shared.idleByteCount), mb(BufferPool.shared.takePeakLiveBytes()), mb(weightBytes)))
    }

    /// Runs the io file's inputs through the model and compares with its reference output.
    func runCheck(_ g: any Generator, ioPath: String) throws {
        let io = try SafeTensorsFile(path: ioPath)
        let z = try io.tensor("z"), y = try io.tensor("y"), expected = try io.tensor("out")
        // ajbrock io files hold embedded classes [B, shared_dim]; BigGAN-deep ones class vectors [B, n_classes].
        let e = y.shape[1] == g.conditioning(forClass: 0).count ? y : g.conditioning(forClassVectors: y)
        let t = Double(String(format: "%.6g", Double(try io.tensor("truncation")[0])))!
        let start = Date()
        let out = g.forward(z: z, conditioning: e, truncation: t)
        let seconds = Date().timeIntervalSince(start)
        let (b, h, w, c) = (out.shape[0], out.shape[1], out.shape[2], out.shape[3])
        precondition(expected.shape == [b, c, h, w], "reference output shape \(expected.shape)")
        var err: Float = 0
        for n in 0..<b { for y in 0..<h { for x in 0..<w { for k in 0..<c {
            err = max(err, abs(out[((n * h + y) * w + x) * c + k] - expected[((n * c + k) * h + y) * w + x]))
        } } } }
        print(String(format: "parity: max abs error %.3g over %d images (%.2f s)", err, b, seconds))
        if err > 1e-3 { throw ExitCode.failure }
    }
}

OpenMPSettings.restartWithShortSpinIfNeeded()
Bench.main()
