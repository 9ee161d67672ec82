import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANServer

/// Routes exercised in-process, without a socket.
@Suite struct RouteTests {
    /// JSON answers keep slashes as they are (the encode route's "x/127.5 - 1").
    @Test func jsonAnswersDoNotEscapeSlashes() {
        #expect(String(decoding: HTTPResponse.json(["scale": "x/127.5 - 1"]).body, as: UTF8.self) == #"{"scale":"x/127.5 - 1"}"#)
    }

    @Test func healthReportsModelsAndLog() throws {
        let s = try TestServer()
        let r = s.get("/healthz")
        #expect(r.status == 200)
        #expect(r.jsonObject["status"] as? String == "ok")
        #expect(r.jsonObject["models"] as? [String] == ["tiny"])
    }

    @Test func modelListAndDetail() throws {
        let s = try TestServer()
        let list = s.get("/v1/models").jsonObject["models"] as? [[String: Any]]
        #expect(list?.first?["name"] as? String == "tiny")
        #expect(list?.first?["default"] as? Bool == true)
        let d = s.get("/v1/models/tiny")
        #expect(d.status == 200)
        #expect(d.jsonObject["class_names"] as? [String] == ["cat", "dog", "bird"])
        #expect(d.jsonObject["resolution"] as? Int == 32)
        let missing = s.get("/v1/models/nope")
        #expect(missing.status == 404 && missing.errorCode == "unknown_model")
    }

    @Test func sampleIsAPNGWithCachingHeaders() throws {
        let s = try TestServer()
        let r = s.get("/v1/sample?class=dog&seed=7&truncation=0.8")
        #expect(r.status == 200)
        #expect(r.header("Content-Type") == "image/png")
        let img = try r.image()
        #expect(img.width == 32 && img.height == 32)
        let etag = try #require(r.header("ETag"))
        #expect(r.header("Cache-Control")?.contains("immutable") == true)
        #expect(r.header("X-Seed") == "7" && r.header("X-Class") == "1")
        // Same request: same bytes from the cache; conditional request: 304.
        let again = s.get("/v1/sample?class=1&seed=7&truncation=0.8")
        #expect(again.body == r.body && again.header("X-Cache") == "hit" && again.header("ETag") == etag)
        let cond = s.get("/v1/sample?class=dog&seed=7&truncation=0.8", headers: ["if-none-match": etag])
        #expect(cond.status == 304 && cond.body.isEmpty)
        // A different seed is a different image with a different tag.
        let other = s.get("/v1/sample?class=dog&seed=8&truncation=0.8")
        #expect(other.body != r.body && other.header("ETag") != etag)
    }

    /// Replicas share ETags: a copy of the checkpoint with another modification time (as a copy
    /// into a container image or onto another machine has) gives the same fingerprint and so the
    /// same ETag; one changed weight gives another.
    @Test func etagsFollowTheWeightsNotTheFile() throws {
        let s = try TestServer()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("etag-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("tiny.safetensors").path
        try FileManager.default.copyItem(atPath: s.modelPath, toPath: copy)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1e9)], ofItemAtPath: copy)
        let original = try #require(s.context.registry.models.first).fingerprint
        #expect(try #require(ModelRegistry.load(paths: [copy]).models.first).fingerprint == original)
        // Flip one bit of the last weight (the file ends with tensor data).
        var bytes = try Data(contentsOf: URL(fileURLWithPath: copy))
        bytes[bytes.count - 1] ^= 1
        try bytes.write(to: URL(fileURLWithPath: copy))
        #expect(try #require(ModelRegistry.load(paths: [copy]).models.first).fingerprint != original)
    }

    @Test func sampleMatchesTheEngineDirectly() throws {
        let s = try TestServer()
        let g = try GeneratorLoader.load(path: s.modelPath)
        let expected = try Sampler(generator: g).images(for: GenerationRequest(.samples(classes: [2, 2], latents: .seeds([3, 4])), truncation: 0.5))
        let r = s.get("/v1/sample?class=2&seed=3&n=2&columns=2&truncation=0.5")
        #expect(try r.image() == Image8.grid(expected, columns: 2))
    }

    @Test func sampleWithoutSeedIsRandomAndUncached() throws {
        let s = try TestServer()
        let r = s.get("/v1/sample?class=0")
        #expect(r.status == 200 && r.header("ETag") == nil && r.header("Cache-Control") == "no-store")
        #expect(UInt64(r.header("X-Seed") ?? "") != nil)
    }

    @Test func gridSize() throws {
        let s = try TestServer()
        let img = try s.get("/v1/sample?class=0&seed=1&n=4").image()
        #expect(img.width == 66 && img.height == 66)
    }

    @Test(arguments: [
        ("n=0", "'n' must be between 1 and 64"), ("n=65", "'n' must be between 1 and 64"), ("n=abc", "'n' must be an integer"),
        ("truncation=nan", "'truncation' must be a positive number or 'none'"), ("truncation=-1", "'truncation' must be a positive number or 'none'"),
        ("truncation=abc", "'truncation' must be a positive number or 'none'"), ("truncation=0.001", "'truncation' must be at least 0.01, got 0.001"),
        ("class=zebra", "unknown class name 'zebra'"), ("class=99", "class 99 is out of range"), ("class=-1", "class -1 is out of range"),
        ("class=", "unknown class name ''"), ("model=tiny", "'class' is required"),
        ("seed=-1", "'seed' must be an integer"), ("seed=1e3", "'seed' must be an integer"), ("columns=9", "'columns' must be between"),
    ])
    func badSampleParameters(query: String, message: String) throws {
        let s = try TestServer()
        let seed = query.hasPrefix("seed=") ? "" : "seed=1&"
        let r = s.get("/v1/sample?" + seed + (query.hasPrefix("class=") || query.hasPrefix("model=") ? query : "class=0&" + query))
        #expect(r.status == 400, "\(r.status) \(r.errorMessage)")
        #expect(r.errorCode == "invalid_parameter")
        #expect(r.errorMessage.contains(message), "\(r.errorMessage)")
    }

    /// API routes refuse query parameters they do not take, and repeated ones, naming them.
    @Test func unknownAndRepeatedParametersAreRefused() throws {
        let s = try TestServer()
        let typo = s.get("/v1/sample?class=0&seed=1&trunction=0.5")
        #expect(typo.status == 400 && typo.errorMessage.contains("unknown parameter 'trunction' for GET /v1/sample"), "\(typo.errorMessage)")
        #expect(typo.errorMessage.contains("did you mean 'truncation'?") && typo.errorMessage.contains("it takes model, class, seed"))
        let twice = s.get("/v1/sample?class=0&seed=1&seed=2")
        #expect(twice.status == 400 && twice.errorMessage == "'seed' is given more than once; give each parameter once")
        #expect(s.get("/v1/models?x=1").status == 400)
        #expect(s.get("/v1/interpolate?kind=latent&class=0&seed_a=1&steps=3").status == 200)
        // Outside the API the query is ignored (cache-busting on the gallery's files, probes).
        #expect(s.get("/healthz?probe=1").status == 200 && s.get("/style.css?v=2").status == 200)
    }

    @Test func unknownModelIs404() throws {
        let s = try TestServer()
        let r = s.get("/v1/sample?model=nope&class=1")
        #expect(r.status == 404 && r.errorCode == "unknown_model" && r.errorMessage.contains("available: tiny"))
    }

    @Test func latentInterpolationWithOneSeedGoesToTheNextSeed() throws {
        let s = try TestServer()
        let one = s.get("/v1/interpolate?kind=latent&class=1&seed_a=5&steps=3")
        let two = s.get("/v1/interpolate?kind=latent&class=1&seed_a=5&seed_b=6&steps=3")
        #expect(one.status == 200 && one.body == two.body)
        let strip = try one.image()
        func tile(_ x0: Int) -> [UInt8] {
            var out: [UInt8] = []
            for y in 0..<32 {
                let start: Int = (y * strip.width + x0) * strip.channels
                out += strip.pixels[start ..< start + 32 * strip.channels]
            }
            return out
        }
        let first = tile(0), last = tile(2 * 34)
        #expect(first != last, "a strip from seed 5 must not stay at seed 5")
    }

    @Test func interpolationStrips() throws {
        let s = try TestServer()
        let l = s.get("/v1/interpolate?kind=latent&class=cat&seed_a=1&seed_b=2&steps=5&method=spherical")
        #expect(try l.status == 200 && l.image().width == 5 * 32 + 4 * 2)
        #expect(l.header("ETag") != nil)
        let c = s.get("/v1/interpolate?kind=class&seed=3&class_a=cat&class_b=bird&steps=3")
        #expect(try c.status == 200 && c.image().height == 32)
        for (q, msg) in [("kind=latent&class=0&steps=1", "'steps' must be between 2 and 32"), ("kind=latent&class=0&steps=33", "'steps' must be between 2 and 32"),
                         ("kind=sideways", "'kind' must be latent or class"), ("kind=class&class_a=cat", "'class_b' is required"),
                         ("kind=latent&method=cubic", "'method' must be linear or spherical"), ("kind=latent", "'class' is required"), ("kind=class&class_a=0&class_b=lion", "unknown class name 'lion'"),
                         ("kind=latent&class=0&seed=3", "'seed' does not apply to kind=latent"),
                         ("kind=class&class_a=0&class_b=1&method=spherical", "'method' does not apply to kind=class"),
                         ("kind=class&class_a=0&class_b=1&seed_a=4", "'seed_a' does not apply to kind=class"),
                         ("kind=latent&class=0&method=slerp", "'method' must be linear or spherical")] {
            let r = s.get("/v1/interpolate?" + q)
            #expect(r.status == 400 && r.errorMessage.contains(msg), "\(q): \(r.errorMessage)")
        }
    }

    @Test func routingErrors() throws {
        let s = try TestServer()
        #expect(s.get("/v1/nothing").status == 404)
        #expect(s.router.handle(HTTPRequest(method: "POST", "/v1/sample")).status == 405)
        #expect(s.get("/v1/samples").status == 405)
        #expect(s.router.handle(HTTPRequest(method: "DELETE", "/healthz")).status == 405)
    }

    @Test func metrics() throws {
        let s = try TestServer()
        _ = s.get("/v1/sample?class=0&seed=1&n=2")
        let m = String(decoding: s.get("/metrics").body, as: UTF8.self)
        #expect(m.contains("biggan_requests_total{route=\"/v1/sample\",status=\"200\"} 1"))
        #expect(m.contains("biggan_request_duration_seconds_bucket{le=\"+Inf\"}"))
        #expect(m.contains("biggan_images_generated_total{model=\"tiny\"} 2"))
        #expect(m.contains("biggan_queue_depth 0"))
        // The OpenAPI document's routes are checked against the route table in RouteTableTests.
    }
}
