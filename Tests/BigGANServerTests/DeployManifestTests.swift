import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANServer

/// `deploy/kubernetes/`: every manifest parses, and what it says agrees with the server, the CLI
/// and the routes: flags the executables accept, the port, probe paths that are routes, the
/// metric the autoscaler reads, the request log on the per-pod volume, the Job's shards.
@Suite struct DeployManifestTests {
    static let folder = TestPaths.repositoryRoot.appendingPathComponent("deploy/kubernetes")

    func load(_ name: String) throws -> [MiniYAML.Node] {
        try MiniYAML.documents(String(contentsOf: Self.folder.appendingPathComponent(name), encoding: .utf8))
    }

    /// The long flags `--help` of `executable [subcommand]` lists.
    func flags(_ arguments: [String]) throws -> Set<String> {
        let (status, text) = try Executables.run(arguments[0], Array(arguments.dropFirst()) + ["--help"])
        #expect(status == 0, "\(text)")
        let regex = try NSRegularExpression(pattern: "--[a-z][a-z0-9-]*")
        return Set(regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { String(text[Range($0.range, in: text)!]) })
    }

    @Test func everyManifestParsesWithKindAndName() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasSuffix(".yaml") }
        #expect(Set(files).isSuperset(of: ["deployment.yaml", "service.yaml", "hpa.yaml", "sample-job.yaml", "kustomization.yaml"]))
        for f in files {
            for doc in try load(f) {
                #expect(doc["apiVersion"]?.string != nil && doc["kind"]?.string != nil, "\(f)")
                if doc["kind"]?.string != "Kustomization" { #expect(doc["metadata"]?["name"]?.string != nil, "\(f)") }
            }
        }
        let kustomizationDocs = try load("kustomization.yaml")
        let kustomization = try #require(kustomizationDocs.first?["resources"]?.list?.compactMap { $0.string })
        for r in kustomization { #expect(files.contains(r), "kustomization lists \(r)") }
        // The reader refuses what it does not understand rather than misreading it.
        #expect(throws: MiniYAML.ParseError.self) { try MiniYAML.documents("a: [1, 2]") }
    }

    @Test func deploymentAgreesWithTheServer() throws {
        let deploymentDocs = try load("deployment.yaml")
        let d = try #require(deploymentDocs.first)
        let pod = try #require(d["spec"]?["template"]?["spec"])
        let container = try #require(pod["containers"]?.list?.first)
        let args = try #require(container["args"]?.list?.compactMap { $0.string })
        #expect(args.first == "biggan-server")
        let known = try flags(["biggan-server"])
        for a in args where a.hasPrefix("--") { #expect(known.contains(a), "biggan-server has no \(a)") }
        func value(_ flag: String) -> String? { args.firstIndex(of: flag).map { args[$0 + 1] } }
        let port = try #require(container["ports"]?.list?.first)
        #expect(value("--port") == port["containerPort"]?.string && value("--host") == "0.0.0.0")
        // Probes hit routes of the route table; readiness on a route only answered once models are loaded.
        let routes = Set(RouteTable.routes.map(\.path))
        #expect(container["readinessProbe"]?["httpGet"]?["path"]?.string.map(routes.contains) == true)
        #expect(container["livenessProbe"]?["httpGet"]?["path"]?.string == "/healthz" && routes.contains("/healthz"))
        // The request log sits on the per-pod volume.
        let mount = try #require(container["volumeMounts"]?.list?.first)
        #expect(value("--db")?.hasPrefix((mount["mountPath"]?.string ?? "?") + "/") == true)
        let volume = try #require(pod["volumes"]?.list?.first { $0["name"] == mount["name"] })
        #expect(volume["emptyDir"] != nil)
        #expect(container["resources"]?["requests"]?["cpu"]?.string != nil)
        // The Service targets the container's named port; the autoscaler reads a metric /metrics exports.
        let serviceDocs = try load("service.yaml")
        let service = try #require(serviceDocs.first)
        #expect(service["spec"]?["ports"]?.list?.first?["targetPort"] == port["name"])
        #expect(service["spec"]?["selector"]?["app"] == d["spec"]?["selector"]?["matchLabels"]?["app"])
        let hpaDocs = try load("hpa.yaml")
        let hpa = try #require(hpaDocs.first)
        let metric = try #require(hpa["spec"]?["metrics"]?.list?.first?["pods"]?["metric"]?["name"]?.string)
        #expect(Metrics().render().contains("\n\(metric) ") || Metrics().render().hasPrefix("\(metric) "), "\(metric) is not exported")
        #expect(hpa["spec"]?["scaleTargetRef"]?["name"] == d["metadata"]?["name"])
    }

    @Test func sampleJobShardsByCompletionIndex() throws {
        let jobDocs = try load("sample-job.yaml")
        let job = try #require(jobDocs.first { $0["kind"]?.string == "Job" })
        let spec = try #require(job["spec"])
        #expect(spec["completionMode"]?.string == "Indexed")
        let completions = try #require(spec["completions"]?.string.flatMap(Int.init))
        let script = try #require(spec["template"]?["spec"]?["containers"]?.list?.first?["command"]?.list?.last?.string)
        #expect(script.contains("--shard \"${JOB_COMPLETION_INDEX}/\(completions)\""), "\(script)")
        let words = script.split(separator: " ").map(String.init)
        #expect(words.contains("biggan") && words.contains("sample"))
        let known = try flags(["biggan", "sample"])
        for w in words where w.hasPrefix("--") { #expect(known.contains(w), "biggan sample has no \(w)") }
        #expect(jobDocs.contains { $0["kind"]?.string == "PersistentVolumeClaim" })
    }
}
