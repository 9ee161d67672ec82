import Foundation
import Testing
@testable import BigGANEngine

/// The activation limit looks at each block's own side and width: NVlabs' 1024² FFHQ layout (512
/// channels up to 32 px, 16 at 1024 px) is accepted; a wide block at a large side is refused.
@Suite struct StyleGANConfigLimitTests {
    @Test func nvlabs1024IsAcceptedAndAWideLargeBlockIsNot() throws {
        let ffhq = StyleGANConfig(resolution: 1024, zDim: 512, wDim: 512, labelSize: 0, channels: [512, 512, 512, 512, 256, 128, 64, 32, 16], outChannels: 3)
        try ffhq.validate(file: "ffhq")
        let wide = StyleGANConfig(resolution: 1024, zDim: 512, wDim: 512, labelSize: 0, channels: [512, 512, 512, 512, 256, 128, 64, 32, 512], outChannels: 3)
        #expect(throws: CheckpointError.self) { try wide.validate(file: "wide") }
        do { try wide.validate(file: "wide") } catch { #expect("\(error)".contains("activations of 1024² × 512 channels")) }
    }
}
