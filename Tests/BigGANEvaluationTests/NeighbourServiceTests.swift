import BigGANDatasets
import BigGANImage
import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANEvaluation

/// A folder data set of 3 classes × 6 random 8×8 RGB images.
func makeFolderDataset() throws -> URL {
    try RandomImageFolder.write(at: FileManager.default.temporaryDirectory.appendingPathComponent("biggan-eval-\(UUID().uuidString)"),
                                classes: ["a", "b", "c"], perClass: 6, size: 8, seed: 11)
}

func randomClassifier(seed: UInt64, resolution: Int = 8, channels: [Int] = [4, 8], classes: Int = 3) throws -> Classifier {
    let cfg = ClassifierConfig(resolution: resolution, inChannels: 3, channels: channels, featureDim: 6, classNames: (0..<classes).map { "c\($0)" })
    var rng = NoiseGenerator(seed: seed)
    var t: [String: Tensor] = [:]
    for (name, shape) in cfg.tensorShapes {
        let x = Tensor(shape: shape)
        for i in 0..<x.count { x[i] = rng.nextNormal() * 0.3 }
        t[name] = x
    }
    return try Classifier(config: cfg, tensors: t)
}

@Suite struct NeighbourServiceTests {
    @Test func pixelNeighboursOfATrainingImageFindIt() throws {
        let root = try makeFolderDataset(); defer { try? FileManager.default.removeItem(at: root) }
        let ref = try DatasetReference("folder:" + root.path)
        let train = try ref.load(split: .train, size: 8, channels: 3)
        #expect(train.count == 15 && ref.description == "folder:" + root.path)   // 18 images, every fifth held out
        let service = NeighbourService(dataset: ref, classifier: nil, cacheDirectory: root.appendingPathComponent(".cache").path)
        let probe = train.batch([7]).images
        let r = try service.neighbours(of: probe, k: 3, space: .pixel, restrictTo: nil)
        #expect(r.matches.first?.index == 7 && r.matches.first!.distance < 1e-5)
        #expect(r.images.shape == [3, 8, 8, 3])
        #expect(maxAbsDiff(r.images.slice(first: 0, count: 1), probe) == 0)
        let same = try service.neighbours(of: probe, k: 20, space: .pixel, restrictTo: 2)
        #expect(same.matches.count == 5 && same.matches.allSatisfy { $0.label == 2 })
        #expect(throws: NeighbourError.noClassifier) { try service.neighbours(of: probe, k: 3, space: .feature, restrictTo: nil) }
    }

    @Test func featureIndexIsCachedAndKeyedByClassifier() throws {
        let root = try makeFolderDataset(); defer { try? FileManager.default.removeItem(at: root) }
        let ref = try DatasetReference("folder:" + root.path)
        let cache = root.appendingPathComponent(".cache").path   // hidden: a visible folder in the data root would be an (empty) class
        let c1 = try randomClassifier(seed: 1), c2 = try randomClassifier(seed: 2)
        let s1 = NeighbourService(dataset: ref, classifier: c1, cacheDirectory: cache)
        let probe = try ref.load(split: .train, size: 8, channels: 3).batch([4]).images
        let r1 = try s1.neighbours(of: probe, k: 2, space: .feature, restrictTo: nil)
        #expect(r1.matches.first?.index == 4)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache).count == 1)
        // A second service reuses the cached features; another classifier gets its own file.
        var logs: [String] = []
        let again = NeighbourService(dataset: ref, classifier: c1, cacheDirectory: cache)
        again.log = { logs.append($0) }
        #expect(try again.neighbours(of: probe, k: 2, space: .feature, restrictTo: nil).matches == r1.matches)
        #expect(logs.contains { $0.contains("loaded") })
        _ = try NeighbourService(dataset: ref, classifier: c2, cacheDirectory: cache).neighbours(of: probe, k: 2, space: .feature, restrictTo: nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache).count == 2)
        #expect(c1.fingerprint != c2.fingerprint)
    }

    @Test func badReferencesAreErrors() {
        #expect(throws: DatasetError.self) { try DatasetReference("imagenet") }
        #expect((try? DatasetReference("fashion-mnist"))?.kind == .fashionMNIST(directory: FashionMNIST.defaultDirectory))
    }
}

@Suite struct ClassifierModelTests {
    @Test func saveLoadRoundTripAndShapes() throws {
        let c = try randomClassifier(seed: 3)
        let images = randomTensor([5, 8, 8, 3], seed: 4)
        let (f, l) = c.run(images)
        #expect(f.shape == [5, 6] && l.shape == [5, 3])
        #expect(f.array.allSatisfy { $0 >= 0 })
        let (f2, _) = c.run(images, batch: 2)
        #expect(maxAbsDiff(f, f2) < 1e-6)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cls-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try c.save(to: path)
        let back = try Classifier.load(path: path)
        #expect(back.fingerprint == c.fingerprint && maxAbsDiff(back.run(images).logits, l) == 0)
    }
}

@Suite struct HeldOutSplitTests {
    /// Every fifth image of each class is held out, so a class of fewer than five images is
    /// trained on whole and a class never lands in the test split alone.
    @Test func everyFifthImageOfEachClassIsHeldOut() throws {
        let root = try RandomImageFolder.write(at: FileManager.default.temporaryDirectory.appendingPathComponent("biggan-split-\(UUID().uuidString)"),
                                               classes: ["a", "b", "c"], perClass: 1, size: 8, seed: 2)
        defer { try? FileManager.default.removeItem(at: root) }
        try RandomImageFolder.write(at: root, classes: ["a"], perClass: 11, size: 8, seed: 3)
        try RandomImageFolder.write(at: root, classes: ["b"], perClass: 4, size: 8, seed: 4)
        let (train, test) = try DatasetReference("folder:" + root.path).loadSplits(size: 8, channels: nil)
        #expect(train.classCounts == [9, 4, 1] && test.classCounts == [2, 0, 0])
        #expect(train.channels == 3)
        // Held out: the 5th and 10th files of class a in name order (0, 1, 10, 2, 3, …), a/3.png and a/8.png.
        let all = try ImageFolder.load(root: root.path, size: 8, channels: nil)
        #expect(Array(test.pixels[0..<192]) == Array(all.pixels[(4 * 192)..<(5 * 192)]))
        #expect(Array(test.pixels[192..<384]) == Array(all.pixels[(9 * 192)..<(10 * 192)]))
        #expect(try DatasetReference("folder:" + root.path).load(split: .test, size: 8, channels: nil).count == 2)
    }
}
