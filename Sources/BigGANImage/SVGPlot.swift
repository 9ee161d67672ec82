import Foundation

/// Minimal line charts as SVG text (for training curves and the truncation sweep): one or more
/// panels, each with named series of (x, y) points, linear or log-scaled y, axis ticks and a legend.
public struct SVGPlot {
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// Draw markers and label each point with this text (e.g. the truncation value), if set.
        public var labels: [String]?
        public init(name: String, points: [(x: Double, y: Double)], labels: [String]? = nil) {
            self.name = name; self.points = points; self.labels = labels
        }
    }

    public struct Panel {
        public var title: String
        public var xLabel: String
        public var yLabel: String
        public var series: [Series]
        public var logY: Bool
        public init(title: String, xLabel: String, yLabel: String, series: [Series], logY: Bool = false) {
            self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series; self.logY = logY
        }
    }

    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// Panels stacked vertically, each `width × panelHeight` pixels.
    public static func render(_ panels: [Panel], width: Int = 900, panelHeight: Int = 320) -> String {
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\(q(panelHeight * panels.count)) font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        for (i, p) in panels.enumerated() { svg += panel(p, top: i * panelHeight, width: width, height: panelHeight) }
        return svg + "</svg>\n"
    }

    static func q(_ v: Int) -> String { "\"\(v)\"" }
    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
    static func fmt(_ v: Double) -> String {
        let a = abs(v)
        if a == 0 { return "0" }
        if a >= 1e4 || a < 1e-3 { return String(format: "%.1e", v) }
        return String(format: a >= 100 ? "%.0f" : a >= 1 ? "%.2g" : "%.3g", v)
    }

    static func panel(_ p: Panel, top: Int, width: Int, height: Int) -> String {
        let (l, r, t, b) = (70.0, 170.0, 30.0, 45.0)
        let pw = Double(width) - l - r, ph = Double(height) - t - b
        let ty: (Double) -> Double = { p.logY ? log10(max($0, 1e-12)) : $0 }
        let all = p.series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite && (!p.logY || $0.y > 0) }
        var out = "<g transform=\"translate(0,\(top))\">\n"
        out += "<text x=\"\(l)\" y=\"18\" font-size=\"14\" font-weight=\"bold\">\(esc(p.title))</text>\n"
        guard let x0 = all.map(\.x).min(), let x1 = all.map(\.x).max(), let y0 = all.map({ ty($0.y) }).min(), let y1 = all.map({ ty($0.y) }).max() else {
            return out + "<text x=\"\(l)\" y=\"60\">no data</text>\n</g>\n"
        }
        let dx = x1 > x0 ? x1 - x0 : 1, dy = y1 > y0 ? y1 - y0 : 1
        let (ylo, yhi) = (y0 - 0.05 * dy, y1 + 0.05 * dy)
        func px(_ x: Double) -> Double { l + (x - x0) / dx * pw }
        func py(_ y: Double) -> Double { t + ph - (ty(y) - ylo) / (yhi - ylo) * ph }
        out += "<rect x=\"\(l)\" y=\"\(t)\" width=\"\(pw)\" height=\"\(ph)\" fill=\"none\" stroke=\"#444\"/>\n"
        for k in 0...4 {
            let fx = x0 + dx * Double(k) / 4, fy = ylo + (yhi - ylo) * Double(k) / 4
            let X = px(fx), Y = t + ph - ph * Double(k) / 4
            out += "<line x1=\"\(X)\" y1=\"\(t + ph)\" x2=\"\(X)\" y2=\"\(t + ph + 4)\" stroke=\"#444\"/><text x=\"\(X)\" y=\"\(t + ph + 16)\" text-anchor=\"middle\">\(fmt(fx))</text>\n"
            out += "<line x1=\"\(l - 4)\" y1=\"\(Y)\" x2=\"\(l + pw)\" y2=\"\(Y)\" stroke=\"#ddd\"/><text x=\"\(l - 6)\" y=\"\(Y + 4)\" text-anchor=\"end\">\(fmt(p.logY ? pow(10, fy) : fy))</text>\n"
        }
        out += "<text x=\"\(l + pw / 2)\" y=\"\(Double(height) - 8)\" text-anchor=\"middle\">\(esc(p.xLabel))</text>\n"
        out += "<text transform=\"translate(16,\(t + ph / 2)) rotate(-90)\" text-anchor=\"middle\">\(esc(p.yLabel))\(p.logY ? " (log)" : "")</text>\n"
        for (i, s) in p.series.enumerated() {
            let c = colors[i % colors.count]
            let pts = s.points.filter { $0.x.isFinite && $0.y.isFinite && (!p.logY || $0.y > 0) }
            let path = pts.map { String(format: "%.1f,%.1f", px($0.x), py($0.y)) }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(c)\" stroke-width=\"1.5\" points=\"\(path)\"/>\n"
            if let labels = s.labels {
                for (k, pt) in pts.enumerated() {
                    out += "<circle cx=\"\(px(pt.x))\" cy=\"\(py(pt.y))\" r=\"3\" fill=\"\(c)\"/>"
                    if k < labels.count { out += "<text x=\"\(px(pt.x) + 5)\" y=\"\(py(pt.y) - 5)\" font-size=\"10\">\(esc(labels[k]))</text>" }
                }
                out += "\n"
            }
            let ly = t + 14 + Double(i) * 16
            out += "<line x1=\"\(l + pw + 12)\" y1=\"\(ly - 4)\" x2=\"\(l + pw + 32)\" y2=\"\(ly - 4)\" stroke=\"\(c)\" stroke-width=\"2\"/><text x=\"\(l + pw + 36)\" y=\"\(ly)\">\(esc(s.name))</text>\n"
        }
        return out + "</g>\n"
    }
}
