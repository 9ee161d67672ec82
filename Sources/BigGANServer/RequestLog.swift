import Foundation
import GRDB
import Logging

/// One row of the request log.
public struct RequestRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "requests"
    public var id: Int64?
    public var time: String          // ISO-8601, UTC, milliseconds
    public var method: String
    public var path: String
    public var query: String
    public var status: Int
    public var durationMs: Double
    public var bytes: Int
    public var model: String?
    public var client: String
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case id, time, method, path, query, status, durationMs = "duration_ms", bytes, model, client, error
    }
}

/// The SQLite request log (GRDB, WAL mode, `synchronous = NORMAL`: a committed transaction
/// survives the process being killed; only an OS crash can lose the last ones). Rows are queued
/// and written by one background queue, all rows pending at that moment in one transaction, so a
/// `kill -9` loses at most the rows not yet committed — a few milliseconds' worth. A database
/// that cannot be opened or written is reported (`health`, the log) and retried; it never fails
/// a request.
public final class RequestLog: @unchecked Sendable {
    public let path: String
    private var db: DatabaseQueue?
    private let writer = DispatchQueue(label: "request-log")
    private let lock = NSLock()
    private var lastError: String?
    private var lastAttempt = Date.distantPast
    private var pending: [RequestRecord] = []
    private var drainScheduled = false
    /// Rows kept while the database is unavailable; older ones are dropped beyond this.
    static let maxPending = 10_000
    private let logger: Logger

    public init(path: String, logger: Logger = Logger(label: "biggan.request-log")) {
        self.path = path; self.logger = logger
        writer.sync { _ = openIfNeeded() }
    }

    /// `(ok, error)`: whether the last write (or open) succeeded, and why not.
    public var health: (ok: Bool, error: String?) {
        lock.lock(); defer { lock.unlock() }
        return (lastError == nil, lastError)
    }

    private func setError(_ e: String?) {
        lock.lock(); let changed = e != lastError; lastError = e; lock.unlock()
        if changed, let e { logger.error("request log \(path): \(e)") }
        if changed, e == nil { logger.info("request log \(path) is writable again") }
    }

    private static let migrator: DatabaseMigrator = {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "requests") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("time", .text).notNull()
                t.column("method", .text).notNull()
                t.column("path", .text).notNull()
                t.column("query", .text).notNull()
                t.column("status", .integer).notNull()
                t.column("duration_ms", .double).notNull()
                t.column("bytes", .integer).notNull()
                t.column("model", .text)
                t.column("client", .text).notNull()
                t.column("error", .text)
            }
            try db.create(index: "requests_on_time", on: "requests", columns: ["time"])
        }
        return m
    }()

    /// Opens the database if it is not open; retries at most every 5 s. Runs on `writer`.
    private func openIfNeeded() -> DatabaseQueue? {
        if let db { return db }
        guard Date().timeIntervalSince(lastAttempt) > 5 else { return nil }
        lastAttempt = Date()
        do {
            var config = Configuration()
            config.busyMode = .timeout(2)
            config.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            let q = try DatabaseQueue(path: path, configuration: config)
            try Self.migrator.migrate(q)
            db = q
            setError(nil)
            return q
        } catch {
            setError("cannot open: \(error)")
            return nil
        }
    }

    /// Queues `record` for writing and returns at once.
    public func append(_ record: RequestRecord) {
        lock.lock()
        pending.append(record)
        if pending.count > Self.maxPending { pending.removeFirst(pending.count - Self.maxPending) }
        let schedule = !drainScheduled
        drainScheduled = true
        lock.unlock()
        if schedule { writer.async { [self] in drain() } }
    }

    /// Writes every pending row in one transaction. Runs on `writer`.
    private func drain() {
        lock.lock()
        let rows = pending
        pending = []
        drainScheduled = false
        lock.unlock()
        guard !rows.isEmpty else { return }
        guard let db = openIfNeeded() else { requeue(rows); return }
        do {
            try db.write { d in for r in rows { try r.insert(d) } }
            setError(nil)
        } catch {
            setError("write failed: \(error)")
            requeue(rows)
        }
    }

    /// Puts rows that could not be written back at the front of the queue (bounded).
    private func requeue(_ rows: [RequestRecord]) {
        lock.lock()
        pending = Array((rows + pending).suffix(Self.maxPending))
        lock.unlock()
    }

    /// Writes every queued row now (or records why it could not).
    public func flush() { writer.sync { drain() } }

    /// The most recent rows, newest first.
    public func recent(limit: Int) throws -> [RequestRecord] {
        let db: DatabaseQueue? = writer.sync { openIfNeeded() }
        guard let db else { throw APIError(503, "request_log_unavailable", "the request log is unavailable: \(health.error ?? "unknown error")") }
        return try db.read { d in
            try RequestRecord.order(Column("id").desc).limit(limit).fetchAll(d)
        }
    }

    nonisolated(unsafe) static let timeFormatter: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
}
