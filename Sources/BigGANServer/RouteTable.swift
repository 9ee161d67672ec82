import BigGANEngine
import Foundation

/// Every route the server answers, as data. `Router` dispatches through `match`, `/openapi.json`
/// is generated from it (`OpenAPIDocument`), the README's route table is printed from it
/// (`RouteTableMarkdown`, `biggan-server --print-route-table`), and the tests iterate it.
public enum RouteTable {
    static let model = RouteParameter("model", "string", "Model name; the first loaded model when omitted")
    static let classParam = RouteParameter("class", "string", required: true, "Class index or name", example: "0")
    static let truncation = RouteParameter("truncation", "string",
        "Omitted or none: untruncated. Else a threshold (resample models, >= 0.01), a scale in (0, 1] (truncnorm-scaled models), or ψ in [-1, 2] (StyleGAN; also as psi)")
    /// The StyleGAN sampling options (`SamplingParameters`); other families answer 400 `unsupported`.
    static let styleOptions = [
        RouteParameter("psi", "string", "StyleGAN only: ψ in [-1, 2], the same as truncation (give one of them). Omitted or none: no truncation"),
        RouteParameter("cutoff", "integer", "StyleGAN only: the number of leading synthesis layers ψ applies to, 1 to L (default: the checkpoint's truncation_cutoff)", minimum: 1),
        RouteParameter("noise_mode", "string", "StyleGAN only: const (the stored maps; the default when stored), random (drawn from the image's seed: same request, same bytes) or none",
                       allowed: ["const", "random", "none"]),
        RouteParameter("truncation_target", "string", "StyleGAN only: what ψ pulls W towards: class (the class centroid dlatent_class_avg; the default when stored) or average (dlatent_avg)",
                       allowed: ["class", "average"]),
        RouteParameter("seed_mode", "string", "StyleGAN only: engine (the documented generator) or numpy (z = NumPy RandomState(seed).randn(1, z_dim), as NVlabs' scripts; seeds < 2^32)",
                       default: .string("engine"), allowed: ["engine", "numpy"]),
    ]

    public static let routes: [Route] = [
        Route("GET", "/", metricsName: "static", summary: "The gallery (public/index.html)",
              description: "the gallery (`public/`): controls from each model's capabilities in `/v1/models`; opens on a class sheet of the default model (a grid for an unconditional one); model, class by name, the family's truncation (off = untruncated by default), seed, grid size, interpolation strips, neighbours, downloads",
              responses: [RouteResponse(200, "The gallery page", content: ["text/html": .type("string")])],
              handler: { r, c in try StaticFiles.serve(r, c) }),
        Route("GET", "/healthz", summary: "Health: models loaded, request-log state, queue depth, neighbour indexes",
              description: "JSON: `status` `ok`, or `degraded` when the request log cannot be written or has dropped rows; each model's neighbour-index state (`building` with `progress`, `ready`, `failed` with `reason`, …)",
              responses: [.json(200, "Serving (status ok, or degraded when the request log cannot be written)", .schemaRef("Health")),
                          .json(503, "No model loaded", .schemaRef("Health"))],
              handler: { _, c in InfoRoutes.health(c) }),
        Route("GET", "/metrics", summary: "Prometheus metrics",
              description: "Prometheus: requests by route and status, latency histogram, batch sizes, images per model, queue depth, request-log pending and dropped rows",
              responses: [RouteResponse(200, "Prometheus text format 0.0.4", content: ["text/plain": .type("string")])],
              handler: { _, c in InfoRoutes.metrics(c) }),
        Route("GET", "/openapi.json", summary: "This document, generated from the route table",
              description: "OpenAPI 3 document of every route",
              responses: [.json(200, "OpenAPI 3 document", .type("object"))],
              handler: { _, _ in InfoRoutes.openAPI() }),
        Route("GET", "/v1/models", summary: "Loaded models",
              description: "loaded models: name, architecture, resolution, channels, classes, dim_z, truncation convention, `default_truncation` (`none`), `capabilities` (`conditional`, `latent_spaces`, `truncation` rule with symbol and range, `encoder`); bigbigan models also `encoder` (resolution, channels, dim_z, feature_width, sigma)",
              responses: [.json(200, "Model list", .object(["type": .string("object"), "properties": .object([
                  "models": .object(["type": .string("array"), "items": .schemaRef("ModelSummary")])])]))],
              handler: { _, c in InfoRoutes.models(c) }),
        Route("GET", "/v1/models/{name}", summary: "One model: config and class names",
              description: "one model: config, class names, truncation convention, `default_truncation` (`none`)",
              parameters: [RouteParameter("name", "string", in: .path, "A loaded model's name (one path segment)")],
              responses: [.json(200, "Model detail", .schemaRef("ModelDetail")), .error(404, "No such model")],
              badPathParameter: { name in APIError(404, "unknown_model", "no model named \(Echo.quoted(name)); see /v1/models") },
              handler: { r, c in try InfoRoutes.model(r.pathParameters["name"] ?? "", c) }),
        Route("GET", "/v1/sample", summary: "One image, or a grid when n > 1, as PNG",
              description: "PNG: one image, or a grid for n > 1 (image i uses seed+i; no seed = random)",
              parameters: [model, classParam,
                           RouteParameter("seed", "integer", "Seed of the first image; image i uses seed+i. Random when omitted (then no ETag).", minimum: 0, example: "1"),
                           truncation,
                           RouteParameter("n", "integer", "Images in the grid", minimum: 1, maximum: 64, default: .int(1)),
                           RouteParameter("columns", "integer", "Grid columns", minimum: 1)] + styleOptions,
              responses: [.png(), .notModified, .error(404, "Unknown model"), .busy],
              handler: { r, c in try SampleRoutes.sample(r, c) }),
        Route("POST", "/v1/samples", summary: "Samples as JSON with base64 PNGs; accepts explicit z vectors",
              description: "JSON `{model, class or classes, seed+n or seeds or z, truncation}` (StyleGAN also `psi`, `cutoff`, `noise_mode`, `truncation_target`, `seed_mode`) → base64 PNGs with the seeds used",
              requestBody: .schemaRef("SamplesRequest"),
              responses: [.json(200, "Images and the seeds used", .schemaRef("SamplesReply")), .error(404, "Unknown model"), .busy],
              handler: { r, c in try SamplesRoute.handle(r, c) }),
        Route("GET", "/v1/interpolate", summary: "A PNG strip interpolating latents (class held) or classes (z held)",
              description: "PNG strip: `kind=latent` holds `class` and goes from `seed_a` to `seed_b` (`method=linear` or `spherical`; `space=w`: linearly in W, per layer, after truncation, StyleGAN only); `kind=class` holds `seed` and goes from `class_a` to `class_b`",
              parameters: [model,
                           RouteParameter("kind", "string", "latent: class held; class: z held", default: .string("latent"), allowed: ["latent", "class"]),
                           RouteParameter("steps", "integer", "Images in the strip, ends included", minimum: 2, maximum: 32, default: .int(8)),
                           truncation,
                           RouteParameter("class", "string", "kind=latent: the class held (required)", example: "0"),
                           RouteParameter("seed_a", "integer", "kind=latent: first seed", minimum: 0, default: .int(0)),
                           RouteParameter("seed_b", "integer", "kind=latent: last seed (default: seed_a + 1)", minimum: 0),
                           RouteParameter("method", "string", "kind=latent only", default: .string("linear"), allowed: ["linear", "spherical"]),
                           RouteParameter("space", "string", "kind=latent only: z, or w (StyleGAN: linear in W, per layer, after truncation)",
                                          default: .string("z"), allowed: ["z", "w"]),
                           RouteParameter("seed", "integer", "kind=class: the seed held", minimum: 0, default: .int(0)),
                           RouteParameter("class_a", "string", "kind=class: first class (required)"),
                           RouteParameter("class_b", "string", "kind=class: last class (required)")] + styleOptions,
              responses: [.png("PNG strip"), .notModified, .error(404, "Unknown model"), .busy],
              handler: { r, c in try SampleRoutes.interpolate(r, c) }),
        Route("GET", "/v1/mix", summary: "A StyleGAN style-mixing grid as PNG (NVlabs style_mixing.py layout)",
              description: "PNG grid (StyleGAN): blank top-left, the `cols` seeds' images across the top, the `rows` seeds' down the left, cell (r, c) the row's W with the `styles` layers from the column's; rows × cols ≤ 64; other families answer 400 `unsupported`",
              parameters: [RouteParameter("model", "string", "A StyleGAN model's name; the first loaded StyleGAN model when omitted"),
                           RouteParameter("rows", "string", required: true, "Row seeds, comma-separated (1 to 16)", example: "1,2"),
                           RouteParameter("cols", "string", required: true, "Column seeds, comma-separated (1 to 16; rows × cols at most 64)", example: "3,4"),
                           RouteParameter("styles", "string", "Style layers taken from the column: numbers and ranges, e.g. 0-3 or 0,2,4-5 (each below L)",
                                          default: .string("0-3"), example: "0-3"),
                           RouteParameter("class", "string", "Class of every image (conditional models: required)", example: "0"),
                           truncation] + styleOptions,
              responses: [.png("PNG grid, cols + 1 images wide"), .notModified, .error(404, "Unknown model"), .busy],
              handler: { r, c in try MixRoute.handle(r, c) }),
        Route("GET", "/v1/neighbours", aliases: ["/v1/neighbors"],
              summary: "A sample and its k nearest training images (pixel or classifier-feature space), as a PNG row or JSON",
              description: "PNG row: a sample and its k nearest training images (or JSON with distances); also at `/v1/neighbors`",
              parameters: [model, classParam, RouteParameter("seed", "integer", "Random when omitted", minimum: 0, example: "1"), truncation,
                           RouteParameter("k", "integer", "Neighbours", minimum: 1, maximum: 32, default: .int(8)),
                           RouteParameter("space", "string", default: .string("pixel"), allowed: ["pixel", "feature"]),
                           RouteParameter("scope", "string", "class: only training images of the sample's class", default: .string("class"), allowed: ["class", "all"]),
                           RouteParameter("format", "string", default: .string("png"), allowed: ["png", "json"])] + styleOptions,
              responses: [RouteResponse(200, "PNG row (sample, then neighbours nearest first), or JSON",
                                        content: ["image/png": .type("string", format: "binary"), "application/json": .schemaRef("NeighboursReply")]),
                          .error(404, "Unknown model, or no neighbour index for it"), .busy],
              handler: { r, c in try NeighboursRoute.handle(r, c) }),
        Route("POST", "/v1/encode", summary: "BigBiGAN: encode a PNG image to z (z_mean, a seeded z_sample) and pooled features",
              description: "JSON for a PNG body (`Content-Type: image/png`; bigbigan models): `z_mean`, `sigma`, `z_sample` (= z_mean + σ·ε, ε from `seed`), pooled `features`, and the preprocessing (centre crop, area or bicubic resize to the encoder's resolution, channel conversion, alpha on black, x/127.5 − 1); other models answer 400 `unsupported`",
              parameters: [RouteParameter("model", "string", "A bigbigan model's name; the first loaded model when omitted"),
                           RouteParameter("seed", "integer", "Seed of ε in z_sample (the engine's untruncated latent of that seed); random when omitted", minimum: 0, example: "1")],
              requestBody: .type("string", format: "binary"), requestContentType: "image/png",
              responses: [.json(200, "The encoding", .schemaRef("EncodeReply")), .error(400, "Not a readable PNG, an empty body, a bad parameter, or a model without an encoder"),
                          .error(404, "Unknown model"), .error(413, "Body over the image size limit, or more pixels than accepted"),
                          .error(415, "Content-Type is not image/png"), .busy],
              handler: { r, c in try EncodeRoutes.encode(r, c) }),
        Route("POST", "/v1/reconstruct", summary: "BigBiGAN: reconstruct a PNG image, G(E(x)), as PNG (optionally beside the input, and its nearest training images)",
              description: "PNG for a PNG body (`Content-Type: image/png`; bigbigan models): G(E(x)) from `z_mean` (or `z_sample` with `sample=1`); `side=1` puts the preprocessed input first; `k` adds the input's k nearest training images (`space`); other models answer 400 `unsupported`",
              parameters: [RouteParameter("model", "string", "A bigbigan model's name; the first loaded model when omitted"),
                           RouteParameter("class", "string", "Class of the reconstruction: required for a class-conditional generator, refused for an unconditional one", example: "0"),
                           RouteParameter("side", "integer", "1: the preprocessed input, then its reconstruction", minimum: 0, maximum: 1, default: .int(0)),
                           RouteParameter("sample", "integer", "1: decode z_sample (seeded) instead of z_mean", minimum: 0, maximum: 1, default: .int(0)),
                           RouteParameter("seed", "integer", "With sample=1: the seed of ε (random when omitted)", minimum: 0),
                           RouteParameter("k", "integer", "Also the input's k nearest training images (0: none)", minimum: 0, maximum: 32, default: .int(0)),
                           RouteParameter("space", "string", "Neighbour space", default: .string("pixel"), allowed: ["pixel", "feature"])],
              requestBody: .type("string", format: "binary"), requestContentType: "image/png",
              responses: [RouteResponse(200, "PNG row: [input,] reconstruction[, neighbours]", content: ["image/png": .type("string", format: "binary")],
                                        headers: ["X-Latent", "X-Seed", "X-Neighbours", "X-Distances"]),
                          .error(400, "Not a readable PNG, an empty body, a bad parameter, or a model without an encoder"),
                          .error(404, "Unknown model, or no neighbour index for it"), .error(413, "Body over the image size limit, or more pixels than accepted"),
                          .error(415, "Content-Type is not image/png"), .busy],
              handler: { r, c in try EncodeRoutes.reconstruct(r, c) }),
        Route("GET", "/v1/requests", summary: "Recent request-log rows (admin)",
              description: "recent request-log rows, newest first; needs `Authorization: Bearer <--admin-token>`",
              parameters: [RouteParameter("limit", "integer", "Rows", minimum: 1, maximum: 1000, default: .int(100))],
              responses: [.json(200, "Newest first", .object(["type": .string("object"), "properties": .object([
                              "requests": .object(["type": .string("array"), "items": .schemaRef("RequestRow")])])])),
                          .error(401, "Missing or wrong admin token"), .error(404, "Started without --admin-token"),
                          .error(503, "The request log is disabled or unreadable")],
              needsAdminToken: true,
              handler: { r, c in try InfoRoutes.requests(r, c) }),
        Route("GET", "/{file}", metricsName: "static", summary: "Static files from public/ (any path outside /v1/ that no other route answers)",
              description: "files of the gallery folder (`public/`), for any path outside `/v1/` that no other route answers",
              parameters: [RouteParameter("file", "string", in: .path, "A path under public/")],
              responses: [RouteResponse(200, "The file"), .error(404, "No such file")],
              isFallback: true,
              handler: { r, c in try StaticFiles.serve(r, c) }),
    ]

    /// What a path resolves to before the method is checked.
    enum Match {
        case route(Route, pathParameters: [String: String])
        /// No route: the error to answer (a 404).
        case notFound(APIError)
    }

    /// The route answering `path`: a literal path or alias, else a `{parameter}` route (one
    /// non-empty segment), else a 404 under `/v1/`, else the static-file fallback.
    static func match(_ path: String) -> Match {
        if let route = routes.first(where: { !$0.isFallback && $0.templatePrefix == nil && ($0.path == path || $0.aliases.contains(path)) }) {
            return .route(route, pathParameters: [:])
        }
        for route in routes where !route.isFallback {
            guard let prefix = route.templatePrefix, let name = route.templateName, path.hasPrefix(prefix) else { continue }
            let value = String(path.dropFirst(prefix.count))
            if value.isEmpty || value.contains("/") {
                return .notFound(route.badPathParameter?(value) ?? APIError.notFound("no route \(Echo.quoted(path))"))
            }
            return .route(route, pathParameters: [name: value])
        }
        if path.hasPrefix("/v1/") { return .notFound(APIError.notFound("no route \(Echo.quoted(path))")) }
        guard let fallback = routes.first(where: \.isFallback) else { return .notFound(APIError.notFound("no route \(Echo.quoted(path))")) }
        return .route(fallback, pathParameters: [:])
    }
}
