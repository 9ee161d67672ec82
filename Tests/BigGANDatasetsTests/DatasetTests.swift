import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANDatasets
@testable import BigGANEngine
@testable import BigGANImage

/// Writes an IDX file of unsigned bytes.
func idx(_ shape: [Int], _ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0, 0, 0x08, UInt8(shape.count)]
    for d in shape { out += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
    return out + bytes
}

func gzip(_ bytes: [UInt8], at path: String) throws {
    let raw = path + ".raw"
    try Data(bytes).write(to: URL(fileURLWithPath: raw))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", "gzip -c '\(raw)' > '\(path)' && rm '\(raw)'"]
    try p.run(); p.waitUntilExit()
}

@Suite struct IDXTests {
    @Test func parsesAndPadsAFashionMNISTSplit() throws {
        let dir = temporaryDirectory("biggan-data"); defer { try? FileManager.default.removeItem(at: dir) }
        // Three 28×28 images whose pixel value is (image index + 1) * 10 at (y, x) = (0, 0), else 0.
        var px = [UInt8](repeating: 0, count: 3 * 28 * 28)
        for i in 0..<3 { px[i * 784] = UInt8((i + 1) * 10) }
        try gzip(idx([3, 28, 28], px), at: dir.path + "/t10k-images-idx3-ubyte.gz")
        try Data(idx([3], [9, 0, 4])).write(to: dir.appendingPathComponent("t10k-labels-idx1-ubyte"))   // uncompressed works too
        let d = try FashionMNIST.load(directory: dir.path, split: .test)
        #expect(d.count == 3 && d.width == 32 && d.height == 32 && d.channels == 1)
        #expect(d.labels == [9, 0, 4])
        #expect(d.pixels[1 * 1024 + 2 * 32 + 2] == 20)   // padded by 2
        #expect(d.pixels[1 * 1024] == 0)
        let (batch, labels) = d.batch([2, 0])
        #expect(batch.shape == [2, 32, 32, 1] && labels == [4, 9])
        #expect(batch[2 * 32 + 2] == Float(30) / 127.5 - 1 && batch[0] == -1)
        #expect(d.classCounts == [1, 0, 0, 0, 1, 0, 0, 0, 0, 1])
    }

    @Test func damagedFilesAreClearErrors() throws {
        let dir = temporaryDirectory("biggan-data"); defer { try? FileManager.default.removeItem(at: dir) }
        func expectError(_ bytes: [UInt8], _ text: String) {
            #expect(throws: DatasetError.self) { try IDX.parse(bytes, path: "x.idx") }
            do { _ = try IDX.parse(bytes, path: "x.idx") } catch let e as DatasetError { #expect(e.message.contains(text), "\(e.message)") } catch {}
        }
        expectError([0, 0], "truncated")
        expectError([1, 2, 3, 4, 5], "bad magic")
        expectError([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0], "unsupported IDX element type 0x0d")
        expectError(idx([10], [1, 2, 3]), "holds 3 data bytes but its header [10] needs 10 (truncated)")
        // A truncated gzip file.
        let path = dir.path + "/t.gz"
        try gzip(idx([1000], [UInt8](repeating: 7, count: 1000)), at: path)
        let gz = try Data(contentsOf: URL(fileURLWithPath: path))
        try gz.prefix(gz.count / 2).write(to: URL(fileURLWithPath: path))
        #expect(throws: DatasetError.self) { try IDX.read(path: path) }
        // Mismatched label count and a bad label.
        try Data(idx([2, 28, 28], [UInt8](repeating: 0, count: 2 * 784))).write(to: dir.appendingPathComponent("train-images-idx3-ubyte"))
        try Data(idx([3], [1, 2, 3])).write(to: dir.appendingPathComponent("train-labels-idx1-ubyte"))
        do { _ = try FashionMNIST.load(directory: dir.path, split: .train); Issue.record("expected an error") }
        catch let e as DatasetError { #expect(e.message.contains("3 labels for 2 images")) }
        try Data(idx([2], [1, 12])).write(to: dir.appendingPathComponent("train-labels-idx1-ubyte"))
        do { _ = try FashionMNIST.load(directory: dir.path, split: .train); Issue.record("expected an error") }
        catch let e as DatasetError { #expect(e.message.contains("label 12 at index 1")) }
        do { _ = try FashionMNIST.load(directory: dir.path + "/nope", split: .train); Issue.record("expected an error") }
        catch let e as DatasetError { #expect(e.message.contains("dataset-fashion-mnist")) }
    }

    @Test func realFashionMNISTWhenInstalled() throws {
        // The Debian package is installed by .ci/run; the test set is small enough to read here.
        let d = try FashionMNIST.load(split: .test)
        #expect(d.count == 10_000 && d.classCounts == Array(repeating: 1000, count: 10))
    }
}

@Suite struct ImageFolderTests {
    func png(_ w: Int, _ h: Int, _ c: Int, value: UInt8) throws -> Data {
        var img = Image8(width: w, height: h, channels: c, fill: value)
        img.pixels[0] = 255 &- value
        return Data(try PNGCodec.encode(img))
    }

    @Test func loadsClassesSkipsBadFilesAndResizes() throws {
        let root = temporaryDirectory("biggan-data"); defer { try? FileManager.default.removeItem(at: root) }
        for cls in ["b-dogs", "a-cats"] { try FileManager.default.createDirectory(at: root.appendingPathComponent(cls), withIntermediateDirectories: true) }
        try png(8, 8, 3, value: 10).write(to: root.appendingPathComponent("a-cats/1.png"))
        try png(16, 16, 3, value: 20).write(to: root.appendingPathComponent("a-cats/2.png"))   // resized 2:1
        try Data("not a png".utf8).write(to: root.appendingPathComponent("a-cats/3.png"))
        try Data("notes".utf8).write(to: root.appendingPathComponent("a-cats/readme.txt"))      // ignored
        try png(8, 8, 1, value: 30).write(to: root.appendingPathComponent("b-dogs/1.png"))    // grey → RGB
        let d = try ImageFolder.load(root: root.path, size: 8, channels: 3)
        #expect(d.classNames == ["a-cats", "b-dogs"])
        #expect(d.labels == [0, 0, 1])
        #expect(d.skipped.count == 1 && d.skipped[0].path.hasSuffix("a-cats/3.png"))
        #expect(d.pixels[192 + 3 * 9] == 20)   // an interior pixel of the resized image
        let strict = try ImageFolder.load(root: root.path, size: 8, channels: 3, resize: false)
        #expect(strict.count == 2 && strict.skipped.contains { $0.reason.contains("is 16×16, expected 8×8") })
    }

    @Test func emptyOrMissingFoldersAreErrors() throws {
        let root = temporaryDirectory("biggan-data"); defer { try? FileManager.default.removeItem(at: root) }
        #expect(throws: DatasetError.self) { try ImageFolder.load(root: root.path + "/missing", size: 8, channels: 1) }
        #expect(throws: DatasetError.self) { try ImageFolder.load(root: root.path, size: 8, channels: 1) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("x"), withIntermediateDirectories: true)
        try Data("bad".utf8).write(to: root.appendingPathComponent("x/a.png"))
        do { _ = try ImageFolder.load(root: root.path, size: 8, channels: 1); Issue.record("expected an error") }
        catch let e as DatasetError { #expect(e.message.contains("no usable PNG images (1 skipped")) }
    }
}
