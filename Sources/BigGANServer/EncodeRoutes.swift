import BigGANEngine
import BigGANEvaluation
import BigGANImage
import Foundation

/// `POST /v1/encode` and `POST /v1/reconstruct` (BigBiGAN): a PNG body → `E(x)` as JSON, or
/// `G(E(x))` as a PNG. Everything is checked on the request's thread (model, parameters, body,
/// neighbour index; see `ImageBody`) before the job is queued on the compute worker.
enum EncodeRoutes {
    struct EncodeReply: Encodable {
        let model: String, seed: UInt64
        let zMean: [Float], sigma: [Float], zSample: [Float], features: [Float]
        let dimZ: Int, featureWidth: Int, sigmaParameterisation: String
        let preprocessing: PreprocessingFacts
        enum CodingKeys: String, CodingKey {
            case model, seed, zMean = "z_mean", sigma, zSample = "z_sample", features, dimZ = "dim_z"
            case featureWidth = "feature_width", sigmaParameterisation = "sigma_parameterisation", preprocessing
        }
    }

    /// The model named by `model`, which must have an encoder (else 400 `unsupported` naming it).
    static func encodingModel(_ p: Parameters, _ c: ServerContext) throws -> (LoadedModel, EncoderInfo) {
        let m = try c.registry.model(named: p.string("model"))
        guard let e = m.generator.imageEncoder else {
            throw APIError(400, "unsupported", "model '\(m.name)' (\(m.info.architecture)) has no encoder; "
                           + "encoding and reconstruction need a bigbigan model")
        }
        return (m, e.encoderInfo)
    }

    /// A 0/1 flag parameter (`side`, `sample`).
    static func flag(_ p: Parameters, _ name: String) throws -> Bool {
        try p.int(name, default: 0, range: 0...1) == 1
    }

    // MARK: POST /v1/encode

    static func encode(_ r: HTTPRequest, _ c: ServerContext) throws -> HTTPResponse {
        let p = Parameters(request: r)
        let (m, e) = try encodingModel(p, c)
        let seed = try p.seed("seed") ?? SampleRoutes.randomSeed()
        let image = try ImageBody.preprocess(r, c, side: e.resolution, channels: e.channels)
        let out = try c.worker.encode(model: m, EncodingJob(images: image.tensor())).encoding
        var resp = HTTPResponse.json(EncodeReply(
            model: m.name, seed: seed, zMean: out.zMean(0), sigma: out.sigma(0), zSample: out.zSample(0, seed: seed),
            features: out.features(0), dimZ: e.dimZ, featureWidth: e.featureWidth, sigmaParameterisation: e.sigma,
            preprocessing: PreprocessingFacts(image)))
        resp.headers += [("X-Model", m.name), ("X-Seed", "\(seed)"), ("Cache-Control", "no-store")]
        resp.logModel = m.name
        return resp
    }

    // MARK: POST /v1/reconstruct

    static func reconstruct(_ r: HTTPRequest, _ c: ServerContext) throws -> HTTPResponse {
        let p = Parameters(request: r)
        let (m, e) = try encodingModel(p, c)
        let cls = try p.classIndex("class", m)
        let side = try flag(p, "side"), sample = try flag(p, "sample")
        let given = try p.seed("seed")
        if given != nil && !sample { throw APIError.badRequest("'seed' draws z_sample: give it with sample=1 (the default decodes z_mean)") }
        let seed = sample ? given ?? SampleRoutes.randomSeed() : nil
        let k = try p.int("k", default: 0, range: 0...c.limits.maxNeighbours)
        guard let space = NeighbourService.Space(rawValue: p.string("space") ?? "pixel") else {
            throw APIError.badRequest("'space' must be pixel or feature, got \(Echo.quoted(p.string("space")!))")
        }
        let template: PreparedBatch
        do { template = try Sampler(generator: m.generator).prepareReconstruction(class: cls, count: 1) }
        catch let error as SamplingError { throw error.apiError }
        var lookup: NeighbourLookup?
        if k > 0 {
            guard let service = m.neighbours else {
                throw APIError(404, "no_index", "model '\(m.name)' has no neighbour index: \(m.neighboursUnavailable ?? "unavailable")")
            }
            if space == .feature && service.classifier == nil {
                throw APIError(404, "no_index", "model '\(m.name)' has no feature-space index: \(NeighbourError.noClassifier)")
            }
            try NeighboursRoute.checkIndex(service, space, m, c)
            lookup = NeighbourLookup(service: service, k: k, space: space, restrictTo: nil)
        }
        let image = try ImageBody.preprocess(r, c, side: e.resolution, channels: e.channels)
        // The input as the generator's images are shaped (for `side` and the neighbour search).
        let info = m.info
        let shown = info.resolution == e.resolution && info.channels == e.channels ? image
            : try ImageBody.preprocess(r, c, side: info.resolution, channels: info.channels)
        let job = EncodingJob(images: image.tensor(), reconstruction: (template, seed.map { .sample(seed: $0) } ?? .mean),
                              neighboursOf: lookup.map { ($0, shown.tensor()) })
        let result: EncodingResult
        do { result = try c.worker.encode(model: m, job) }
        catch let e as NeighbourError { throw APIError(404, "no_index", "model '\(m.name)': neighbour index unavailable: \(e)") }
        let found = result.neighbours
        var parts = [result.reconstruction!]
        if side { parts.insert(shown.tensor(), at: 0) }
        if let found { parts.append(found.images) }
        let row = concatenate(parts)
        var resp = HTTPResponse.png(try SampleRoutes.encode(row, columns: row.shape[0]))
        resp.headers += [("X-Model", m.name), ("X-Latent", seed == nil ? "z_mean" : "z_sample"), ("Cache-Control", "no-store")]
        if let seed { resp.headers.append(("X-Seed", "\(seed)")) }
        if let found {
            resp.headers += [("X-Neighbours", found.matches.map { "\($0.index)" }.joined(separator: ",")),
                             ("X-Distances", found.matches.map { String(format: "%.4f", $0.distance) }.joined(separator: ","))]
        }
        resp.logModel = m.name
        return resp
    }

    /// Images of equal shapes `[n_i, R, R, C]`, one after another.
    static func concatenate(_ parts: [Tensor]) -> Tensor {
        let inner = Array(parts[0].shape.dropFirst())
        let out = Tensor(uninitializedShape: [parts.reduce(0) { $0 + $1.shape[0] }] + inner)
        var at = 0
        for t in parts {
            precondition(Array(t.shape.dropFirst()) == inner, "\(t.shape) vs \(inner)")
            (out.data + at).update(from: t.data, count: t.count)
            at += t.count
        }
        return out
    }
}
