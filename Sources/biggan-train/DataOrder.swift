import BigGANEngine
import Foundation

/// The order in which training images are visited: a fresh seeded permutation per epoch
/// (Fisher–Yates from `NoiseGenerator(seed: seed &+ epoch)`), and the position in it. Saved with
/// the training state so a resumed run sees exactly the batches it would have seen.
struct DataOrder {
    let seed: UInt64
    let count: Int
    private(set) var epoch = 0
    private(set) var position = 0
    private var order: [Int] = []

    init(seed: UInt64, count: Int) {
        self.seed = seed; self.count = count
        order = Self.permutation(seed: seed, epoch: 0, count: count)
    }

    init(metadata m: [String: String], count: Int) throws {
        guard let s = m["data_seed"].flatMap({ UInt64($0) }), let e = m["data_epoch"].flatMap(Int.init),
              let p = m["data_position"].flatMap(Int.init), let saved = m["data_count"].flatMap(Int.init) else {
            throw TrainError("the saved state has no data position (data_seed, data_epoch, data_position, data_count); it was not written by biggan-train")
        }
        guard saved == count else {
            throw TrainError("the data set now has \(count) training images; the saved run trained on \(saved) (has the data changed since?)")
        }
        seed = s; self.count = count; epoch = e; position = p
        order = Self.permutation(seed: s, epoch: e, count: count)
    }

    var metadata: [String: String] {
        ["data_seed": String(seed), "data_epoch": String(epoch), "data_position": String(position), "data_count": String(count)]
    }

    static func permutation(seed: UInt64, epoch: Int, count: Int) -> [Int] {
        var rng = NoiseGenerator(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9)
        return rng.permutation(count)
    }

    mutating func next(_ n: Int) -> [Int] {
        var out: [Int] = []
        while out.count < n {
            if position == count { epoch += 1; position = 0; order = Self.permutation(seed: seed, epoch: epoch, count: count) }
            let take = min(n - out.count, count - position)
            out += order[position..<(position + take)]
            position += take
        }
        return out
    }
}
