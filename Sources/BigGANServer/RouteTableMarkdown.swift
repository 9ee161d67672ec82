/// The README's route table (`| route | what |`), generated from `RouteTable`; printed by
/// `biggan-server --print-route-table`.
public enum RouteTableMarkdown {
    public static func render(_ routes: [Route] = RouteTable.routes) -> String {
        var lines = ["| route | what |", "|---|---|"]
        for route in routes {
            var what = route.description
            let query = route.parameters.filter { $0.location == .query }.map(\.name)
            if !query.isEmpty { what += "; query: " + query.map { "`\($0)`" }.joined(separator: ", ") }
            lines.append("| `\(route.signature)` | \(escape(what)) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A `|` would end the cell.
    static func escape(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
}
