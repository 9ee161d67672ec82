import Foundation

/// Where a model gets its tensors while it is being built. Every request names the tensor and the
/// shape the config implies; a source that cannot satisfy it throws a `CheckpointError`.
public protocol WeightSource: AnyObject {
    func tensor(_ name: String, shape: [Int]) throws -> Tensor
    /// Called once the model is built: a checkpoint source rejects tensors nobody asked for.
    func finish() throws
}

/// The name and shape bookkeeping of every named-tensor source: each tensor is asked for by name
/// with the shape the config implies, and `finish` rejects the tensors nobody asked for. Errors
/// are `CheckpointError`s naming `file` and the tensor.
struct TensorNames {
    let file: String
    private(set) var used = Set<String>()

    init(file: String) { self.file = file }

    /// Checks that tensor `name` exists (`found` is its shape, nil when absent) with `shape`, and
    /// records it as used.
    mutating func use(_ name: String, shape: [Int], found: [Int]?) throws {
        guard let found else { throw CheckpointError(file: file, tensor: name, "missing tensor (expected shape \(shape))") }
        guard found == shape else { throw CheckpointError(file: file, tensor: name, "shape \(found) does not match the config's \(shape)") }
        used.insert(name)
    }

    /// Throws for the first (by name) of `available` that was never used.
    func finish(available: some Sequence<String>) throws {
        let extra = Set(available).subtracting(used).sorted()
        if let first = extra.first {
            throw CheckpointError(file: file, tensor: first, "unexpected tensor (not used by this config)\(extra.count > 1 ? "; \(extra.count - 1) more" : "")")
        }
    }
}

/// Tensors read from a safetensors checkpoint, checked by name, shape and values (finite;
/// batch-norm variances not negative).
public final class CheckpointWeights: WeightSource {
    public let file: SafeTensorsFile
    private var names: TensorNames

    public init(file: SafeTensorsFile) {
        self.file = file
        names = TensorNames(file: (file.path as NSString).lastPathComponent)
    }

    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        try names.use(name, shape: shape, found: file.entries[name]?.shape)
        let t = try file.tensor(name)
        try TensorValueCheck.check(t, name: name, file: names.file)
        return t
    }

    public func finish() throws { try names.finish(available: file.entries.keys) }
}

/// In-memory named tensors as a `WeightSource` (a trained model's export, a classifier's
/// tensors), checked by name and shape like a checkpoint. The first of duplicate names wins.
public final class NamedTensors: WeightSource {
    private let tensors: [String: Tensor]
    private var names: TensorNames

    public init(_ list: [(String, Tensor)], file: String = "<memory>") {
        tensors = Dictionary(list, uniquingKeysWith: { a, _ in a })
        names = TensorNames(file: file)
    }

    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        try names.use(name, shape: shape, found: tensors[name]?.shape)
        return tensors[name]!
    }

    public func finish() throws { try names.finish(available: tensors.keys) }
}

/// Random weights for benchmarks and tests, from the engine's seeded `NoiseGenerator`.
/// Weights are scaled by 1/sqrt(fan-in); names ending in `.var` get positive values; the
/// generated tensors are kept in order so they can be written out as a checkpoint.
public final class RandomWeights: WeightSource {
    private var rng: NoiseGenerator
    public private(set) var generated: [(String, Tensor)] = []
    public let scale: Float

    public init(seed: UInt64, scale: Float = 1) { rng = NoiseGenerator(seed: seed); self.scale = scale }

    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        let t = Tensor(shape: shape)
        let fanIn = shape.count >= 2 ? shape.dropFirst().reduce(1, *) : 1
        for i in 0..<t.count {
            let n = rng.nextNormal()
            if name.hasSuffix(".var") { t[i] = 0.5 + abs(n) }
            else if name.hasSuffix(".mean") || name.hasSuffix(".bias") || name.hasSuffix("gamma") { t[i] = 0.1 * n }
            else if name.hasSuffix("output.bn.weight") { t[i] = 1 + 0.1 * n }
            else { t[i] = scale * n / Float(fanIn).squareRoot() }
        }
        generated.append((name, t))
        return t
    }

    public func finish() throws {}
}
