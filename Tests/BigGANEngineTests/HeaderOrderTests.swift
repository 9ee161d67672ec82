import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine

/// Issue 10, B8: the tensor named in a load error is the same on every run. Swift's Dictionary
/// order changes from process to process, so the real test runs the `biggan` executable.
@Suite struct HeaderOrderTests {
    static var biggan: String { Executables.path("biggan") }

    func writeRaw(header: String, byteCount: Int, to path: String) {
        var bytes = [UInt8]()
        var n = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &n) { bytes += $0 }
        bytes += Array(header.utf8) + [UInt8](repeating: 0, count: byteCount)
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
    }

    func info(_ path: String) throws -> String {
        let r = try Executables.run("biggan", ["info", path])
        #expect(r.status != 0)
        return r.output
    }

    /// Eight entries each wrong in its own way; the alphabetically first is reported.
    static let manyBad = #"{"zeta":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"mu":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]},"#
        + #""kappa":{"dtype":"F32","shape":[2],"data_offsets":[8,4]},"delta":{"dtype":"F32","shape":[9],"data_offsets":[0,4]},"#
        + #""omega":{"dtype":"F32","shape":[1]},"gamma":{"dtype":"F32","shape":"x","data_offsets":[0,4]},"#
        + #""beta":{"dtype":"I8","shape":[1],"data_offsets":[0,1]},"sigma":3}"#

    /// Three tensors at the same offset: ties broken by name, so 'b' overlaps 'a' every time.
    static let tiedOverlap = #"{"c":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#
        + #""a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"d":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#

    @Test func firstBadEntryIsTheAlphabeticallyFirstInProcess() throws {
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let p = dir.appendingPathComponent("many.safetensors").path, q = dir.appendingPathComponent("tied.safetensors").path
        writeRaw(header: Self.manyBad, byteCount: 16, to: p)
        writeRaw(header: Self.tiedOverlap, byteCount: 4, to: q)
        for _ in 0..<20 {
            #expect(throws: CheckpointError(file: "many.safetensors", tensor: "beta", "dtype I8 is not supported (only F32)")) {
                try SafeTensorsFile(path: p)
            }
            #expect(throws: CheckpointError(file: "tied.safetensors", tensor: "b", "data overlaps tensor 'a'")) { try SafeTensorsFile(path: q) }
        }
    }

    @Test func bigganInfoNamesTheSameTensorOnEveryRun() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.biggan), "build the biggan executable first: \(Self.biggan)")
        let dir = temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let p = dir.appendingPathComponent("many.safetensors").path, q = dir.appendingPathComponent("tied.safetensors").path
        writeRaw(header: Self.manyBad, byteCount: 16, to: p)
        writeRaw(header: Self.tiedOverlap, byteCount: 4, to: q)
        for (path, expected) in [(p, "many.safetensors: tensor 'beta': dtype I8 is not supported"), (q, "tied.safetensors: tensor 'b': data overlaps tensor 'a'")] {
            let runs = try (0..<5).map { _ in try info(path) }
            #expect(Set(runs).count == 1, "\(runs)")
            #expect(runs[0].contains(expected), "\(runs[0])")
        }
    }
}
