import Foundation

/// Where a model gets its tensors while it is being built. Every request names the tensor and the
/// shape the config implies; a source that cannot satisfy it throws a `CheckpointError`.
public protocol WeightSource: AnyObject {
    func tensor(_ name: String, shape: [Int]) throws -> Tensor
    /// Called once the model is built: a checkpoint source rejects tensors nobody asked for.
    func finish() throws
}

/// Tensors read from a safetensors checkpoint, checked by name, shape and values (finite;
/// batch-norm variances not negative).
public final class CheckpointWeights: WeightSource {
    public let file: SafeTensorsFile
    private var used = Set<String>()
    private var fileName: String { (file.path as NSString).lastPathComponent }

    public init(file: SafeTensorsFile) { self.file = file }

    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        guard let e = file.entries[name] else { throw CheckpointError(file: fileName, tensor: name, "missing tensor (expected shape \(shape))") }
        guard e.shape == shape else { throw CheckpointError(file: fileName, tensor: name, "shape \(e.shape) does not match the config's \(shape)") }
        used.insert(name)
        let t = try file.tensor(name)
        try TensorValueCheck.check(t, name: name, file: fileName)
        return t
    }

    public func finish() throws {
        let extra = Set(file.entries.keys).subtracting(used).sorted()
        if let first = extra.first {
            throw CheckpointError(file: fileName, tensor: first, "unexpected tensor (not used by this config)\(extra.count > 1 ? "; \(extra.count - 1) more" : "")")
        }
    }
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
