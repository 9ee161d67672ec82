import Foundation

/// A path that cannot be read or written as asked, with a message a user can act on
/// ("X is a directory", "X: too many levels of symbolic links").
public struct FileAccessError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Equatable, Sendable { case notFound, isDirectory, notRegularFile, notDirectory, symlinkLoop, folderMissing, system }
    public let kind: Kind
    public let path: String
    public let description: String
    /// The problem without the path, e.g. "it is a directory" (for messages that name the file already).
    public let problem: String

    init(_ kind: Kind, _ path: String, label: String?, detail: String = "") {
        self.kind = kind; self.path = path
        let p = label.map { "\($0) \(path)" } ?? path
        switch kind {
        case .notFound: problem = "no such file or directory"; description = "\(p): \(problem)"
        case .isDirectory: problem = "it is a directory"; description = "\(p) is a directory"
        case .notRegularFile:
            problem = "it is not a regular file" + (detail.isEmpty ? "" : " (\(detail))")
            description = "\(p) is not a regular file" + (detail.isEmpty ? "" : " (\(detail))")
        case .notDirectory: problem = "it is not a folder (\(detail))"; description = "\(p) is not a folder (\(detail))"
        case .symlinkLoop: problem = "too many levels of symbolic links"; description = "\(p): \(problem)"
        case .folderMissing: problem = "the folder '\(detail)' does not exist"; description = "\(p): \(problem)"
        case .system: problem = detail; description = "\(p): \(problem)"
        }
    }

    static func fromErrno(_ err: Int32, _ path: String, label: String?) -> FileAccessError {
        switch err {
        case ENOENT: return FileAccessError(.notFound, path, label: label)
        case ELOOP: return FileAccessError(.symlinkLoop, path, label: label)
        case EISDIR: return FileAccessError(.isDirectory, path, label: label)
        default: return FileAccessError(.system, path, label: label, detail: String(cString: strerror(err)))
        }
    }
}

/// What a path names, following symbolic links (`stat`, not `lstat`).
enum FileType {
    case regular, directory, other(String)

    init(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        case S_IFCHR: self = .other("a character device")
        case S_IFBLK: self = .other("a block device")
        case S_IFIFO: self = .other("a FIFO")
        case S_IFSOCK: self = .other("a socket")
        default: self = .other("an unknown kind of file")
        }
    }
}

/// Checks on paths users give as inputs, so that a directory, a FIFO or a symbolic-link loop is
/// reported as such instead of as a Foundation error code (or a read that blocks forever).
public enum InputFile {
    /// Throws unless `path` (after following links) is a regular file. `label` prefixes the path
    /// in the message, e.g. `--model`.
    public static func requireRegularFile(_ path: String, label: String? = nil) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { throw FileAccessError.fromErrno(errno, path, label: label) }
        switch FileType(mode: st.st_mode) {
        case .regular: return
        case .directory: throw FileAccessError(.isDirectory, path, label: label)
        case .other(let what): throw FileAccessError(.notRegularFile, path, label: label, detail: "it is \(what)")
        }
    }

    /// Throws unless `path` (after following links) is a directory.
    public static func requireDirectory(_ path: String, label: String? = nil) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { throw FileAccessError.fromErrno(errno, path, label: label) }
        switch FileType(mode: st.st_mode) {
        case .directory: return
        case .regular: throw FileAccessError(.notDirectory, path, label: label, detail: "it is a file")
        case .other(let what): throw FileAccessError(.notDirectory, path, label: label, detail: "it is \(what)")
        }
    }
}

/// The one way this project writes an output file.
///
/// - A path that is a symbolic link (or a chain of them) is resolved first, so the link is kept
///   and its target written (a dangling link creates its target).
/// - A missing or regular target is replaced atomically: the bytes go to `target.tmp-<pid>` in
///   the same folder, which is flushed to disk (`fsync`) and renamed over the target; the folder
///   is then synced, so a crash leaves either the old or the new file, never a partial one.
///   A replaced file keeps its permission bits.
/// - A character or block device or a FIFO is written through, in place (`/dev/null` stays a
///   device; a reader on a FIFO receives the data).
/// - A directory, a socket or a link loop is an error naming the path.
public enum OutputFile {
    /// Temporary files are `<name>.tmp-<pid>`; `isTemporary` recognises them (for clean-up).
    public static func temporaryPath(for path: String, pid: Int32 = ProcessInfo.processInfo.processIdentifier) -> String {
        path + ".tmp-\(pid)"
    }

    /// The pid in a `<name>.tmp-<pid>` file name, or nil when `name` is not one.
    public static func temporaryOwner(_ name: String) -> Int32? {
        guard let r = name.range(of: ".tmp-", options: .backwards), r.lowerBound > name.startIndex else { return nil }
        let digits = name[r.upperBound...]
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int32(digits)
    }

    /// Follows symbolic links at the last path component (up to 40 of them) and returns the path
    /// that is finally written, which may not exist yet.
    public static func resolve(_ path: String, label: String? = nil) throws -> String {
        var current = path
        for _ in 0..<40 {
            var st = stat()
            guard lstat(current, &st) == 0 else {
                let err = errno
                if err == ENOENT { return current }
                throw FileAccessError.fromErrno(err, path, label: label)
            }
            guard st.st_mode & S_IFMT == S_IFLNK else { return current }
            var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(current, &buf, buf.count - 1)
            guard n >= 0 else { throw FileAccessError.fromErrno(errno, path, label: label) }
            let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = target.hasPrefix("/") ? target : ((current as NSString).deletingLastPathComponent as NSString).appendingPathComponent(target)
        }
        throw FileAccessError(.symlinkLoop, path, label: label)
    }

    /// Checks that `path` can be written (before a long computation whose result goes there):
    /// not a directory, socket or link loop, and its folder exists.
    public static func check(_ path: String, label: String? = nil) throws {
        _ = try plan(path, label: label)
    }

    enum Plan { case replace(target: String, mode: mode_t?), writeThrough(target: String) }

    static func plan(_ path: String, label: String?) throws -> Plan {
        let target = try resolve(path, label: label)
        var st = stat()
        if stat(target, &st) == 0 {
            switch FileType(mode: st.st_mode) {
            case .regular: return .replace(target: target, mode: st.st_mode & 0o7777)
            case .directory: throw FileAccessError(.isDirectory, path, label: label)
            case .other(let what):
                if what == "a socket" { throw FileAccessError(.notRegularFile, path, label: label, detail: "it is a socket") }
                return .writeThrough(target: target)
            }
        }
        let err = errno
        guard err == ENOENT else { throw FileAccessError.fromErrno(err, path, label: label) }
        let dir = (target as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.isEmpty ? "." : dir, isDirectory: &isDir), isDir.boolValue else {
            throw FileAccessError(.folderMissing, path, label: label, detail: dir)
        }
        return .replace(target: target, mode: nil)
    }

    /// Writes `data` to `path` as described on the type. `label` (e.g. `--out`) prefixes the
    /// path in error messages.
    public static func write(_ data: Data, to path: String, label: String? = nil) throws {
        switch try plan(path, label: label) {
        case .writeThrough(let target):
            let fd = open(target, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw FileAccessError.fromErrno(errno, path, label: label) }
            defer { close(fd) }
            try writeAll(fd, data, path: path, label: label)
        case .replace(let target, let mode):
            let tmp = temporaryPath(for: target)
            let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode ?? 0o644)
            guard fd >= 0 else { throw FileAccessError.fromErrno(errno, tmp, label: label) }
            do {
                if let mode { _ = fchmod(fd, mode) }
                try writeAll(fd, data, path: path, label: label)
                guard fsync(fd) == 0 else { throw FileAccessError.fromErrno(errno, path, label: label) }
                close(fd)
            } catch {
                close(fd); unlink(tmp)
                throw error
            }
            guard rename(tmp, target) == 0 else {
                let err = errno
                unlink(tmp)
                throw FileAccessError(.system, path, label: label, detail: "cannot rename the temporary file: \(String(cString: strerror(err)))")
            }
            syncFolder(of: target)
        }
    }

    private static func writeAll(_ fd: Int32, _ data: Data, path: String, label: String?) throws {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileAccessError.fromErrno(errno, path, label: label)
                }
                offset += n
            }
        }
    }

    /// Makes a rename in the folder of `path` durable (best effort: some file systems refuse).
    static func syncFolder(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// Deletes `<name>.tmp-<pid>` files in `folder` left by processes that no longer run (a
    /// kill during a write). Returns the names removed.
    @discardableResult
    public static func removeStaleTemporaries(in folder: String) -> [String] {
        let me = ProcessInfo.processInfo.processIdentifier
        var removed: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            guard let pid = temporaryOwner(name), pid != me, !processIsAlive(pid) else { continue }
            if unlink((folder as NSString).appendingPathComponent(name)) == 0 { removed.append(name) }
        }
        return removed.sorted()
    }

    static func processIsAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
