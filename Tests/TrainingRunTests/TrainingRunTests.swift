import BigGANTestSupport
import Foundation
import Testing
@testable import BigGANEngine
@testable import BigGANImage

/// The real `biggan-train` executable on a tiny run (a 32×32 grey folder data set, narrow G and D).
@Suite(.serialized) struct TrainingRunTests {
    static var binary: String { Executables.path("biggan-train") }

    let dir: URL
    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("biggan-trainrun-\(UUID().uuidString)")
        try RandomImageFolder.write(at: dir.appendingPathComponent("data"), classes: ["circle", "square", "line"], perClass: 4, size: 32,
                                    channels: 1, seed: 3)
        try Data("not a png".utf8).write(to: dir.appendingPathComponent("data/line/broken.png"))
    }

    func args(_ name: String, extra: [String] = []) -> [String] {
        ["--out", dir.appendingPathComponent("\(name).safetensors").path, "--run-dir", dir.appendingPathComponent("run-\(name)").path,
         "--data", "folder:" + dir.appendingPathComponent("data").path, "--g-width", "4", "--d-width", "2", "--dim-z", "8",
         "--batch", "4", "--iterations", "8", "--checkpoint-every", "2", "--sample-every", "4", "--log-every", "1", "--threads", "1"] + extra
    }

    @discardableResult
    func run(_ arguments: [String], killWhen: ((String) -> Bool)? = nil) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = arguments
        let err = Pipe()
        p.standardError = err
        p.standardOutput = err
        try p.run()
        if let killWhen {
            let state = arguments[arguments.firstIndex(of: "--run-dir")! + 1] + "/state.safetensors"
            while p.isRunning {
                if let f = try? SafeTensorsFile(path: state), let it = f.metadata["iteration"], killWhen(it) {
                    kill(p.processIdentifier, SIGKILL)
                    break
                }
                usleep(2000)
            }
        }
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    @Test func killNineThenResumeMatchesAnUninterruptedRun() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(FileManager.default.fileExists(atPath: Self.binary), "build the biggan-train product first")
        let (status, output) = try run(args("straight"))
        #expect(status == 0, "\(output)")
        #expect(output.contains("skipped") && output.contains("broken.png"))
        // Same run, killed with -9 once a checkpoint at iteration ≥ 4 exists, then resumed.
        let (killed, _) = try run(args("resumed"), killWhen: { Int($0)! >= 4 })
        #expect(killed != 0)
        let state = try SafeTensorsFile(path: dir.appendingPathComponent("run-resumed/state.safetensors").path)
        #expect(Int(state.metadata["iteration"]!)! >= 4 && Int(state.metadata["iteration"]!)! < 8)
        let (resumed, out2) = try run(args("resumed", extra: ["--resume"]))
        #expect(resumed == 0, "\(out2)")
        #expect(out2.contains("resumed at iteration"))
        let a = try Data(contentsOf: dir.appendingPathComponent("straight.safetensors"))
        let b = try Data(contentsOf: dir.appendingPathComponent("resumed.safetensors"))
        #expect(a == b, "the resumed run's model differs from the uninterrupted one")
        // The CSV log has one row per iteration, none duplicated by the resume.
        let log = try String(contentsOf: dir.appendingPathComponent("run-resumed/log.csv"), encoding: .utf8)
        #expect(log.split(separator: "\n").dropFirst().map { Int($0.split(separator: ",")[0])! } == Array(1...8))
        #expect(log.split(separator: "\n")[0].contains("sigma.G.linear") && log.contains("sigma.D."))
        // Samples, curves, and a servable model.
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run-resumed/samples/iter-000008.png").path))
        #expect(try String(contentsOf: dir.appendingPathComponent("run-resumed/curves.svg"), encoding: .utf8).contains("<polyline"))
        let g = try GeneratorLoader.load(path: dir.appendingPathComponent("resumed.safetensors").path)
        #expect(g.info.classNames == ["circle", "line", "square"] && g.info.channels == 1)
        // `export` writes the run's EMA generator: the same model as the run's output.
        let exported = dir.appendingPathComponent("exported.safetensors").path
        let (es, eo) = try run(["export", "--run-dir", dir.appendingPathComponent("run-resumed").path, "--out", exported])
        #expect(es == 0, "\(eo)")
        let e = try GeneratorLoader.load(path: exported)
        let z = Tensor(shape: [1, 8], values: [0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8])
        let emb = Tensor(shape: [1, 8], values: g.conditioning(forClass: 1))
        #expect(e.forward(z: z, conditioning: emb, truncation: 1).array == g.forward(z: z, conditioning: emb, truncation: 1).array)
    }

    @Test func refusesToOverwriteARunAndBadData() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        var a = args("x"); a[a.firstIndex(of: "--iterations")! + 1] = "2"
        #expect(try run(a).0 == 0)
        let (s2, o2) = try run(a)
        #expect(s2 != 0 && o2.contains("pass --resume"))
        var bad = args("y"); bad[bad.firstIndex(of: "--data")! + 1] = "folder:/nonexistent"
        let (s3, o3) = try run(bad)
        #expect(s3 != 0 && o3.contains("/nonexistent: not a folder"))
        let (s4, o4) = try run(args("z", extra: ["--resume"]))
        #expect(s4 != 0 && o4.contains("no state at"))
    }
}

/// `biggan-train --architecture stylegan` on the same tiny folder: resume after kill -9 is exact,
/// the log and plot carry R1, `export` writes the same model, and BigGAN-only flags are refused.
@Suite(.serialized) struct StyleGANTrainingRunTests {
    let dir: URL
    let runs: TrainingRunTests

    init() throws {
        runs = try TrainingRunTests()
        dir = runs.dir
    }

    func args(_ name: String, extra: [String] = []) -> [String] {
        ["--architecture", "stylegan", "--out", dir.appendingPathComponent("\(name).safetensors").path, "--run-dir", dir.appendingPathComponent("run-\(name)").path,
         "--data", "folder:" + dir.appendingPathComponent("data").path, "--g-width", "4", "--d-width", "4", "--dim-z", "8", "--mapping-layers", "2",
         "--r1-interval", "2", "--batch", "4", "--iterations", "40", "--checkpoint-every", "2", "--sample-every", "20", "--log-every", "1",
         "--eval-every", "0", "--threads", "1"] + extra
    }

    @Test func killNineThenResumeMatchesAnUninterruptedRun() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let (status, output) = try runs.run(args("straight"))
        #expect(status == 0, "\(output)")
        // 40 iterations of a tiny model take about a second: the kill at iteration 4 has room
        // even on a loaded machine (with 8 the run could finish between two polls).
        let (killed, _) = try runs.run(args("resumed"), killWhen: { Int($0)! >= 4 })
        #expect(killed != 0)
        let (resumed, out2) = try runs.run(args("resumed", extra: ["--resume"]))
        #expect(resumed == 0 && out2.contains("resumed at iteration"), "\(out2)")
        let a = try Data(contentsOf: dir.appendingPathComponent("straight.safetensors"))
        let b = try Data(contentsOf: dir.appendingPathComponent("resumed.safetensors"))
        #expect(a == b, "the resumed run's model differs from the uninterrupted one")
        let log = try String(contentsOf: dir.appendingPathComponent("run-resumed/log.csv"), encoding: .utf8)
        #expect(log.split(separator: "\n").dropFirst().map { Int($0.split(separator: ",")[0])! } == Array(1...40))
        #expect(log.split(separator: "\n")[0].hasSuffix(",r1") || log.split(separator: "\n")[0].contains(",r1,"))
        #expect(try String(contentsOf: dir.appendingPathComponent("run-resumed/curves.svg"), encoding: .utf8).contains("R1 penalty"))
        let g = try GeneratorLoader.load(path: dir.appendingPathComponent("resumed.safetensors").path)
        #expect(g.info.architecture == "stylegan" && g.info.classNames == ["circle", "line", "square"] && g.info.channels == 1)
        // `export` of the finished run's state writes the run's output again, byte for byte.
        let exported = dir.appendingPathComponent("exported.safetensors").path
        let (es, eo) = try runs.run(["export", "--run-dir", dir.appendingPathComponent("run-resumed").path, "--out", exported])
        #expect(es == 0, "\(eo)")
        let e = try GeneratorLoader.load(path: exported)
        let z = Tensor(shape: [1, 8], values: [0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8])
        let c = Tensor(shape: [1, 3], values: g.conditioning(forClass: 1))
        #expect(e.forward(z: z, conditioning: c, truncation: nil).array == g.forward(z: z, conditioning: c, truncation: nil).array)
        // A resumed StyleGAN run refuses BigGAN-only flags and changed settings, naming them.
        let (s3, o3) = try runs.run(args("resumed", extra: ["--resume", "--g-ortho", "0.1"]))
        #expect(s3 != 0 && o3.contains("--g-ortho"), "\(o3)")
        let (s4, o4) = try runs.run(args("resumed", extra: ["--resume", "--r1-gamma", "3"]))
        #expect(s4 != 0 && o4.contains("--r1-gamma 3.0: the saved run uses"), "\(o4)")
        let (s5, o5) = try runs.run(args("other", extra: ["--augment", "translation"]))
        #expect(s5 != 0 && o5.contains("--augment does not apply to StyleGAN training"), "\(o5)")
    }
}

/// `biggan-train --architecture bigbigan` on the tiny folder: stopping at iteration 4 and resuming
/// to 8 equals the uninterrupted run byte for byte; the output is a servable bigbigan checkpoint
/// whose encoder reconstructs; sample and reconstruction sheets are written.
@Suite(.serialized) struct BigBiGANTrainingRunTests {
    let dir: URL
    let runs: TrainingRunTests

    init() throws {
        runs = try TrainingRunTests()
        dir = runs.dir
    }

    func args(_ name: String, iterations: Int, extra: [String] = []) -> [String] {
        ["--architecture", "bigbigan", "--out", dir.appendingPathComponent("\(name).safetensors").path, "--run-dir", dir.appendingPathComponent("run-\(name)").path,
         "--data", "folder:" + dir.appendingPathComponent("data").path, "--g-width", "4", "--d-width", "4", "--dim-z", "8",
         "--batch", "4", "--iterations", "\(iterations)", "--checkpoint-every", "2", "--sample-every", "4", "--log-every", "1",
         "--eval-every", "0", "--threads", "1"] + extra
    }

    /// With DiffAugment on, whose draws come from the run's RNG after z and ε.
    @Test func stopAndResumeMatchesAnUninterruptedRun() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let augment = ["--augment", "translation,cutout"]
        let (s1, o1) = try runs.run(args("straight", iterations: 8, extra: augment))
        #expect(s1 == 0, "\(o1)")
        let (s2, o2) = try runs.run(args("resumed", iterations: 4, extra: augment))
        #expect(s2 == 0, "\(o2)")
        let (s3, o3) = try runs.run(args("resumed", iterations: 8, extra: ["--resume"]))
        #expect(s3 == 0 && o3.contains("resumed at iteration 4"), "\(o3)")
        let a = try Data(contentsOf: dir.appendingPathComponent("straight.safetensors"))
        let b = try Data(contentsOf: dir.appendingPathComponent("resumed.safetensors"))
        #expect(a == b, "the resumed run's model differs from the uninterrupted one")
        let m = try GeneratorLoader.load(path: dir.appendingPathComponent("resumed.safetensors").path)
        #expect(m.info.architecture == "bigbigan" && m.imageEncoder != nil && !m.capabilities.conditional)
        let sampler = Sampler(generator: m)
        let x = Tensor(shape: [2, 32, 32, 1], values: (0..<2048).map { Float($0 % 7) / 3 - 1 })
        let r = try sampler.reconstruct(x, latent: .mean, template: try sampler.prepareReconstruction(class: nil, count: 2))
        #expect(r.images.shape == [2, 32, 32, 1] && r.encoding.zMean.shape == [2, 8])
        for f in ["iter-000008.png", "recon-000008.png"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run-resumed/samples/" + f).path), "\(f)")
        }
        // `biggan-train export` of the run folder writes the same tensors as the run's --out.
        let exported = dir.appendingPathComponent("exported.safetensors").path
        let (se, oe) = try runs.run(["export", "--run-dir", dir.appendingPathComponent("run-resumed").path, "--out", exported])
        #expect(se == 0 && oe.contains("EMA G and E at iteration 8"), "\(oe)")
        let (x1, x2) = (try SafeTensorsFile(path: exported), try SafeTensorsFile(path: dir.appendingPathComponent("resumed.safetensors").path))
        #expect(x1.entries.keys.sorted() == x2.entries.keys.sorted())
        for name in x1.entries.keys { #expect(try x1.tensor(name).array == x2.tensor(name).array, "\(name)") }
        let (sr, or) = try runs.run(["export", "--run-dir", dir.appendingPathComponent("run-resumed").path, "--out", exported, "--standing-stats", "2"])
        #expect(sr != 0 && or.contains("--standing-stats does not apply"), "\(or)")

        let (s4, o4) = try runs.run(args("other", iterations: 2, extra: ["--r1-gamma", "1"]))
        #expect(s4 != 0 && o4.contains("--r1-gamma does not apply to BigBiGAN training"), "\(o4)")
    }

    /// `--e-lr`: E follows G's learning rate until a resume sets its own; the log's `lr_e`
    /// column shows each; `--e-width` sets E's channels apart from D's; BigGAN refuses both
    /// flags by name.
    @Test func encoderLearningRateCanChangeOnResume() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let (s1, o1) = try runs.run(args("elr", iterations: 2, extra: ["--e-width", "6", "--ema-start", "0"]))
        #expect(s1 == 0, "\(o1)")
        let (s2, o2) = try runs.run(args("elr", iterations: 4, extra: ["--resume", "--e-lr", "0.003"]))
        #expect(s2 == 0 && o2.contains("--e-lr 0.003 (was G's, 0.0001)"), "\(o2)")
        let log = try String(contentsOf: dir.appendingPathComponent("run-elr/log.csv"), encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let column = try #require(log.first?.firstIndex(of: "lr_e"))
        let rates = log.dropFirst().map { Double($0[column]) }
        #expect(rates == [1e-4, 1e-4, 0.003, 0.003], "\(rates)")
        let m = try GeneratorLoader.load(path: dir.appendingPathComponent("elr.safetensors").path)
        #expect(try Sampler(generator: m).encoder().encoderInfo.featureWidth == 24)
        // export --raw: G and E themselves, which differ from the EMA export in G's tensors only.
        let (rawPath, emaPath) = (dir.appendingPathComponent("raw.safetensors").path, dir.appendingPathComponent("ema.safetensors").path)
        let (sw, ow) = try runs.run(["export", "--run-dir", dir.appendingPathComponent("run-elr").path, "--out", rawPath, "--raw"])
        #expect(sw == 0 && ow.contains("(G and E at iteration 4)"), "\(ow)")
        _ = try runs.run(["export", "--run-dir", dir.appendingPathComponent("run-elr").path, "--out", emaPath])
        let (xr, xe) = (try SafeTensorsFile(path: rawPath), try SafeTensorsFile(path: emaPath))
        #expect(xr.entries.keys.sorted() == xe.entries.keys.sorted())
        let differing = try xr.entries.keys.filter { try xr.tensor($0).array != xe.tensor($0).array }
        #expect(!differing.isEmpty && differing.allSatisfy { !$0.hasPrefix("encoder.") }, "\(differing)")
        let (s4, o4) = try runs.run(args("elr", iterations: 6, extra: ["--resume", "--e-width", "8"]))
        #expect(s4 != 0 && o4.contains("--e-width 8: the saved run uses 6"), "\(o4)")
        let (s3, o3) = try runs.run(["--out", dir.appendingPathComponent("g.safetensors").path, "--e-lr", "1e-3", "--iterations", "1",
                                     "--data", "folder:" + dir.appendingPathComponent("data").path])
        #expect(s3 != 0 && o3.contains("--e-lr does not apply to BigGAN training"), "\(o3)")
        let (s5, o5) = try runs.run(["--architecture", "stylegan", "--out", dir.appendingPathComponent("s.safetensors").path, "--e-width", "8",
                                     "--iterations", "1", "--data", "folder:" + dir.appendingPathComponent("data").path])
        #expect(s5 != 0 && o5.contains("--e-width does not apply to StyleGAN training"), "\(o5)")
    }
}

/// The MPI layer of data-parallel training (issue 16): alone, biggan-train needs no MPI; under
/// `mpirun -np 2` (Open MPI from Debian's openmpi-bin, which CI installs) the ranks' sums agree;
/// started by mpirun without a loadable libmpi it says so.
@Suite(.serialized) struct MPITests {
    @Test func reductionsUnderMpirunAndClearErrors() throws {
        let alone = try Executables.run("biggan-train", ["mpi-check"])
        #expect(alone.status == 0 && alone.output.contains("1 process (not started by mpirun)"), "\(alone.output)")
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["mpirun", "--oversubscribe", "--allow-run-as-root", "-np", "2", Executables.path("biggan-train"), "mpi-check"]
        p.standardOutput = out; p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0 && text.contains("rank 0 of 2 ranks: sum of rank+1 = 3 (expected 3)") && text.contains(": ok"),
                "mpirun -np 2 biggan-train mpi-check (needs openmpi-bin): \(text)")
        let q = Process(), qout = Pipe()
        q.executableURL = URL(fileURLWithPath: Executables.path("biggan-train"))
        q.arguments = ["mpi-check"]
        q.environment = ProcessInfo.processInfo.environment.merging(["OMPI_COMM_WORLD_SIZE": "2", "BIGGAN_MPI_LIBRARY": "/nonexistent/libmpi.so"]) { _, b in b }
        q.standardOutput = qout; q.standardError = qout
        try q.run()
        let qtext = String(decoding: qout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        q.waitUntilExit()
        #expect(q.terminationStatus != 0 && qtext.contains("Open MPI's library could not be loaded") && qtext.contains("without mpirun"), "\(qtext)")
    }
}

/// Data-parallel training under `mpirun --oversubscribe -np 2` (issue 16; BigGAN, BigBiGAN and
/// StyleGAN): 2 ranks at 2 images
/// each train what 1 process at 4 trains (cross-replica batch norm, averaged gradients, the
/// DiffAugment draws split like the batch), and a
/// job whose rank 1 is killed resumes to the uninterrupted 2-rank run byte for byte.
@Suite(.serialized) struct DataParallelRunTests {
    let dir: URL
    let runs: TrainingRunTests

    init() throws {
        runs = try TrainingRunTests()
        dir = runs.dir
    }

    func args(_ name: String, iterations: Int, extra: [String] = []) -> [String] {
        ["--out", dir.appendingPathComponent("\(name).safetensors").path, "--run-dir", dir.appendingPathComponent("run-\(name)").path,
         "--data", "folder:" + dir.appendingPathComponent("data").path, "--g-width", "4", "--d-width", "2", "--dim-z", "8",
         "--batch", "4", "--iterations", "\(iterations)", "--checkpoint-every", "1", "--sample-every", "100", "--log-every", "1",
         "--eval-every", "0", "--threads", "1"] + extra
    }

    /// `mpirun -np 2 biggan-train args` to the end (or until `kill(rank1)` says to kill rank 1).
    func mpirun(_ arguments: [String], killRank1When: ((Int) -> Bool)? = nil) throws -> (Int32, String) {
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["mpirun", "--oversubscribe", "--allow-run-as-root", "-np", "2", Executables.path("biggan-train")] + arguments
        p.standardOutput = out; p.standardError = out
        try p.run()
        if let killRank1When {
            let runDir = arguments[arguments.firstIndex(of: "--run-dir")! + 1]
            var killed = false
            while p.isRunning && !killed {
                if let f = try? SafeTensorsFile(path: runDir + "/state.safetensors"), let it = f.metadata["iteration"].flatMap(Int.init), killRank1When(it) {
                    // Rank 1: the biggan-train process of this run whose environment says so.
                    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                        guard let pid = Int32(entry), let cmd = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                              String(decoding: cmd, as: UTF8.self).contains(runDir),
                              let env = FileManager.default.contents(atPath: "/proc/\(entry)/environ"),
                              String(decoding: env, as: UTF8.self).split(separator: "\0").contains("OMPI_COMM_WORLD_RANK=1") else { continue }
                        kill(pid, SIGKILL); killed = true
                    }
                }
                usleep(2000)
            }
        }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    /// Runs `a` (one process) and `b` (two ranks) logged the same losses (relative
    /// `lossTolerance`) and, with `weights`, exported the same weights: within 1e-3 of each
    /// tensor's largest value, or `looseTolerance` absolute for the tensors `loose` names.
    func expectSameRun(_ a: String, _ b: String, rows: Int, lossTolerance: Double, weights: Bool = true,
                       loose: (String) -> Bool = { _ in false }, looseTolerance: Float = 0) throws {
        let l1 = try String(contentsOf: dir.appendingPathComponent("run-\(a)/log.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
        let l2 = try String(contentsOf: dir.appendingPathComponent("run-\(b)/log.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(l1.count == rows && l2.count == rows)
        for (x, y) in zip(l1, l2) {
            let u = x.split(separator: ",").prefix(4).compactMap { Double($0) }, v = y.split(separator: ",").prefix(4).compactMap { Double($0) }
            for (p, q) in zip(u, v) { #expect(abs(p - q) <= lossTolerance * max(1, abs(p)), "\(a) / \(b) log rows \(x) / \(y)") }
        }
        guard weights else { return }
        let one = try SafeTensorsFile(path: dir.appendingPathComponent("\(a).safetensors").path)
        let two = try SafeTensorsFile(path: dir.appendingPathComponent("\(b).safetensors").path)
        #expect(one.entries.count == two.entries.count)
        for (name, _) in one.entries {
            let p = try one.tensor(name), q = try two.tensor(name)
            var diff: Float = 0, scale: Float = 0
            for i in 0..<p.count { diff = max(diff, abs(p[i] - q[i])); scale = max(scale, abs(p[i])) }
            #expect(loose(name) ? diff <= looseTolerance : diff <= 1e-3 * max(scale, 1), "\(name): max difference \(diff) (scale \(scale))")
        }
    }

    @Test func twoRanksEqualOneProcessAndResumeAfterARankDies() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let (s1, o1) = try runs.run(args("one", iterations: 4, extra: ["--augment", "translation,cutout"]))
        #expect(s1 == 0, "\(o1)")
        let (s2, o2) = try mpirun(args("two", iterations: 4, extra: ["--augment", "translation,cutout"]))
        #expect(s2 == 0 && o2.contains("data-parallel: 2 ranks, 2 images each"), "\(o2)")
        // Stated tolerance: the logged losses agree to 1e-4 (relative); weights to 1e-3 of their
        // largest value; biases of convolutions that feed a batch norm (gradient zero up to
        // rounding, which Adam turns into ±lr steps) and the running means they shift, to 2e-3.
        try expectSameRun("one", "two", rows: 4, lossTolerance: 1e-4,
                          loose: { $0.hasSuffix(".bias") && $0.contains("conv") || $0.hasSuffix(".mean") }, looseTolerance: 2e-3)
        // Rank 1 killed once a checkpoint at iteration ≥ 2 exists: the job ends; resumed (2 ranks),
        // it ends where the uninterrupted 2-rank run ends, byte for byte.
        let (sk, ok) = try mpirun(args("killed", iterations: 4, extra: ["--augment", "translation,cutout"]), killRank1When: { $0 >= 2 })
        #expect(sk != 0, "the job should end when a rank dies: \(ok)")
        let (sr, or) = try mpirun(args("killed", iterations: 4, extra: ["--resume"]))
        #expect(sr == 0 && or.contains("resumed at iteration"), "\(or)")
        #expect(try Data(contentsOf: dir.appendingPathComponent("killed.safetensors")) == Data(contentsOf: dir.appendingPathComponent("two.safetensors")),
                "the resumed job differs from the uninterrupted one")
        // StyleGAN: 2 ranks at 4 against 1 process at 8, R1 included (every 2nd D step): each
        // rank's minibatch-stddev groups are the single process's, W averages are global.
        let sg = ["--architecture", "stylegan", "--batch", "8", "--r1-interval", "2"]
        let (g1, r1) = try runs.run(args("sg-one", iterations: 3, extra: sg))
        let (g2, r2) = try mpirun(args("sg-two", iterations: 3, extra: sg))
        #expect(g1 == 0 && g2 == 0 && r2.contains("data-parallel: 2 ranks, 4 images each"), "\(r1)\n\(r2)")
        try expectSameRun("sg-one", "sg-two", rows: 3, lossTolerance: 2e-4)
        // A batch whose stddev groups cannot be split over the ranks is refused by name.
        let (sa, oa) = try mpirun(args("sg-odd", iterations: 1, extra: ["--architecture", "stylegan", "--batch", "4"]))
        #expect(sa != 0 && oa.contains("--batch 4 must be a multiple of 8 (minibatch-stddev groups of 4 × 2 ranks)"), "\(oa)")
        // BigBiGAN (encoder batch norms cross-replica too; each rank takes its rows of the global
        // augmentation draw): 2 ranks at 2 against 1 process at 4.
        let (b1, q1) = try runs.run(args("bb-one", iterations: 3, extra: ["--architecture", "bigbigan", "--augment", "translation,cutout"]))
        let (b2, q2) = try mpirun(args("bb-two", iterations: 3, extra: ["--architecture", "bigbigan", "--augment", "translation,cutout"]))
        #expect(b1 == 0 && b2 == 0, "\(q1)\n\(q2)")
        try expectSameRun("bb-one", "bb-two", rows: 3, lossTolerance: 1e-4, weights: false)
    }
}
