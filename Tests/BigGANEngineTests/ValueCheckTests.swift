import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine

/// Issue 10, A2: NaN, ±Inf or a negative batch-norm variance in a checkpoint is refused at load,
/// naming the file, the tensor and the element.
@Suite struct ValueCheckTests {
    /// A copy of committed checkpoint `source` with `edit` applied to tensor `name`.
    func copy(_ source: String, to dir: URL, as file: String, tensor name: String, edit: (Tensor) -> Void) throws -> String {
        let f = try SafeTensorsFile(path: source)
        let tensors = try f.entries.keys.sorted().map { key -> (String, Tensor) in
            let t = try f.tensor(key)
            if key == name { edit(t) }
            return (key, t)
        }
        #expect(f.entries[name] != nil, "\(name) not in \(source)")
        let path = dir.appendingPathComponent(file).path
        try SafeTensorsWriter.write(tensors, metadata: f.metadata, to: path)
        return path
    }

    func refusal(_ load: () throws -> Void) -> CheckpointError? {
        do { try load(); return nil } catch let e as CheckpointError { return e } catch { Issue.record("\(error)"); return nil }
    }

    @Test func generatorWithNaNInfOrNegativeVarianceIsRefused() throws {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let source = TestPaths.fixture("biggan-32.safetensors")
        _ = try GeneratorLoader.load(path: source)   // the untouched fixture loads
        let cases: [(String, String, Int, Float, String)] = [
            ("nan.safetensors", "blocks.1.conv1.weight", 17, .nan, "holds NaN at element 17"),
            ("inf.safetensors", "linear.weight", 5, -.infinity, "holds -Inf at element 5"),
            ("var.safetensors", "blocks.0.bn1.var", 2, -0.3, "negative batch-norm variance -0.3 at element 2"),
        ]
        for (file, tensor, i, v, why) in cases {
            let p = try copy(source, to: dir, as: file, tensor: tensor) { $0[i] = v }
            let e = refusal { _ = try GeneratorLoader.load(path: p) }
            #expect(e?.description == "\(file): tensor '\(tensor)': \(why)")
        }
    }

    @Test func zeroVarianceAndNegativeMeansStillLoad() throws {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let source = TestPaths.fixture("biggan-32.safetensors")
        let p = try copy(source, to: dir, as: "a.safetensors", tensor: "blocks.0.bn1.var") { $0[0] = 0; $0[1] = -0.0 }
        let q = try copy(p, to: dir, as: "b.safetensors", tensor: "blocks.0.bn1.mean") { $0[0] = -5 }
        _ = try GeneratorLoader.load(path: q)
    }

    @Test func classifierWithNaNIsRefused() throws {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let source = TestPaths.repositoryRoot
            .appendingPathComponent("Models/fashion-mnist-classifier.safetensors").path
        _ = try Classifier.load(path: source)
        let p = try copy(source, to: dir, as: "c.safetensors", tensor: "fc1.weight") { $0[3] = .nan }
        #expect(refusal { _ = try Classifier.load(path: p) }?.description == "c.safetensors: tensor 'fc1.weight': holds NaN at element 3")
        let q = try copy(source, to: dir, as: "d.safetensors", tensor: "stages.0.conv.bias") { $0[0] = .infinity }
        #expect(refusal { _ = try Classifier.load(path: q) }?.description == "d.safetensors: tensor 'stages.0.conv.bias': holds Inf at element 0")
    }
}
