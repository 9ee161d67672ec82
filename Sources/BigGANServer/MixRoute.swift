import BigGANEngine
import Foundation

/// `GET /v1/mix?model&rows=1,2,3&cols=4,5&styles=0-3&psi&cutoff&class&noise_mode&truncation_target&seed_mode`:
/// NVlabs' style-mixing figure as one PNG (see `StyleMixRequest`): a blank top-left cell, the
/// column seeds' images across the top, the row seeds' down the left, and cell (r, c) the row's
/// W with the `styles` layers from the column's. Rendered by the compute worker (queued and
/// bounded like other generation), cached and ETagged like the other image routes.
enum MixRoute {
    static func handle(_ r: HTTPRequest, _ c: ServerContext) throws -> HTTPResponse {
        let p = Parameters(request: r)
        let m = try model(p.string("model"), c)
        guard m.capabilities.style != nil else {
            throw APIError(400, "unsupported", "style mixing needs a StyleGAN model; '\(m.name)' is \(m.info.architecture)")
        }
        func required(_ name: String) throws -> String {
            guard let v = p.string(name) else { throw APIError.badRequest("'\(name)' is required: comma-separated seeds, e.g. 1,2,3") }
            return v
        }
        let rows: [UInt64], cols: [UInt64], styles: Set<Int>
        do {
            rows = try StyleMixRequest.seeds(try required("rows"), parameter: "rows")
            cols = try StyleMixRequest.seeds(try required("cols"), parameter: "cols")
            styles = try StyleMixRequest.layers(p.string("styles") ?? "0-3")
        } catch let e as SamplingError { throw e.apiError }
        guard rows.count * cols.count <= c.limits.maxMixCells else {
            throw APIError.badRequest("'rows' × 'cols' is \(rows.count) × \(cols.count) = \(rows.count * cols.count) mixed cells; the limit is \(c.limits.maxMixCells)")
        }
        let sampling = try p.sampling(m)
        let cls = try p.classIndex("class", m)
        let mix = try m.prepare(mix: StyleMixRequest(rowSeeds: rows, columnSeeds: cols, styles: styles, class: cls, truncation: sampling.truncation,
                                                     style: sampling.style, seedMode: sampling.seedMode,
                                                     truncationParameter: sampling.truncationParameter))
        let key = ["mix", rows.map(String.init).joined(separator: ","), cols.map(String.init).joined(separator: ","),
                   styles.sorted().map(String.init).joined(separator: ","), cls.map(String.init) ?? "-"]
            + SamplingParameters.keyParts(sampling.truncation, mix.style, sampling.seedMode)
        var headers = [("X-Model", m.name), ("X-Truncation", Truncation.describe(sampling.truncation)),
                       ("X-Styles", styles.sorted().map(String.init).joined(separator: ","))]
        if let cls { headers.append(("X-Class", "\(cls)")) }
        return try SampleRoutes.pngResponse(r, c, m, etag: SampleRoutes.etag(m, key), headers: headers) {
            try SampleRoutes.encode(try c.worker.mix(model: m, mix), columns: cols.count + 1)
        }
    }

    /// The named model, or the first loaded model with style controls (a 400 `unsupported`
    /// when none is loaded).
    static func model(_ name: String?, _ c: ServerContext) throws -> LoadedModel {
        if let name, !name.isEmpty { return try c.registry.model(named: name) }
        guard let m = c.registry.models.first(where: { $0.capabilities.style != nil }) else {
            if c.registry.models.isEmpty { return try c.registry.model(named: nil) }
            throw APIError(400, "unsupported", "style mixing needs a StyleGAN model, and none is loaded")
        }
        return m
    }
}
