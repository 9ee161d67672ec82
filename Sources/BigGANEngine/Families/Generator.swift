import Foundation

/// An image generator of any family. Everything outside `Families/` uses generators through this
/// protocol (and `Sampler`, which turns a `GenerationRequest` into calls of it).
public protocol Generator: AnyObject, Sendable {
    /// Resolution, classes, data set and config of the checkpoint.
    var info: ModelInfo { get }
    /// Conditional or not, latent spaces, truncation rule, encoder.
    var capabilities: ModelCapabilities { get }
    /// Number of stored scalars (parameters and statistics).
    var parameterCount: Int { get }
    /// Nominal multiply-adds of one image's forward pass, counted as the reference implementation
    /// would (for GFLOP/s figures that compare across implementations).
    var macsPerImage: Int { get }
    /// The latent `z` (`[dim_z]`) for `seed` under the family's truncation rule; `truncation` has
    /// been validated by `capabilities.truncation`.
    func latent(seed: UInt64, truncation: Double?) -> [Float]
    /// The conditioning vector of class `index` (BigGAN: its class embedding, `[shared_dim]`);
    /// interpolating conditioning vectors interpolates classes. Unconditional models are asked for
    /// class 0.
    func conditioning(forClass index: Int) -> [Float]
    /// Requests whose keys are equal may share one forward pass (for example, the same
    /// truncation where it selects batch-norm statistics).
    func batchKey(truncation: Double?) -> String
    /// Images `[B, R, R, channels]` in [−1, 1] for latents `z` (`[B, dim_z]`) and conditioning
    /// vectors (`[B, width]`, rows from `conditioning(forClass:)` or mixtures of them).
    func forward(z: Tensor, conditioning: Tensor, truncation: Double?) -> Tensor
    /// Images `[B, R, R, channels]` for `input`, which may carry options only a family with
    /// those capabilities accepts (`Sampler.prepare` has checked them). The default runs
    /// `forward(z:conditioning:truncation:)` and needs no style options and no W blends.
    func forward(_ input: ForwardInput) -> Tensor
}

/// One forward pass: `B` images' latents and conditioning, the batch's truncation, and what a
/// style-based generator needs beyond them (see `StyleCapabilities`).
public struct ForwardInput {
    /// `[B, dim_z]`.
    public var z: Tensor
    /// `[B, width]`.
    public var conditioning: Tensor
    public var truncation: Double?
    /// Style options with defaults filled in (style-based models; nil otherwise).
    public var style: ResolvedStyle?
    /// Per image, the seed of its random noise maps (used by `noise_mode=random`).
    public var noiseSeeds: [UInt64]
    /// Per image, nil or a W-space blend: the image's per-layer W (after truncation) becomes
    /// `(1 − weight)·W(z) + weight·W(partner)` (interpolation in W; the conditioning is shared).
    public var blends: [WBlend?]

    public init(z: Tensor, conditioning: Tensor, truncation: Double?, style: ResolvedStyle? = nil, noiseSeeds: [UInt64]? = nil, blends: [WBlend?]? = nil) {
        let b = z.shape[0]
        self.z = z; self.conditioning = conditioning; self.truncation = truncation; self.style = style
        self.noiseSeeds = noiseSeeds ?? Array(repeating: 0, count: b)
        self.blends = blends ?? Array(repeating: nil, count: b)
    }
}

/// An image of a W-space interpolation: the other end's z and the weight of that end.
public struct WBlend: Sendable, Equatable {
    /// `[dim_z]`: the latent of the other end.
    public var partner: [Float]
    /// 0 gives the image's own W, 1 the partner's.
    public var weight: Double
    public init(partner: [Float], weight: Double) { self.partner = partner; self.weight = weight }
}

extension Generator {
    public func forward(_ input: ForwardInput) -> Tensor {
        precondition(input.style == nil && input.blends.allSatisfy { $0 == nil }, "\(info.architecture) takes no style options or W blends")
        return forward(z: input.z, conditioning: input.conditioning, truncation: input.truncation)
    }
}

public enum GeneratorLoader {
    /// Loads and validates a checkpoint of any registered family (`GeneratorFamilies`); every
    /// problem is a `CheckpointError` naming the file.
    public static func load(path: String) throws -> any Generator {
        let file = try SafeTensorsFile(path: path)
        let name = (path as NSString).lastPathComponent
        guard let json = file.metadata["config"] else { throw CheckpointError(file: name, "no config in __metadata__ (not a generator checkpoint of this project?)") }
        let family = try GeneratorFamilies.family(configJSON: json, file: name)
        let weights = CheckpointWeights(file: file)
        let g = try family.build(configJSON: json, weights: weights, file: name)
        try weights.finish()
        // The unpacked copies read from the file went back to the buffer pool; return them to the
        // system rather than let activations inherit load-time sizes.
        BufferPool.shared.drain()
        return g
    }

    /// Builds a generator of the family `configJSON` names from any weight source.
    public static func build(configJSON: String, weights: WeightSource, file: String = "<random>") throws -> any Generator {
        try GeneratorFamilies.family(configJSON: configJSON, file: file).build(configJSON: configJSON, weights: weights, file: file)
    }

    /// A generator with seeded random weights; the tensors come back too (for saving).
    public static func random(configJSON: String, seed: UInt64 = 0) throws -> (any Generator, [(String, Tensor)]) {
        let w = RandomWeights(seed: seed)
        let g = try build(configJSON: configJSON, weights: w)
        return (g, w.generated)
    }

    /// Writes `tensors` with `configJSON` as a checkpoint.
    public static func save(configJSON: String, tensors: [(String, Tensor)], to path: String) throws {
        try SafeTensorsWriter.write(tensors, metadata: ["config": configJSON], to: path)
    }
}

extension Generator {
    /// The conditioning of a class vector `y` (`[n_classes]`: one-hot or a mixture): `Σ_c y_c · e_c`.
    /// For BigGAN-deep this is exactly the reference's `embeddings(y)` linear layer.
    public func conditioning(forClassVector y: [Float]) -> [Float] {
        precondition(y.count == info.nClasses)
        var e: [Float] = []
        for (c, w) in y.enumerated() where w != 0 {
            let ec = conditioning(forClass: c)
            if e.isEmpty { e = [Float](repeating: 0, count: ec.count) }
            for j in 0..<e.count { e[j] += w * ec[j] }
        }
        return e.isEmpty ? [Float](repeating: 0, count: conditioning(forClass: 0).count) : e
    }

    /// Conditioning for a batch of class vectors `[B, n_classes]`, as a `[B, width]` tensor.
    public func conditioning(forClassVectors y: Tensor) -> Tensor {
        let n = info.nClasses, b = y.count / n
        let rows = (0..<b).map { i in conditioning(forClassVector: Array(UnsafeBufferPointer(start: y.data + i * n, count: n))) }
        return Tensor(shape: [b, rows.first?.count ?? 0], values: rows.flatMap { $0 })
    }
}
