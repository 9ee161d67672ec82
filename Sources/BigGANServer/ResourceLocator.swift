import Foundation

/// Finds the server's folders (`public/`, `Models/`) independently of the current directory:
/// a folder named by a flag is used as given; otherwise the name relative to the current
/// directory, then next to the executable and in its ancestors (a build at
/// `<repo>/.build/release/biggan-server` finds `<repo>/public`; an install at
/// `<prefix>/bin/biggan-server` finds `<prefix>/public` or `<prefix>/share/biggan/public`).
public enum ResourceLocator {
    public struct Found: Sendable, Equatable {
        /// The folder to use, or nil when none exists.
        public let path: String?
        /// Every place looked at, in order (for warnings and the missing-gallery page).
        public let searched: [String]
    }

    /// How many ancestors of the executable's folder are searched.
    static let maxAncestors = 5

    public static func locate(_ name: String, flag: String?, cwd: String = FileManager.default.currentDirectoryPath,
                              executable: String? = executablePath()) -> Found {
        if let flag {
            return Found(path: isDirectory(flag) ? flag : nil, searched: [absolute(flag, cwd)])
        }
        var candidates = [absolute(name, cwd)]
        if let exe = executable {
            var dir = URL(fileURLWithPath: absolute(exe, cwd)).resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0...maxAncestors {
                candidates.append(dir.appendingPathComponent(name).path)
                candidates.append(dir.appendingPathComponent("share/biggan").appendingPathComponent(name).path)
                let up = dir.deletingLastPathComponent()
                if up.path == dir.path { break }
                dir = up
            }
        }
        var seen = Set<String>(), searched: [String] = []
        for c in candidates where seen.insert(c).inserted { searched.append(c) }
        return Found(path: searched.first(where: isDirectory), searched: searched)
    }

    /// This process's executable (`/proc/self/exe` on Linux), or nil.
    public static func executablePath() -> String? {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        return Bundle.main.executablePath ?? CommandLine.arguments.first
    }

    static func absolute(_ path: String, _ cwd: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: cwd).appendingPathComponent(path).standardizedFileURL.path
    }

    static func isDirectory(_ path: String) -> Bool {
        var dir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &dir) && dir.boolValue
    }
}
