import BigGANEngine
import Foundation

/// The discriminator's architecture (ajbrock `D_arch`, made explicit).
public struct DiscriminatorConfig: Codable, Equatable, Sendable {
    public typealias Block = BlockSpec<Downsampling>

    /// Input height = width.
    public var resolution: Int
    /// Image channels (1 for grey, 3 for RGB); must equal `blocks[0].in`.
    public var inputChannels: Int
    public var nClasses: Int
    /// Channel width (informational; `blocks` is authoritative).
    public var ch: Int
    public var blocks: [Block]
    /// Self-attention runs after the first block whose *output* resolution equals each value.
    /// (ajbrock keys D attention by a per-block "resolution" column that, in its 32×32 table, is
    /// 16 for every block; here the real output size is used.)
    public var attention: [Int]

    enum CodingKeys: String, CodingKey {
        case resolution, inputChannels = "input_channels", nClasses = "n_classes", ch, blocks, attention
    }

    public init(resolution: Int, inputChannels: Int, nClasses: Int, ch: Int, blocks: [Block], attention: [Int]) {
        self.resolution = resolution; self.inputChannels = inputChannels; self.nClasses = nClasses
        self.ch = ch; self.blocks = blocks; self.attention = attention
    }

    /// Output resolution of each block.
    public var blockResolutions: [Int] {
        var r = resolution
        return blocks.map { b in if b.down { r /= 2 }; return r }
    }

    /// Index of the block after which attention runs, for each attention resolution.
    public var attentionBlocks: [Int] {
        let res = blockResolutions
        return attention.compactMap { a in res.firstIndex(of: a) }
    }

    /// ajbrock's `D_arch` (wide D) at 32, 64, 128 or 256 with `ch` channels per unit and
    /// `inputChannels` image channels.
    public static func biggan(resolution: Int, ch: Int, inputChannels: Int = 3, nClasses: Int, attention: [Int] = [])
        -> DiscriminatorConfig? {
        let table: [Int: ([Int], [Int], [Bool])] = [
            32: ([0, 4, 4, 4], [4, 4, 4, 4], [true, true, false, false]),
            64: ([0, 1, 2, 4, 8], [1, 2, 4, 8, 16], [true, true, true, true, false]),
            128: ([0, 1, 2, 4, 8, 16], [1, 2, 4, 8, 16, 16], [true, true, true, true, true, false]),
            256: ([0, 1, 2, 4, 8, 8, 16], [1, 2, 4, 8, 8, 16, 16], [true, true, true, true, true, true, false]),
        ]
        guard let (ins, outs, downs) = table[resolution] else { return nil }
        let blocks = (0..<ins.count).map { i in Block(i == 0 ? inputChannels : ins[i] * ch, outs[i] * ch, down: downs[i]) }
        return DiscriminatorConfig(resolution: resolution, inputChannels: inputChannels, nClasses: nClasses, ch: ch,
                                   blocks: blocks, attention: attention)
    }

    /// Checks bounds (`ConfigLimits`) before any arithmetic, then consistency, then sizes.
    public func validate() throws {
        func fail(_ why: String) -> CheckpointError { CheckpointError(file: "<discriminator config>", why) }
        typealias L = ConfigLimits
        guard (4...L.maxResolution).contains(resolution) else { throw fail("resolution \(resolution) out of range 4...\(L.maxResolution)") }
        guard (1...4).contains(inputChannels), (1...L.maxClasses).contains(nClasses) else { throw fail("bad input channels or class count") }
        guard (1...L.maxChannels).contains(ch) else { throw fail("ch \(ch) out of range 1...\(L.maxChannels)") }
        guard (1...L.maxBlocks).contains(blocks.count) else { throw fail("needs 1 to \(L.maxBlocks) blocks, has \(blocks.count)") }
        guard blocks[0].inChannels == inputChannels else { throw fail("block 0 must take the \(inputChannels) input channels") }
        guard attention.count <= L.maxBlocks, attention.allSatisfy({ (1...L.maxResolution).contains($0) }) else {
            throw fail("bad attention resolutions \(attention.prefix(8))")
        }
        var r = resolution
        var tally = SizeTally()
        var peak = 0
        let attentionAt = Set(attentionBlocks)
        for (i, b) in blocks.enumerated() {
            guard (1...L.maxChannels).contains(b.inChannels), (1...L.maxChannels).contains(b.outChannels) else {
                throw fail("block \(i) has bad channel counts \(b.inChannels) → \(b.outChannels) (allowed 1...\(L.maxChannels))")
            }
            if i > 0, blocks[i - 1].outChannels != b.inChannels { throw fail("block \(i) input \(b.inChannels) != block \(i - 1) output") }
            // Every tensor the block may hold (an upper bound on the discriminator's parameters).
            tally.add(b.outChannels, b.inChannels, 3, 3); tally.add(b.outChannels, b.outChannels, 3, 3)
            tally.add(b.outChannels, b.inChannels); tally.add(3, b.outChannels)
            if attentionAt.contains(i) { tally.add(3, b.outChannels, b.outChannels) }
            peak = max(peak, r * r * max(b.inChannels, b.outChannels))   // ≤ 4096² · 16384, no overflow
            if b.down { guard r % 2 == 0 else { throw fail("block \(i) downsamples odd size \(r)") }; r /= 2 }
        }
        tally.add(nClasses, blocks[blocks.count - 1].outChannels)
        guard peak <= L.maxActivationElements else { throw fail("one image needs \(peak) activation values (limit \(L.maxActivationElements))") }
        guard let total = tally.value, total <= L.maxParameters, tally.largest <= L.maxTensorElements else {
            throw fail("the discriminator would hold about \(tally.value.map(String.init) ?? "more than Int.max") scalars (limit \(L.maxParameters))")
        }
        for a in attention {
            guard let i = blockResolutions.firstIndex(of: a) else { throw fail("no block outputs attention resolution \(a)") }
            guard blocks[i].outChannels % 8 == 0, a % 2 == 0 else { throw fail("attention at \(a) needs even size and channels divisible by 8") }
        }
    }

    public func jsonString() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: (try? enc.encode(self)) ?? Data(), as: UTF8.self)
    }
}
