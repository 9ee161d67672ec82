import BigGANEngine
import BigGANEvaluation
import BigGANImage
import Foundation

/// `GET /v1/neighbours?model&class&seed&truncation&k&space=pixel|feature&scope=class|all[&format=json]`:
/// a generated sample and its k nearest training images, as a PNG row (sample first) or JSON.
enum NeighboursRoute {
    struct Neighbour: Encodable {
        let rank: Int, index: Int, label: Int, className: String, distance: Float
        enum CodingKeys: String, CodingKey { case rank, index, label, className = "class_name", distance }
    }
    struct Reply: Encodable {
        let model: String, `class`: Int, className: String, seed: UInt64, truncation: Double?
        let space: String, scope: String, k: Int, neighbours: [Neighbour]
        enum CodingKeys: String, CodingKey { case model, `class`, className = "class_name", seed, truncation, space, scope, k, neighbours }
    }

    static func handle(_ r: HTTPRequest, _ c: ServerContext) throws -> HTTPResponse {
        let p = Parameters(request: r)
        let m = try c.registry.model(named: p.string("model"))
        let cls = try p.classIndex("class", m)
        let k = try p.int("k", default: 8, range: 1...c.limits.maxNeighbours)
        let t = try p.truncation()
        try SampleRoutes.checkTruncation(t, m)
        guard let space = NeighbourService.Space(rawValue: p.string("space") ?? "pixel") else {
            throw APIError.badRequest("'space' must be pixel or feature, got '\(p.string("space")!)'")
        }
        let scope = p.string("scope") ?? "class"
        guard scope == "class" || scope == "all" else { throw APIError.badRequest("'scope' must be class or all, got '\(scope)'") }
        let format = p.string("format") ?? "png"
        guard format == "png" || format == "json" else { throw APIError.badRequest("'format' must be png or json, got '\(format)'") }
        let given = try p.seed("seed")
        let seed = given ?? SampleRoutes.randomSeed()
        guard let service = m.neighbours else {
            throw APIError(404, "no_index", "model '\(m.name)' has no neighbour index: \(m.neighboursUnavailable ?? "unavailable")")
        }
        if space == .feature && service.classifier == nil {
            throw APIError(404, "no_index", "model '\(m.name)' has no feature-space index: \(NeighbourError.noClassifier)")
        }
        let cfg = m.config
        let z = Truncation.latent(seed: seed, dim: cfg.dimZ, truncation: t, convention: cfg.truncation)
        // Generation and search both use BLAS: run them on the compute worker.
        let (sample, result): (Tensor, NeighbourService.Result) = try c.worker.perform(model: m) {
            let sampler = Sampler(generator: m.generator)
            let image = try sampler.finite(sampler.run(latents: [z], embeddings: [m.generator.embedding(forClass: cls)], truncation: t))
            do { return (image, try service.neighbours(of: image, k: k, space: space, restrictTo: scope == "class" ? cls : nil)) }
            catch { throw APIError(404, "no_index", "model '\(m.name)': neighbour index unavailable: \(error)") }
        }
        var resp: HTTPResponse
        if format == "json" {
            let ns = result.matches.enumerated().map { i, x in
                Neighbour(rank: i + 1, index: x.index, label: x.label, className: cfg.className(x.label), distance: x.distance)
            }
            resp = .json(Reply(model: m.name, class: cls, className: cfg.className(cls), seed: seed, truncation: t,
                               space: space.rawValue, scope: scope, k: k, neighbours: ns))
        } else {
            let row = Tensor(uninitializedShape: [1 + result.matches.count] + Array(sample.shape.dropFirst()))
            row.data.update(from: sample.data, count: sample.count)
            (row.data + sample.count).update(from: result.images.data, count: result.images.count)
            do { resp = .png(try PNGCodec.encode(Image8.grid(row, columns: row.shape[0]))) }
            catch { throw APIError(500, "encode_failed", "\(error)") }
            resp.headers += [("X-Neighbours", result.matches.map { "\($0.index)" }.joined(separator: ",")),
                             ("X-Distances", result.matches.map { String(format: "%.4f", $0.distance) }.joined(separator: ","))]
        }
        resp.headers += [("X-Model", m.name), ("X-Seed", "\(seed)"), ("Cache-Control", given == nil ? "no-store" : "public, max-age=3600")]
        resp.logModel = m.name
        return resp
    }
}
