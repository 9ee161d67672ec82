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
        let model: String, `class`: Int?, className: String?, seed: UInt64, truncation: Double?
        let space: String, scope: String, k: Int, neighbours: [Neighbour]
        enum CodingKeys: String, CodingKey { case model, `class`, className = "class_name", seed, truncation, space, scope, k, neighbours }
        /// `truncation` is written as null when untruncated, as in `POST /v1/samples`.
        func encode(to e: Encoder) throws {
            var c = e.container(keyedBy: CodingKeys.self)
            try c.encode(model, forKey: .model); try c.encode(`class`, forKey: .class); try c.encode(className, forKey: .className)
            try c.encode(seed, forKey: .seed); try c.encode(truncation, forKey: .truncation); try c.encode(space, forKey: .space)
            try c.encode(scope, forKey: .scope); try c.encode(k, forKey: .k); try c.encode(neighbours, forKey: .neighbours)
        }
    }

    static func handle(_ r: HTTPRequest, _ c: ServerContext) throws -> HTTPResponse {
        let p = Parameters(request: r)
        let m = try c.registry.model(named: p.string("model"))
        let cls = try p.classIndex("class", m)
        let k = try p.int("k", default: 8, range: 1...c.limits.maxNeighbours)
        let sampling = try p.sampling(m)
        let t = sampling.truncation
        guard let space = NeighbourService.Space(rawValue: p.string("space") ?? "pixel") else {
            throw APIError.badRequest("'space' must be pixel or feature, got '\(p.string("space")!)'")
        }
        let scope = p.string("scope") ?? "class"
        guard scope == "class" || scope == "all" else { throw APIError.badRequest("'scope' must be class or all, got '\(scope)'") }
        let format = p.string("format") ?? "png"
        guard format == "png" || format == "json" else { throw APIError.badRequest("'format' must be png or json, got '\(format)'") }
        let given = try p.seed("seed")
        let seed = given ?? SampleRoutes.randomSeed()
        let batch = try m.prepare(sampling.request(.samples(classes: cls.map { [$0] } ?? [], latents: .seeds([seed]))))
        guard let service = m.neighbours else {
            throw APIError(404, "no_index", "model '\(m.name)' has no neighbour index: \(m.neighboursUnavailable ?? "unavailable")")
        }
        if space == .feature && service.classifier == nil {
            throw APIError(404, "no_index", "model '\(m.name)' has no feature-space index: \(NeighbourError.noClassifier)")
        }
        try checkIndex(service, space, m, c)
        let info = m.info
        // Generation and search both use BLAS: the compute worker runs them, the one thread that
        // serves requests with BLAS (the search of a ready index takes milliseconds; nothing is
        // built here).
        let lookup = NeighbourLookup(service: service, k: k, space: space, restrictTo: scope == "class" ? cls : nil)
        let sample: Tensor, result: NeighbourService.Result
        do { (sample, result) = try c.worker.neighbours(model: m, batch, lookup) }
        catch let e as NeighbourError { throw APIError(404, "no_index", "model '\(m.name)': neighbour index unavailable: \(e)") }
        var resp: HTTPResponse
        if format == "json" {
            let ns = result.matches.enumerated().map { i, x in
                Neighbour(rank: i + 1, index: x.index, label: x.label, className: info.className(x.label), distance: x.distance)
            }
            resp = .json(Reply(model: m.name, class: cls, className: cls.map(info.className), seed: seed, truncation: t,
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

    /// Lookups use ready indexes only. One still being built (in the background, see
    /// `NeighbourIndexBuilder`) is a 503 with its progress; one not started yet (the server was
    /// started with `--neighbour-indexes lazy`) is queued, then the same 503; a failed build is a
    /// 404 with the reason.
    static func checkIndex(_ service: NeighbourService, _ space: NeighbourService.Space, _ m: LoadedModel, _ c: ServerContext) throws {
        var state = service.state(space)
        if state == .notStarted {
            m.prepareNeighbourIndexes(on: c.registry.indexBuilder, spaces: [space])
            state = service.state(space)
        }
        switch state {
        case .ready: return
        case .failed(let why), .unavailable(let why):
            throw APIError(404, "no_index", "model '\(m.name)': \(space.rawValue) neighbour index unavailable: \(why)")
        case .notStarted, .queued, .building:
            throw APIError(503, "index_building", "the neighbour index is being built; retry later (\(describe(state, space, m.name)))",
                           retryAfter: retryAfter(state))
        }
    }

    /// "feature index for fashion-mnist-32: 12,000 of 60,000 images (20%)".
    static func describe(_ state: NeighbourIndexState, _ space: NeighbourService.Space, _ model: String) -> String {
        let what = "\(space.rawValue) index for \(model)"
        switch state {
        case .notStarted: return "\(what): not started"
        case .queued: return "\(what): queued for the background index builder"
        case .building(let p): return "\(what): \(p.description)"
        case .ready: return "\(what): ready"
        case .failed(let why): return "\(what): failed: \(why)"
        case .unavailable(let why): return "\(what): unavailable: \(why)"
        }
    }

    /// Seconds a client should wait: the build's estimated time left, 1…60 (5 before there is a rate).
    static func retryAfter(_ state: NeighbourIndexState) -> Int {
        guard case .building(let p) = state, let left = p.secondsLeft() else { return 5 }
        return Int(min(60, max(1, left.rounded(.up))))
    }
}
