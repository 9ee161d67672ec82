import BigGANImage
import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANServer

/// Issue 11: a family added through the registry alone (`UnconditionalFamily/` and one
/// `register` call) loads and serves; unconditional models are never asked for a class.
@Suite struct UnconditionalFamilyTests {
    /// A server over the tiny conditional model and a random unconditional BigGAN `u`.
    final class Fixture {
        let dir = temporaryDirectory("unconditional")
        let context: ServerContext
        let router: Router
        let path: String

        init() throws {
            GeneratorFamilies.register(UnconditionalBigGANFamily.self)
            var config = ModelConfig.biggan(resolution: 32, ch: 2, dimZ: 8, sharedDim: 4, nClasses: 1, hier: true, attention: [16])!
            config.classNames = ["thing"]
            let (_, tensors) = try GeneratorLoader.random(config: config, seed: 11)
            config.architecture = .init(rawValue: UnconditionalBigGANFamily.architecture)
            path = dir.appendingPathComponent("u.safetensors").path
            try GeneratorLoader.save(config: config, tensors: tensors, to: path)
            let tiny = dir.appendingPathComponent("tiny.safetensors").path
            try TestServer.writeTinyModel(to: tiny)
            let registry = ModelRegistry.load(paths: [tiny, path])
            #expect(registry.failures.isEmpty, "\(registry.failures)")
            let metrics = Metrics()
            context = ServerContext(registry: registry, worker: ComputeWorker(metrics: metrics), log: nil, metrics: metrics,
                                    publicDirectory: nil, adminToken: nil)
            router = Router(context: context)
        }

        deinit { context.worker.shutdown(); try? FileManager.default.removeItem(at: dir) }

        func get(_ target: String) -> HTTPResponse { router.handle(HTTPRequest(target)) }
        func post(_ json: String) -> HTTPResponse {
            router.handle(HTTPRequest(method: "POST", "/v1/samples", headers: ["content-type": "application/json"], body: Array(json.utf8)))
        }
    }

    @Test func modelsListItsCapabilities() throws {
        let f = try Fixture()
        let models = try #require(f.get("/v1/models").jsonObject["models"] as? [[String: Any]])
        let u = try #require(models.first { $0["name"] as? String == "u" })
        let caps = try #require(u["capabilities"] as? [String: Any])
        #expect(u["architecture"] as? String == "biggan-unconditional")
        #expect(caps["conditional"] as? Bool == false && caps["latent_spaces"] as? [String] == ["z"] && caps["encoder"] as? Bool == false)
        let tiny = try #require(models.first { $0["name"] as? String == "tiny" }?["capabilities"] as? [String: Any])
        #expect(tiny["conditional"] as? Bool == true)
        let detail = f.get("/v1/models/u").jsonObject
        #expect((detail["config"] as? [String: Any])?["architecture"] as? String == "biggan-unconditional")
    }

    @Test func samplesWithoutAClassAndEqualsTheEngine() throws {
        let f = try Fixture()
        let r = f.get("/v1/sample?model=u&seed=5&n=2&columns=2")
        #expect(r.status == 200, "\(r.errorMessage)")
        #expect(r.header("X-Class") == nil && r.header("X-Seeds") == "5-6")
        let g = try GeneratorLoader.load(path: f.path)
        #expect(g.info.architecture == "biggan-unconditional" && !g.capabilities.conditional)
        let expected = try Sampler(generator: g).images(for: .samples(class: nil, seed: 5, count: 2, truncation: nil))
        #expect(try r.image() == Image8.grid(expected, columns: 2))
        // A class given to an unconditional model is a 400 naming the parameter.
        let withClass = f.get("/v1/sample?model=u&seed=5&class=0")
        #expect(withClass.status == 400 && withClass.errorMessage.hasPrefix("'class'") && withClass.errorMessage.contains("unconditional"))
        // The conditional model still needs one, and says which parameter is missing.
        let noClass = f.get("/v1/sample?model=tiny&seed=5")
        #expect(noClass.status == 400 && noClass.errorMessage.hasPrefix("'class' is required"))
    }

    @Test func postAndInterpolateWithoutClass() throws {
        let f = try Fixture()
        let p = f.post(#"{"model": "u", "seed": 3, "n": 2}"#)
        #expect(p.status == 200, "\(p.errorMessage)")
        let images = try #require(p.jsonObject["images"] as? [[String: Any]])
        #expect(images.count == 2 && images.allSatisfy { $0["class"] is NSNull && $0["class_name"] is NSNull })
        #expect(images.map { $0["seed"] as? Int } == [3, 4])
        let bad = f.post(#"{"model": "u", "seed": 3, "classes": [0]}"#)
        #expect(bad.status == 400 && bad.errorMessage.hasPrefix("'class"))
        let strip = f.get("/v1/interpolate?model=u&kind=latent&seed_a=1&seed_b=2&steps=3")
        #expect(strip.status == 200, "\(strip.errorMessage)")
        let g = try GeneratorLoader.load(path: f.path)
        let expected = try Sampler(generator: g).images(for: GenerationRequest(
            .latentInterpolation(class: nil, seedA: 1, seedB: 2, steps: 3, method: .linear), truncation: nil))
        #expect(try strip.image() == Image8.grid(expected, columns: 3))
        let classStrip = f.get("/v1/interpolate?model=u&kind=class&steps=3")
        #expect(classStrip.status == 400 && classStrip.errorMessage.contains("unconditional"))
    }

    @Test func unknownArchitecturesNameTheRegisteredFamilies() throws {
        var config = TestServer.tinyConfig
        config.architecture = .init(rawValue: "stylegan9")
        #expect(GeneratorFamilies.family(for: "stylegan9") == nil)
        do { _ = try GeneratorLoader.random(config: config); Issue.record("built an unknown family") }
        catch let e as CheckpointError {
            #expect(e.reason.contains("unknown architecture 'stylegan9'") && e.reason.contains("biggan, biggan-deep"))
        }
        // The BigGAN family refuses a config whose architecture is not its own kind.
        #expect(throws: CheckpointError.self) { try config.validate(file: "x") }
    }
}
