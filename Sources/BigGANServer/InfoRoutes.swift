import BigGANEngine
import BigGANEvaluation
import Foundation

/// Health, metrics, the OpenAPI document, model listings and the request log.
enum InfoRoutes {
    struct Health: Encodable {
        struct Log: Encodable { let ok: Bool; let path: String?; let error: String?; let pending: Int?; let dropped: Int? }
        struct Failure: Encodable { let path: String; let reason: String }
        let status: String
        let models: [String]
        let failedModels: [Failure]
        let requestLog: Log
        let queueDepth: Int
        /// Model name → space (`pixel`, `feature`) → index state. Indexes are optional: building
        /// or failed ones leave `status` alone.
        let neighbourIndexes: [String: [String: IndexReport]]
        enum CodingKeys: String, CodingKey {
            case status, models, failedModels = "failed_models", requestLog = "request_log", queueDepth = "queue_depth"
            case neighbourIndexes = "neighbour_indexes"
        }
    }

    /// One index in `/healthz`: `state` (`not_started`, `queued`, `building`, `ready`, `failed`,
    /// `unavailable`), `progress` 0…1 while building, `detail` (such as "12,000 of 60,000
    /// images (20%)") and `reason` when failed or unavailable.
    struct IndexReport: Encodable, Equatable {
        let state: String
        var progress: Double?
        var detail: String?
        var reason: String?

        init(_ s: NeighbourIndexState) {
            state = s.name
            switch s {
            case .building(let p): progress = p.fraction; detail = p.description
            case .failed(let why), .unavailable(let why): reason = why
            case .notStarted, .queued, .ready: break
            }
        }
    }

    static func indexReports(_ c: ServerContext) -> [String: [String: IndexReport]] {
        var out: [String: [String: IndexReport]] = [:]
        for m in c.registry.models {
            var spaces: [String: IndexReport] = [:]
            for space in NeighbourService.Space.allCases { spaces[space.rawValue] = IndexReport(m.neighbourIndexState(space)) }
            out[m.name] = spaces
        }
        return out
    }

    static func health(_ c: ServerContext) -> HTTPResponse {
        let logHealth = c.log?.health ?? (ok: false, error: "request log disabled")
        let ready = !c.registry.models.isEmpty
        let status = !ready ? "unavailable" : logHealth.ok ? "ok" : "degraded"
        return .json(Health(status: status, models: c.registry.models.map(\.name),
                            failedModels: c.registry.failures.map { .init(path: $0.path, reason: $0.reason) },
                            requestLog: .init(ok: logHealth.ok, path: c.log?.path, error: logHealth.error,
                                              pending: c.log?.stats.pending, dropped: c.log?.stats.dropped),
                            queueDepth: c.worker.queueDepth, neighbourIndexes: indexReports(c)), status: ready ? 200 : 503)
    }

    static func metrics(_ c: ServerContext) -> HTTPResponse {
        .text(c.metrics.render() + (c.log?.metricsText ?? ""), contentType: "text/plain; version=0.0.4; charset=utf-8")
    }

    static func openAPI() -> HTTPResponse {
        HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: OpenAPIDocument.json)
    }

    /// A model's `capabilities` in `/v1/models`: what clients (the gallery among them) build
    /// their controls from, instead of assuming a class-conditional BigGAN.
    struct CapabilitiesReport: Encodable {
        struct TruncationReport: Encodable {
            let rule: String, symbol: String, min: Double, minInclusive: Bool, max: Double?, range: String, summary: String
            /// What an omitted truncation means: always untruncated (`null`).
            let `default`: Double? = nil
            enum CodingKeys: String, CodingKey {
                case rule, symbol, min, minInclusive = "min_inclusive", max, range, summary, `default`
            }
            func encode(to e: Encoder) throws {
                var c = e.container(keyedBy: CodingKeys.self)
                try c.encode(rule, forKey: .rule); try c.encode(symbol, forKey: .symbol); try c.encode(min, forKey: .min)
                try c.encode(minInclusive, forKey: .minInclusive); try c.encode(max, forKey: .max); try c.encode(range, forKey: .range)
                try c.encode(summary, forKey: .summary); try c.encode(`default`, forKey: .default)
            }
        }
        /// StyleGAN controls (`StyleCapabilities`): what `cutoff`, `noise_mode`,
        /// `truncation_target` and `/v1/mix` accept on this model, and their defaults.
        struct StyleReport: Encodable {
            let layers: Int, defaultCutoff: Int, noiseModes: [String], defaultNoiseMode: String
            let classCentroids: Bool, truncationTargets: [String], defaultTruncationTarget: String, mixing: Bool
            enum CodingKeys: String, CodingKey {
                case layers, defaultCutoff = "default_cutoff", noiseModes = "noise_modes", defaultNoiseMode = "default_noise_mode"
                case classCentroids = "class_centroids", truncationTargets = "truncation_targets"
                case defaultTruncationTarget = "default_truncation_target", mixing
            }
            init(_ s: StyleCapabilities) {
                let d = s.defaults
                layers = s.layers; defaultCutoff = s.defaultCutoff; classCentroids = s.classCentroids; mixing = true
                noiseModes = StyleOptions.Noise.allCases.filter { $0 != .const || s.storedNoise }.map(\.rawValue)
                truncationTargets = StyleOptions.TruncationTarget.allCases.filter { $0 != .class || s.classCentroids }.map(\.rawValue)
                defaultNoiseMode = d.noise.rawValue; defaultTruncationTarget = d.truncationTarget.rawValue
            }
        }
        let conditional: Bool, latentSpaces: [String], truncation: TruncationReport, encoder: Bool
        /// `null` for families without style controls.
        let style: StyleReport?
        enum CodingKeys: String, CodingKey { case conditional, latentSpaces = "latent_spaces", truncation, encoder, style }

        init(_ c: ModelCapabilities) {
            conditional = c.conditional; latentSpaces = c.latentSpaces.map(\.rawValue); encoder = c.encoder
            let t = c.truncation
            truncation = TruncationReport(rule: t.name, symbol: t.symbol, min: t.minimum, minInclusive: t.minimumIncluded, max: t.maximum,
                                          range: t.rangeText, summary: t.summary)
            style = c.style.map(StyleReport.init)
        }

        func encode(to e: Encoder) throws {
            var k = e.container(keyedBy: CodingKeys.self)
            try k.encode(conditional, forKey: .conditional); try k.encode(latentSpaces, forKey: .latentSpaces)
            try k.encode(truncation, forKey: .truncation); try k.encode(encoder, forKey: .encoder); try k.encode(style, forKey: .style)
        }
    }

    /// A bigbigan model's encoder in `/v1/models` (absent for other families).
    struct EncoderReport: Encodable {
        let resolution: Int, channels: Int, dimZ: Int, featureWidth: Int, sigma: String, parameters: Int
        enum CodingKeys: String, CodingKey {
            case resolution, channels, dimZ = "dim_z", featureWidth = "feature_width", sigma, parameters
        }
        init(_ e: EncoderInfo) {
            resolution = e.resolution; channels = e.channels; dimZ = e.dimZ; featureWidth = e.featureWidth; sigma = e.sigma
            parameters = e.parameterCount
        }
    }

    struct ModelSummary: Encodable {
        let name: String, architecture: String, resolution: Int, channels: Int, classes: Int, dimZ: Int
        let truncation: String, isDefault: Bool, provenance: String?
        /// What an omitted `truncation` means: always `none` (untruncated, z ~ N(0, I)).
        let defaultTruncation = "none"
        /// The thresholds this model's rule accepts besides `none`.
        let truncationRange: String
        let capabilities: CapabilitiesReport
        /// The encoder (bigbigan models); the fields above describe the generator.
        let encoder: EncoderReport?
        enum CodingKeys: String, CodingKey {
            case name, architecture, resolution, channels, classes, dimZ = "dim_z", truncation, isDefault = "default", provenance
            case defaultTruncation = "default_truncation", truncationRange = "truncation_range", capabilities, encoder
        }
        init(_ m: LoadedModel, isDefault: Bool) {
            let i = m.info, caps = m.capabilities
            name = m.name; architecture = i.architecture; resolution = i.resolution; channels = i.channels
            classes = i.nClasses; dimZ = i.dimZ; truncation = caps.truncation.name; self.isDefault = isDefault; provenance = i.provenance
            truncationRange = caps.truncation.rangeText
            capabilities = CapabilitiesReport(caps)
            encoder = m.generator.imageEncoder.map { EncoderReport($0.encoderInfo) }
        }
    }

    static func models(_ c: ServerContext) -> HTTPResponse {
        struct List: Encodable { let models: [ModelSummary] }
        return .json(List(models: c.registry.models.map { ModelSummary($0, isDefault: $0 === c.registry.defaultModel) }))
    }

    static func model(_ name: String, _ c: ServerContext) throws -> HTTPResponse {
        struct Detail: Encodable {
            let summary: ModelSummary
            let classNames: [String]
            /// The checkpoint's config as stored (its fields depend on the family).
            let config: JSONValue
            let parameters: Int
            func encode(to e: Encoder) throws {
                try summary.encode(to: e)
                var k = e.container(keyedBy: K.self)
                try k.encode(classNames, forKey: .classNames); try k.encode(config, forKey: .config); try k.encode(parameters, forKey: .parameters)
            }
            enum K: String, CodingKey { case classNames = "class_names", config, parameters }
        }
        let m = try c.registry.model(named: name)
        let config = (try? JSONDecoder().decode(JSONValue.self, from: Data(m.info.configJSON.utf8))) ?? .null
        var r = HTTPResponse.json(Detail(summary: ModelSummary(m, isDefault: m === c.registry.defaultModel),
                                         classNames: m.info.classNames, config: config, parameters: m.generator.parameterCount))
        r.logModel = m.name
        return r
    }

    static func requests(_ r: HTTPRequest, _ c: ServerContext) throws -> HTTPResponse {
        guard let token = c.adminToken else {
            throw APIError(404, "admin_disabled", "the request log endpoint is disabled; start the server with --admin-token")
        }
        guard let given = r.headers["x-admin-token"] ?? r.headers["authorization"].flatMap(bearerToken), constantTimeEqual(given, token) else {
            throw APIError(401, "unauthorized", "send the admin token as 'Authorization: Bearer <token>' or 'X-Admin-Token'",
                           headers: ["WWW-Authenticate": "Bearer realm=\"biggan-admin\""])
        }
        let limit = try Parameters(request: r).int("limit", default: 100, range: 1...c.limits.maxLogRows)
        guard let log = c.log else { throw APIError(503, "request_log_unavailable", "the request log is disabled") }
        struct Rows: Encodable { let requests: [RequestRecord] }
        do { return .json(Rows(requests: try log.recent(limit: limit))) }
        catch let e as APIError { throw e }
        catch { throw APIError(503, "request_log_unavailable", "cannot read the request log: \(error)") }
    }

    /// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive
    /// (RFC 9110 §11.1) and any amount of white space may follow it. Other schemes: nil.
    static func bearerToken(_ header: String) -> String? {
        let h = header.trimmingCharacters(in: .whitespaces)
        guard h.count > 6, h.prefix(6).lowercased() == "bearer", h.dropFirst(6).first?.isWhitespace == true else { return nil }
        let token = h.dropFirst(6).trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
