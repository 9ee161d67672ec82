import Foundation

/// The header deadline: a client must send a request's line and headers within `timeout`,
/// counted from the connection's start (or the end of the previous response on a kept-alive
/// connection), however slowly it trickles. libmicrohttpd's own timeout restarts with every
/// byte, so one byte a second would hold a connection (and its thread) forever.
///
/// One watchdog thread checks the open connections a few times a second and shuts down the
/// socket of any whose deadline has passed; libmicrohttpd then sees the connection end and
/// closes it. Entries are removed (under the same lock) before libmicrohttpd closes a socket, so
/// the watchdog never touches a descriptor that was reused.
final class ConnectionWatch: @unchecked Sendable {
    /// One open connection (libmicrohttpd's socket context).
    final class Entry {
        let fd: Int32
        let client: String
        /// Uptime nanoseconds by which the current request's headers must be complete; 0 while
        /// a request is being handled.
        fileprivate(set) var deadline: UInt64 = 0
        /// Set when the watchdog closed the connection.
        fileprivate(set) var timedOut = false
        /// Whether the current request's line has arrived (its headers may still be trickling).
        fileprivate(set) var requestLineSeen = false
        init(fd: Int32, client: String) { self.fd = fd; self.client = client }
    }

    let timeout: TimeInterval
    private let lock = NSLock()
    private var entries: [ObjectIdentifier: Entry] = [:]
    private var stopped = false
    private let tick: TimeInterval
    /// Called (on the watchdog thread) for a connection the deadline closed after its request
    /// line had arrived: it is logged as a 408.
    var onTimeout: ((Entry) -> Void)?

    init(timeout: TimeInterval) {
        self.timeout = timeout
        tick = min(0.25, max(0.01, timeout / 4))
    }

    func start() {
        let t = Thread { [self] in
            while !isStopped { Thread.sleep(forTimeInterval: tick); sweep() }
        }
        t.name = "header-deadline"
        t.start()
    }

    func stop() { lock.lock(); stopped = true; lock.unlock() }
    private var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// A new connection: its first request's headers are due within `timeout`.
    func opened(_ e: Entry) {
        lock.lock(); e.deadline = Self.now() + UInt64(timeout * 1e9); entries[ObjectIdentifier(e)] = e; lock.unlock()
    }

    /// The connection is closing; the watchdog forgets it before its socket is closed.
    func closed(_ e: Entry) { lock.lock(); entries[ObjectIdentifier(e)] = nil; lock.unlock() }

    /// The current request's line has arrived.
    func requestLineArrived(_ e: Entry) { lock.lock(); e.requestLineSeen = true; lock.unlock() }

    /// Whether the current request's line has arrived on this connection.
    func requestLineSeen(_ e: Entry) -> Bool { lock.lock(); defer { lock.unlock() }; return e.requestLineSeen }

    /// The headers are complete: no deadline while the request is handled and answered.
    func headersReceived(_ e: Entry) { lock.lock(); e.deadline = 0; lock.unlock() }

    /// The response was sent: the next request on this connection is due within `timeout`.
    func responded(_ e: Entry) {
        lock.lock(); e.requestLineSeen = false; if !e.timedOut { e.deadline = Self.now() + UInt64(timeout * 1e9) }; lock.unlock()
    }

    func sweep() {
        let now = Self.now()
        var late: [Entry] = []
        lock.lock()
        for e in entries.values where e.deadline != 0 && now > e.deadline {
            e.deadline = 0
            e.timedOut = true
            shutdown(e.fd, Int32(SHUT_RDWR))
            if e.requestLineSeen { late.append(e) }
        }
        lock.unlock()
        for e in late { onTimeout?(e) }
    }
}
