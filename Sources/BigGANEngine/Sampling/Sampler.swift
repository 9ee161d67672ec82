/// The one entry point from a `GenerationRequest` to images: `prepare` validates the request and
/// builds latents and conditioning vectors; `run` runs the generator on them in chunks of at most
/// `maxBatch` images; `images(for:)` does both and refuses non-finite output.
///
/// Seeds: image `i` of a request with base seed `s` uses seed `s + i` (wrapping).
/// Truncation: `nil` is untruncated sampling (see `Truncation`).
public struct Sampler: Sendable {
    public let generator: any Generator
    public var maxBatch: Int

    public init(generator: any Generator, maxBatch: Int = 16) {
        self.generator = generator; self.maxBatch = max(1, maxBatch)
    }

    public var info: ModelInfo { generator.info }

    /// Images `[N, R, R, C]` in [−1, 1] for `request`.
    /// - Throws: `SamplingError` (naming the parameter) for an invalid request;
    ///   `NonFiniteOutputError` when the generator overflows.
    public func images(for request: GenerationRequest) throws -> Tensor {
        try finite(run(prepare(request)))
    }

    /// Validates `request` against the model and builds each image's latent and conditioning.
    /// - Throws: `SamplingError` whose `parameter` names the field at fault.
    public func prepare(_ request: GenerationRequest) throws -> PreparedBatch {
        let caps = generator.capabilities, t = request.truncation
        try caps.truncation.validate(t, parameter: request.truncationParameter)
        let style = try resolveStyle(request)
        let draw = { (seed: UInt64, parameter: String) throws -> [Float] in try self.latent(seed: seed, request, parameter: parameter) }
        var latents: [[Float]], conditioning: [[Float]], seeds: [UInt64?], classes: [Int?], noiseSeeds: [UInt64]
        var blends: [WBlend?]? = nil
        switch request.kind {
        case let .samples(given, source):
            let n = source.count
            guard n > 0 else { throw SamplingError(parameter: "n", "a request needs at least one image") }
            switch source {
            case .seeds(let s):
                latents = try s.map { try draw($0, "seed") }
                seeds = s
                noiseSeeds = s
            case .explicit(let zs):
                for (i, z) in zs.enumerated() {
                    guard z.count == info.dimZ else { throw SamplingError(parameter: "z[\(i)]", "z[\(i)] has \(z.count) entries; this model needs \(info.dimZ)") }
                    guard z.allSatisfy(\.isFinite) else { throw SamplingError(parameter: "z[\(i)]", "z[\(i)] contains a non-finite value") }
                }
                latents = zs
                seeds = Array(repeating: nil, count: n)
                noiseSeeds = zs.map(Self.noiseSeed(latent:))
            }
            guard given.count <= 1 || given.count == n else {
                throw SamplingError(parameter: "classes", "'classes' has \(given.count) entries for \(n) image\(n == 1 ? "" : "s"); "
                                    + "give one class per image (match 'n', 'seeds' or 'z') or a single class")
            }
            let parameter = given.count > 1 ? "classes" : "class"
            let resolved = try given.enumerated().map { try checkClass($1, parameter: given.count > 1 ? "classes[\($0)]" : "class") }
            if resolved.isEmpty { try requireUnconditional(parameter) }
            classes = resolved.isEmpty ? Array(repeating: nil, count: n) : resolved.count == 1 ? Array(repeating: resolved[0], count: n) : resolved
            conditioning = classes.map { generator.conditioning(forClass: $0 ?? 0) }
        case let .latentInterpolation(cls, a, b, steps, method, space):
            try checkSteps(steps)
            let c = try cls.map { try checkClass($0, parameter: "class") }
            if c == nil { try requireUnconditional("class") }
            let za = try draw(a, "seed_a"), zb = try draw(b, "seed_b")
            let weights = Interpolation.weights(steps: steps)
            switch space {
            case .z:
                latents = weights.map { method.apply(za, zb, $0) }
            case .w:
                guard caps.latentSpaces.contains(.w) else {
                    throw SamplingError(parameter: "space", "'space' w needs a model with a W space (StyleGAN); this one interpolates in z only")
                }
                guard method == .linear else {
                    throw SamplingError(parameter: "method", "'method' must be linear with space=w: W is interpolated linearly, per layer")
                }
                latents = Array(repeating: za, count: steps)
                blends = weights.map { WBlend(partner: zb, weight: $0) }
            }
            conditioning = Array(repeating: generator.conditioning(forClass: c ?? 0), count: steps)
            seeds = Array(repeating: nil, count: steps)
            classes = Array(repeating: c, count: steps)
            noiseSeeds = Array(repeating: a, count: steps)
        case let .classInterpolation(seed, a, b, steps):
            guard caps.conditional else {
                throw SamplingError(parameter: "kind", "class interpolation needs a class-conditional model; this one is unconditional")
            }
            try checkSteps(steps)
            func required(_ c: Int?, _ parameter: String) throws -> [Float] {
                guard let c else { throw SamplingError(parameter: parameter, "'\(parameter)' is required: a class index from 0 to \(info.nClasses - 1) or a class name") }
                return generator.conditioning(forClass: try checkClass(c, parameter: parameter))
            }
            let ea = try required(a, "class_a"), eb = try required(b, "class_b")
            latents = Array(repeating: try draw(seed, "seed"), count: steps)
            conditioning = Interpolation.weights(steps: steps).map { Interpolation.linear.apply(ea, eb, $0) }
            seeds = Array(repeating: seed, count: steps)
            classes = Array(repeating: nil, count: steps)
            noiseSeeds = Array(repeating: seed, count: steps)
        case let .classSheet(perClass, seed):
            guard perClass > 0 else { throw SamplingError(parameter: "n", "a class sheet needs at least one image per class") }
            let n = info.nClasses
            let rowSeeds = (0..<perClass).map { seed &+ UInt64($0) }
            let rowLatents = try rowSeeds.map { try draw($0, "seed") }
            latents = (0..<n).flatMap { _ in rowLatents }
            seeds = (0..<n).flatMap { _ in rowSeeds }
            classes = (0..<n).flatMap { c in Array(repeating: caps.conditional ? c : nil, count: perClass) }
            conditioning = (0..<n).flatMap { c in Array(repeating: generator.conditioning(forClass: c), count: perClass) }
            noiseSeeds = seeds.map { $0! }
        }
        let key = generator.batchKey(truncation: t) + (style.map { "|" + $0.key } ?? "")
        return PreparedBatch(latents: latents, conditioning: conditioning, seeds: seeds, classes: classes,
                             truncation: t, batchKey: key, style: style, noiseSeeds: noiseSeeds, blends: blends)
    }

    /// `c` when it is a class of this conditional model.
    private func checkClass(_ c: Int, parameter: String) throws -> Int {
        guard generator.capabilities.conditional else {
            throw SamplingError(parameter: parameter, "this model is unconditional: it takes no class")
        }
        guard c >= 0 && c < info.nClasses else {
            throw SamplingError(parameter: parameter, "class \(c) is out of range: this model has classes 0...\(info.nClasses - 1)")
        }
        return c
    }

    /// A request that names no class is valid only for an unconditional model.
    private func requireUnconditional(_ parameter: String) throws {
        guard !generator.capabilities.conditional else {
            throw SamplingError(parameter: parameter, "'\(parameter)' is required: a class index from 0 to \(info.nClasses - 1) or a class name")
        }
    }

    private func checkSteps(_ steps: Int) throws {
        guard steps >= 2 else { throw SamplingError(parameter: "steps", "'steps' must be at least 2, got \(steps)") }
    }

    /// `images` itself, or `NonFiniteOutputError` naming the images (of `[N, ...]`) holding a NaN or
    /// an infinity: such an image is never returned as pixels (it would encode as black or grey).
    public func finite(_ images: Tensor) throws -> Tensor {
        let bad = NonFiniteOutputError.images(in: images)
        if !bad.isEmpty { throw NonFiniteOutputError(images: bad, count: images.shape[0]) }
        return images
    }

    /// Runs the generator on `batch` in chunks of `maxBatch`; the result is `[N, R, R, C]`. It is
    /// not checked: callers that hand images on pass them through `finite` (the compute worker
    /// checks each request's share separately, so one request's overflowing z cannot fail another's).
    public func run(_ batch: PreparedBatch) -> Tensor {
        let n = batch.count, r = info.resolution, c = info.channels, dimZ = info.dimZ
        let width = batch.conditioning.first?.count ?? 0
        let out = Tensor(uninitializedShape: [n, r, r, c])
        var start = 0
        while start < n {
            let m = min(maxBatch, n - start)
            let z = Tensor(shape: [m, dimZ], values: Array(batch.latents[start..<start + m].joined()))
            let e = Tensor(shape: [m, width], values: Array(batch.conditioning[start..<start + m].joined()))
            let images = generator.forward(ForwardInput(z: z, conditioning: e, truncation: batch.truncation, style: batch.style,
                                                        noiseSeeds: Array(batch.noiseSeeds[start..<start + m]),
                                                        blends: Array(batch.blends[start..<start + m])))
            (out.data + start * r * r * c).update(from: images.data, count: images.count)
            start += m
        }
        return out
    }
}
