import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANImage
@testable import BigGANServer

/// Issue 10 A1, A2, A4: same request same bytes over HTTP, non-finite outputs, untruncated default.
@Suite struct SamplingSemanticsTests {
    /// Tile `i` of a grid PNG of `columns` columns with 2-pixel gutters.
    static func tile(_ grid: Image8, _ i: Int, columns: Int, size: Int) -> [UInt8] {
        let x0 = (i % columns) * (size + 2), y0 = (i / columns) * (size + 2), c = grid.channels
        var out: [UInt8] = []
        for y in 0..<size {
            let start: Int = ((y0 + y) * grid.width + x0) * c
            out += grid.pixels[start ..< start + size * c]
        }
        return out
    }

    @Test func anImageIsTheSameAloneInAGridInABatchAndMerged() throws {
        let s = try TestServer()
        let grid = try s.get("/v1/sample?class=2&seed=0&n=16").image()
        // The same images alone, through POST, and merged by the worker with other requests.
        let posted = try #require(s.post("/v1/samples", json: #"{"class":2,"seeds":[3,9,7]}"#).jsonObject["images"] as? [[String: Any]])
        for (k, seed) in [3, 9, 7].enumerated() {
            let alone = try s.get("/v1/sample?class=2&seed=\(seed)").image()
            #expect(alone.pixels == Self.tile(grid, seed, columns: 4, size: 32), "seed \(seed) alone vs grid tile")
            let png = try PNGCodec.decode(Array(Data(base64Encoded: posted[k]["png_base64"] as! String)!))
            #expect(png.pixels == alone.pixels, "seed \(seed) in a POST batch")
        }
        // A fresh server (empty PNG cache, same weights): 8 requests wait together, then the
        // worker merges them into batches.
        nonisolated(unsafe) let server = try TestServer()
        server.context.worker.setPaused(true)
        nonisolated(unsafe) let results = UnsafeMutableBufferPointer<[UInt8]>.allocate(capacity: 8)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        let group = DispatchGroup()
        for k in 0..<8 {
            DispatchQueue.global().async(group: group) {
                let q = k == 7 ? "/v1/sample?class=2&seed=7" : "/v1/sample?class=\(k % 3)&seed=\(100 + k)&n=\(1 + k % 3)"
                results[k] = (try? server.get(q).image().pixels) ?? []
            }
        }
        let deadline = Date().addingTimeInterval(30)
        while server.context.worker.queueDepth < 8 && Date() < deadline { usleep(1000) }
        #expect(server.context.worker.queueDepth == 8)
        server.context.worker.setPaused(false)
        group.wait()
        #expect(results[7] == Self.tile(grid, 7, columns: 4, size: 32), "seed 7 merged with other clients' requests")
    }

    @Test func omittedTruncationIsUntruncatedSampling() throws {
        let s = try TestServer()
        let omitted = s.get("/v1/sample?class=1&seed=5&n=4")
        let none = s.get("/v1/sample?class=1&seed=5&n=4&truncation=none")
        let one = s.get("/v1/sample?class=1&seed=5&n=4&truncation=1.0")
        #expect(omitted.status == 200 && omitted.header("X-Truncation") == "none")
        #expect(omitted.body == none.body && omitted.header("ETag") == none.header("ETag"))
        #expect(omitted.body != one.body, "truncation 1.0 redraws every |z| > 1: it must differ from untruncated")
        let z = Truncation.latent(seed: 5, dim: 64, truncation: nil, convention: .resample)
        #expect(z.contains { abs($0) > 1 })
        var rng = NoiseGenerator(seed: 5)
        #expect(z == (0..<64).map { _ in rng.nextNormal() })
        let post = s.post("/v1/samples", json: #"{"class":1,"seed":5}"#).jsonObject
        #expect(post["truncation"] is NSNull)
        let models = try #require(s.get("/v1/models").jsonObject["models"] as? [[String: Any]])
        #expect(models[0]["default_truncation"] as? String == "none")
    }

    /// A model whose weights are finite but so large that its activations overflow to NaN.
    static func writeOverflowingModel(to path: String) throws {
        let weights = RandomWeights(seed: 3, scale: 1e20)
        _ = try GeneratorLoader.build(config: TestServer.tinyConfig, weights: weights)
        try GeneratorLoader.save(config: TestServer.tinyConfig, tensors: weights.generated, to: path)
    }

    @Test func nonFiniteOutputIsA500NeverABlackPNGAndNeverCached() throws {
        let s = try TestServer()
        let path = s.dir.appendingPathComponent("overflow.safetensors").path
        try Self.writeOverflowingModel(to: path)
        let registry = ModelRegistry.load(paths: [path])
        let m = try #require(registry.models.first)
        let context = ServerContext(registry: registry, worker: s.context.worker, log: nil, metrics: Metrics(),
                                    publicDirectory: nil, adminToken: nil)
        let router = Router(context: context)
        for _ in 0..<2 {
            let r = router.handle(HTTPRequest("/v1/sample?class=0&seed=1"))
            #expect(r.status == 500 && r.errorCode == "non_finite_output", "\(r.status) \(r.errorMessage)")
            #expect(r.header("Content-Type") == "application/json" && r.header("X-Cache") == nil)
        }
        #expect(context.cache.count == 0)
        let p = router.handle(HTTPRequest(method: "POST", "/v1/samples", body: Array(#"{"class":0,"seeds":[1,2]}"#.utf8)))
        #expect(p.status == 500 && p.errorCode == "non_finite_output")
        // A good request batched with a non-finite one still succeeds (checked per request).
        #expect(throws: NonFiniteOutputError.self) { try Sampler(generator: m.generator).images(for: GenerationRequest(.samples(classes: [0], latents: .seeds([1])), truncation: nil)) }
    }
}
