import Foundation

/// A class-conditional image generator.
public protocol Generator: AnyObject, Sendable {
    var config: ModelConfig { get }
    /// Number of stored scalars (parameters and statistics).
    var parameterCount: Int { get }
    /// The class embedding of class `index` (`[shared_dim]`). Interpolating embeddings
    /// interpolates classes.
    func embedding(forClass index: Int) -> [Float]
    /// Images `[B, R, R, out_channels]` in [−1, 1] for latents `z` (`[B, dim_z]`) and class
    /// embeddings (`[B, shared_dim]`). `truncation` selects BN statistics where the model has
    /// truncation-indexed ones; it does not change `z`.
    func forward(z: Tensor, embeddings: Tensor, truncation: Double) -> Tensor
}

extension Generator {
    /// The embedding of a class vector `y` (`[n_classes]`: one-hot or a mixture): `Σ_c y_c · e_c`.
    /// For BigGAN-deep this is exactly the reference's `embeddings(y)` linear layer.
    public func embedding(forClassVector y: [Float]) -> [Float] {
        precondition(y.count == config.nClasses)
        var e = [Float](repeating: 0, count: config.sharedDim)
        for (c, w) in y.enumerated() where w != 0 {
            let ec = embedding(forClass: c)
            for j in 0..<e.count { e[j] += w * ec[j] }
        }
        return e
    }

    /// Embeddings for a batch of class vectors `[B, n_classes]`, as a `[B, shared_dim]` tensor.
    public func embeddings(forClassVectors y: Tensor) -> Tensor {
        let b = y.count / config.nClasses, n = config.nClasses
        return Tensor(shape: [b, config.sharedDim], values: (0..<b).flatMap { i in
            embedding(forClassVector: Array(UnsafeBufferPointer(start: y.data + i * n, count: n)))
        })
    }
}

public enum GeneratorLoader {
    /// Loads and validates a checkpoint; every problem is a `CheckpointError` naming the file.
    public static func load(path: String) throws -> any Generator {
        let file = try SafeTensorsFile(path: path)
        let name = (path as NSString).lastPathComponent
        guard let json = file.metadata["config"] else { throw CheckpointError(file: name, "no config in __metadata__ (not a BigGAN checkpoint of this project?)") }
        let config = try ModelConfig.decode(json: json, file: name)
        let weights = CheckpointWeights(file: file)
        let g = try build(config: config, weights: weights, file: name)
        try weights.finish()
        // The unpacked copies read from the file went back to the buffer pool; return them to the
        // system rather than let activations inherit load-time sizes.
        BufferPool.shared.drain()
        return g
    }

    /// Builds a generator for `config` from any weight source.
    public static func build(config: ModelConfig, weights: WeightSource, file: String = "<random>") throws -> any Generator {
        try config.validate(file: file)
        switch config.architecture {
        case .biggan: return try BigGANGenerator(config: config, weights: weights)
        case .bigganDeep: return try BigGANDeepGenerator(config: config, weights: weights)
        }
    }

    /// A generator with seeded random weights; `generated` receives the tensors (for saving).
    public static func random(config: ModelConfig, seed: UInt64 = 0) throws -> (any Generator, [(String, Tensor)]) {
        let w = RandomWeights(seed: seed)
        let g = try build(config: config, weights: w)
        return (g, w.generated)
    }

    /// Writes `tensors` with `config` as a checkpoint.
    public static func save(config: ModelConfig, tensors: [(String, Tensor)], to path: String) throws {
        try SafeTensorsWriter.write(tensors, metadata: ["config": config.jsonString()], to: path)
    }
}

/// Counts stored scalars as a model takes its tensors.
final class CountingSource {
    let source: WeightSource
    private(set) var count = 0
    init(_ s: WeightSource) { source = s }
    func callAsFunction(_ name: String, _ shape: [Int]) throws -> Tensor {
        let t = try source.tensor(name, shape: shape)
        count += t.count
        return t
    }
    func linear(_ name: String, out: Int, in i: Int, bias: Bool) throws -> Linear {
        Linear(weight: try self(name + ".weight", [out, i]), bias: bias ? try self(name + ".bias", [out]) : nil)
    }
    func conv(_ name: String, out: Int, in i: Int, k: Int, bias: Bool = true) throws -> Conv2D {
        Conv2D(weight: try self(name + ".weight", [out, i, k, k]), bias: bias ? try self(name + ".bias", [out]) : nil)
    }
    func attention(_ name: String, channels c: Int) throws -> SelfAttention {
        SelfAttention(theta: try conv(name + ".theta", out: c / 8, in: c, k: 1, bias: false),
                      phi: try conv(name + ".phi", out: c / 8, in: c, k: 1, bias: false),
                      g: try conv(name + ".g", out: c / 2, in: c, k: 1, bias: false),
                      o: try conv(name + ".o", out: c, in: c / 2, k: 1, bias: false),
                      gamma: try self(name + ".gamma", [1])[0])
    }
    /// Conditional BN with fixed (`nStats == nil`) or truncation-indexed statistics.
    func conditionalBN(_ name: String, channels c: Int, cond: Int, nStats: Int?, eps: Double) throws -> ConditionalBatchNorm {
        ConditionalBatchNorm(gain: try linear(name + ".gain", out: c, in: cond, bias: false),
                             bias: try linear(name + ".bias", out: c, in: cond, bias: false),
                             statistics: try statistics(name, channels: c, nStats: nStats), eps: Float(eps))
    }
    func statistics(_ name: String, channels c: Int, nStats: Int?) throws -> NormStatistics {
        if let n = nStats { return .truncationIndexed(means: try self(name + ".mean", [n, c]), variances: try self(name + ".var", [n, c])) }
        return .fixed(mean: try self(name + ".mean", [c]), variance: try self(name + ".var", [c]))
    }
}
