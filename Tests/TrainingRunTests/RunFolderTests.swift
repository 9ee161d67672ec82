import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANImage

/// Colour data, saved settings on --resume, the run-folder lock and output paths, through the
/// real `biggan-train` executable.
extension TrainingRunTests {
    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// `args(name)` with the values of some flags replaced (or appended).
    func args(_ name: String, set: [(String, String)], extra: [String] = []) -> [String] {
        var a = args(name, extra: extra)
        for (flag, value) in set { if let i = a.firstIndex(of: flag) { a[i + 1] = value } else { a += [flag, value] } }
        return a
    }

    @Test func colourFoldersTrainAnRGBModel() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        // 3 classes × 5 images; images 0, 2 and 4 of each class are greyscale PNGs, the rest colour.
        try RandomImageFolder.write(at: dir.appendingPathComponent("colour"), classes: ["r", "g", "b"], perClass: 5, size: 32,
                                    channels: 3, greyEvery: 2, seed: 5)
        let colour = "folder:" + path("colour")
        let (s, o) = try run(args("rgb", set: [("--data", colour), ("--iterations", "2")]))
        #expect(s == 0, "\(o)")
        #expect(o.contains("9 greyscale images converted to RGB"))
        #expect(o.contains("12 training images, 3 held out for evaluation (20%); 3 classes, RGB"))
        let g = try GeneratorLoader.load(path: path("rgb.safetensors"))
        #expect(g.info.channels == 3)
        let state = try SafeTensorsFile(path: path("run-rgb/state.safetensors"))
        #expect(state.metadata["discriminator_config"]?.contains("\"input_channels\":3") == true)
        #expect(try PNGCodec.decode(Array(Data(contentsOf: URL(fileURLWithPath: path("run-rgb/samples/iter-000002.png"))))).channels == 3)
        // --channels 1 trains a grey model on the same folder, converting the colour images.
        let (s1, o1) = try run(args("grey", set: [("--data", colour), ("--iterations", "1"), ("--channels", "1")]))
        #expect(s1 == 0, "\(o1)")
        #expect(o1.contains("6 colour images converted to greyscale"))
        #expect(try GeneratorLoader.load(path: path("grey.safetensors")).info.channels == 1)
    }

    @Test func emptyClassFoldersAreRefused() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(atPath: path("data/zebra"), withIntermediateDirectories: true)
        let (s, o) = try run(args("e"))
        #expect(s != 0 && o.contains("class folder with no usable PNG image: zebra"), "\(o)")
        #expect(!FileManager.default.fileExists(atPath: path("run-e/state.safetensors")))
    }

    @Test func resumeKeepsTheSavedSettingsAndData() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let (s0, o0) = try run(args("straight", set: [("--iterations", "6")]))
        #expect(s0 == 0, "\(o0)")
        #expect(o0.contains("12 training images, 0 held out for evaluation (0%); 3 classes, greyscale"), "\(o0)")
        let (s1, o1) = try run(args("part", set: [("--iterations", "4")]))
        #expect(s1 == 0, "\(o1)")
        // Resume with only --out, --run-dir and a longer target: data, batch, widths … come from the state.
        let (s2, o2) = try run(["--out", path("part.safetensors"), "--run-dir", path("run-part"), "--resume", "--iterations", "6", "--threads", "1"])
        #expect(s2 == 0, "\(o2)")
        #expect(o2.contains("resuming at iteration 4 of 6 with the saved run's settings; data folder:\(path("data")) (saved with the run)"), "\(o2)")
        #expect(o2.contains("changed on resume: --iterations 6 (was 4)"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path("part.safetensors"))) == Data(contentsOf: URL(fileURLWithPath: path("straight.safetensors"))),
                "the resumed run differs from the uninterrupted one")
        // Without --iterations the saved target (now 6) is kept: nothing more to train.
        let (s3, o3) = try run(["--out", path("part.safetensors"), "--run-dir", path("run-part"), "--resume", "--threads", "1"])
        #expect(s3 == 0 && o3.contains("resuming at iteration 6 of 6"), "\(o3)")
        // Flags that differ from the saved run are refused, each named with the saved value.
        let (s4, o4) = try run(args("part", extra: ["--resume", "--batch", "8", "--beta2", "0.99", "--data", "folder:/elsewhere"]))
        #expect(s4 != 0)
        #expect(o4.contains("--batch 8: the saved run uses 4") && o4.contains("--beta2 0.99: the saved run uses 0.999")
                && o4.contains("--data folder:/elsewhere: the saved run uses folder:\(path("data"))"), "\(o4)")
        #expect(!o4.contains("--g-width"))
        let state = try SafeTensorsFile(path: path("run-part/state.safetensors"))
        #expect(state.metadata["iteration"] == "6")
        // Learning rates and the EMA decay may change between sessions (a manual schedule): the
        // state then holds the new values, and the next resume keeps them.
        let (s5, o5) = try run(["--out", path("part.safetensors"), "--run-dir", path("run-part"), "--resume", "--iterations", "7",
                                "--g-lr", "5e-5", "--d-lr", "2e-4", "--ema-decay", "0.9999", "--threads", "1"])
        #expect(s5 == 0 && o5.contains("--g-lr 5e-05 (was 0.0001)") && o5.contains("--ema-decay 0.9999 (was 0.999)"), "\(o5)")
        let config = try #require(try SafeTensorsFile(path: path("run-part/state.safetensors")).metadata["training_config"])
        #expect(config.contains("\"g_lr\":5e-05") && config.contains("\"d_lr\":0.0002") && config.contains("\"ema_decay\":0.9999"), "\(config)")
        let (s6, o6) = try run(["--out", path("part.safetensors"), "--run-dir", path("run-part"), "--resume", "--iterations", "8", "--threads", "1"])
        #expect(s6 == 0 && !o6.contains("--g-lr"), "\(o6)")
        let config2 = try #require(try SafeTensorsFile(path: path("run-part/state.safetensors")).metadata["training_config"])
        #expect(config2.contains("\"g_lr\":5e-05") && config2.contains("\"ema_decay\":0.9999"), "\(config2)")
    }

    @Test func oneTrainerPerRunFolderAndStaleTemporariesRemoved() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let long = args("locked", set: [("--iterations", "100000")])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = long
        p.standardError = FileHandle.nullDevice; p.standardOutput = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
        while p.isRunning && !FileManager.default.fileExists(atPath: path("run-locked/state.safetensors")) { usleep(5000) }
        let (s, o) = try run(long + ["--resume"])
        #expect(s != 0 && o.contains("another biggan-train (pid \(p.processIdentifier)) is using the run folder \(path("run-locked"))"), "\(o)")
        kill(p.processIdentifier, SIGKILL); p.waitUntilExit()
        // Temporary files of interrupted writes (dead pids) are removed on the next start.
        for stale in ["run-locked/state.safetensors.tmp-99999999", "run-locked/samples/iter-000004.png.tmp-99999998"] {
            FileManager.default.createFile(atPath: path(stale), contents: Data(count: 1000))
        }
        let (s2, o2) = try run(args("locked", extra: ["--resume"]))
        #expect(s2 == 0, "\(o2)")
        #expect(o2.contains("removed \(path("run-locked/state.safetensors.tmp-99999999")), left by an interrupted write"))
        #expect(!FileManager.default.fileExists(atPath: path("run-locked/state.safetensors.tmp-99999999")))
        #expect(!FileManager.default.fileExists(atPath: path("run-locked/samples/iter-000004.png.tmp-99999998")))
    }

    @Test func outputsAreCheckedFirstAndSyncedBeforeTheRename() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(atPath: path("outdir"), withIntermediateDirectories: true)
        let (s, o) = try run(args("x", set: [("--out", path("outdir"))]))
        #expect(s != 0 && o.contains("--out \(path("outdir")) is a directory"), "\(o)")
        #expect(!FileManager.default.fileExists(atPath: path("run-x/state.safetensors")))
        // A finished run exports to /dev/null and leaves it a device.
        let (s1, o1) = try run(args("y", set: [("--iterations", "1")]))
        #expect(s1 == 0, "\(o1)")
        let (s2, o2) = try run(["export", "--run-dir", path("run-y"), "--out", "/dev/null"])
        #expect(s2 == 0, "\(o2)")
        var st = stat()
        #expect(stat("/dev/null", &st) == 0 && st.st_mode & S_IFMT == S_IFCHR)
        let (s3, o3) = try run(["export", "--run-dir", path("run-y"), "--out", path("outdir")])
        #expect(s3 != 0 && o3.contains("--out \(path("outdir")) is a directory"), "\(o3)")
        // The temporary file is fsynced before it is renamed over the output, then its folder is.
        let trace = path("strace.txt")
        let strace = Process()
        strace.executableURL = URL(fileURLWithPath: "/usr/bin/strace")
        strace.arguments = ["-f", "-e", "trace=fsync,rename,renameat,renameat2", "-o", trace, Self.binary, "export", "--run-dir", path("run-y"), "--out", path("e.safetensors")]
        strace.standardOutput = FileHandle.nullDevice; strace.standardError = FileHandle.nullDevice
        try strace.run(); strace.waitUntilExit()
        #expect(strace.terminationStatus == 0)
        let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
        let renameAt = try #require(lines.firstIndex { $0.contains("rename") && $0.contains("\(path("e.safetensors")).tmp-") }, "\(lines)")
        #expect(lines[..<renameAt].contains { $0.contains("fsync(") && $0.hasSuffix("= 0") }, "\(lines)")
        #expect(lines[(renameAt + 1)...].contains { $0.contains("fsync(") && $0.hasSuffix("= 0") }, "\(lines)")
    }
}

extension TrainingRunTests {
    @Test func theClassifierFollowsTheDataChannels() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try RandomImageFolder.write(at: dir.appendingPathComponent("colour"), classes: ["r", "g"], perClass: 5, size: 32, channels: 3,
                                    greyEvery: 5, seed: 6)
        let out = path("cls.safetensors")
        let (s, o) = try run(["classifier", "--data", "folder:" + path("colour"), "--epochs", "1", "--batch", "4", "--threads", "1", "--out", out])
        #expect(s == 0, "\(o)")
        #expect(o.contains("2 greyscale images converted to RGB") && o.contains("8 training images, 2 held out"), "\(o)")
        #expect(try Classifier.load(path: out).config.inChannels == 3)
        let (s2, o2) = try run(["classifier", "--data", "folder:" + path("colour"), "--out", dir.path])
        #expect(s2 != 0 && o2.contains("--out \(dir.path) is a directory"), "\(o2)")
    }
}
