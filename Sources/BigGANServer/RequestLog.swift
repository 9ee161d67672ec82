import BigGANEngine
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
/// survives the process being killed; only an OS crash can lose the last ones).
///
/// `append` only queues a row; one writer thread inserts queued rows with a prepared statement,
/// at most `maxRowsPerTransaction` (500) rows per transaction, so it keeps up with thousands of
/// requests a second and a recovering database (after a full disk, a lock) never needs room for
/// the whole backlog at once. A `kill -9` loses at most the rows not yet committed — a few
/// milliseconds' worth.
///
/// Bound: at most `capacity` rows (default 50,000, about 10 MB) wait for the writer. Only when
/// the database stays unwritable (or the writer falls that far behind) are further rows dropped;
/// every dropped row is counted (`biggan_request_log_dropped_total`), `/healthz` says `degraded`
/// until the backlog has been written, and the log says so once per episode. Text columns are
/// cut to `maxFieldBytes` (2 KiB) each. A database that cannot be opened or written is reported
/// (`health`, the log) and retried; it never fails a request.
public final class RequestLog: @unchecked Sendable {
    public let path: String
    /// Most rows waiting to be written; beyond it new rows are dropped and counted.
    public let capacity: Int
    public static let defaultCapacity = 50_000
    /// Most rows written in one transaction.
    public static let maxRowsPerTransaction = 500
    /// Most UTF-8 bytes kept of each text column (path, query, error, …).
    public static let maxFieldBytes = 2048

    struct Pending { var record: RequestRecord; let time: Date }

    private let retryInterval: TimeInterval
    private let logger: Logger
    /// Guards the queue and the counters below; the writer waits on it.
    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var head = 0
    private var dropped = 0
    private var droppedThisEpisode = 0
    private var lastError: String?
    private var largestTransaction = 0
    /// Serialises database writes (the writer thread and `flush`).
    private let writeLock = NSLock()
    private var db: DatabaseQueue?
    private var lastAttempt = Date.distantPast

    /// `capacity`: the bound on waiting rows; `retryInterval`: seconds between attempts to open
    /// or write an unavailable database.
    public init(path: String, capacity: Int = RequestLog.defaultCapacity, retryInterval: TimeInterval = 5,
                logger: Logger = Logger(label: "biggan.request-log")) {
        self.path = path; self.capacity = max(1, capacity); self.retryInterval = retryInterval; self.logger = logger
        writeLock.lock(); _ = openIfNeeded(); writeLock.unlock()
        let t = Thread { [weak self] in
            while let log = self, log.writeWhenReady() {}
        }
        t.name = "request-log"
        t.start()
    }

    private var pendingCount: Int { queue.count - head }

    /// `(ok, error)`: whether the log is keeping every row — the last write (or open)
    /// succeeded and no row was dropped since the backlog was last written — and why not.
    public var health: (ok: Bool, error: String?) {
        condition.lock(); defer { condition.unlock() }
        if let e = lastError { return (false, e) }
        if droppedThisEpisode > 0 { return (false, "\(droppedThisEpisode) rows dropped: the writer fell \(capacity) rows behind") }
        return (true, nil)
    }

    /// Rows waiting, rows dropped since start, and the most rows one transaction has written.
    public var stats: (pending: Int, dropped: Int, largestTransaction: Int) {
        condition.lock(); defer { condition.unlock() }
        return (pendingCount, dropped, largestTransaction)
    }

    /// The log's series in the Prometheus text format.
    public var metricsText: String {
        let s = stats
        return "# HELP biggan_request_log_dropped_total Request-log rows dropped because \(capacity) rows were already waiting.\n"
            + "# TYPE biggan_request_log_dropped_total counter\nbiggan_request_log_dropped_total \(s.dropped)\n"
            + "# HELP biggan_request_log_pending Request-log rows waiting to be written.\n"
            + "# TYPE biggan_request_log_pending gauge\nbiggan_request_log_pending \(s.pending)\n"
    }

    private func setError(_ e: String?) {
        condition.lock(); let changed = e != lastError; lastError = e; condition.unlock()
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

    /// Opens the database if it is not open; retries at most every `retryInterval`. Holds `writeLock`.
    private func openIfNeeded() -> DatabaseQueue? {
        if let db { return db }
        guard Date().timeIntervalSince(lastAttempt) >= retryInterval else { return nil }
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

    /// Queues `record` for writing and returns at once. An empty `time` is filled in by the
    /// writer with the moment of this call. Long text columns are cut to `maxFieldBytes`.
    public func append(_ record: RequestRecord) {
        var r = record
        let cap = Self.maxFieldBytes
        if r.path.utf8.count > cap { r.path = Echo.capBytes(r.path, cap) }
        if r.query.utf8.count > cap { r.query = Echo.capBytes(r.query, cap) }
        if r.method.utf8.count > 64 { r.method = Echo.capBytes(r.method, 64) }
        if r.client.utf8.count > 256 { r.client = Echo.capBytes(r.client, 256) }
        if let e = r.error, e.utf8.count > cap { r.error = Echo.capBytes(e, cap) }
        if let m = r.model, m.utf8.count > 256 { r.model = Echo.capBytes(m, 256) }
        condition.lock()
        guard pendingCount < capacity else {
            dropped += 1; droppedThisEpisode += 1
            let first = droppedThisEpisode == 1
            condition.unlock()
            if first { logger.error("request log \(path): \(capacity) rows are waiting; dropping new rows until they are written (counted in biggan_request_log_dropped_total)") }
            return
        }
        queue.append(Pending(record: r, time: Date()))
        if pendingCount == 1 { condition.signal() }
        condition.unlock()
    }

    /// The writer thread's step: waits (at most a second) for rows, writes one transaction's
    /// worth, and after a failure waits `retryInterval` before trying again. Always `true`
    /// (the thread ends when the log is released).
    private func writeWhenReady() -> Bool {
        condition.lock()
        if pendingCount == 0 { _ = condition.wait(until: Date().addingTimeInterval(1)) }
        let work = pendingCount > 0
        condition.unlock()
        guard work else { return true }
        writeLock.lock()
        let ok = writeOneTransaction()
        writeLock.unlock()
        if !ok {
            condition.lock(); _ = condition.wait(until: Date().addingTimeInterval(max(retryInterval, 0.05))); condition.unlock()
        }
        return true
    }

    /// Writes up to `maxRowsPerTransaction` of the oldest waiting rows in one transaction and
    /// removes them from the queue; `false` when the database is unavailable. Holds `writeLock`.
    private func writeOneTransaction() -> Bool {
        condition.lock()
        let rows = Array(queue[head..<min(queue.count, head + Self.maxRowsPerTransaction)])
        condition.unlock()
        guard !rows.isEmpty else { return true }
        guard let db = openIfNeeded() else { return false }
        do {
            try db.write { d in
                let insert = try d.cachedStatement(sql: """
                    INSERT INTO requests (time, method, path, query, status, duration_ms, bytes, model, client, error)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                for p in rows {
                    let r = p.record
                    let time = r.time.isEmpty ? RequestLog.timestamp(p.time) : r.time
                    try insert.execute(arguments: [time, r.method, r.path, r.query, r.status, r.durationMs, r.bytes, r.model, r.client, r.error])
                }
            }
        } catch {
            setError("write failed: \(error)")
            return false
        }
        setError(nil)
        condition.lock()
        head += rows.count
        largestTransaction = max(largestTransaction, rows.count)
        if head > 4096 && head * 2 > queue.count { queue.removeFirst(head); head = 0 }
        var recovered = 0
        if pendingCount == 0 {
            queue.removeAll(keepingCapacity: queue.capacity <= 4096); head = 0
            recovered = droppedThisEpisode; droppedThisEpisode = 0
        }
        condition.unlock()
        if recovered > 0 { logger.info("request log \(path): backlog written; \(recovered) rows were dropped while it was full") }
        return true
    }

    /// Writes every queued row now, in bounded transactions (or records why it could not).
    public func flush() {
        writeLock.lock(); defer { writeLock.unlock() }
        while stats.pending > 0, writeOneTransaction() {}
    }

    /// The most recent rows, newest first, including every row queued before this call.
    public func recent(limit: Int) throws -> [RequestRecord] {
        writeLock.lock()
        while stats.pending > 0, writeOneTransaction() {}
        let db = openIfNeeded()
        writeLock.unlock()
        guard let db else { throw APIError(503, "request_log_unavailable", "the request log is unavailable: \(health.error ?? "unknown error")") }
        return try db.read { d in
            try RequestRecord.order(Column("id").desc).limit(limit).fetchAll(d)
        }
    }
}

extension RequestLog {
    /// `date` as RFC 3339 UTC to the nearest millisecond, `2026-11-30T14:21:09.123Z` (what
    /// `ISO8601DateFormatter` with fractional seconds writes), through glibc's `gmtime_r`:
    /// Foundation's formatter goes through ICU, whose calendar data added 4.7 MiB to a serving
    /// process's resident memory on its first request.
    public static func timestamp(_ date: Date) -> String {
        let t = date.timeIntervalSince1970
        var seconds = time_t(t.rounded(.down))
        var millis = Int(((t - Double(seconds)) * 1000).rounded())
        if millis >= 1000 { seconds += 1; millis -= 1000 }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}
