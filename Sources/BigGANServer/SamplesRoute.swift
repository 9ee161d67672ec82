import BigGANEngine
import BigGANImage
import Foundation

/// `POST /v1/samples`: JSON in, JSON out with base64 PNGs.
///
/// Body: `{"model"?, "class"? | "classes"?, "seed"? + "n"? | "seeds"? | "z"?, "truncation"?}`.
/// Latents come from `z` (explicit vectors), else `seeds`, else `seed`…`seed+n−1` (a random seed
/// when none is given). `classes` must have one entry per image (or one for all); `class` applies
/// to all. Classes are indices or names.
enum SamplesRoute {
    enum ClassValue: Decodable {
        case index(Int), name(String)
        init(from d: Decoder) throws {
            let c = try d.singleValueContainer()
            if let i = try? c.decode(Int.self) { self = .index(i) }
            else if let s = try? c.decode(String.self) { self = .name(s) }
            else { throw DecodingError.typeMismatch(Int.self, .init(codingPath: d.codingPath, debugDescription: "a class is an index or a name")) }
        }
        var text: String { switch self { case .index(let i): return "\(i)"; case .name(let s): return s } }
    }

    struct Body: Decodable {
        let model: String?
        let `class`: ClassValue?
        let classes: [ClassValue]?
        let seed: UInt64?
        let seeds: [UInt64]?
        let n: Int?
        let z: [[Float]]?
        let truncation: Double?
    }

    struct Image: Encodable {
        let index: Int, `class`: Int, className: String, seed: UInt64?, pngBase64: String
        enum CodingKeys: String, CodingKey { case index, `class`, className = "class_name", seed, pngBase64 = "png_base64" }
        /// `seed` is written as null for explicit latents rather than left out.
        func encode(to e: Encoder) throws {
            var c = e.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index); try c.encode(`class`, forKey: .class); try c.encode(className, forKey: .className)
            try c.encode(seed, forKey: .seed); try c.encode(pngBase64, forKey: .pngBase64)
        }
    }
    struct Reply: Encodable { let model: String; let truncation: Double; let images: [Image] }

    static func decode(_ r: HTTPRequest, _ c: ServerContext) throws -> Body {
        if r.bodyTooLarge || r.body.count > c.limits.maxBodyBytes {
            throw APIError(413, "body_too_large", "the request body exceeds \(c.limits.maxBodyBytes) bytes")
        }
        guard !r.body.isEmpty else { throw APIError(400, "invalid_json", "the request body is empty; send a JSON object") }
        do { return try JSONDecoder().decode(Body.self, from: Data(r.body)) }
        catch let DecodingError.dataCorrupted(ctx) { throw APIError(400, "invalid_json", "malformed JSON: \(ctx.debugDescription)") }
        catch let DecodingError.typeMismatch(_, ctx) {
            throw APIError(400, "invalid_json", "wrong type at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))': \(ctx.debugDescription)")
        }
        catch { throw APIError(400, "invalid_json", "cannot read the body: \(error)") }
    }

    static func handle(_ r: HTTPRequest, _ c: ServerContext) throws -> HTTPResponse {
        let b = try decode(r, c)
        let m = try c.registry.model(named: b.model)
        let cfg = m.config
        let t = b.truncation ?? 1.0
        guard t.isFinite, t > 0 else { throw APIError.badRequest("'truncation' must be a positive finite number") }
        try SampleRoutes.checkTruncation(t, m)
        let maxN = c.limits.maxImages
        var seeds: [UInt64?] = [], latents: [[Float]] = []
        if let z = b.z {
            guard (1...maxN).contains(z.count) else { throw APIError.badRequest("'z' must hold 1 to \(maxN) vectors, got \(z.count)") }
            for (i, v) in z.enumerated() {
                guard v.count == cfg.dimZ else { throw APIError.badRequest("z[\(i)] has \(v.count) entries; this model needs \(cfg.dimZ)") }
                guard v.allSatisfy(\.isFinite) else { throw APIError.badRequest("z[\(i)] contains a non-finite value") }
            }
            latents = z; seeds = Array(repeating: nil, count: z.count)
        } else {
            let s: [UInt64]
            if let given = b.seeds { s = given }
            else {
                let n = b.n ?? 1
                guard (1...maxN).contains(n) else { throw APIError.badRequest("'n' must be between 1 and \(maxN), got \(n)") }
                let base = b.seed ?? SampleRoutes.randomSeed()
                s = (0..<n).map { base &+ UInt64($0) }
            }
            guard (1...maxN).contains(s.count) else { throw APIError.badRequest("'seeds' must hold 1 to \(maxN) seeds, got \(s.count)") }
            seeds = s
            latents = s.map { Truncation.latent(seed: $0, dim: cfg.dimZ, truncation: t, convention: cfg.truncation) }
        }
        let n = latents.count
        let classText: [String]
        if let cs = b.classes {
            guard cs.count == n || cs.count == 1 else { throw APIError.badRequest("'classes' has \(cs.count) entries for \(n) images") }
            classText = cs.count == n ? cs.map(\.text) : Array(repeating: cs[0].text, count: n)
        } else {
            classText = Array(repeating: b.class?.text ?? "0", count: n)
        }
        let classes = try classText.map { try SampleRoutes.resolveClass($0, m) }
        let images = try c.worker.generate(model: m, latents: latents, embeddings: classes.map(m.generator.embedding(forClass:)), truncation: t)
        var out: [Image] = []
        for i in 0..<n {
            let png: [UInt8]
            do { png = try PNGCodec.encode(Image8(batch: images, index: i)) } catch { throw APIError(500, "encode_failed", "\(error)") }
            out.append(Image(index: i, class: classes[i], className: cfg.className(classes[i]), seed: seeds[i],
                             pngBase64: Data(png).base64EncodedString()))
        }
        var resp = HTTPResponse.json(Reply(model: m.name, truncation: t, images: out))
        resp.logModel = m.name
        return resp
    }
}
