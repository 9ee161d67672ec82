import Foundation

/// Where a neighbour index stands. Indexes only move forward: not started → queued → building →
/// ready or failed (a failed build is not retried; restart the server after fixing the cause).
public enum NeighbourIndexState: Sendable, Equatable {
    /// Nobody has asked for it yet.
    case notStarted
    /// Waiting for the background builder (which builds one index at a time).
    case queued
    case building(NeighbourIndexProgress)
    case ready
    case failed(String)
    /// This space cannot exist for the model (such as the feature space without a classifier).
    case unavailable(String)

    /// The name `/healthz` reports.
    public var name: String {
        switch self {
        case .notStarted: return "not_started"
        case .queued: return "queued"
        case .building: return "building"
        case .ready: return "ready"
        case .failed: return "failed"
        case .unavailable: return "unavailable"
        }
    }

    /// Whether a lookup would have to wait for a build (that was or can be started).
    public var isPending: Bool {
        switch self {
        case .notStarted, .queued, .building: return true
        case .ready, .failed, .unavailable: return false
        }
    }
}

/// Progress of one index build: `done` of `total` training images processed (`total` is 0 while
/// the training images are being loaded, before their number is known).
public struct NeighbourIndexProgress: Sendable, Equatable {
    public var done: Int
    public var total: Int
    public var started: Date

    public init(done: Int, total: Int, started: Date) { self.done = done; self.total = total; self.started = started }

    /// 0…1.
    public var fraction: Double { total > 0 ? min(1, Double(done) / Double(total)) : 0 }

    /// "12,000 of 60,000 images (20%)", or "loading the training images".
    public var description: String {
        guard total > 0 else { return "loading the training images" }
        return "\(Self.grouped(done)) of \(Self.grouped(total)) images (\(Int((fraction * 100).rounded(.down)))%)"
    }

    /// Seconds left at the rate so far; nil until some images are done.
    public func secondsLeft(now: Date = Date()) -> Double? {
        let elapsed = now.timeIntervalSince(started)
        guard done > 0, total > done, elapsed > 0 else { return nil }
        return elapsed / Double(done) * Double(total - done)
    }

    /// `n` with a comma every three digits (locale-independent, for messages).
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n.magnitude))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return (n < 0 ? "-" : "") + out
    }
}
