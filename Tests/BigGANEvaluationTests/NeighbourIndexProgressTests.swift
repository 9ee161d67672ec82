import BigGANDatasets
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANEvaluation

/// Index builds report their progress and failures, and a lookup can refuse to build.
@Suite struct NeighbourIndexProgressTests {
    @Test func featureBuildReportsProgressPerBatch() throws {
        let root = try makeFolderDataset(); defer { try? FileManager.default.removeItem(at: root) }
        let ref = try DatasetReference("folder:" + root.path)
        let cache = root.appendingPathComponent(".cache").path
        let c = try randomClassifier(seed: 1)
        let service = NeighbourService(dataset: ref, classifier: c, cacheDirectory: cache, featureBatch: 5)
        #expect(service.state(.feature) == .notStarted && service.spaces == [.pixel, .feature])
        var seen: [Int] = []
        try service.prepare(.feature, size: 8, channels: 3) {
            if case .building(let p) = service.state(.feature) { seen.append(p.done); #expect(p.total == 15) }
        }
        #expect(seen == [0, 5, 10])
        #expect(service.state(.feature) == .ready && service.state(.pixel) == .notStarted)
        // From the cache: no batches.
        let again = NeighbourService(dataset: ref, classifier: c, cacheDirectory: cache, featureBatch: 5)
        var batches = 0
        try again.prepare(.feature, size: 8, channels: 3) { batches += 1 }
        #expect(batches == 0 && again.state(.feature) == .ready)
    }

    @Test func lookupsWithoutBuildingRefuseAnIndexThatIsNotReady() throws {
        let root = try makeFolderDataset(); defer { try? FileManager.default.removeItem(at: root) }
        let service = NeighbourService(dataset: try DatasetReference("folder:" + root.path), classifier: nil,
                                       cacheDirectory: root.appendingPathComponent(".cache").path)
        let probe = Tensor(shape: [1, 8, 8, 3])
        #expect(throws: NeighbourError.notReady("pixel", "not_started")) {
            try service.neighbours(of: probe, k: 1, space: .pixel, restrictTo: nil, build: false)
        }
        #expect(service.state(.pixel) == .notStarted)
        #expect(service.state(.feature) == .unavailable(NeighbourError.noClassifier.description))
        try service.prepare(.pixel, size: 8, channels: 3)
        #expect(try service.neighbours(of: probe, k: 1, space: .pixel, restrictTo: nil, build: false).matches.count == 1)
    }

    @Test func aFailedBuildKeepsItsReason() throws {
        let service = NeighbourService(dataset: try DatasetReference("folder:/nonexistent-data"), classifier: nil, cacheDirectory: "/tmp")
        #expect(throws: (any Error).self) { try service.prepare(.pixel, size: 8, channels: 3) }
        guard case .failed(let why) = service.state(.pixel) else { Issue.record("\(service.state(.pixel))"); return }
        #expect(why.contains("not a folder"), "\(why)")
    }

    @Test func builderBuildsEachIndexOnceOnItsOwnThread() throws {
        let root = try makeFolderDataset(); defer { try? FileManager.default.removeItem(at: root) }
        let service = NeighbourService(dataset: try DatasetReference("folder:" + root.path), classifier: try randomClassifier(seed: 2),
                                       cacheDirectory: root.appendingPathComponent(".cache").path, featureBatch: 4)
        let builder = NeighbourIndexBuilder()
        let names = Names()
        builder.pacing = .init(isBusy: { names.add(Thread.current.name ?? "?"); return false })
        for _ in 0..<3 { for space in service.spaces { builder.enqueue(service, space, size: 8, channels: 3, label: "m") } }
        #expect(builder.waitUntilIdle(timeout: 60) && builder.isIdle)
        #expect(service.state(.pixel) == .ready && service.state(.feature) == .ready)
        // One pixel pause plus one per batch of 4 of the 15 images: each index was built once.
        #expect(names.all == Array(repeating: "nn-index-build", count: 1 + 4))
    }

    @Test func progressMessages() {
        let p = NeighbourIndexProgress(done: 12_000, total: 60_000, started: Date(timeIntervalSinceNow: -10))
        #expect(p.description == "12,000 of 60,000 images (20%)" && p.fraction == 0.2)
        #expect(abs(p.secondsLeft()! - 40) < 1)
        #expect(NeighbourIndexProgress(done: 0, total: 0, started: Date()).description == "loading the training images")
        #expect(NeighbourIndexProgress.grouped(1_234_567) == "1,234,567" && NeighbourIndexProgress.grouped(999) == "999")
    }
}

final class Names: @unchecked Sendable {
    private let lock = NSLock()
    private var names: [String] = []
    func add(_ n: String) { lock.lock(); names.append(n); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return names }
}
