import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANDatasets
@testable import BigGANEngine
@testable import BigGANImage

/// Colour modes, empty classes and odd paths in folder data sets.
@Suite struct FolderModeTests {
    func png(_ c: Int, value: UInt8) throws -> Data {
        var img = Image8(width: 4, height: 4, channels: c, fill: value)
        if c == 3 { img.pixels[1] = 255 &- value }   // not grey
        return Data(try PNGCodec.encode(img))
    }

    func folder(_ files: [String: Data], dirs: [String] = []) throws -> URL {
        let root = temporaryDirectory("biggan-data")
        for d in dirs { try FileManager.default.createDirectory(at: root.appendingPathComponent(d), withIntermediateDirectories: true) }
        for (name, data) in files {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(name).deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: root.appendingPathComponent(name))
        }
        return root
    }

    func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return "\(error)" }
    }

    @Test func pngColourModeIsReadFromTheHeader() throws {
        #expect(PNGCodec.isColour(Array(try png(3, value: 9))) == true)
        #expect(PNGCodec.isColour(Array(try png(1, value: 9))) == false)
        #expect(PNGCodec.isColour(Array("not a png at all, just some text".utf8)) == nil)
    }

    @Test func channelsFollowTheDataAndMixedModesAreConverted() throws {
        let root = try folder(["a/1.png": png(3, value: 10), "a/2.png": png(1, value: 20), "b/1.png": png(1, value: 30)])
        defer { try? FileManager.default.removeItem(at: root) }
        let auto = try ImageFolder.load(root: root.path, size: 4, channels: nil)
        #expect(auto.channels == 3 && auto.converted == 2)
        #expect(auto.conversionNote == "2 greyscale images converted to RGB")
        // The grey image, replicated into three channels.
        #expect(Array(auto.pixels[48..<54]) == [20, 20, 20, 20, 20, 20])
        let grey = try ImageFolder.load(root: root.path, size: 4, channels: 1)
        #expect(grey.channels == 1 && grey.conversionNote == "1 colour image converted to greyscale")
        // All grey: one channel, nothing converted.
        let g2 = try folder(["a/1.png": png(1, value: 1), "b/1.png": png(1, value: 2)])
        defer { try? FileManager.default.removeItem(at: g2) }
        let d = try ImageFolder.load(root: g2.path, size: 4, channels: nil)
        #expect(d.channels == 1 && d.converted == 0 && d.conversionNote == nil)
        // A loaded grey data set converted in memory (Fashion-MNIST for an RGB model).
        let rgb = d.converting(toChannels: 3)
        #expect(rgb.channels == 3 && rgb.pixels.count == 3 * d.pixels.count && rgb.conversionNote == "2 greyscale images converted to RGB")
    }

    @Test func emptyClassFoldersAreRefusedByName() throws {
        let root = try folder(["a/1.png": png(1, value: 1), "c/bad.png": Data("x".utf8)], dirs: ["b", "d"])
        defer { try? FileManager.default.removeItem(at: root) }
        let m = message { _ = try ImageFolder.load(root: root.path, size: 4, channels: nil) }
        #expect(m == "\(root.path): class folders with no usable PNG image: b, c, d (every class needs images; remove them or add PNGs)")
        let none = try folder([:], dirs: ["x", "y"])
        defer { try? FileManager.default.removeItem(at: none) }
        #expect(message { _ = try ImageFolder.load(root: none.path, size: 4, channels: nil) } == "\(none.path): no usable PNG images")
    }

    @Test func rootsAndImagesThatAreNotWhatTheySeem() throws {
        let root = try folder(["a/1.png": png(1, value: 1), "a/folder.png/x": Data()])
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(mkfifo(root.appendingPathComponent("a/pipe.png").path, 0o644) == 0)
        // A FIFO and a directory named .png are skipped with a reason (reading the FIFO would block).
        let d = try ImageFolder.load(root: root.path, size: 4, channels: nil)
        #expect(d.count == 1)
        #expect(d.skipped.map(\.reason).sorted() == ["it is a directory", "it is not a regular file (it is a FIFO)"])
        let file = root.appendingPathComponent("a/1.png").path
        #expect(message { _ = try ImageFolder.load(root: file, size: 4, channels: nil) } == "\(file): it is not a folder (it is a file)")
        let loop = root.appendingPathComponent("loop").path
        try FileManager.default.createSymbolicLink(atPath: loop, withDestinationPath: loop)
        #expect(message { _ = try ImageFolder.load(root: loop, size: 4, channels: nil) } == "\(loop): too many levels of symbolic links")
    }

    @Test func idxFilesThatAreNotFilesAreNamed() throws {
        let root = temporaryDirectory("biggan-data"); defer { try? FileManager.default.removeItem(at: root) }
        let images = root.appendingPathComponent("train-images-idx3-ubyte").path
        #expect(mkfifo(images, 0o644) == 0)
        FileManager.default.createFile(atPath: root.appendingPathComponent("train-labels-idx1-ubyte").path, contents: Data(idx([1], [0])))
        #expect(message { _ = try FashionMNIST.load(directory: root.path, split: .train) } == "\(images): it is not a regular file (it is a FIFO)")
        unlink(images)
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        #expect(message { _ = try IDX.read(path: images) } == "\(images): it is a directory")
    }
}
