import Testing
@testable import BigGANEngine
@testable import BigGANImage

@Suite struct PNGTests {
    @Test(arguments: [1, 3])
    func encodeDecodeRoundTrip(channels: Int) throws {
        var img = Image8(width: 5, height: 3, channels: channels)
        for i in 0..<img.pixels.count { img.pixels[i] = UInt8((i * 37) % 256) }
        let png = try PNGCodec.encode(img)
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(try PNGCodec.decode(png, channels: channels) == img)
    }

    @Test func garbageIsAnError() {
        #expect(throws: PNGError.self) { try PNGCodec.decode([1, 2, 3, 4]) }
        #expect(throws: PNGError.self) { try PNGCodec.encode(Image8(width: 2, height: 2, channels: 2)) }
    }

    @Test func quantisationMapsTheOutputRange() {
        let t = Tensor(shape: [1, 1, 4, 1], values: [-1, 0, 1, 3])
        #expect(Image8(batch: t, index: 0).pixels == [0, 128, 255, 255])
    }

    @Test func gridPlacesTilesWithAGutter() {
        // Four 2×2 grey tiles with values −1, −0.5, 0.5, 1 in a 2×2 grid with a 1-pixel gutter.
        let vals: [Float] = [-1, -0.5, 0.5, 1]
        let t = Tensor(shape: [4, 2, 2, 1], values: vals.flatMap { Array(repeating: $0, count: 4) })
        let g = Image8.grid(t, gutter: 1, background: 200)
        #expect(g.width == 5 && g.height == 5)
        #expect(g.pixels[0] == 0 && g.pixels[2] == 200 && g.pixels[3] == 64)
        #expect(g.pixels[3 * 5 + 0] == 191 && g.pixels[4 * 5 + 4] == 255)
        #expect(g.pixels[2 * 5 + 2] == 200)
        // Three images default to 2 columns; one image is returned as is.
        #expect(Image8.grid(t.slice(first: 0, count: 3), gutter: 1).width == 5)
        #expect(Image8.grid(t.slice(first: 0, count: 1)).width == 2)
    }
}

@Suite struct SVGPlotTests {
    @Test func rendersSeriesAndLegend() {
        let svg = SVGPlot.render([
            .init(title: "losses", xLabel: "iteration", yLabel: "loss",
                  series: [.init(name: "D <real>", points: [(0, 1), (10, 0.5), (20, 0.25)]), .init(name: "G", points: [(0, 2), (20, 1)])]),
            .init(title: "sigma", xLabel: "iteration", yLabel: "σ0", series: [.init(name: "s", points: [(0, 1), (1, 100)])], logY: true),
            .init(title: "empty", xLabel: "x", yLabel: "y", series: []),
        ])
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 3)
        #expect(svg.contains("D &lt;real&gt;") && svg.contains("no data") && svg.contains("(log)"))
    }
}
