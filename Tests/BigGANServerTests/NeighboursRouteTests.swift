import BigGANImage
import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANServer

/// A folder data set matching the tiny model: 3 classes of 32×32 RGB images.
func tinyDataset(at root: URL) throws {
    try RandomImageFolder.write(at: root, classes: ["cat", "dog", "bird"], perClass: 5, size: 32, seed: 21)
}

@Suite struct NeighboursRouteTests {
    func server(classifier: Bool = false) throws -> TestServer {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("biggan-nn-\(UUID().uuidString)")
        try tinyDataset(at: data)
        let s = try TestServer(dataset: "folder:" + data.path, classifier: classifier ? "cls.safetensors" : nil)
        return s
    }

    @Test func pngRowAndJSON() throws {
        let s = try server()
        try ready(s.context.registry)
        let r = s.get("/v1/neighbours?class=dog&seed=3&k=4")
        #expect(r.status == 200, "\(r.errorMessage)")
        let img = try r.image()
        #expect(img.width == 5 * 32 + 4 * 2 && img.height == 32)
        // The first tile is the sample itself.
        let sample = try s.get("/v1/sample?class=dog&seed=3").image()
        for y in 0..<32 { #expect(Array(img.pixels[(y * img.width * 3)..<(y * img.width * 3 + 96)]) == Array(sample.pixels[(y * 96)..<((y + 1) * 96)])) }
        let j = s.get("/v1/neighbours?class=dog&seed=3&k=4&format=json")
        let ns = try #require(j.jsonObject["neighbours"] as? [[String: Any]])
        #expect(j.jsonObject["truncation"] is NSNull, "untruncated is written as null")
        #expect(ns.count == 4 && ns.allSatisfy { $0["class_name"] as? String == "dog" })
        let d = ns.compactMap { ($0["distance"] as? NSNumber)?.doubleValue }
        #expect(d == d.sorted())
        #expect(r.header("X-Neighbours") == ns.map { "\($0["index"] as! Int)" }.joined(separator: ","))
        let all = s.get("/v1/neighbours?class=dog&seed=3&k=12&scope=all&format=json").jsonObject["neighbours"] as? [[String: Any]]
        #expect(Set(all?.compactMap { $0["class_name"] as? String } ?? []).count > 1)
    }

    @Test func modelsWithoutAnIndexAnswer404() throws {
        let plain = try TestServer()
        let r = plain.get("/v1/neighbours?class=0&seed=1")
        #expect(r.status == 404 && r.errorCode == "no_index" && r.errorMessage.contains("names no training data set"))
        let s = try server()
        let f = s.get("/v1/neighbours?class=0&seed=1&space=feature")
        #expect(f.status == 404 && f.errorCode == "no_index" && f.errorMessage.contains("no classifier"))
    }

    @Test(arguments: [("k=0", "'k' must be between 1 and 32"), ("k=33", "'k' must be between 1 and 32"), ("space=latent", "'space' must be pixel or feature"),
                      ("scope=none", "'scope' must be class or all"), ("format=gif", "'format' must be png or json"), ("class=lion", "unknown class name"),
                      ("truncation=inf", "'truncation' must be a positive number or 'none'"), ("k=3", "'class' is required")])
    func badParameters(query: String, message: String) throws {
        let s = try server()
        let r = s.get("/v1/neighbours?seed=1&" + (query.hasPrefix("class=") || query == "k=3" ? query : "class=0&" + query))
        #expect(r.status == 400 && r.errorMessage.contains(message), "\(r.errorMessage)")
    }
}

/// Queues every index of `registry` and waits until they are built (or have failed).
func ready(_ registry: ModelRegistry, timeout: TimeInterval = 60) throws {
    registry.prepareNeighbourIndexes()
    try #require(registry.indexBuilder.waitUntilIdle(timeout: timeout), "the neighbour indexes took over \(timeout) s")
}

extension NeighboursRouteTests {
    @Test func featureSpaceWithAClassifierNextToTheModel() throws {
        let s = try server(classifier: true)
        let cfg = ClassifierConfig(resolution: 32, inChannels: 3, channels: [4, 8], featureDim: 6, classNames: ["cat", "dog", "bird"])
        var rng = NoiseGenerator(seed: 9)
        let dir = (s.modelPath as NSString).deletingLastPathComponent
        try randomClassifier(cfg, rng: &rng).save(to: dir + "/cls.safetensors")
        let registry = ModelRegistry.load(paths: [s.modelPath])
        #expect(registry.models[0].neighbours?.classifier != nil)
        try ready(registry)
        let router = Router(context: ServerContext(registry: registry, worker: s.context.worker, log: nil, metrics: Metrics(),
                                                   publicDirectory: nil, adminToken: nil))
        let r = router.handle(HTTPRequest("/v1/neighbours?class=bird&seed=2&k=3&space=feature&format=json"))
        #expect(r.status == 200, "\(r.errorMessage)")
        #expect((r.jsonObject["neighbours"] as? [[String: Any]])?.count == 3)
        #expect(FileManager.default.fileExists(atPath: dir + "/.cache"))
    }
}
