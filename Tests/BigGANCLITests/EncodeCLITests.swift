import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANCLI
@testable import BigGANEngine
@testable import BigGANImage

/// `biggan encode` and `biggan reconstruct` in-process: one file, a folder with a bad file, and
/// the same values as the engine.
@Suite(.serialized) struct EncodeCLITests {
    let dir = temporaryDirectory("biggan-cli-encode")
    let model = TestPaths.fixture("bigbigan-32-grey.safetensors")
    static let pattern: [UInt16] = (0..<(40 * 30)).map { UInt16($0 * 7 % 256) }

    init() throws {
        let images = dir.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try Data(RawPNG.make(width: 40, height: 30, colourType: 0, samples: Self.pattern)).write(to: images.appendingPathComponent("a.png"))
        try Data(RawPNG.make(width: 16, height: 16, colourType: 6, samples: (0..<1024).map { UInt16($0 % 256) }))
            .write(to: images.appendingPathComponent("c.png"))
        try Data("not a png".utf8).write(to: images.appendingPathComponent("b.png"))
        try Data("ignored".utf8).write(to: images.appendingPathComponent("notes.txt"))
    }

    func run(_ args: [String]) throws {
        var cmd = try BigGANCommand.parseAsRoot(args)
        try cmd.run()
    }

    func failure(_ args: [String]) -> String? {
        do { try run(args); return nil } catch { return BigGANCommand.message(for: error) }
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    @Test func encodeOneFileEqualsTheEngine() throws {
        try run(["encode", "--model", model, path("images/a.png"), "--seed", "3", "--out", path("a.json")])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("a.json")))) as! [String: Any]
        let image = try #require((json["images"] as? [[String: Any]])?.first)
        let g = try GeneratorLoader.load(path: model)
        let x = try ImagePreprocessing.decode(png: Array(try Data(contentsOf: URL(fileURLWithPath: path("images/a.png")))), side: 32, channels: 1)
        let out = try #require(g.imageEncoder).encode(x.tensor())
        #expect((image["z_mean"] as? [NSNumber])?.map(\.floatValue) == out.zMean(0))
        #expect((image["z_sample"] as? [NSNumber])?.map(\.floatValue) == out.zSample(0, seed: 3))
        #expect((image["features"] as? [NSNumber])?.count == 32 && image["seed"] as? Int == 3)
        #expect(((image["preprocessing"] as? [String: Any])?["crop"] as? [String: Int]) == ["x": 5, "y": 0, "side": 30])
        #expect((json["skipped"] as? [Any])?.isEmpty == true && json["dim_z"] as? Int == 20)
    }

    @Test func foldersSkipAndReportBadFiles() throws {
        let message = failure(["encode", "--model", model, path("images"), "--out", path("all.json")])
        #expect(message?.contains("1 of 3 files could not be read: b.png") == true, "\(message ?? "")")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("all.json")))) as! [String: Any]
        let images = try #require(json["images"] as? [[String: Any]])
        #expect(images.compactMap { ($0["file"] as? String).map { ($0 as NSString).lastPathComponent } } == ["a.png", "c.png"])
        #expect(images.compactMap { $0["seed"] as? Int } == [0, 2])
        #expect(((json["skipped"] as? [[String: Any]])?.first?["error"] as? String)?.contains("not a PNG") == true)
        // reconstruct: one PNG per readable file, named as the input.
        let r = failure(["reconstruct", "--model", model, path("images"), "--out", path("recons"), "--class", "square", "--side"])
        #expect(r?.contains("1 of 3 files could not be read: b.png") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: path("recons")).sorted() == ["a.png", "c.png"])
        #expect(try PNGCodec.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path("recons/c.png"))))).width == 66)
    }

    @Test func reconstructOneFileEqualsTheEngine() throws {
        try run(["reconstruct", "--model", model, path("images/a.png"), "--out", path("r.png"), "--class", "triangle"])
        let g = try GeneratorLoader.load(path: model)
        let sampler = Sampler(generator: g)
        let x = try ImagePreprocessing.decode(png: Array(try Data(contentsOf: URL(fileURLWithPath: path("images/a.png")))), side: 32, channels: 1)
        let expected = try sampler.reconstruct(x.tensor(), latent: .mean, template: sampler.prepareReconstruction(class: 2, count: 1)).images
        #expect(try PNGCodec.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path("r.png")))), channels: 1) == Image8(batch: expected, index: 0))
        try run(["reconstruct", "--model", model, path("images/a.png"), "--out", path("s.png"), "--class", "2", "--sample", "--seed", "4"])
        let sampled = try sampler.reconstruct(x.tensor(), latent: .sample(seed: 4), template: sampler.prepareReconstruction(class: 2, count: 1)).images
        #expect(try PNGCodec.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path("s.png")))), channels: 1) == Image8(batch: sampled, index: 0))
        // Unconditional model: no class needed; a class is refused.
        let u = TestPaths.fixture("bigbigan-32-rgb.safetensors")
        try run(["reconstruct", "--model", u, path("images/a.png"), "--out", path("u.png")])
        #expect(failure(["reconstruct", "--model", u, path("images/a.png"), "--out", path("u.png"), "--class", "0"])?.contains("--class") == true)
    }

    @Test func clearErrors() throws {
        let plain = TestPaths.fixture("biggan-32.safetensors")
        #expect(failure(["encode", "--model", plain, path("images/a.png")])?.contains("without an encoder") == true)
        #expect(failure(["encode", "--model", model, path("nothing.png")])?.contains("input not found") == true)
        #expect(failure(["reconstruct", "--model", model, path("images/a.png"), "--out", path("images")])?.contains("is a directory") == true)
        #expect(failure(["reconstruct", "--model", model, path("images/b.png"), "--out", path("x.png")])?.contains("1 of 1 file could not be read") == true)
    }
}
