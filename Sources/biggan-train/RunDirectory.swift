import BigGANEngine
import Foundation

/// A run folder held by one trainer: an exclusive `flock` on `<dir>/lock` (released by the
/// kernel when the process ends, however it ends), so that two trainers never write one state.
/// Holding it, the trainer removes the `*.tmp-<pid>` files a killed writer left behind.
final class RunDirectory {
    let path: String
    private let lockDescriptor: Int32
    /// Whether this trainer created the folder (it did not exist before).
    private let created: Bool

    var statePath: String { (path as NSString).appendingPathComponent("state.safetensors") }
    var samplesPath: String { (path as NSString).appendingPathComponent("samples") }

    /// `lock: false` (ranks other than 0 of a data-parallel job, which read the state and write
    /// nothing): the folder is neither created nor locked.
    init(_ path: String, lock: Bool = true) throws {
        self.path = path
        guard lock else { created = false; lockDescriptor = -1; return }
        created = !FileManager.default.fileExists(atPath: path)
        do { try FileManager.default.createDirectory(atPath: (path as NSString).appendingPathComponent("samples"), withIntermediateDirectories: true) }
        catch { throw TrainError("cannot create the run folder \(path): \((error as NSError).localizedDescription)") }
        let lockPath = (path as NSString).appendingPathComponent("lock")
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TrainError("cannot open \(lockPath): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let err = errno
            var buf = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buf, buf.count, 0)
            close(fd)
            guard err == EWOULDBLOCK else { throw TrainError("cannot lock \(lockPath): \(String(cString: strerror(err)))") }
            let owner = String(decoding: buf.prefix(max(0, n)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw TrainError("another biggan-train\(owner.isEmpty ? "" : " (pid \(owner))") is using the run folder \(path); "
                             + "wait for it to finish or stop it, or choose another --run-dir")
        }
        let pid = Data("\(ProcessInfo.processInfo.processIdentifier)\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        lockDescriptor = fd
    }

    deinit { if lockDescriptor >= 0 { close(lockDescriptor) } }

    /// After a run that failed before writing anything (bad data, bad flags found late): removes
    /// the folder this trainer created, if it holds nothing but its lock and an empty samples
    /// folder, so that a failed start leaves no run behind.
    func removeIfUnused() {
        guard created else { return }
        let fm = FileManager.default
        let entries = Set((try? fm.contentsOfDirectory(atPath: path)) ?? [])
        let samples = (try? fm.contentsOfDirectory(atPath: samplesPath)) ?? []
        guard entries.isSubset(of: ["lock", "samples"]), samples.isEmpty else { return }
        try? fm.removeItem(atPath: path)
    }

    /// Removes temporary files of interrupted writes in the run folder and its samples folder;
    /// returns their paths.
    func removeStaleTemporaries() -> [String] {
        [path, samplesPath].flatMap { dir in OutputFile.removeStaleTemporaries(in: dir).map { (dir as NSString).appendingPathComponent($0) } }
    }
}
