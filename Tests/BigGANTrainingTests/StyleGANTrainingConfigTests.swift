import Foundation
import BigGANTestSupport
import Testing
@testable import BigGANEngine
@testable import BigGANTraining

/// The trainer implements NVlabs' layer only: configs of converted rosinality nets
/// (`bias_before_blur`, `instance_norm_eps` 1e-5) are refused, not trained with another layer.
@Suite struct StyleGANTrainingConfigTests {
    @Test func rosinalityLayerFieldsAreRefused() {
        var c = tinyStyleGANConfig()
        c.biasBeforeBlur = true
        #expect(throws: CheckpointError.self) { _ = try TrainableStyleGAN(config: c) }
        c.biasBeforeBlur = nil
        c.instanceNormEps = 1e-5
        #expect(throws: CheckpointError.self) { _ = try TrainableStyleGAN(config: c) }
        c.instanceNormEps = 1e-8
        #expect(throws: Never.self) { _ = try TrainableStyleGAN(config: c) }
    }
}

/// Data-parallel StyleGAN (issue 16): the rows each rank takes keep NVlabs' minibatch-stddev
/// groups (image i in slot i mod B/G) whole on one rank, and the ranks' rows cover the batch once.
@Suite struct StyleGANDataParallelRowsTests {
    @Test(arguments: [(32, 4, 2), (32, 4, 4), (8, 4, 2), (64, 4, 8), (12, 4, 3), (16, 2, 4)])
    func rowsKeepEveryStddevGroupOnOneRank(batch b: Int, group: Int, ranks n: Int) {
        let g = min(group, b), m = b / g
        let shares = (0..<n).map { StyleGANTrainer.localRows(globalBatch: b, groupSize: group, ranks: n, rank: $0) }
        #expect(shares.flatMap { $0 }.sorted() == Array(0..<b))
        for rows in shares {
            #expect(rows.count == b / n)
            // The rank's own layer groups local images k and k + stride (stride = its slots).
            let local = rows.count / min(group, rows.count)
            for slot in 0..<local {
                let members = stride(from: slot, to: rows.count, by: local).map { rows[$0] }
                #expect(members.count == g && Set(members.map { $0 % m }).count == 1, "\(rows): slot \(slot) → \(members)")
            }
        }
        #expect(StyleGANTrainer.splits(batch: b, groupSize: group, ranks: n))
    }

    @Test func unsplittableBatchesAreReported() {
        #expect(!StyleGANTrainer.splits(batch: 4, groupSize: 4, ranks: 2))
        #expect(!StyleGANTrainer.splits(batch: 12, groupSize: 4, ranks: 2) && !StyleGANTrainer.splits(batch: 2, groupSize: 4, ranks: 2))
        #expect(StyleGANTrainer.localRows(globalBatch: 12, groupSize: 4, ranks: 1, rank: 0) == Array(0..<12))
    }
}
