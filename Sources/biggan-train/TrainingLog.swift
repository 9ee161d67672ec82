import BigGANEngine
import BigGANImage
import Foundation

/// The run's CSV log: one row per logged iteration with losses, learning rates, iterations/s and
/// the top singular value σ0 of every spectral-normalised layer of G and D. On resume, rows past
/// the checkpoint's iteration are dropped so the log matches the state it continues from.
struct TrainingLog {
    let path: String
    private(set) var columns: [String] = []

    init(path: String, resumeAt iteration: Int?) throws {
        self.path = path
        guard let iteration, let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            FileManager.default.createFile(atPath: path, contents: nil)
            return
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        if let header = lines.first {
            columns = header.split(separator: ",").map(String.init)
            lines = [header] + lines.dropFirst().filter { (Int($0.split(separator: ",").first ?? "") ?? .max) <= iteration }
        }
        try OutputFile.write(Data((lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).utf8), to: path)
    }

    /// Appends one row. A value whose column the file does not have yet (an evaluation column the
    /// first time it is measured, or a log resumed from an older run) extends the header; earlier
    /// rows leave it empty.
    mutating func append(_ values: [(String, Double)]) throws {
        let new = values.map(\.0).filter { !columns.contains($0) }
        if !columns.isEmpty && !new.isEmpty { try extendHeader(with: new) }
        guard let h = FileHandle(forWritingAtPath: path) else { throw TrainError("cannot write \(path)") }
        defer { try? h.close() }
        h.seekToEndOfFile()
        if columns.isEmpty {
            columns = values.map(\.0)
            h.write(Data((columns.joined(separator: ",") + "\n").utf8))
        }
        let byName = Dictionary(values, uniquingKeysWith: { a, _ in a })
        let row = columns.map { c in byName[c].map { v in v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.6g", v) } ?? "" }
        h.write(Data((row.joined(separator: ",") + "\n").utf8))
    }

    /// Rewrites the file with `extra` columns appended to the header and empty cells below.
    private mutating func extendHeader(with extra: [String]) throws {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        columns += extra
        if lines.isEmpty { lines = [columns.joined(separator: ",")] }
        else {
            lines[0] = columns.joined(separator: ",")
            let blanks = String(repeating: ",", count: extra.count)
            for i in lines.indices.dropFirst() { lines[i] += blanks }
        }
        try OutputFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: path)
    }

    /// Loss and σ0 curves from the CSV as an SVG (two panels, σ0 on a log scale), and, once the
    /// run has evaluated, the samples' accuracy and Fréchet distance against real images' at the
    /// same count.
    func plot(to svgPath: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first, lines.count > 1, let it = header.firstIndex(of: "iteration") else { return }
        let rows = lines.dropFirst()
        func series(_ name: String) -> SVGPlot.Series? {
            guard let c = header.firstIndex(of: name) else { return nil }
            return .init(name: name, points: rows.compactMap { r in
                guard r.count > c, let x = Double(r[it]), let y = Double(r[c]) else { return nil }
                return (x, y)
            })
        }
        let losses = ["loss_d_real", "loss_d_fake", "loss_g"].compactMap(series)
        let sigmas = header.filter { $0.hasPrefix("sigma.") }.compactMap(series)
        let logistic = header.contains("r1")
        var panels: [SVGPlot.Panel] = [
            .init(title: logistic ? "Logistic losses (non-saturating G)" : "Hinge losses", xLabel: "iteration", yLabel: "loss", series: losses),
        ]
        if !sigmas.isEmpty {
            panels.append(.init(title: "Top singular value σ0 per layer (G and D)", xLabel: "iteration", yLabel: "σ0",
                                series: sigmas.map { SVGPlot.Series(name: String($0.name.dropFirst(6)), points: $0.points) }, logY: true))
        }
        if let r1 = series("r1"), !r1.points.isEmpty {
            panels.append(.init(title: "R1 penalty γ/2·E‖∇D(real)‖²", xLabel: "iteration", yLabel: "R1", series: [r1], logY: true))
        }
        func named(_ column: String, _ label: String) -> SVGPlot.Series? {
            series(column).flatMap { $0.points.isEmpty ? nil : SVGPlot.Series(name: label, points: $0.points) }
        }
        let accuracy = [named("eval_accuracy", "samples (EMA G, untruncated)"), named("real_accuracy", "real test images"),
                        named("recon_accuracy", "reconstructions G(E(x)) of test images"),
                        named("probe_features", "linear probe on E's features (BN+CReLU)"), named("probe_pixels", "linear probe on raw pixels")].compactMap { $0 }
        let fd = [named("eval_fd", "samples (EMA G, untruncated)"), named("real_fd", "real training images, same count")].compactMap { $0 }
        if !accuracy.isEmpty {
            panels.append(.init(title: "Classifier accuracy", xLabel: "iteration", yLabel: "accuracy", series: accuracy))
            panels.append(.init(title: "Fréchet distance to the held-out images (classifier features)", xLabel: "iteration",
                                yLabel: "FD", series: fd, logY: true))
        }
        let svg = SVGPlot.render(panels, width: 1000, panelHeight: 360)
        try OutputFile.write(Data(svg.utf8), to: svgPath)
    }
}

struct TrainError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A one-line progress bar on standard error with iterations/s and ETA.
struct Progress {
    let total: Int
    let start = Date()
    let startIteration: Int
    let tty = isatty(2) != 0
    var lastDraw = Date.distantPast

    init(total: Int, from: Int) { self.total = total; startIteration = from }

    mutating func draw(_ i: Int, _ extra: String, force: Bool = false) {
        guard force || Date().timeIntervalSince(lastDraw) > (tty ? 0.2 : 30) else { return }
        lastDraw = Date()
        let done = Double(i - startIteration), el = Date().timeIntervalSince(start)
        let rate = el > 0 ? done / el : 0
        let eta = rate > 0 ? Double(total - i) / rate : .infinity
        let w = 24, f = Int(Double(w) * Double(i) / Double(max(total, 1)))
        let bar = String(repeating: "#", count: min(w, f)) + String(repeating: ".", count: max(0, w - f))
        let etaText = eta.isFinite ? String(format: "%dh%02dm%02ds", Int(eta) / 3600, Int(eta) % 3600 / 60, Int(eta) % 60) : "?"
        let line = String(format: "[%@] %d/%d  %.2f it/s  ETA %@  %@", bar, i, total, rate, etaText, extra)
        FileHandle.standardError.write(Data(((tty ? "\r\u{1B}[K" : "") + line + (tty ? "" : "\n")).utf8))
    }
}
