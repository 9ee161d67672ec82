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
