import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANCLI
@testable import BigGANEngine
@testable import BigGANImage

/// Output and input paths of every `biggan` command: devices, links, directories, FIFOs.
extension CLITests {

    @Test func outputsGoThroughLinksAndDevices() throws {
        // init --out /dev/null writes to the device and leaves it a device (tests run as root).
        try run(["init", "--preset", "biggan-32", "--ch", "2", "--classes", "2", "--out", "/dev/null"])
        #expect(fileType("/dev/null") == S_IFCHR)
        // sample --out through a link: the link stays, its target receives the image.
        let target = dir.appendingPathComponent("target.png").path, link = dir.appendingPathComponent("link.png").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try run(["sample", "--model", model, "--class", "dog", "--out", link])
        #expect(fileType(link) == S_IFLNK && fileType(target) == S_IFREG)
        #expect(try png("target.png").width == 32)
        try run(["interpolate", "--model", model, "--kind", "latent", "--class", "cat", "--steps", "2", "--out", "/dev/null"])
        #expect(fileType("/dev/null") == S_IFCHR)
    }

    @Test func outputDirectoriesAreRefusedBeforeWork() throws {
        let folder = dir.appendingPathComponent("adir").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for args in [["sample", "--model", model, "--class", "dog"], ["interpolate", "--model", model, "--kind", "latent", "--class", "cat"],
                     ["init", "--preset", "biggan-32", "--ch", "2"], ["neighbours", "--model", model, "--class", "dog"]] {
            #expect(failure(args + ["--out", folder]) == "--out \(folder) is a directory", "\(args[0])")
        }
        #expect(fileType(folder) == S_IFDIR)
        let file = dir.appendingPathComponent("plain").path
        FileManager.default.createFile(atPath: file, contents: Data())
        #expect(failure(["eval", "--model", model, "--out", file])?.contains("--out \(file) is not a folder (it is a file)") == true)
    }

    @Test func modelPathsThatAreNotFilesAreNamed() throws {
        let folder = dir.appendingPathComponent("mdir").path, pipe = dir.appendingPathComponent("mpipe").path
        let loop = dir.appendingPathComponent("loop").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        #expect(mkfifo(pipe, 0o644) == 0)
        try FileManager.default.createSymbolicLink(atPath: loop, withDestinationPath: loop)
        let out = dir.appendingPathComponent("m.png").path
        #expect(failure(["info", folder]) == "\(folder) is a directory")
        #expect(failure(["sample", "--model", folder, "--out", out]) == "\(folder) is a directory")
        #expect(failure(["sample", "--model", pipe, "--out", out]) == "\(pipe) is not a regular file (it is a FIFO)")
        #expect(failure(["info", loop]) == "\(loop): too many levels of symbolic links")
        #expect(failure(["eval", "--model", model, "--classifier", folder]) == "\(folder) is a directory")
    }
}
