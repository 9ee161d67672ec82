import BigGANEngine
import Foundation

/// What every family's training state file shares (BigGAN's `Trainer`, `StyleGANTrainer`): the
/// RNG and caller metadata, and restoring the tensors with every one checked.
enum TrainingStateFile {
    /// `rng_state` (decimal) and `rng_spare` (hex bits of the pending Float normal, or empty), and
    /// the caller's keys as `extra.<key>`.
    static func metadata(rng: NoiseGenerator, extra: [String: String]) -> [String: String] {
        var meta = ["rng_state": String(rng.state), "rng_spare": rng.spare.map { String($0.bitPattern, radix: 16) } ?? ""]
        for (k, v) in extra { meta["extra." + k] = v }
        return meta
    }

    /// Writes `tensors` atomically to `path` with the family's `metadata` plus the RNG and the
    /// caller's `extra` keys (`metadata(rng:extra:)`).
    static func write(_ tensors: [(String, Tensor)], metadata: [String: String], rng: NoiseGenerator, extra: [String: String], to path: String) throws {
        try SafeTensorsWriter.write(tensors, metadata: metadata.merging(Self.metadata(rng: rng, extra: extra)) { a, _ in a }, to: path)
    }

    /// Opens a state file and checks its `format`; returns the file, its name (for errors) and
    /// its metadata. `kind` names the family in the error ("a StyleGAN training state").
    static func open(_ path: String, format: String, kind: String) throws -> (SafeTensorsFile, String, [String: String]) {
        let file = try SafeTensorsFile(path: path)
        let name = (path as NSString).lastPathComponent
        let m = file.metadata
        guard m["format"] == format else { throw CheckpointError(file: name, "not \(kind) (format \(m["format"] ?? "missing"))") }
        return (file, name, m)
    }

    /// The generator `metadata(rng:extra:)` saved.
    static func rng(_ m: [String: String], fail: (String) -> CheckpointError) throws -> NoiseGenerator {
        guard let state = m["rng_state"].flatMap({ UInt64($0) }) else { throw fail("missing or bad rng_state") }
        var spare: Float? = nil
        if let s = m["rng_spare"], !s.isEmpty {
            guard let bits = UInt32(s, radix: 16) else { throw fail("bad rng_spare '\(s)'") }
            spare = Float(bitPattern: bits)
        }
        return NoiseGenerator(state: state, spare: spare)
    }

    /// The caller's metadata (`extra.<key>`, prefix removed).
    static func extra(_ m: [String: String]) -> [String: String] {
        m.filter { $0.key.hasPrefix("extra.") }.reduce(into: [:]) { $0[String($1.key.dropFirst(6))] = $1.value }
    }

    /// Fills every tensor of `tensors` from `file`: each must be present with its shape, and the
    /// file may hold no other tensor. Errors name the file (`name`) and the tensor.
    static func restore(_ tensors: [(String, Tensor)], from file: SafeTensorsFile, name: String) throws {
        var expected = Set<String>()
        for (key, tensor) in tensors {
            expected.insert(key)
            guard let e = file.entries[key] else { throw CheckpointError(file: name, tensor: key, "missing tensor") }
            guard e.shape == tensor.shape else { throw CheckpointError(file: name, tensor: key, "shape \(e.shape), expected \(tensor.shape)") }
            let loaded = try file.tensor(key)
            withExtendedLifetime(loaded) { tensor.data.update(from: loaded.data, count: tensor.count) }
        }
        if let extra = Set(file.entries.keys).subtracting(expected).sorted().first {
            throw CheckpointError(file: name, tensor: extra, "unexpected tensor")
        }
    }
}
