import ArgumentParser
import BigGANEngine
import Foundation

/// `biggan-bench --encoder`: a `bigbigan` model's encoder, timed through the engine's public API
/// (`Sampler.encode`: the forward pass and the finiteness checks of `z_mean`, σ and the features)
/// on a fixed batch of images, or checked against an io file of `scripts/bench_runtimes.py`.
struct EncoderBench {
    let sampler: Sampler
    let encoder: any ImageEncoder

    /// - Throws: `ValidationError` when `generator` (loaded from `model`) has no encoder.
    init(generator: any Generator, model: String, maxBatch: Int) throws {
        guard let e = generator.imageEncoder else {
            throw ValidationError("--encoder: \(model) has no encoder (architecture '\(generator.info.architecture)'); "
                                  + "only bigbigan checkpoints have one")
        }
        encoder = e
        sampler = Sampler(generator: generator, maxBatch: maxBatch)
    }

    /// Nominal multiply-adds of one image (0 when the encoder does not say).
    var macsPerImage: Int { (encoder as? BigBiGANEncoder)?.config.macsPerImage ?? 0 }

    /// `batch` fixed images `[B, R, R, C]` in [−1, 1] at the encoder's resolution and channels:
    /// smooth stripes that differ by image and channel (the values change no work).
    func images(batch: Int) -> Tensor {
        let (r, c) = (encoder.encoderInfo.resolution, encoder.encoderInfo.channels)
        let t = Tensor(uninitializedShape: [batch, r, r, c])
        for n in 0..<batch { for y in 0..<r { for x in 0..<r { for k in 0..<c {
            t[((n * r + y) * r + x) * c + k] = Float(sin(0.37 * Double(x + 2 * y) + 1.3 * Double(k) + 0.7 * Double(n)))
        } } } }
        return t
    }

    /// One encoding of `images` (what is timed).
    func encode(_ images: Tensor) throws -> EncoderOutput { try sampler.encode(images) }

    /// Encodes the io file's `x` (`[B, C, R, R]`, NCHW as PyTorch and the ONNX graph take it) and
    /// compares `z_mean` with its `z_mean` `[B, z_dim]`: prints the max abs error and fails above 1e-3.
    /// - Throws: `ValidationError` for a missing or mis-shaped tensor; `ExitCode.failure` above 1e-3.
    func check(ioPath: String) throws {
        let io = try SafeTensorsFile(path: ioPath)
        let x = try io.tensor("x"), expected = try io.tensor("z_mean")
        let (r, c, dimZ) = (encoder.encoderInfo.resolution, encoder.encoderInfo.channels, encoder.encoderInfo.dimZ)
        let b = x.shape.first ?? 0
        guard x.shape == [b, c, r, r], b > 0 else {
            throw ValidationError("--check: x must be [B, \(c), \(r), \(r)] (NCHW) for this encoder, got \(x.shape)")
        }
        guard expected.shape == [b, dimZ] else {
            throw ValidationError("--check: z_mean must be [\(b), \(dimZ)], got \(expected.shape)")
        }
        let nhwc = Tensor(uninitializedShape: [b, r, r, c])
        for n in 0..<b { for k in 0..<c { for y in 0..<r { for w in 0..<r {
            nhwc[((n * r + y) * r + w) * c + k] = x[((n * c + k) * r + y) * r + w]
        } } } }
        let start = Date()
        let out = try encode(nhwc)
        let seconds = Date().timeIntervalSince(start)
        var err: Float = 0
        for i in 0..<expected.count { err = max(err, abs(out.zMean[i] - expected[i])) }
        print(String(format: "parity: max abs error %.3g over %d images (%.2f s)", err, b, seconds))
        if err > 1e-3 { throw ExitCode.failure }
    }
}

extension Bench {
    /// `--encoder` without `--check`: one warm-up encoding, `iters` timed ones; prints the same
    /// fields as the generator path (`ms_per_image`, `gflops`, …) with `"encoder": true`.
    func runEncoder(_ bench: EncoderBench, batch: Int, loadSeconds: Double, weightBytes: Int) throws {
        let x = bench.images(batch: batch)
        _ = try bench.encode(x)   // warm-up
        if memory { printMemory("after the warm-up pass", weightBytes: weightBytes) }
        var times: [Double] = []
        for _ in 0..<iters {
            let s = DispatchTime.now().uptimeNanoseconds
            _ = try bench.encode(x)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9)
        }
        let median = times.sorted()[times.count / 2]
        if memory { printMemory("after \(iters) timed passes", weightBytes: weightBytes) }
        if profile { try printProfile(detailed: detailed) { _ = try bench.encode(x) } }
        let msPerImage = median * 1000 / Double(batch)
        let gflopPerImage = 2 * Double(bench.macsPerImage) / 1e9
        let gflops = gflopPerImage / (median / Double(batch))
        if json {
            let obj: [String: Any] = ["impl": "swift", "model": model, "encoder": true, "batch": batch, "threads": BLAS.threads,
                                      "ms_per_image": msPerImage, "gflops": gflops, "gflop_per_image": gflopPerImage,
                                      "load_seconds": loadSeconds, "iters": iters]
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print(String(format: "%@ encoder batch %d, %d BLAS threads: %.2f ms/image, %.1f GFLOP/s (%.2f GFLOP/image, median of %d)",
                         model, batch, BLAS.threads, msPerImage, gflops, gflopPerImage, iters))
            print(BLAS.configDescription)
        }
    }
}

/// Runs `pass` once with the profiler on (`detailed`: per-size rows) and prints its report: the
/// `--profile` pass of every benchmark.
func printProfile(detailed: Bool, _ pass: () throws -> Void) rethrows {
    Profiler.isEnabled = true
    Profiler.detailed = detailed
    defer { Profiler.isEnabled = false }
    try pass()
    print(Profiler.report())
}
