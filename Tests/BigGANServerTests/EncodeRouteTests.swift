import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANImage
@testable import BigGANServer

/// `POST /v1/encode` and `POST /v1/reconstruct` without a socket: results equal the engine's,
/// every PNG mode and size is accepted, and every bad body is refused before the worker.
@Suite struct EncodeRouteTests {
    /// A 32 × 32 grey PNG with a smooth pattern.
    static let grey32: [UInt8] = {
        let samples: [UInt16] = (0..<1024).map { (i: Int) -> UInt16 in UInt16((i % 32) * 6 + (i / 32) * 2) }
        return RawPNG.make(width: 32, height: 32, colourType: 0, samples: samples)
    }()

    static func post(_ s: TestServer, _ target: String, _ body: [UInt8], type: String? = "image/png") -> HTTPResponse {
        s.router.handle(HTTPRequest(method: "POST", target, headers: type.map { ["content-type": $0] } ?? [:], body: body))
    }

    static func floats(_ any: Any?) -> [Float] { (any as? [NSNumber] ?? []).map(\.floatValue) }

    @Test func encodeEqualsTheEngine() throws {
        let s = try TestServer(bigBiGAN: true)
        let r = Self.post(s, "/v1/encode?model=bigbigan&seed=5", Self.grey32)
        #expect(r.status == 200, "\(r.errorMessage)")
        let j = r.jsonObject
        let g = try s.context.registry.model(named: "bigbigan").generator
        let x = try ImagePreprocessing.decode(png: Self.grey32, side: 32, channels: 1)
        let out = try #require(g.imageEncoder).encode(x.tensor())
        #expect(Self.floats(j["z_mean"]) == out.zMean(0) && Self.floats(j["sigma"]) == out.sigma(0))
        #expect(Self.floats(j["features"]) == out.features(0) && Self.floats(j["z_sample"]) == out.zSample(0, seed: 5))
        #expect(j["seed"] as? Int == 5 && j["dim_z"] as? Int == 20 && j["feature_width"] as? Int == 32)
        let pre = try #require(j["preprocessing"] as? [String: Any])
        #expect(pre["resize"] as? String == "none" && pre["resolution"] as? Int == 32 && pre["channels"] as? Int == 1)
        #expect((pre["source"] as? [String: Any])?["mode"] as? String == "grey")
        // The same request, the same answer; another seed, another z_sample but the same z_mean.
        #expect(Self.post(s, "/v1/encode?model=bigbigan&seed=5", Self.grey32).body == r.body)
        let other = Self.post(s, "/v1/encode?model=bigbigan&seed=6", Self.grey32).jsonObject
        #expect(Self.floats(other["z_mean"]) == out.zMean(0) && Self.floats(other["z_sample"]) != Self.floats(j["z_sample"]))
        // Logged with the model.
        s.context.log!.flush()
        let rows = try s.context.log!.recent(limit: 5)
        #expect(rows.contains { $0.path == "/v1/encode" && $0.status == 200 && $0.model == "bigbigan" })
    }

    @Test func everyModeAndSizeIsAccepted() throws {
        let s = try TestServer(bigBiGAN: true)
        let rgb = RawPNG.make(width: 64, height: 48, colourType: 2, samples: (0..<(64 * 48 * 3)).map { UInt16($0 % 256) })
        let cases: [(String, [UInt8], String, String)] = [
            ("grey+alpha", RawPNG.make(width: 10, height: 20, colourType: 4, samples: (0..<400).map { UInt16($0 % 2 == 0 ? $0 % 256 : 255) }), "grey+alpha", "bicubic"),
            ("rgba 16-bit", RawPNG.make(width: 40, height: 33, colourType: 6, bitDepth: 16, samples: (0..<(40 * 33 * 4)).map { UInt16($0 * 97 % 65536) }), "rgba", "area"),
            ("palette", RawPNG.make(width: 33, height: 40, colourType: 3, samples: (0..<(33 * 40)).map { UInt16($0 % 4) },
                                    palette: [0, 0, 0, 255, 0, 0, 0, 255, 0, 10, 20, 30]), "palette", "area"),
            ("grey 16-bit", RawPNG.make(width: 32, height: 32, colourType: 0, bitDepth: 16, samples: (0..<1024).map { UInt16($0 * 64) }), "grey", "none"),
            ("rgb", rgb, "rgb", "area"),
            ("grey 8-bit", Self.grey32, "grey", "none"),
        ]
        for model in ["bigbigan", "bigbigan-u"] {
            for (name, png, mode, resize) in cases {
                let r = Self.post(s, "/v1/encode?model=\(model)&seed=1", png)
                #expect(r.status == 200, "\(model) \(name): \(r.errorMessage)")
                let pre = r.jsonObject["preprocessing"] as? [String: Any]
                #expect((pre?["source"] as? [String: Any])?["mode"] as? String == mode, "\(name)")
                #expect(pre?["resize"] as? String == resize && pre?["channels"] as? Int == (model == "bigbigan" ? 1 : 3), "\(name)")
            }
        }
        let crop = Self.post(s, "/v1/encode?model=bigbigan-u", rgb).jsonObject["preprocessing"] as? [String: Any]
        #expect((crop?["crop"] as? [String: Int]) == ["x": 8, "y": 0, "side": 48])
    }

    /// Every refusal, answered on the request's thread: the worker is paused throughout, so a
    /// request that reached it would never return.
    @Test func badBodiesNeverReachTheWorker() throws {
        var limits = Limits()
        limits.maxImageBytes = 100_000
        limits.maxImagePixels = 200 * 200
        let s = try TestServer(bigBiGAN: true, limits: limits)
        s.context.worker.setPaused(true)
        defer { s.context.worker.setPaused(false) }
        let good = Self.grey32
        var flippedIDAT = good; flippedIDAT[60] ^= 0xFF
        var badCRC = good; badCRC[20] ^= 1
        var tooLarge = HTTPRequest(method: "POST", "/v1/encode?model=bigbigan", headers: ["content-type": "image/png"])
        tooLarge.bodyTooLarge = true
        let cases: [(String, HTTPRequest, Int, String)] = [
            ("not a PNG", req(Array("GIF89a, not a png".utf8)), 400, "invalid_png"),
            ("truncated", req(Array(good.prefix(good.count / 2))), 400, "invalid_png"),
            ("header only", req(Array(good.prefix(33))), 400, "invalid_png"),
            ("corrupt IDAT", req(flippedIDAT), 400, "invalid_png"),
            ("IHDR CRC", req(badCRC), 400, "invalid_png"),
            ("bomb", req(RawPNG.header(width: 100_000, height: 100_000, tail: RawPNG.chunk("IDAT", [0x78, 0x01]))), 413, "image_too_large"),
            ("over pixels", req(RawPNG.header(width: 201, height: 200)), 413, "image_too_large"),
            ("over bytes", req([UInt8](repeating: 0, count: 100_001)), 413, "body_too_large"),
            ("flagged by the adapter", tooLarge, 413, "body_too_large"),
            ("wrong type", req(good, type: "application/json"), 415, "unsupported_media_type"),
            ("no type", req(good, type: nil), 415, "unsupported_media_type"),
            ("empty", req([]), 400, "empty_body"),
            ("not bigbigan", req(good, target: "/v1/encode?model=tiny"), 400, "unsupported"),
            ("unknown model", req(good, target: "/v1/encode?model=nope"), 404, "unknown_model"),
            ("bad seed", req(good, target: "/v1/encode?model=bigbigan&seed=-1"), 400, "invalid_parameter"),
            ("reconstruct: no class", req(good, target: "/v1/reconstruct?model=bigbigan"), 400, "invalid_parameter"),
            ("reconstruct: class refused", req(good, target: "/v1/reconstruct?model=bigbigan-u&class=0"), 400, "invalid_parameter"),
            ("reconstruct: seed without sample", req(good, target: "/v1/reconstruct?model=bigbigan&class=0&seed=3"), 400, "invalid_parameter"),
            ("reconstruct: side=2", req(good, target: "/v1/reconstruct?model=bigbigan&class=0&side=2"), 400, "invalid_parameter"),
            ("reconstruct: no index", req(good, target: "/v1/reconstruct?model=bigbigan&class=0&k=3"), 404, "no_index"),
            ("reconstruct: bomb", req(RawPNG.header(width: 70_000, height: 3), target: "/v1/reconstruct?model=bigbigan&class=0"), 413, "image_too_large"),
            ("reconstruct: not bigbigan", req(good, target: "/v1/reconstruct?model=tiny&class=0"), 400, "unsupported"),
        ]
        for (name, request, status, code) in cases {
            let answered = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var response: HTTPResponse?
            let router = s.router
            DispatchQueue.global().async { response = router.handle(request); answered.signal() }
            guard answered.wait(timeout: .now() + 30) == .success else { Issue.record("\(name): reached the worker"); continue }
            #expect(response?.status == status && response?.errorCode == code, "\(name): \(response?.status ?? 0) \(response?.errorMessage ?? "")")
            if code == "unsupported" { #expect(response?.errorMessage.contains("'tiny'") == true) }
        }
        #expect(s.context.worker.queueDepth == 0)
    }

    /// Random damage to a valid PNG: every answer is a 200 or a 4xx with a JSON error, never a crash.
    @Test func mutatedPNGsNeverCrash() throws {
        let s = try TestServer(bigBiGAN: true)
        var rng = NoiseGenerator(seed: 99)
        var statuses: [Int: Int] = [:]
        for i in 0..<300 {
            var png = Self.grey32
            switch i % 3 {
            case 0: png = Array(png.prefix(Int(rng.nextUInt64() % UInt64(png.count))))
            case 1: for _ in 0..<1 + Int(rng.nextUInt64() % 4) { png[Int(rng.nextUInt64() % UInt64(png.count))] = UInt8(rng.nextUInt64() & 0xFF) }
            default: png.insert(contentsOf: (0..<8).map { _ in UInt8(rng.nextUInt64() & 0xFF) }, at: Int(rng.nextUInt64() % UInt64(png.count)))
            }
            let r = Self.post(s, "/v1/encode?model=bigbigan&seed=1", png)
            statuses[r.status, default: 0] += 1
            #expect([200, 400, 413].contains(r.status), "\(r.status) \(r.errorMessage)")
            if r.status != 200 { #expect(r.errorCode != nil) }
        }
        #expect(statuses[400, default: 0] > 100, "\(statuses)")
    }

    @Test func reconstructEqualsTheEngine() throws {
        let s = try TestServer(bigBiGAN: true)
        let g = try s.context.registry.model(named: "bigbigan").generator
        let sampler = Sampler(generator: g)
        let x = try ImagePreprocessing.decode(png: Self.grey32, side: 32, channels: 1).tensor()
        let mean = try sampler.reconstruct(x, latent: .mean, template: try sampler.prepareReconstruction(class: 2, count: 1)).images
        let r = Self.post(s, "/v1/reconstruct?model=bigbigan&class=triangle", Self.grey32)
        #expect(r.status == 200 && r.header("Content-Type") == "image/png" && r.header("X-Latent") == "z_mean", "\(r.errorMessage)")
        #expect(try PNGCodec.decode(r.body, channels: 1) == Image8(batch: mean, index: 0))
        // side=1: the preprocessed input, a 2-pixel gutter, the reconstruction.
        let side = try PNGCodec.decode(Self.post(s, "/v1/reconstruct?model=bigbigan&class=2&side=1", Self.grey32).body, channels: 1)
        #expect(side.width == 66 && side.height == 32)
        let input = Image8(batch: x, index: 0)
        #expect((0..<32).allSatisfy { y in Array(side.pixels[(y * 66)..<(y * 66 + 32)]) == Array(input.pixels[(y * 32)..<(y * 32 + 32)]) })
        // sample=1: z_sample of the seed, deterministic.
        let a = Self.post(s, "/v1/reconstruct?model=bigbigan&class=2&sample=1&seed=4", Self.grey32)
        let sampled = try sampler.reconstruct(x, latent: .sample(seed: 4), template: try sampler.prepareReconstruction(class: 2, count: 1)).images
        #expect(a.header("X-Seed") == "4" && a.header("X-Latent") == "z_sample")
        #expect(try PNGCodec.decode(a.body, channels: 1) == Image8(batch: sampled, index: 0))
        // Unconditional, RGB, from a grey upload.
        let u = Self.post(s, "/v1/reconstruct?model=bigbigan-u&side=1", Self.grey32)
        #expect(u.status == 200, "\(u.errorMessage)")
        #expect(try PNGCodec.decode(u.body).width == 66)
    }

    /// A bigbigan model is served by every generation route exactly as its generator samples.
    @Test func generationRoutesServeTheGenerator() throws {
        let s = try TestServer(bigBiGAN: true)
        let g = try s.context.registry.model(named: "bigbigan").generator
        let images = try Sampler(generator: g).images(for: .samples(class: 1, seed: 3, count: 1, truncation: 0.7))
        let r = s.get("/v1/sample?model=bigbigan&class=square&seed=3&truncation=0.7")
        #expect(r.status == 200)
        #expect(try PNGCodec.decode(r.body, channels: 1) == Image8(batch: images, index: 0))
        #expect(s.get("/v1/sample?model=bigbigan-u&seed=3&n=4").status == 200)
        #expect(s.get("/v1/sample?model=bigbigan-u&class=0&seed=3").status == 400)
        #expect(s.get("/v1/interpolate?model=bigbigan&kind=class&class_a=0&class_b=2&seed=1&steps=3").status == 200)
        #expect(s.post("/v1/samples", json: #"{"model": "bigbigan", "class": 0, "seeds": [1, 2]}"#).status == 200)
        // /v1/models shows both parts.
        let models = try #require(s.get("/v1/models").jsonObject["models"] as? [[String: Any]])
        let m = try #require(models.first { $0["name"] as? String == "bigbigan" })
        #expect(m["architecture"] as? String == "bigbigan" && m["resolution"] as? Int == 32 && m["dim_z"] as? Int == 20)
        #expect((m["capabilities"] as? [String: Any])?["encoder"] as? Bool == true)
        let e = try #require(m["encoder"] as? [String: Any])
        #expect(e["resolution"] as? Int == 32 && e["channels"] as? Int == 1 && e["dim_z"] as? Int == 20 && e["feature_width"] as? Int == 32)
        #expect(e["sigma"] as? String == "softplus")
        #expect(models.first { $0["name"] as? String == "tiny" }?["encoder"] == nil)
        let detail = s.get("/v1/models/bigbigan").jsonObject
        #expect(((detail["config"] as? [String: Any])?["encoder"] as? [String: Any])?["z_dim"] as? Int == 20)
    }
}

private func req(_ body: [UInt8], type: String? = "image/png", target: String = "/v1/encode?model=bigbigan") -> HTTPRequest {
    HTTPRequest(method: "POST", target, headers: type.map { ["content-type": $0] } ?? [:], body: body)
}

extension EncodeRouteTests {
    /// With `k`, the row ends with the input's nearest training images (the model's index).
    @Test func reconstructWithNeighbours() throws {
        let data = temporaryDirectory("biggan-bbg-nn")
        defer { try? FileManager.default.removeItem(at: data) }
        try tinyDataset(at: data)
        let s = try TestServer(dataset: "folder:" + data.path, bigBiGAN: true)
        try ready(s.context.registry)
        let r = Self.post(s, "/v1/reconstruct?model=bigbigan-u&side=1&k=3", Self.grey32)
        #expect(r.status == 200, "\(r.errorMessage)")
        let img = try PNGCodec.decode(r.body)
        #expect(img.width == 5 * 32 + 4 * 2 && img.height == 32)
        let ids = try #require(r.header("X-Neighbours")).split(separator: ",")
        #expect(ids.count == 3 && r.header("X-Distances")?.split(separator: ",").count == 3)
        // The same neighbours as the index gives for the input itself.
        let service = try #require(try s.context.registry.model(named: "bigbigan-u").neighbours)
        let query = try ImagePreprocessing.decode(png: Self.grey32, side: 32, channels: 3).tensor()
        let found = try service.neighbours(of: query, k: 3, space: .pixel, restrictTo: nil, build: false)
        #expect(ids.map { Int($0)! } == found.matches.map(\.index))
        #expect(Self.post(s, "/v1/reconstruct?model=bigbigan-u&k=3&space=feature", Self.grey32).errorCode == "no_index")
    }
}
