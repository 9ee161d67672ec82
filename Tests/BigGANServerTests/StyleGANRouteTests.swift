import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANImage
@testable import BigGANServer

/// Issue 14 over HTTP: `/v1/mix`, the StyleGAN sampling options on the sample routes, `space=w`,
/// and the 400s that name their parameter (the server keeps answering after each).
@Suite struct StyleGANRouteTests {
    static let size = 32

    static func tile(_ grid: Image8, _ i: Int, columns: Int) -> [UInt8] {
        SamplingSemanticsTests.tile(grid, i, columns: columns, size: size)
    }

    static func generator(_ s: TestServer) throws -> StyleGANGenerator {
        try #require(try s.context.registry.model(named: "stylegan").generator as? StyleGANGenerator)
    }

    @Test func mixGridIsLaidOutAsNVlabsStyleMixing() throws {
        let s = try TestServer(styleGAN: true)
        let r = s.get("/v1/mix?model=stylegan&rows=1,2&cols=3,4,5&styles=0-1,5&class=1&psi=0.7")
        #expect(r.status == 200 && r.header("Content-Type") == "image/png", "\(r.errorMessage)")
        let grid = try r.image()
        #expect(grid.width == 4 * 32 + 3 * 2 && grid.height == 3 * 32 + 2 * 2)
        #expect(Self.tile(grid, 0, columns: 4).allSatisfy { $0 == 255 }, "the top-left cell is blank")
        // Top row: the column seeds' own samples; left column: the row seeds'.
        for (cell, seed) in [(1, 3), (2, 4), (3, 5), (4, 1), (8, 2)] {
            let alone = try s.get("/v1/sample?model=stylegan&class=1&seed=\(seed)&psi=0.7").image()
            #expect(Self.tile(grid, cell, columns: 4) == alone.pixels, "cell \(cell): seed \(seed)")
        }
        // Cell (row 2, column 3) is row seed 2's W with layers 0, 1, 5 from column seed 5's.
        let g = try Self.generator(s)
        let z = Tensor(shape: [2, 32], values: g.latent(seed: 2, truncation: nil) + g.latent(seed: 5, truncation: nil))
        let labels = Tensor(shape: [2, 5], values: g.conditioning(forClass: 1) + g.conditioning(forClass: 1))
        let ws = g.styles(z: z, labels: labels, truncation: 0.7)
        let cell = g.synthesis(ws: Tensor(shape: [1, 8, 32], values: g.mixed(row: ws.data, column: ws.data + 8 * 32, layers: [0, 1, 5])),
                               noise: .stored)
        #expect(Self.tile(grid, 11, columns: 4) == Image8(batch: cell, index: 0).pixels)
        #expect(Self.tile(grid, 11, columns: 4) != Self.tile(grid, 8, columns: 4) && Self.tile(grid, 11, columns: 4) != Self.tile(grid, 3, columns: 4))
        // Cached and tagged like the other image routes, and logged.
        let tag = try #require(r.header("ETag"))
        #expect(s.get("/v1/mix?model=stylegan&rows=1,2&cols=3,4,5&styles=0,1,5&class=1&psi=0.7").header("ETag") == tag, "styles 0-1,5 = 0,1,5")
        #expect(s.get("/v1/mix?model=stylegan&rows=1,2&cols=3,4,5&styles=0-1,5&class=1&psi=0.7", headers: ["if-none-match": tag]).status == 304)
        #expect(s.get("/v1/mix?model=stylegan&rows=1,2&cols=3,4,5&styles=0-1,5&class=1&psi=0.7").header("X-Cache") == "hit")
        #expect(s.get("/v1/mix?model=stylegan&rows=1,2&cols=3,4,5&styles=0-2,5&class=1&psi=0.7").header("ETag") != tag)
        s.context.log!.flush()
        let rows = try s.context.log!.recent(limit: 50)
        #expect(rows.contains { $0.path == "/v1/mix" && $0.status == 200 && $0.model == "stylegan" })
        // Without a model, the first StyleGAN model mixes (the default model is the tiny BigGAN).
        #expect(s.get("/v1/mix?rows=1,2&cols=3,4,5&styles=0-1,5&class=1&psi=0.7").body == r.body)
        // Unconditional: no class.
        let u = s.get("/v1/mix?model=stylegan-u&rows=7&cols=8&styles=2-7&noise_mode=random")
        #expect(u.status == 200, "\(u.errorMessage)")
        #expect(try u.image().width == 2 * 32 + 2)
    }

    /// Every refusal is a 400 naming its parameter, and the server answers the next request.
    @Test(arguments: [
        ("/v1/mix?model=stylegan&rows=1&cols=2&class=0&psi=nan", "invalid_parameter", "'psi'"),
        ("/v1/mix?model=stylegan&rows=1&cols=2&class=0&psi=2.5", "invalid_parameter", "'psi' must be in [-1, 2] for this model, got "),
        ("/v1/mix?model=stylegan&rows=1&cols=2&class=0&cutoff=9", "invalid_parameter", "'cutoff' must be between 1 and 8"),
        ("/v1/mix?model=stylegan&rows=1&cols=2&class=0&cutoff=0", "invalid_parameter", "'cutoff' must be between 1 and 8"),
        ("/v1/mix?model=stylegan&rows=1&cols=2&class=0&cutoff=x", "invalid_parameter", "'cutoff' must be an integer"),
        ("/v1/mix?model=stylegan&rows=1&cols=2&class=0&styles=3-1", "invalid_parameter", "'styles': '3-1' is not a layer number or a range"),
        ("/v1/mix?model=stylegan&rows=1&cols=2&class=0&styles=0-8", "invalid_parameter", "'styles': layer 8 does not exist"),
        ("/v1/mix?model=stylegan&rows=1&cols=2&class=0&styles=", "invalid_parameter", "'styles'"),
        ("/v1/mix?model=stylegan&rows=1,2,3,4,5,6,7,8,9&cols=1,2,3,4,5,6,7,8&class=0", "invalid_parameter", "'rows' × 'cols' is 9 × 8 = 72 mixed cells; the limit is 64"),
        ("/v1/mix?model=stylegan&rows=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16&cols=1&class=0", "invalid_parameter", "'rows' takes 1 to 16 seeds, got 17"),
        ("/v1/mix?model=stylegan&rows=1,x&cols=2&class=0", "invalid_parameter", "'rows': 'x' is not a seed"),
        ("/v1/mix?model=stylegan&cols=2&class=0", "invalid_parameter", "'rows' is required"),
        ("/v1/mix?model=stylegan&rows=1&cols=2", "invalid_parameter", "'class'"),
        ("/v1/mix?model=stylegan-u&rows=1&cols=2&class=0", "invalid_parameter", "'class': this model is unconditional"),
        ("/v1/mix?model=tiny&rows=1&cols=2&class=0", "unsupported", "style mixing needs a StyleGAN model"),
        ("/v1/mix?model=stylegan&rows=1&cols=2&class=0&noise_mode=stored", "invalid_parameter", "'noise_mode' must be const, random, none"),
        ("/v1/mix?model=stylegan-u&rows=1&cols=2&noise_mode=const", "invalid_parameter", "'noise_mode' const needs stored noise maps"),
        ("/v1/mix?model=stylegan&rows=4294967296&cols=2&class=0&seed_mode=numpy", "invalid_parameter", "'rows': seed_mode=numpy takes seeds below 2^32"),
        ("/v1/sample?model=stylegan-u&seed=1&truncation_target=class", "invalid_parameter", "'truncation_target' class needs per-class W centroids"),
        ("/v1/sample?model=stylegan&class=0&seed=1&truncation_target=centre", "invalid_parameter", "'truncation_target' must be class, average"),
        ("/v1/sample?model=stylegan&class=0&seed=1&psi=0.5&truncation=0.5", "invalid_parameter", "give 'psi' or 'truncation', not both"),
        ("/v1/sample?model=stylegan&class=0&seed=1&psi=-1.5", "invalid_parameter", "'psi' must be in [-1, 2] for this model, got "),
        ("/v1/sample?model=stylegan&class=0&seed=1&seed_mode=mt", "invalid_parameter", "'seed_mode' must be engine, numpy"),
        ("/v1/sample?model=stylegan&class=0&seed=4294967295&n=2&seed_mode=numpy", "invalid_parameter", "'seed': seed_mode=numpy takes seeds below 2^32"),
        ("/v1/sample?class=0&seed=1&psi=0.5", "unsupported", "'psi' is a StyleGAN option"),
        ("/v1/sample?class=0&seed=1&cutoff=2", "unsupported", "'cutoff' is a StyleGAN option"),
        ("/v1/sample?class=0&seed=1&noise_mode=none", "unsupported", "'noise_mode' is a StyleGAN option"),
        ("/v1/sample?class=0&seed=1&truncation_target=average", "unsupported", "'truncation_target' is a StyleGAN option"),
        ("/v1/sample?class=0&seed=1&seed_mode=numpy", "unsupported", "'seed_mode' is a StyleGAN option"),
        ("/v1/interpolate?class=0&space=w", "unsupported", "'space' w (interpolation in W) needs a StyleGAN model"),
        ("/v1/interpolate?model=stylegan&class=0&space=w&method=spherical", "invalid_parameter", "'method' must be linear with space=w"),
        ("/v1/interpolate?model=stylegan&kind=class&class_a=0&class_b=1&space=w", "invalid_parameter", "'space' does not apply to kind=class"),
        ("/v1/interpolate?model=stylegan&class=0&space=x", "invalid_parameter", "'space' must be z or w"),
    ])
    func refusalsNameTheirParameter(target: String, code: String, message: String) throws {
        let s = try TestServer(styleGAN: true)
        let r = s.get(target)
        #expect(r.status == 400 && r.errorCode == code, "\(target): \(r.status) \(r.errorCode ?? "-")")
        #expect(r.errorMessage.contains(message), "\(target): \(r.errorMessage)")
        #expect(s.get("/v1/mix?model=stylegan&rows=1&cols=2&class=0").status == 200)
        #expect(s.get("/v1/sample?class=0&seed=1").status == 200)
    }

    @Test func postedSamplesTakeTheStyleOptionsAndRefuseThemForBigGAN() throws {
        let s = try TestServer(styleGAN: true)
        let posted = s.post("/v1/samples", json: #"{"model":"stylegan","class":2,"seeds":[5],"psi":0,"cutoff":8,"noise_mode":"random","truncation_target":"average"}"#)
        #expect(posted.status == 200, "\(posted.errorMessage)")
        let images = try #require(posted.jsonObject["images"] as? [[String: Any]])
        let png = try PNGCodec.decode(Array(Data(base64Encoded: images[0]["png_base64"] as! String)!))
        let got = try s.get("/v1/sample?model=stylegan&class=2&seed=5&psi=0&cutoff=8&noise_mode=random&truncation_target=average").image()
        #expect(png.pixels == got.pixels)
        let biggan = s.post("/v1/samples", json: #"{"class":0,"seed":1,"noise_mode":"none"}"#)
        #expect(biggan.status == 400 && biggan.errorCode == "unsupported" && biggan.errorMessage.contains("'noise_mode'"))
        let bad = s.post("/v1/samples", json: #"{"model":"stylegan","class":0,"seed":1,"psi":"big"}"#)
        #expect(bad.status == 400 && bad.errorMessage.contains("'psi' must be a number or \"none\""), "\(bad.errorMessage)")
        let cutoff = s.post("/v1/samples", json: #"{"model":"stylegan","class":0,"seed":1,"cutoff":2.5}"#)
        #expect(cutoff.status == 400 && cutoff.errorMessage.contains("'cutoff'"))
    }

    @Test func sameRequestSameBytesForRandomNoiseAndNumPySeeds() throws {
        let s = try TestServer(styleGAN: true), fresh = try TestServer(styleGAN: true)
        for q in ["model=stylegan&class=1&seed=9&n=3&noise_mode=random", "model=stylegan&class=1&seed=639&seed_mode=numpy&psi=0.7",
                  "model=stylegan-u&seed=3&noise_mode=random&psi=-0.5&cutoff=1"] {
            // The fresh server renders it again (its cache is empty; its ETag differs, as the
            // model file's modification time is part of the fingerprint).
            let a = s.get("/v1/sample?" + q), again = s.get("/v1/sample?" + q), b = fresh.get("/v1/sample?" + q)
            #expect(a.status == 200 && a.body == b.body && b.header("X-Cache") == nil, "\(q): \(a.errorMessage)")
            #expect(a.header("ETag") != nil && again.header("ETag") == a.header("ETag") && again.body == a.body)
        }
        // Random noise is drawn from each image's seed: the same in a grid as alone, unlike const.
        let grid = try s.get("/v1/sample?model=stylegan&class=1&seed=9&n=3&columns=3&noise_mode=random").image()
        let alone = try s.get("/v1/sample?model=stylegan&class=1&seed=10&noise_mode=random").image()
        #expect(Self.tile(grid, 1, columns: 3) == alone.pixels)
        let const = s.get("/v1/sample?model=stylegan&class=1&seed=10"), none = s.get("/v1/sample?model=stylegan&class=1&seed=10&noise_mode=none")
        #expect(try const.image().pixels != alone.pixels)
        #expect(const.body != none.body)
        #expect(const.header("ETag") == s.get("/v1/sample?model=stylegan&class=1&seed=10&noise_mode=const").header("ETag"), "const is the default")
        // NumPy seeds: z is RandomState(seed).randn(1, z_dim), the same image as posting that z.
        let z = NumPyRandomState.randn(seed: 639, count: 32).map { "\($0)" }.joined(separator: ",")
        let posted = s.post("/v1/samples", json: #"{"model":"stylegan","class":1,"psi":0.7,"z":[["# + z + "]]}")
        let png = try (posted.jsonObject["images"] as? [[String: Any]]).map { try PNGCodec.decode(Array(Data(base64Encoded: $0[0]["png_base64"] as! String)!)) }
        #expect(png?.pixels == (try s.get("/v1/sample?model=stylegan&class=1&seed=639&seed_mode=numpy&psi=0.7").image()).pixels)
        #expect(s.get("/v1/sample?model=stylegan&class=1&seed=639&psi=0.7").body != s.get("/v1/sample?model=stylegan&class=1&seed=639&seed_mode=numpy&psi=0.7").body)
    }

    @Test func wSpaceInterpolationEndsAreTheEndSamples() throws {
        let s = try TestServer(styleGAN: true)
        let r = s.get("/v1/interpolate?model=stylegan&class=1&seed_a=3&seed_b=4&steps=3&space=w&psi=0.7&noise_mode=random")
        #expect(r.status == 200, "\(r.errorMessage)")
        let strip = try r.image()
        // Random noise is held along the strip (seed_a's), so the far end matches seed 4 only
        // without noise; const noise is the same for every image.
        for (noise, ends) in [("const", [(0, 3), (2, 4)]), ("none", [(0, 3), (2, 4)]), ("random", [(0, 3)])] {
            let w = try s.get("/v1/interpolate?model=stylegan&class=1&seed_a=3&seed_b=4&steps=3&space=w&psi=0.7&noise_mode=\(noise)").image()
            for (tile, seed) in ends {
                let alone = try s.get("/v1/sample?model=stylegan&class=1&seed=\(seed)&psi=0.7&noise_mode=\(noise)").image()
                #expect(Self.tile(w, tile, columns: 3) == alone.pixels, "\(noise): tile \(tile) vs seed \(seed)")
            }
        }
        let z = try s.get("/v1/interpolate?model=stylegan&class=1&seed_a=3&seed_b=4&steps=3&psi=0.7&noise_mode=random").image()
        #expect(Self.tile(z, 0, columns: 3) == Self.tile(strip, 0, columns: 3))
        #expect(Self.tile(z, 1, columns: 3) != Self.tile(strip, 1, columns: 3))
    }

    @Test func classTargetPullsTowardsTheClassCentroid() throws {
        let s = try TestServer(styleGAN: true)
        func get(_ q: String) -> HTTPResponse { s.get("/v1/sample?model=stylegan&class=3&psi=0&cutoff=8&" + q) }
        let a = get("seed=1&truncation_target=class"), b = get("seed=2&truncation_target=class")
        #expect(a.status == 200 && a.body == b.body, "ψ = 0 on every layer: every seed is the class centroid's image")
        #expect(get("seed=1").header("ETag") == a.header("ETag"), "class is the default target of this checkpoint")
        let avg = get("seed=1&truncation_target=average")
        #expect(avg.body != a.body && avg.header("ETag") != a.header("ETag"))
        #expect(s.get("/v1/sample?model=stylegan&class=2&psi=0&cutoff=8&seed=1").body != a.body, "each class has its own centroid")
        let models = try #require(s.get("/v1/models").jsonObject["models"] as? [[String: Any]])
        let style = try #require((models.first { $0["name"] as? String == "stylegan" }?["capabilities"] as? [String: Any])?["style"] as? [String: Any])
        #expect(style["layers"] as? Int == 8 && style["default_cutoff"] as? Int == 4 && style["class_centroids"] as? Bool == true
                && style["noise_modes"] as? [String] == ["const", "random", "none"] && style["default_truncation_target"] as? String == "class")
        let tiny = try #require(models.first { $0["name"] as? String == "tiny" }?["capabilities"] as? [String: Any])
        #expect(tiny["style"] is NSNull)
    }
}
