import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine

/// `OutputFile.write`, the one writer of every output, and the input checks of `InputFile`,
/// on every kind of path a user can give.
@Suite(.serialized) struct FileAccessTests {
    let dir = temporaryDirectory()

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    func read(_ p: String) throws -> String { try String(contentsOfFile: p, encoding: .utf8) }
    func isLink(_ p: String) -> Bool { (try? FileManager.default.destinationOfSymbolicLink(atPath: p)) != nil }
    func error(_ body: () throws -> Void) -> FileAccessError? {
        do { try body(); return nil } catch let e as FileAccessError { return e } catch { Issue.record("unexpected \(error)"); return nil }
    }

    @Test func missingAndRegularFilesAreReplacedAtomicallyKeepingTheirMode() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = path("new.txt")
        try OutputFile.write(Data("one".utf8), to: p)
        #expect(try read(p) == "one")
        chmod(p, 0o600)
        var before = stat(); stat(p, &before)
        try OutputFile.write(Data("two".utf8), to: p)
        var after = stat(); stat(p, &after)
        #expect(try read(p) == "two")
        #expect(after.st_ino != before.st_ino, "a regular file is replaced by a rename, not rewritten in place")
        #expect(after.st_mode & 0o777 == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["new.txt"], "no temporary file is left")
    }

    @Test func symbolicLinksKeepTheLinkAndWriteTheTarget() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(atPath: path("sub"), withIntermediateDirectories: true)
        try Data("old".utf8).write(to: URL(fileURLWithPath: path("sub/target.txt")))
        // A relative link, and a link to that link.
        try FileManager.default.createSymbolicLink(atPath: path("link"), withDestinationPath: "sub/target.txt")
        try FileManager.default.createSymbolicLink(atPath: path("link2"), withDestinationPath: path("link"))
        try OutputFile.write(Data("new".utf8), to: path("link2"))
        #expect(isLink(path("link")) && isLink(path("link2")))
        #expect(try read(path("sub/target.txt")) == "new")
        // A dangling link creates its target.
        try FileManager.default.createSymbolicLink(atPath: path("dangling"), withDestinationPath: "sub/created.txt")
        try OutputFile.write(Data("made".utf8), to: path("dangling"))
        #expect(isLink(path("dangling")) && fileType(path("sub/created.txt")) == S_IFREG)
        #expect(try read(path("sub/created.txt")) == "made")
        #expect(try FileManager.default.contentsOfDirectory(atPath: path("sub")).sorted() == ["created.txt", "target.txt"])
    }

    @Test func directoriesLoopsAndMissingFoldersAreClearErrors() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(atPath: path("folder"), withIntermediateDirectories: true)
        let e = error { try OutputFile.write(Data("x".utf8), to: path("folder"), label: "--out") }
        #expect(e?.description == "--out \(path("folder")) is a directory")
        #expect(fileType(path("folder")) == S_IFDIR)
        #expect(error { try OutputFile.check(path("folder")) }?.kind == .isDirectory)
        try FileManager.default.createSymbolicLink(atPath: path("a"), withDestinationPath: path("b"))
        try FileManager.default.createSymbolicLink(atPath: path("b"), withDestinationPath: path("a"))
        #expect(error { try OutputFile.write(Data("x".utf8), to: path("a")) }?.description == "\(path("a")): too many levels of symbolic links")
        #expect(error { try OutputFile.write(Data("x".utf8), to: path("nope/x.txt")) }?.description
                == "\(path("nope/x.txt")): the folder '\(path("nope"))' does not exist")
    }

    @Test func devNullStaysADevice() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try OutputFile.write(Data(repeating: 7, count: 1 << 16), to: "/dev/null")
        #expect(fileType("/dev/null") == S_IFCHR)
        #expect(!FileManager.default.fileExists(atPath: OutputFile.temporaryPath(for: "/dev/null")))
        // Also through a link to it.
        try FileManager.default.createSymbolicLink(atPath: path("null"), withDestinationPath: "/dev/null")
        try OutputFile.write(Data("x".utf8), to: path("null"))
        #expect(isLink(path("null")) && fileType("/dev/null") == S_IFCHR)
    }

    @Test func aFIFOReceivesTheData() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = path("pipe")
        #expect(mkfifo(fifo, 0o644) == 0)
        let payload = Data((0..<200_000).map { UInt8($0 % 251) })   // more than a pipe buffer
        nonisolated(unsafe) var received = Data()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            if let h = FileHandle(forReadingAtPath: fifo) { received = h.readDataToEndOfFile(); try? h.close() }
            done.signal()
        }
        try OutputFile.write(payload, to: fifo)
        #expect(done.wait(timeout: .now() + 20) == .success)
        #expect(received == payload)
        #expect(fileType(fifo) == S_IFIFO)
    }

    @Test func staleTemporariesOfDeadProcessesAreRemoved() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        // pid_max on Linux is at most 2^22, so this pid cannot be running; pid 1 always is.
        for name in ["state.safetensors.tmp-99999999", "state.safetensors.tmp-1", "keep.tmp-x", "notes.txt"] {
            FileManager.default.createFile(atPath: path(name), contents: Data("x".utf8))
        }
        #expect(OutputFile.removeStaleTemporaries(in: dir.path) == ["state.safetensors.tmp-99999999"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["keep.tmp-x", "notes.txt", "state.safetensors.tmp-1"])
        #expect(OutputFile.temporaryOwner("a.png.tmp-123") == 123 && OutputFile.temporaryOwner("a.tmp-") == nil)
    }

    @Test func inputChecksNameTheProblem() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(atPath: path("folder"), withIntermediateDirectories: true)
        #expect(mkfifo(path("pipe"), 0o644) == 0)
        try FileManager.default.createSymbolicLink(atPath: path("a"), withDestinationPath: path("b"))
        try FileManager.default.createSymbolicLink(atPath: path("b"), withDestinationPath: path("a"))
        FileManager.default.createFile(atPath: path("file"), contents: Data())
        #expect(error { try InputFile.requireRegularFile(path("folder"), label: "--model") }?.description == "--model \(path("folder")) is a directory")
        #expect(error { try InputFile.requireRegularFile(path("pipe")) }?.description == "\(path("pipe")) is not a regular file (it is a FIFO)")
        #expect(error { try InputFile.requireRegularFile(path("a")) }?.description == "\(path("a")): too many levels of symbolic links")
        #expect(error { try InputFile.requireRegularFile(path("none")) }?.kind == .notFound)
        #expect(error { try InputFile.requireRegularFile(path("file")) } == nil)
        #expect(error { try InputFile.requireDirectory(path("file")) }?.description == "\(path("file")) is not a folder (it is a file)")
        #expect(error { try InputFile.requireDirectory(path("folder")) } == nil)
    }

    /// The checkpoint reader reports what the path is (and never blocks reading a FIFO).
    @Test(arguments: [("folder", "it is a directory"), ("pipe", "it is not a regular file (it is a FIFO)"),
                      ("a", "too many levels of symbolic links")])
    func checkpointReaderNamesTheProblem(name: String, message: String) throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(atPath: path("folder"), withIntermediateDirectories: true)
        #expect(mkfifo(path("pipe"), 0o644) == 0)
        try FileManager.default.createSymbolicLink(atPath: path("a"), withDestinationPath: path("b"))
        try FileManager.default.createSymbolicLink(atPath: path("b"), withDestinationPath: path("a"))
        do { _ = try SafeTensorsFile(path: path(name)); Issue.record("expected an error") }
        catch let e as CheckpointError { #expect(e.description == "\(name): cannot read file: \(message) (\(path(name)))") }
    }
}
