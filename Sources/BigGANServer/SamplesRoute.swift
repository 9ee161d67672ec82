import BigGANEngine
import BigGANImage
import Foundation

/// `POST /v1/samples`: JSON in, JSON out with base64 PNGs.
///
/// Body: `{"model"?, "class" | "classes", "seed"? + "n"? | "seeds"? | "z"?, "truncation"? | "psi"?,
/// "cutoff"?, "noise_mode"?, "truncation_target"?, "seed_mode"?}` (the last five and `psi` for
/// StyleGAN models only, as in `SamplingParameters`). `truncation` omitted, `null` or `"none"`
/// samples untruncated. Valid JSON with a bad value (a
/// negative or fractional seed, a z entry beyond ±1000, an unknown field) is a 400 naming the field.
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
            else { throw DecodingError.typeMismatch(Int.self, .init(codingPath: d.codingPath, debugDescription: "a class index or name")) }
        }
        var text: String { switch self { case .index(let i): return "\(i)"; case .name(let s): return s } }
    }

    struct Body: Decodable {
        let model: String?
        let `class`: ClassValue?
        let classes: [ClassValue]?
        let seed: JSONBody.Number?
        let seeds: [JSONBody.Number]?
        let n: JSONBody.Number?
        let z: [[JSONBody.Number]]?
        let truncation: JSONBody.TruncationValue?
        let psi: JSONBody.TruncationValue?
        let cutoff: JSONBody.Number?
        let noise_mode: String?
        let truncation_target: String?
        let seed_mode: String?
        static let fields = ["model", "class", "classes", "seed", "seeds", "n", "z", "truncation", "psi", "cutoff", "noise_mode",
                             "truncation_target", "seed_mode"]

        /// The sampling options (see `SamplingParameters`); `cutoff` must be a JSON integer.
        func sampling(_ m: LoadedModel) throws -> SamplingParameters {
            let cutoffText = try cutoff.map { n -> String in
                guard case .unsigned(let u) = n, u <= 1024 else { throw APIError.badRequest("'cutoff' must be an integer from 1 to the model's layers, got \(n.text)") }
                return "\(u)"
            }
            let given: [String: String?] = ["truncation": truncation.map { _ in "" }, "psi": psi.map { _ in "" }, "cutoff": cutoffText,
                                            "noise_mode": noise_mode, "truncation_target": truncation_target, "seed_mode": seed_mode]
            return try SamplingParameters(m, value: { given[$0] ?? nil }, truncation: { name in
                try (name == "psi" ? psi : truncation)?.value(name, rule: m.capabilities.truncation) ?? nil
            })
        }
    }

    struct Image: Encodable {
        let index: Int, `class`: Int?, className: String?, seed: UInt64?, pngBase64: String
        enum CodingKeys: String, CodingKey { case index, `class`, className = "class_name", seed, pngBase64 = "png_base64" }
        /// `seed` is written as null for explicit latents, `class` and `class_name` for
        /// unconditional models, rather than left out.
        func encode(to e: Encoder) throws {
            var c = e.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index); try c.encode(`class`, forKey: .class); try c.encode(className, forKey: .className)
            try c.encode(seed, forKey: .seed); try c.encode(pngBase64, forKey: .pngBase64)
        }
    }
    struct Reply: Encodable {
        let model: String; let truncation: Double?; let images: [Image]
        /// `truncation` is written as null for untruncated sampling rather than left out.
        func encode(to e: Encoder) throws {
            enum K: String, CodingKey { case model, truncation, images }
            var c = e.container(keyedBy: K.self)
            try c.encode(model, forKey: .model); try c.encode(truncation, forKey: .truncation); try c.encode(images, forKey: .images)
        }
    }

    static func decode(_ r: HTTPRequest, _ c: ServerContext) throws -> Body {
        if r.bodyTooLarge || r.body.count > c.limits.maxBodyBytes {
            throw APIError(413, "body_too_large", "the request body exceeds \(c.limits.maxBodyBytes) bytes")
        }
        return try JSONBody.decode(Body.self, from: r.body, fields: Body.fields)
    }

    static func handle(_ r: HTTPRequest, _ c: ServerContext) throws -> HTTPResponse {
        let b = try decode(r, c)
        let m = try c.registry.model(named: b.model)
        let sampling = try b.sampling(m)
        let t = sampling.truncation
        let maxN = c.limits.maxImages
        // One source of latents and one of classes: a body naming two is refused, not half-read.
        let sources = [("z", b.z != nil), ("seeds", b.seeds != nil), (b.seed != nil ? "seed" : "n", b.seed != nil || b.n != nil)].filter(\.1).map(\.0)
        if sources.count > 1 {
            throw APIError.badRequest("give one of 'z', 'seeds' or 'seed' (with 'n'); this body has \(sources.map { "'\($0)'" }.joined(separator: " and "))")
        }
        if b.class != nil && b.classes != nil { throw APIError.badRequest("give 'class' or 'classes', not both") }
        let latents: GenerationRequest.Latents
        if let z = b.z {
            latents = .explicit(try JSONBody.latents(z, dim: m.info.dimZ, maxCount: maxN))
        } else if let given = b.seeds {
            guard (1...maxN).contains(given.count) else { throw APIError.badRequest("'seeds' must hold 1 to \(maxN) seeds, got \(given.count)") }
            latents = .seeds(try given.enumerated().map { try $1.seed("seeds[\($0)]") })
        } else {
            let n = try b.n?.int("n", 1...maxN) ?? 1
            let base = try b.seed?.seed("seed") ?? SampleRoutes.randomSeed()
            latents = .seeds((0..<n).map { base &+ UInt64($0) })
        }
        // Each given class is resolved once; the engine checks the count and repeats a single one.
        let classes: [Int]
        if let cs = b.classes {
            guard !cs.isEmpty else { throw APIError.badRequest("'classes' is empty: give one class per image or a single class") }
            classes = try cs.enumerated().map { try SampleRoutes.resolveClass($1.text, m, parameter: "classes[\($0)]") }
        } else {
            classes = try b.class.map { [try SampleRoutes.resolveClass($0.text, m, parameter: "class")] } ?? []
        }
        let batch = try m.prepare(sampling.request(.samples(classes: classes, latents: latents)))
        let images = try c.worker.generate(model: m, batch)
        var out: [Image] = []
        for i in 0..<batch.count {
            let png: [UInt8]
            do { png = try PNGCodec.encode(Image8(batch: images, index: i)) } catch { throw APIError(500, "encode_failed", "\(error)") }
            out.append(Image(index: i, class: batch.classes[i], className: batch.classes[i].map(m.info.className), seed: batch.seeds[i],
                             pngBase64: Data(png).base64EncodedString()))
        }
        var resp = HTTPResponse.json(Reply(model: m.name, truncation: t, images: out))
        resp.logModel = m.name
        return resp
    }
}
