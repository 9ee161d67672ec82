/// Turns user-level requests (classes, seeds, truncation, explicit latents, interpolations) into
/// generator calls, batching at most `maxBatch` images per forward pass.
///
/// Seeds: image `i` of a request with base seed `s` uses seed `s + i` (wrapping).
/// Truncation: `nil` is untruncated sampling (see `Truncation`).
public struct Sampler: Sendable {
    public let generator: any Generator
    public var maxBatch: Int

    public init(generator: any Generator, maxBatch: Int = 16) {
        self.generator = generator; self.maxBatch = max(1, maxBatch)
    }

    public var config: ModelConfig { generator.config }

    /// The latent for `seed` under the model's truncation convention.
    public func latent(seed: UInt64, truncation: Double?) throws -> [Float] {
        try Truncation.validate(truncation, convention: config.truncation)
        return Truncation.latent(seed: seed, dim: config.dimZ, truncation: truncation, convention: config.truncation)
    }

    public func checkClass(_ c: Int) throws {
        guard c >= 0 && c < config.nClasses else {
            throw SamplingError("class \(c) is out of range: this model has classes 0...\(config.nClasses - 1)")
        }
    }

    /// Images for `classes[i]` with seed `seeds[i]`: `[B, R, R, C]` in [−1, 1].
    public func sample(classes: [Int], seeds: [UInt64], truncation: Double?) throws -> Tensor {
        precondition(classes.count == seeds.count)
        for c in classes { try checkClass(c) }
        let zs = try seeds.map { try latent(seed: $0, truncation: truncation) }
        return try finite(run(latents: zs, embeddings: classes.map(generator.embedding(forClass:)), truncation: truncation))
    }

    /// A class sheet: for every class in order, `perClass` images with seeds `seed ..< seed+perClass`
    /// (the same seeds in every row). Laid out with `perClass` columns it has one row per class.
    public func classSheet(perClass: Int, seed: UInt64, truncation: Double?) throws -> Tensor {
        let n = config.nClasses
        return try sample(classes: (0..<n).flatMap { Array(repeating: $0, count: perClass) },
                          seeds: (0..<n).flatMap { _ in (0..<perClass).map { seed &+ UInt64($0) } }, truncation: truncation)
    }

    /// Images for explicit latents. Each `z` must have `dim_z` finite entries.
    public func sample(classes: [Int], latents: [[Float]], truncation: Double?) throws -> Tensor {
        precondition(classes.count == latents.count)
        try Truncation.validate(truncation, convention: config.truncation)
        for c in classes { try checkClass(c) }
        for (i, z) in latents.enumerated() {
            guard z.count == config.dimZ else { throw SamplingError("z[\(i)] has \(z.count) entries; this model needs \(config.dimZ)") }
            guard z.allSatisfy(\.isFinite) else { throw SamplingError("z[\(i)] contains a non-finite value") }
        }
        return try finite(run(latents: latents, embeddings: classes.map(generator.embedding(forClass:)), truncation: truncation))
    }

    /// Latent interpolation: class held, `z(seedA)` → `z(seedB)` in `steps` images.
    public func interpolateLatent(classIndex: Int, seedA: UInt64, seedB: UInt64, steps: Int, truncation: Double?,
                                  method: Interpolation = .linear) throws -> Tensor {
        try checkClass(classIndex)
        let za = try latent(seed: seedA, truncation: truncation), zb = try latent(seed: seedB, truncation: truncation)
        let ws = Interpolation.weights(steps: steps)
        let e = generator.embedding(forClass: classIndex)
        return try finite(run(latents: ws.map { method.apply(za, zb, $0) }, embeddings: Array(repeating: e, count: ws.count),
                              truncation: truncation))
    }

    /// Class interpolation: `z(seed)` held, class embedding a → b (linear) in `steps` images.
    public func interpolateClass(seed: UInt64, classA: Int, classB: Int, steps: Int, truncation: Double?) throws -> Tensor {
        try checkClass(classA); try checkClass(classB)
        let z = try latent(seed: seed, truncation: truncation)
        let ea = generator.embedding(forClass: classA), eb = generator.embedding(forClass: classB)
        let ws = Interpolation.weights(steps: steps)
        return try finite(run(latents: Array(repeating: z, count: ws.count), embeddings: ws.map { Interpolation.linear.apply(ea, eb, $0) },
                              truncation: truncation))
    }

    /// `images` itself, or `NonFiniteOutputError` naming the images (of `[N, ...]`) holding a NaN or
    /// an infinity: such an image is never returned as pixels (it would encode as black or grey).
    public func finite(_ images: Tensor) throws -> Tensor {
        let bad = NonFiniteOutputError.images(in: images)
        if !bad.isEmpty { throw NonFiniteOutputError(images: bad, count: images.shape[0]) }
        return images
    }

    /// Runs the generator in chunks of `maxBatch`; the result is `[N, R, R, C]`. It is not checked:
    /// callers that hand images on pass them through `finite` (the compute worker checks each
    /// request's share separately, so one request's overflowing z cannot fail another's).
    public func run(latents: [[Float]], embeddings: [[Float]], truncation: Double?) -> Tensor {
        let n = latents.count, r = config.resolution, c = config.outChannels
        let out = Tensor(uninitializedShape: [n, r, r, c])
        var start = 0
        while start < n {
            let m = min(maxBatch, n - start)
            let z = Tensor(shape: [m, config.dimZ], values: Array(latents[start..<start + m].joined()))
            let e = Tensor(shape: [m, config.sharedDim], values: Array(embeddings[start..<start + m].joined()))
            let images = generator.forward(z: z, embeddings: e, truncation: Truncation.statisticsThreshold(truncation))
            (out.data + start * r * r * c).update(from: images.data, count: images.count)
            start += m
        }
        return out
    }
}


/// A generator output holding NaN or infinite values: damaged weights, or an explicit z so large
/// that the network overflows. The server answers 500 with a JSON body; the CLI exits non-zero.
public struct NonFiniteOutputError: Error, CustomStringConvertible, Equatable {
    /// Indices of the bad images within their request.
    public let images: [Int]
    /// Images in the request.
    public let count: Int

    public init(images: [Int], count: Int) { self.images = images; self.count = count }

    public var description: String {
        let list = images.prefix(8).map(String.init).joined(separator: ", ") + (images.count > 8 ? ", …" : "")
        return "the generator produced non-finite values (NaN or infinity) in \(images.count) of \(count) image(s) (\(list)); "
            + "the checkpoint's weights or the given z are out of range"
    }

    /// Indices of the images of `[N, ...]` that hold a non-finite value.
    public static func images(in t: Tensor) -> [Int] {
        let n = t.shape.first ?? 0, per = t.count / max(n, 1), p = t.data
        return (0..<n).filter { i in
            let base = p + i * per
            for k in 0..<per where !base[k].isFinite { return true }
            return false
        }
    }
}
