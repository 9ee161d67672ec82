import BigGANEngine
import BigGANImage
import Foundation

/// `GET /v1/sample`, `POST /v1/samples`, `GET /v1/interpolate`.
enum SampleRoutes {
    /// Deterministic responses may be cached for a year: the ETag covers the weights and every parameter.
    static let immutableCache = "public, max-age=31536000, immutable"

    /// The class that `text`, given as `parameter`, names (see `ClassResolver`); errors are 400s
    /// that name the parameter.
    static func resolveClass(_ text: String, _ m: LoadedModel, parameter: String) throws -> Int {
        do { return try ClassResolver.resolve(text, info: m.info) }
        catch let e as SamplingError { throw SamplingError(parameter: parameter, e.message).apiError }
    }

    /// A strong ETag over the weights, every parameter and the engine's thread count: an image's
    /// bytes do not depend on its batch, but large GEMMs are cut into one piece per thread.
    static func etag(_ m: LoadedModel, _ parts: [String]) -> String {
        "\"" + String(FNV1a.hash(([m.fingerprint, "blas\(BLAS.threads)"] + parts).joined(separator: "|")), radix: 16) + "\""
    }

    /// Answers 304 or a cached PNG for a deterministic request, else renders, caches and tags it.
    static func pngResponse(_ r: HTTPRequest, _ c: ServerContext, _ m: LoadedModel, etag: String?,
                            headers: [(String, String)], render: () throws -> [UInt8]) throws -> HTTPResponse {
        var resp: HTTPResponse
        if let etag, r.ifNoneMatch(etag) {
            resp = HTTPResponse(status: 304)
        } else if let etag, let cached = c.cache.get(etag) {
            resp = .png(cached)
            resp.headers.append(("X-Cache", "hit"))
        } else {
            let bytes = try render()
            if let etag { c.cache.put(etag, bytes) }
            resp = .png(bytes)
        }
        if let etag { resp.headers += [("ETag", etag), ("Cache-Control", immutableCache)] }
        else { resp.headers.append(("Cache-Control", "no-store")) }
        resp.headers += headers
        resp.logModel = m.name
        return resp
    }

    static func encode(_ images: Tensor, columns: Int) throws -> [UInt8] {
        do { return try PNGCodec.encode(Image8.grid(images, columns: columns)) }
        catch { throw APIError(500, "encode_failed", "\(error)") }
    }

    static func randomSeed() -> UInt64 { UInt64.random(in: 0...UInt64(Int64.max)) }

    // MARK: GET /v1/sample

    static func sample(_ r: HTTPRequest, _ c: ServerContext) throws -> HTTPResponse {
        let p = Parameters(request: r)
        let m = try c.registry.model(named: p.string("model"))
        let cls = try p.classIndex("class", m)
        let n = try p.int("n", default: 1, range: 1...c.limits.maxImages)
        let columns = try p.int("columns", default: Int(Double(n).squareRoot().rounded(.up)), range: 1...n)
        let s = try p.sampling(m)
        let t = s.truncation
        let given = try p.seed("seed")
        let seed = given ?? randomSeed()
        let batch = try m.prepare(s.request(.samples(classes: cls.map { [$0] } ?? [], latents: .seeds((0..<n).map { seed &+ UInt64($0) }))))
        let classKey = cls.map(String.init) ?? "-"
        let tag = given == nil ? nil : etag(m, ["sample", classKey, "\(seed)", "\(n)", "\(columns)"]
                                                + SamplingParameters.keyParts(t, batch.style, s.seedMode))
        var headers = [("X-Model", m.name), ("X-Seed", "\(seed)"), ("X-Truncation", Truncation.describe(t)),
                       ("X-Seeds", n == 1 ? "\(seed)" : "\(seed)-\(seed &+ UInt64(n - 1))")]
        if let cls { headers.insert(("X-Class", "\(cls)"), at: 1) }
        return try pngResponse(r, c, m, etag: tag, headers: headers) {
            try encode(try c.worker.generate(model: m, batch), columns: columns)
        }
    }

    // MARK: GET /v1/interpolate

    static func interpolate(_ r: HTTPRequest, _ c: ServerContext) throws -> HTTPResponse {
        let p = Parameters(request: r)
        let m = try c.registry.model(named: p.string("model"))
        let steps = try p.int("steps", default: 8, range: 2...c.limits.maxSteps)
        let s = try p.sampling(m)
        let t = s.truncation
        let method: Interpolation
        switch p.string("method") ?? "linear" {
        case "linear": method = .linear
        case "spherical": method = .spherical
        case let other: throw APIError.badRequest("'method' must be linear or spherical, got \(Echo.quoted(other))")
        }
        let kind: GenerationRequest.Kind, key: [String]
        let kindName = p.string("kind") ?? "latent"
        // Parameters of the other kind would be ignored: refuse them, naming them.
        let foreign = (kindName == "class" ? ["class", "seed_a", "seed_b", "method", "space"] : kindName == "latent" ? ["seed", "class_a", "class_b"] : [])
            .filter { p.string($0) != nil }
        if let first = foreign.first {
            throw APIError.badRequest("'\(first)' does not apply to kind=\(kindName)" + (kindName == "latent"
                ? " (it takes class, seed_a, seed_b, method, space)" : " (it takes seed, class_a, class_b)"))
        }
        let space: ModelCapabilities.LatentSpace
        switch p.string("space") ?? "z" {
        case "z": space = .z
        case "w":
            guard m.capabilities.latentSpaces.contains(.w) else {
                throw APIError(400, "unsupported", "'space' w (interpolation in W) needs a StyleGAN model; '\(m.name)' (\(m.info.architecture)) has no W space")
            }
            space = .w
        case let other: throw APIError.badRequest("'space' must be z or w, got \(Echo.quoted(other))")
        }
        switch kindName {
        case "latent":
            let cls = try p.classIndex("class", m)
            let a = try p.seed("seed_a") ?? 0, b = try p.seed("seed_b") ?? a &+ 1
            kind = .latentInterpolation(class: cls, seedA: a, seedB: b, steps: steps, method: method, space: space)
            key = ["latent", cls.map(String.init) ?? "-", "\(a)", "\(b)", method.rawValue, space.rawValue]
        case "class":
            let a = try p.classIndex("class_a", m), b = try p.classIndex("class_b", m)
            let seed = try p.seed("seed") ?? 0
            kind = .classInterpolation(seed: seed, classA: a, classB: b, steps: steps)
            key = ["class", a.map(String.init) ?? "-", b.map(String.init) ?? "-", "\(seed)"]
        case let other:
            throw APIError.badRequest("'kind' must be latent or class, got \(Echo.quoted(other))")
        }
        let batch = try m.prepare(s.request(kind))
        let tag = etag(m, ["interpolate"] + key + ["\(steps)"] + SamplingParameters.keyParts(t, batch.style, s.seedMode))
        return try pngResponse(r, c, m, etag: tag, headers: [("X-Model", m.name), ("X-Truncation", Truncation.describe(t))]) {
            try encode(try c.worker.generate(model: m, batch), columns: steps)
        }
    }
}
