import Foundation

/// Folders the tests read: the repository, its committed fixtures, and fresh temporary folders.
public enum TestPaths {
    /// The repository root (this file is `<root>/Tests/BigGANTestSupport/Paths.swift`).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `Tests/Fixtures`, written by the scripts in `scripts/`.
    public static let fixtures = repositoryRoot.appendingPathComponent("Tests").appendingPathComponent("Fixtures")

    /// The path of fixture `name` (may hold `/`: `train/x.safetensors`).
    public static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }
}

/// A fresh temporary directory named `<prefix>-<UUID>`, removed by the caller.
public func temporaryDirectory(_ prefix: String = "biggan-tests") -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The file type bits (`S_IFREG`, `S_IFLNK`, …) of `path`, not following a final link.
public func fileType(_ path: String) -> mode_t {
    var st = stat()
    precondition(lstat(path, &st) == 0, "no \(path)")
    return st.st_mode & S_IFMT
}
