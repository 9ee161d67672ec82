import BigGANServer
import CBigGANMicroHTTPD
import Foundation
import Logging

/// The thin adapter between libmicrohttpd and `Router`-style handlers. Written by hand because no
/// Swift wrapper for libmicrohttpd exists; it converts between MHD's C callbacks and the value
/// types `HTTPRequest`/`HTTPResponse`, and guards what must be refused before routing.
///
/// Threading: MHD runs one thread per connection (with a connection limit), so a handler may
/// block — on the compute worker — without stalling other connections. Connection threads run
/// at a lower scheduling priority (`connectionThreadNice`) than the compute worker and the
/// request-log writer, so a flood of cheap requests cannot starve the work that was admitted.
/// `stop()` returns once every in-flight request has been answered.
///
/// Refused before routing, answered with a JSON error and logged like any request: a request
/// line over `maxURIBytes` or with more than `maxQueryParameters` parameters (414), request
/// headers over `maxHeaderBytes` (431), a `%00` in the query (400) or in the path (404). The per-connection
/// memory pool (`memoryLimitBytes`) is far larger than these limits, so MHD rarely refuses a
/// request itself; when it does (a request line larger than the pool), the refusal is still
/// counted and logged through `refused`.
public final class MHDServer: @unchecked Sendable {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse
    /// Records a request answered without the handler: (request, status, error).
    public typealias Refused = @Sendable (HTTPRequest, Int, String) -> Void

    public struct Configuration: Sendable {
        public var maxBodyBytes: Int
        public var connectionLimit = 256
        /// Connections from one client address (0: no limit); more are refused at once.
        public var perIPConnectionLimit = 32
        /// Seconds without any byte before MHD closes a connection.
        public var inactivityTimeout = 60
        /// Seconds a client has for a request's line and headers, however slowly it sends them.
        public var headerTimeout: TimeInterval = 10
        public var maxURIBytes = 8 << 10
        public var maxQueryParameters = 100
        public var maxHeaderBytes = 16 << 10
        /// MHD's per-connection memory pool (request line, headers and their parsed copies).
        public var memoryLimitBytes = 256 << 10
        /// Nice value of connection threads (0 leaves them at the process's priority).
        public var connectionThreadNice: Int32 = 10
        public init(maxBodyBytes: Int) { self.maxBodyBytes = maxBodyBytes }
    }

    /// Per-request state kept in MHD's `con_cls`, created when the request line arrives.
    final class RequestState {
        let rawURI: String
        let connection: ConnectionWatch.Entry?
        var body: [UInt8] = []
        var tooLarge = false
        var headersSeen = false
        /// The handler answered (or a refusal was queued through it).
        var answered = false
        /// Why the request is refused before routing, decided from the request line.
        var refusal: APIError?
        /// Counted in `inFlight` from the moment the handler starts until MHD reports the response sent.
        var counted = false
        init(rawURI: String, connection: ConnectionWatch.Entry?) { self.rawURI = rawURI; self.connection = connection }
    }

    private(set) var config: Configuration
    let handler: Handler
    let refused: Refused?
    let logger: Logger
    let watch: ConnectionWatch
    private var daemon: OpaquePointer?
    public private(set) var port: UInt16 = 0
    private let inFlightLock = NSCondition()
    private var inFlight = 0

    public init(_ config: Configuration, logger: Logger = Logger(label: "biggan.http"), handler: @escaping Handler, refused: Refused? = nil) {
        self.config = config; self.handler = handler; self.refused = refused; self.logger = logger
        watch = ConnectionWatch(timeout: config.headerTimeout)
        watch.onTimeout = { [refused] e in
            refused?(HTTPRequest(method: "-", path: "-", client: e.client), 408,
                     "header_timeout: the request headers did not arrive within \(config.headerTimeout) s")
        }
    }

    public convenience init(maxBodyBytes: Int, logger: Logger = Logger(label: "biggan.http"), handler: @escaping Handler) {
        self.init(Configuration(maxBodyBytes: maxBodyBytes), logger: logger, handler: handler)
    }

    var maxBodyBytes: Int { config.maxBodyBytes }

    /// Binds `host` (an IPv4 address, `localhost` or `0.0.0.0`) and `port` (0 for any free port).
    public func start(host: String, port: UInt16) throws {
        let h = host == "localhost" ? "127.0.0.1" : host
        var addr = in_addr()
        guard inet_pton(AF_INET, h, &addr) == 1 else { throw MHDError("cannot bind '\(host)': not an IPv4 address") }
        let me = Unmanaged.passUnretained(self).toOpaque()
        EarlyErrors.installed
        var c = biggan_mhd_config(ipv4: addr.s_addr, port: port, connection_limit: UInt32(config.connectionLimit),
                                  per_ip_limit: UInt32(config.perIPConnectionLimit), timeout_seconds: UInt32(config.inactivityTimeout),
                                  memory_limit: config.memoryLimitBytes)
        guard let d = biggan_mhd_start(&c, accessHandler, completedHandler, uriLogHandler, connectionHandler, me) else {
            throw MHDError("cannot listen on \(host):\(port) (address in use or not permitted?)")
        }
        daemon = d
        self.port = biggan_mhd_port(d)
        watch.start()
    }

    /// `start(host:port:)` with the connection limit and inactivity timeout given here.
    public func start(host: String, port: UInt16, connectionLimit: Int, timeoutSeconds: Int = 60) throws {
        config.connectionLimit = connectionLimit; config.inactivityTimeout = timeoutSeconds
        try start(host: host, port: port)
    }

    /// Stops accepting connections, waits (up to `grace` seconds) for requests being handled to
    /// be answered, then shuts the daemon down.
    public func stop(grace: TimeInterval = 60) {
        guard let d = daemon else { return }
        let listener = MHD_quiesce_daemon(d)
        let deadline = Date().addingTimeInterval(grace)
        inFlightLock.lock()
        while inFlight > 0 && inFlightLock.wait(until: deadline) {}
        inFlightLock.unlock()
        MHD_stop_daemon(d)
        watch.stop()
        if listener >= 0 { close(listener) }
        daemon = nil
    }

    /// Runs the handler for a complete request and queues its response. The request counts as
    /// in flight until `finished` (MHD's completion callback, after the response is sent), so
    /// `stop()` never cuts a response off.
    func answer(_ connection: OpaquePointer, _ state: RequestState, _ request: HTTPRequest) -> MHD_Result {
        inFlightLock.lock(); inFlight += 1; state.counted = true; inFlightLock.unlock()
        state.answered = true
        return respond(connection, handler(request))
    }

    func finished(_ state: RequestState) {
        biggan_mhd_in_request().pointee = 0
        if !state.answered {
            // MHD answered this request itself (a request too large for its memory pool, a
            // malformed header): log and count it like any other answer.
            let status = biggan_mhd_take_error_status()
            if status != 0 { record(state.rawURI, client: state.connection?.client ?? "", status: Int(status)) }
        }
        if let e = state.connection { watch.responded(e) }
        guard state.counted else { return }
        inFlightLock.lock(); inFlight -= 1; state.counted = false; inFlightLock.broadcast(); inFlightLock.unlock()
    }

    /// Logs a request refused by libmicrohttpd itself.
    func record(_ rawURI: String, client: String, status: Int) {
        let path = rawURI.split(separator: "?", maxSplits: 1).first.map(String.init) ?? rawURI
        let what = status == 414 ? "uri_too_long" : status == 431 ? "headers_too_large" : status == 413 ? "body_too_large" : "bad_request"
        refused?(HTTPRequest(method: "-", path: path.isEmpty ? "-" : path, client: client), status,
                 "\(what): refused by libmicrohttpd (request line \(rawURI.utf8.count) bytes)")
    }

    /// Decides from the raw request line whether the request is refused before routing.
    func refusal(rawURI: String) -> APIError? {
        let bytes = rawURI.utf8
        if bytes.count > config.maxURIBytes {
            return APIError(414, "uri_too_long", "the request line is \(bytes.count) bytes; at most \(config.maxURIBytes) are accepted")
        }
        if let q = bytes.firstIndex(of: UInt8(ascii: "?")) {
            let params = bytes[q...].reduce(1) { $0 + ($1 == UInt8(ascii: "&") ? 1 : 0) }
            if params > config.maxQueryParameters {
                return APIError(414, "uri_too_long", "the query has \(params) parameters; at most \(config.maxQueryParameters) are accepted")
            }
        }
        // Decoded, %00 would cut the C string that carries the value (`Bag%00x` served as `Bag`).
        // In the path it names nothing (404); in the query it is a bad parameter (400).
        var percent = 0, inQuery = false
        for b in bytes {
            if b == UInt8(ascii: "?") { inQuery = true }
            if b == UInt8(ascii: "%") { percent = 1 }
            else if percent > 0, b == UInt8(ascii: "0") {
                percent += 1
                if percent == 3 {
                    return inQuery ? APIError.badRequest("the query contains a NUL byte (%00)")
                        : APIError.notFound("no such path (it contains a NUL byte, %00)")
                }
            }
            else { percent = 0 }
        }
        return nil
    }

    deinit { stop() }

    /// Collects MHD key/value pairs of one kind.
    static func values(_ connection: OpaquePointer, _ kind: MHD_ValueKind) -> [(String, String)] {
        final class Box { var pairs: [(String, String)] = [] }
        let box = Box()
        let iterator: MHD_KeyValueIterator = { cls, _, key, value in
            let b = Unmanaged<Box>.fromOpaque(cls!).takeUnretainedValue()
            if let key { b.pairs.append((String(cString: key), value.map { String(cString: $0) } ?? "")) }
            return .YES
        }
        _ = withExtendedLifetime(box) { MHD_get_connection_values(connection, kind, iterator, Unmanaged.passUnretained(box).toOpaque()) }
        return box.pairs
    }

    func respond(_ connection: OpaquePointer, _ response: HTTPResponse) -> MHD_Result {
        let r: OpaquePointer?
        if response.status == 304 {
            // No body and no `Content-Length: 0` (RFC 9110 §8.6: it would have to be the 200's).
            r = biggan_mhd_unsized_empty_response()
        } else {
            r = response.body.withUnsafeBytes { raw in
                MHD_create_response_from_buffer(raw.count, UnsafeMutableRawPointer(mutating: raw.baseAddress), .RESPMEM_MUST_COPY)
            }
        }
        guard let r else { return .NO }
        for (k, v) in response.headers { MHD_add_response_header(r, k, v) }
        let result = MHD_queue_response(connection, UInt32(response.status), r)
        MHD_destroy_response(r)
        return result
    }
}

public struct MHDError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

/// Statuses of error responses libmicrohttpd sent before a request line was complete, reported
/// by its error log on the connection's thread and taken when the connection closes.
enum EarlyErrors {
    nonisolated(unsafe) private static var statuses: [UInt32] = []
    private static let lock = NSLock()
    static let installed: Void = {
        biggan_mhd_early_error_hook().pointee = { status in
            EarlyErrors.lock.lock()
            if EarlyErrors.statuses.count < 1024 { EarlyErrors.statuses.append(status) }
            EarlyErrors.lock.unlock()
        }
    }()
    static func take() -> UInt32? {
        lock.lock(); defer { lock.unlock() }
        return statuses.isEmpty ? nil : statuses.removeFirst()
    }
}

/// A connection opened (listening thread) or closed (its own thread).
private let connectionHandler: biggan_connection_callback = { cls, connection, socketContext, code in
    let server = Unmanaged<MHDServer>.fromOpaque(cls!).takeUnretainedValue()
    guard let connection, let socketContext else { return }
    if code.rawValue == 0 {   // MHD_CONNECTION_NOTIFY_STARTED
        var client = [CChar](repeating: 0, count: 64)
        biggan_mhd_client(connection, &client, client.count)
        let entry = ConnectionWatch.Entry(fd: biggan_mhd_fd(connection), client: String(cString: client))
        server.watch.opened(entry)
        socketContext.pointee = Unmanaged.passRetained(entry).toOpaque()
    } else if let raw = socketContext.pointee {
        let entry = Unmanaged<ConnectionWatch.Entry>.fromOpaque(raw)
        server.watch.closed(entry.takeUnretainedValue())
        // An error response MHD sent before any request line was complete (a request line larger
        // than the memory pool) had no request state: log it now, with this connection's client.
        // (Such refusals are queued process-wide; two at the same instant may swap clients.)
        if !server.watch.requestLineSeen(entry.takeUnretainedValue()), let status = EarlyErrors.take() {
            server.record("-", client: entry.takeUnretainedValue().client, status: Int(status))
        }
        entry.release()
        socketContext.pointee = nil
    }
}

/// The request line has arrived (connection thread): create the request's state from the raw
/// URI, before MHD decodes it into C strings.
private let uriLogHandler: biggan_uri_callback = { cls, uri, connection in
    let server = Unmanaged<MHDServer>.fromOpaque(cls!).takeUnretainedValue()
    biggan_mhd_in_request().pointee = 1
    if server.config.connectionThreadNice != 0 { _ = biggan_lower_thread_priority(server.config.connectionThreadNice) }
    let entry = connection.flatMap { biggan_mhd_socket_context($0) }.map { Unmanaged<ConnectionWatch.Entry>.fromOpaque($0).takeUnretainedValue() }
    if let entry { server.watch.requestLineArrived(entry) }
    let state = MHDServer.RequestState(rawURI: uri.map { String(cString: $0) } ?? "", connection: entry)
    state.refusal = server.refusal(rawURI: state.rawURI)
    return Unmanaged.passRetained(state).toOpaque()
}

private let accessHandler: MHD_AccessHandlerCallback = { cls, connection, url, method, _, uploadData, uploadSize, conCls in
    let server = Unmanaged<MHDServer>.fromOpaque(cls!).takeUnretainedValue()
    guard let connection, let conCls, let uploadSize, let raw = conCls.pointee else { return .NO }
    let state = Unmanaged<MHDServer.RequestState>.fromOpaque(raw).takeUnretainedValue()
    func request(_ refusal: APIError?) -> HTTPRequest {
        let headers = Dictionary(MHDServer.values(connection, .HEADER_KIND).map { ($0.0.lowercased(), $0.1) },
                                 uniquingKeysWith: { a, b in a + ", " + b })   // repeated fields form one list
        var r = HTTPRequest(method: method.map { String(cString: $0) } ?? "GET", path: url.map { String(cString: $0) } ?? "/",
                            query: refusal == nil ? MHDServer.values(connection, .GET_ARGUMENT_KIND) : [], headers: headers,
                            body: state.body, client: state.connection?.client ?? "", bodyTooLarge: state.tooLarge)
        if let refusal {
            r.refusal = refusal
            r.path = String(state.rawURI.split(separator: "?", maxSplits: 1).first ?? "")
        }
        return r
    }
    // First call for this request: the headers are in. Refuse now, or ask for the body.
    if !state.headersSeen {
        state.headersSeen = true
        if let e = state.connection { server.watch.headersReceived(e) }
        let size = biggan_mhd_header_size(connection)
        if state.refusal == nil, size > server.config.maxHeaderBytes {
            state.refusal = APIError(431, "headers_too_large", "the request headers are \(size) bytes; at most \(server.config.maxHeaderBytes) are accepted")
        }
        if let refusal = state.refusal { return server.answer(connection, state, request(refusal)) }
        return .YES
    }
    if uploadSize.pointee > 0 {
        // A body chunk: keep it while under the limit, discard the rest (the route answers 413).
        let n = uploadSize.pointee
        if !state.tooLarge, state.body.count + n <= server.maxBodyBytes, let uploadData {
            uploadData.withMemoryRebound(to: UInt8.self, capacity: n) { state.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
        } else {
            state.tooLarge = true; state.body = []
        }
        uploadSize.pointee = 0
        return .YES
    }
    // The whole request is in: answer it.
    return server.answer(connection, state, request(nil))
}

private let completedHandler: MHD_RequestCompletedCallback = { cls, _, conCls, _ in
    if let conCls, let raw = conCls.pointee {
        let server = Unmanaged<MHDServer>.fromOpaque(cls!).takeUnretainedValue()
        let state = Unmanaged<MHDServer.RequestState>.fromOpaque(raw)
        server.finished(state.takeUnretainedValue())
        state.release()
        conCls.pointee = nil
    }
}
