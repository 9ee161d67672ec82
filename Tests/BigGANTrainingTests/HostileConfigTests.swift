import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANTraining

/// Issue 10, B1: hostile discriminator configurations and training-state metadata are refused
/// with a `CheckpointError`, never a trap.
@Suite struct HostileTrainingConfigTests {
    static let extremes = [0, -1, 1, 2, 3, 8, 16, 4096, 4097, 1 << 31, 1 << 53, Int.max, Int.min]

    /// Seeded struct-level mutations of `base`: fields set to extremes, blocks removed,
    /// duplicated, widened, or replaced by long runs.
    static func mutate(_ base: DiscriminatorConfig, _ rng: inout NoiseGenerator) -> DiscriminatorConfig {
        var c = base
        func pick() -> Int { extremes[Int(rng.nextUInt64() % UInt64(extremes.count))] }
        for _ in 0...(rng.nextUInt64() % 3) {
            let i = c.blocks.isEmpty ? 0 : Int(rng.nextUInt64() % UInt64(c.blocks.count))
            switch rng.nextUInt64() % 9 {
            case 0: c.resolution = pick()
            case 1: c.inputChannels = pick()
            case 2: c.nClasses = pick()
            case 3: c.ch = pick()
            case 4: c.attention.append(pick())
            case 5 where !c.blocks.isEmpty: c.blocks.remove(at: i)
            case 6 where !c.blocks.isEmpty: c.blocks += Array(repeating: c.blocks[i], count: Int(rng.nextUInt64() % 80))
            case 7 where !c.blocks.isEmpty: c.blocks[i].outChannels = pick(); c.blocks[i].down.toggle()
            case 8 where !c.blocks.isEmpty: c.blocks[i].inChannels = pick()
            default: c.blocks = Array(repeating: .init(c.inputChannels, c.inputChannels, down: false), count: 70)
            }
        }
        return c
    }

    @Test func mutatedDiscriminatorConfigsValidateAndBuildOrThrow() throws {
        var bases = [tinyDiscriminatorConfig()]
        for r in [32, 64, 128, 256] { bases.append(DiscriminatorConfig.biggan(resolution: r, ch: 2, inputChannels: 3, nClasses: 5)!) }
        for b in bases { try b.validate() }
        try DiscriminatorConfig.biggan(resolution: 256, ch: 96, nClasses: 1000, attention: [64])!.validate()
        var refused = 0, built = 0
        for (k, base) in bases.enumerated() {
            var rng = NoiseGenerator(seed: UInt64(k + 1))
            for _ in 0..<1500 {
                let c = Self.mutate(base, &rng)
                // Through JSON, as a training state stores it.
                let decoded = try JSONDecoder().decode(DiscriminatorConfig.self, from: Data(c.jsonString().utf8))
                #expect(decoded == c)
                do {
                    try c.validate()
                    let small = c.blocks.reduce(0) { $0 + $1.inChannels * $1.outChannels + $1.outChannels * $1.outChannels } < 20_000
                        && c.resolution <= 64
                    if small { _ = try Discriminator(config: c); built += 1 }
                } catch is CheckpointError { refused += 1 }
            }
        }
        #expect(refused > 1000 && built > 20, "refused \(refused), built \(built)")
    }

    @Test func hostileTrainingStateMetadataIsRefused() throws {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("state.safetensors").path
        var cfg = TrainingConfig(); cfg.batchSize = 4
        let trainer = try Trainer(generator: tinyGeneratorConfig(), discriminator: tinyDiscriminatorConfig(), config: cfg, seed: 1)
        try trainer.save(to: path)
        let good = try SafeTensorsFile(path: path)
        let tensors = try good.entries.keys.sorted().map { ($0, try good.tensor($0)) }
        _ = try Trainer(resumingFrom: path)
        var longD = tinyDiscriminatorConfig(attention: [])
        longD.blocks += Array(repeating: .init(16, 16, down: false), count: 70)
        let cases: [(String, String, String)] = [
            ("iteration", String(Int.max), "iteration \(Int.max) out of range"),
            ("adam_G_step", "-5", "adam_G_step -5 out of range"),
            ("training_config", #"{"batch_size":0}"#, "batch_size 0 out of range"),
            ("training_config", #"{"g_lr":1e308}"#, "g_lr 1e+308 out of range"),
            ("training_config", #"{"ema_start":-1}"#, "ema_start -1 out of range"),
            ("discriminator_config", longD.jsonString(), "needs 1 to 64 blocks, has 73"),
            ("generator_config", #"{"resolution":1e999}"#, "config:"),
        ]
        for (key, value, why) in cases {
            var meta = good.metadata
            if key == "training_config", let obj = try JSONSerialization.jsonObject(with: Data(value.utf8)) as? [String: Any] {
                var t = try JSONSerialization.jsonObject(with: Data(meta[key]!.utf8)) as! [String: Any]
                t.merge(obj) { $1 }
                meta[key] = String(decoding: try JSONSerialization.data(withJSONObject: t), as: UTF8.self)
            } else { meta[key] = value }
            try SafeTensorsWriter.write(tensors, metadata: meta, to: path)
            let e = #expect(throws: CheckpointError.self) { try Trainer(resumingFrom: path) }
            #expect(e?.description.contains(why) == true, "\(key): \(e.map(String.init(describing:)) ?? "no error")")
        }
    }
}
