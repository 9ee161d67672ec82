import BigGANTestSupport
import Foundation
@testable import BigGANEngine
@testable import BigGANImage
@testable import BigGANServer

/// A server context over a tiny random model, a temporary request log and a public folder
/// (with a secret file beside it that must never be served).
final class TestServer {
    let dir: URL
    let context: ServerContext
    let router: Router
    let modelPath: String

    /// `dataset`: a `ModelConfig.dataset` reference written into the tiny model's config.
    /// `styleGAN`: also serve the StyleGAN fixtures, after the tiny BigGAN (the default model):
    /// `stylegan` (conditional, 5 classes, stored noise, class centroids, cutoff 4) and
    /// `stylegan-u` (unconditional, no stored noise, no centroids, cutoff 2).
    /// `bigBiGAN`: also serve the BigBiGAN fixtures: `bigbigan` (conditional, grey, 3 classes) and
    /// `bigbigan-u` (unconditional, RGB; with `dataset` in its generator config too).
    init(adminToken: String? = "test-token-123", queueCapacity: Int = 64, maxBatch: Int = 16, dbPath: String? = nil,
         dataset: String? = nil, classifier: String? = nil, logCapacity: Int = RequestLog.defaultCapacity, styleGAN: Bool = false,
         bigBiGAN: Bool = false, limits: Limits = Limits()) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("biggan-server-\(UUID().uuidString)")
        let models = dir.appendingPathComponent("models"), pub = dir.appendingPathComponent("public")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: pub, withIntermediateDirectories: true)
        try Data("<html>gallery</html>".utf8).write(to: pub.appendingPathComponent("index.html"))
        try Data("body{}".utf8).write(to: pub.appendingPathComponent("style.css"))
        try Data("top secret".utf8).write(to: dir.appendingPathComponent("secret.txt"))
        try FileManager.default.createSymbolicLink(at: pub.appendingPathComponent("escape.txt"), withDestinationURL: dir.appendingPathComponent("secret.txt"))
        modelPath = models.appendingPathComponent("tiny.safetensors").path
        try TestServer.writeTinyModel(to: modelPath, dataset: dataset, classifier: classifier)
        var paths = [modelPath]
        if styleGAN {
            for (fixture, name) in [("stylegan-32-cond", "stylegan"), ("stylegan-32", "stylegan-u")] {
                let path = models.appendingPathComponent(name + ".safetensors")
                try FileManager.default.copyItem(at: URL(fileURLWithPath: TestPaths.fixture(fixture + ".safetensors")), to: path)
                paths.append(path.path)
            }
        }
        if bigBiGAN {
            for (fixture, name) in [("bigbigan-32-grey", "bigbigan"), ("bigbigan-32-rgb", "bigbigan-u")] {
                let path = models.appendingPathComponent(name + ".safetensors")
                try FileManager.default.copyItem(at: URL(fileURLWithPath: TestPaths.fixture(fixture + ".safetensors")), to: path)
                if name == "bigbigan-u", let dataset { try TestServer.setDataset(dataset, in: path.path) }
                paths.append(path.path)
            }
        }
        let registry = ModelRegistry.load(paths: paths)
        let metrics = Metrics()
        let worker = ComputeWorker(maxBatch: maxBatch, queueCapacity: queueCapacity, metrics: metrics)
        let log = RequestLog(path: dbPath ?? dir.appendingPathComponent("requests.sqlite").path, capacity: logCapacity)
        context = ServerContext(registry: registry, worker: worker, log: log, metrics: metrics, publicDirectory: pub.path, adminToken: adminToken, limits: limits)
        router = Router(context: context)
    }

    static let tinyConfig: ModelConfig = {
        var c = ModelConfig.biggan(resolution: 32, ch: 2, dimZ: 8, sharedDim: 4, nClasses: 3, hier: true, attention: [16])!
        c.classNames = ["cat", "dog", "bird"]
        return c
    }()

    /// Rewrites the bigbigan checkpoint at `path` with `generator.dataset` set.
    static func setDataset(_ dataset: String, in path: String) throws {
        let file = try SafeTensorsFile(path: path)
        var config = try JSONSerialization.jsonObject(with: Data(file.metadata["config"]!.utf8)) as! [String: Any]
        var generator = config["generator"] as! [String: Any]
        generator["dataset"] = dataset
        config["generator"] = generator
        let json = String(decoding: try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]), as: UTF8.self)
        let tensors = try file.entries.keys.sorted().map { ($0, try file.tensor($0)) }
        try SafeTensorsWriter.write(tensors, metadata: ["config": json], to: path + ".tmp")
        guard rename(path + ".tmp", path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    static func writeTinyModel(to path: String, dataset: String? = nil, classifier: String? = nil) throws {
        var cfg = tinyConfig
        cfg.dataset = dataset; cfg.classifier = classifier
        let (_, tensors) = try GeneratorLoader.random(config: cfg, seed: 1)
        try GeneratorLoader.save(config: cfg, tensors: tensors, to: path)
    }

    deinit {
        context.worker.shutdown()
        try? FileManager.default.removeItem(at: dir)
    }

    func get(_ target: String, headers: [String: String] = [:]) -> HTTPResponse {
        router.handle(HTTPRequest(target, headers: headers))
    }

    func post(_ target: String, json: String) -> HTTPResponse {
        router.handle(HTTPRequest(method: "POST", target, headers: ["content-type": "application/json"], body: Array(json.utf8)))
    }
}

extension HTTPResponse {
    var errorCode: String? {
        (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]).flatMap { ($0["error"] as? [String: Any])?["code"] as? String }
    }
    var errorMessage: String {
        (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]).flatMap { ($0["error"] as? [String: Any])?["message"] as? String } ?? ""
    }
    var jsonObject: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:] }
    func image() throws -> Image8 { try PNGCodec.decode(body) }
}
