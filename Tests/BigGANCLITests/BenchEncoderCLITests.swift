import BigGANEngine
import BigGANTestSupport
import Foundation
import Testing

/// `biggan-bench --encoder` as a process: its timing JSON on a bigbigan fixture, `--check` against
/// an io file in `scripts/bench_runtimes.py`'s layout (`x` NCHW, `z_mean`), and clear refusals for
/// models without an encoder.
@Suite struct BenchEncoderCLITests {
    let model = TestPaths.fixture("bigbigan-32-rgb.safetensors")

    func bench(_ args: [String]) throws -> (status: Int32, output: String) {
        try Executables.run("biggan-bench", args + ["--threads", "1"])
    }

    @Test func timesTheEncoder() throws {
        let r = try bench(["--model", model, "--encoder", "--batch", "2", "--iters", "1", "--json"])
        #expect(r.status == 0, "\(r.output)")
        let line = try #require(r.output.split(separator: "\n").last { $0.hasPrefix("{") })
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(obj["encoder"] as? Bool == true && obj["batch"] as? Int == 2 && obj["iters"] as? Int == 1)
        #expect((obj["ms_per_image"] as? Double).map { $0 > 0 } == true, "\(obj)")
        let config = try #require((try GeneratorLoader.load(path: model) as? BigBiGANModel)?.bigbiganConfig.encoder)
        #expect(obj["gflop_per_image"] as? Double == 2 * Double(config.macsPerImage) / 1e9)
    }

    @Test func refusesModelsWithoutAnEncoder() throws {
        let plain = try bench(["--model", TestPaths.fixture("biggan-32.safetensors"), "--encoder"])
        #expect(plain.status != 0 && plain.output.contains("has no encoder (architecture 'biggan')"), "\(plain.output)")
        let preset = try bench(["--model", "deep-128", "--encoder"])
        #expect(preset.status != 0 && preset.output.contains("the preset 'deep-128' has no encoder"), "\(preset.output)")
        let train = try bench(["--train", "shipped", "--encoder"])
        #expect(train.status != 0 && train.output.contains("cannot be combined with --train"), "\(train.output)")
    }

    @Test func checksZMeanAgainstAnIoFile() throws {
        let dir = temporaryDirectory("biggan-bench-encoder")
        defer { try? FileManager.default.removeItem(at: dir) }
        // The fixture's io file holds x as NHWC; bench_runtimes writes it as NCHW.
        let io = try SafeTensorsFile(path: TestPaths.fixture("bigbigan-32-rgb-io.safetensors"))
        let x = try io.tensor("x"), zMean = try io.tensor("z_mean")
        let (b, r, c) = (x.shape[0], x.shape[1], x.shape[3])
        let nchw = Tensor(shape: [b, c, r, r])
        for n in 0..<b { for k in 0..<c { for y in 0..<r { for w in 0..<r {
            nchw[((n * c + k) * r + y) * r + w] = x[((n * r + y) * r + w) * c + k]
        } } } }
        func write(_ name: String, _ tensors: [(String, Tensor)]) throws -> String {
            let path = dir.appendingPathComponent(name).path
            try SafeTensorsWriter.write(tensors, metadata: [:], to: path)
            return path
        }
        let ok = try bench(["--model", model, "--encoder", "--check", try write("ok.safetensors", [("x", nchw), ("z_mean", zMean)])])
        #expect(ok.status == 0, "\(ok.output)")
        let err = ok.output.split(separator: "\n").first { $0.hasPrefix("parity: max abs error") }.flatMap { Float($0.split(separator: " ")[4]) }
        #expect(err.map { $0 < 1e-4 } == true, "\(ok.output)")

        let shifted = zMean.copy()
        shifted[0] += 0.01
        let wrong = try bench(["--model", model, "--encoder", "--check", try write("wrong.safetensors", [("x", nchw), ("z_mean", shifted)])])
        #expect(wrong.status != 0 && wrong.output.contains("parity: max abs error 0.01"), "\(wrong.output)")
        let nhwc = try bench(["--model", model, "--encoder", "--check", try write("nhwc.safetensors", [("x", x), ("z_mean", zMean)])])
        #expect(nhwc.status != 0 && nhwc.output.contains("x must be [B, 3, 32, 32] (NCHW)"), "\(nhwc.output)")
    }
}
