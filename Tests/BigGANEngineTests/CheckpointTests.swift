import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine

/// A tiny BigGAN config used to build checkpoints for the error-path tests.
let tinyConfig: ModelConfig = {
    var c = ModelConfig.biggan(resolution: 32, ch: 2, dimZ: 8, sharedDim: 4, nClasses: 3, hier: true, attention: [16])!
    c.classNames = ["cat", "dog", "bird"]
    return c
}()

@Suite struct CheckpointTests {
    /// Writes a safetensors file from raw header JSON and data bytes.
    func writeRaw(header: String, data: [UInt8], in dir: URL, name: String = "bad.safetensors") -> String {
        var bytes = [UInt8]()
        var n = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &n) { bytes += $0 }
        bytes += Array(header.utf8) + data
        let path = dir.appendingPathComponent(name).path
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    func expectError(_ path: String, contains text: String, tensor: String? = nil) {
        do {
            _ = try GeneratorLoader.load(path: path)
            Issue.record("expected an error containing '\(text)'")
        } catch let e as CheckpointError {
            #expect(e.file == (path as NSString).lastPathComponent)
            #expect(e.description.contains(text), "\(e.description)")
            if let tensor { #expect(e.tensor == tensor, "\(e.description)") }
        } catch { Issue.record("unexpected error type: \(error)") }
    }

    func savedTiny(in dir: URL, edit: (inout [(String, Tensor)], inout ModelConfig) -> Void = { _, _ in }) throws -> String {
        var (_, tensors) = try GeneratorLoader.random(config: tinyConfig, seed: 1)
        var cfg = tinyConfig
        edit(&tensors, &cfg)
        let path = dir.appendingPathComponent("tiny.safetensors").path
        try GeneratorLoader.save(config: cfg, tensors: tensors, to: path)
        return path
    }

    @Test func roundTripPreservesTensorsAndOutputs() throws {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let (g, tensors) = try GeneratorLoader.random(config: tinyConfig, seed: 1)
        let path = dir.appendingPathComponent("m.safetensors").path
        try GeneratorLoader.save(config: tinyConfig, tensors: tensors, to: path)
        let file = try SafeTensorsFile(path: path)
        #expect(file.entries.count == tensors.count)
        for (name, t) in tensors { #expect(try file.tensor(name).array == t.array) }
        let loaded = try GeneratorLoader.load(path: path)
        #expect(loaded.bigganConfig == tinyConfig)
        #expect(loaded.parameterCount == g.parameterCount)
        let z = randomTensor([2, 8], seed: 3), e = randomTensor([2, 4], seed: 4)
        #expect(maxAbsDiff(loaded.forward(z: z, conditioning: e, truncation: 1), g.forward(z: z, conditioning: e, truncation: 1)) == 0)
    }

    @Test func shortFileIsTruncated() {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("short.safetensors").path
        FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3]))
        expectError(path, contains: "truncated")
    }

    @Test func headerLengthPastEndOfFile() {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        var bytes = [UInt8](repeating: 0, count: 8); bytes[0] = 200
        let path = dir.appendingPathComponent("h.safetensors").path
        FileManager.default.createFile(atPath: path, contents: Data(bytes + Array("{}".utf8)))
        expectError(path, contains: "header length 200 runs past the end")
    }

    @Test func headerIsNotJSON() {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        expectError(writeRaw(header: "{not json", data: [], in: dir), contains: "not a valid JSON object")
    }

    @Test func wrongDtypeNamesTheTensor() {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let p = writeRaw(header: #"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0], in: dir)
        expectError(p, contains: "dtype F16 is not supported", tensor: "w")
    }

    @Test func badOffsetsNameTheTensor() {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let p = writeRaw(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0], in: dir)
        expectError(p, contains: "bad data_offsets", tensor: "w")
    }

    @Test func sizeMismatchBetweenShapeAndOffsets() {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let p = writeRaw(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8), in: dir)
        expectError(p, contains: "hold 8 bytes but shape [3] of F32 needs 12", tensor: "w")
    }

    @Test func truncatedDataSection() throws {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let path = try savedTiny(in: dir)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count - 100).write(to: URL(fileURLWithPath: path))
        expectError(path, contains: "truncated: data_offsets")
    }

    @Test func overlappingTensors() {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let h = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        expectError(writeRaw(header: h, data: [UInt8](repeating: 0, count: 12), in: dir), contains: "overlaps")
    }

    @Test func missingConfig() {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let p = writeRaw(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0], in: dir)
        expectError(p, contains: "no config in __metadata__")
    }

    @Test func malformedConfigJSON() {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let p = writeRaw(header: #"{"__metadata__":{"config":"{\"architecture\":\"biggan\"}"}}"#, data: [], in: dir)
        expectError(p, contains: "config: missing field")
    }

    @Test func inconsistentConfig() throws {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let p = try savedTiny(in: dir) { _, cfg in cfg.dimZ = 9 }
        expectError(p, contains: "hier needs dim_z divisible by 4")
        let q = try savedTiny(in: dir) { _, cfg in cfg.resolution = 64 }
        expectError(q, contains: "not to resolution 64")
        let r = try savedTiny(in: dir) { _, cfg in cfg.classNames = ["one"] }
        expectError(r, contains: "1 class_names for 3 classes")
    }

    @Test func missingTensor() throws {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let p = try savedTiny(in: dir) { t, _ in t.removeAll { $0.0 == "blocks.1.conv2.weight" } }
        expectError(p, contains: "missing tensor", tensor: "blocks.1.conv2.weight")
    }

    @Test func extraTensor() throws {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let p = try savedTiny(in: dir) { t, _ in t.append(("blocks.9.conv1.weight", Tensor(shape: [2]))) }
        expectError(p, contains: "unexpected tensor", tensor: "blocks.9.conv1.weight")
    }

    @Test func wrongShape() throws {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let p = try savedTiny(in: dir) { t, _ in
            let i = t.firstIndex { $0.0 == "output.conv.weight" }!
            t[i].1 = Tensor(shape: [3, 8, 1, 1])
        }
        expectError(p, contains: "shape [3, 8, 1, 1] does not match the config's [3, 8, 3, 3]", tensor: "output.conv.weight")
    }

    @Test func missingFile() {
        expectError("/nonexistent/model.safetensors", contains: "cannot read file")
    }

    @Test func writerIsAtomicAndLeavesNoTemporaryFile() throws {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        _ = try savedTiny(in: dir)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["tiny.safetensors"])
    }
}

extension CheckpointTests {
    /// Reading releases the mapped pages of a tensor (madvise); a second read must still see the
    /// data (file-backed pages are re-read from the file, never zeroed).
    @Test func tensorsCanBeReadTwice() throws {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let big = randomTensor([1 << 20], seed: 12), small = randomTensor([3], seed: 13)
        let path = dir.appendingPathComponent("twice.safetensors").path
        try SafeTensorsWriter.write([("small", small), ("big", big)], metadata: [:], to: path)
        let f = try SafeTensorsFile(path: path)
        for _ in 0..<2 {
            #expect(try f.tensor("big").array == big.array)
            #expect(try f.tensor("small").array == small.array)
        }
    }
}
