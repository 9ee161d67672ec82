import Foundation

/// Resident memory of this process as Linux reports it in `/proc/self/status`.
public struct ProcessMemory: Sendable {
    /// `VmRSS`: bytes resident now.
    public let residentBytes: Int
    /// `VmHWM`: the most bytes ever resident (peak).
    public let peakResidentBytes: Int
    /// Minor page faults so far (`getrusage`): first touches of fresh pages, among others.
    public let minorPageFaults: Int

    /// Nil where `/proc/self/status` is missing or lacks the fields (not Linux).
    public static func current() -> ProcessMemory? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        func kib(_ field: String) -> Int? {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else { return nil }
            return line.split(separator: " ").compactMap { Int($0) }.first.map { $0 * 1024 }
        }
        guard let rss = kib("VmRSS"), let hwm = kib("VmHWM") else { return nil }
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return ProcessMemory(residentBytes: rss, peakResidentBytes: hwm, minorPageFaults: usage.ru_minflt)
    }
}
