import BigGANServer
import CMicroHTTPD
import Foundation
import Logging

/// The thin adapter between libmicrohttpd and `Router`-style handlers. Written by hand because no
/// Swift wrapper for libmicrohttpd exists; it only converts between MHD's C callbacks and the
/// value types `HTTPRequest`/`HTTPResponse`.
///
/// Threading: MHD runs one thread per connection (with a connection limit), so a handler may
/// block — on the compute worker — without stalling other connections. `stop()` returns once
/// every in-flight request has been answered.
public final class MHDServer: @unchecked Sendable {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    /// Per-request state kept in MHD's `con_cls` between access-handler calls.
    final class RequestState {
        var body: [UInt8] = []
        var tooLarge = false
        /// Counted in `inFlight` from the moment the handler starts until MHD reports the response sent.
        var counted = false
    }

    let handler: Handler
    let maxBodyBytes: Int
    let logger: Logger
    private var daemon: OpaquePointer?
    public private(set) var port: UInt16 = 0
    private let inFlightLock = NSCondition()
    private var inFlight = 0

    public init(maxBodyBytes: Int, logger: Logger = Logger(label: "biggan.http"), handler: @escaping Handler) {
        self.handler = handler; self.maxBodyBytes = maxBodyBytes; self.logger = logger
    }

    /// Binds `host` (an IPv4 address, `localhost` or `0.0.0.0`) and `port` (0 for any free port).
    public func start(host: String, port: UInt16, connectionLimit: Int = 256, timeoutSeconds: Int = 60) throws {
        let h = host == "localhost" ? "127.0.0.1" : host
        var addr = in_addr()
        guard inet_pton(AF_INET, h, &addr) == 1 else { throw MHDError("cannot bind '\(host)': not an IPv4 address") }
        let me = Unmanaged.passUnretained(self).toOpaque()
        guard let d = biggan_mhd_start(addr.s_addr, port, accessHandler, me, completedHandler, me,
                                       UInt32(connectionLimit), UInt32(timeoutSeconds)) else {
            throw MHDError("cannot listen on \(host):\(port) (address in use or not permitted?)")
        }
        daemon = d
        self.port = biggan_mhd_port(d)
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
        if listener >= 0 { close(listener) }
        daemon = nil
    }

    /// Runs the handler for a complete request and queues its response. The request counts as
    /// in flight until `finished` (MHD's completion callback, after the response is sent), so
    /// `stop()` never cuts a response off.
    func answer(_ connection: OpaquePointer, _ state: RequestState, _ request: HTTPRequest) -> MHD_Result {
        inFlightLock.lock(); inFlight += 1; state.counted = true; inFlightLock.unlock()
        return respond(connection, handler(request))
    }

    func finished(_ state: RequestState) {
        guard state.counted else { return }
        inFlightLock.lock(); inFlight -= 1; state.counted = false; inFlightLock.broadcast(); inFlightLock.unlock()
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
        let r: OpaquePointer? = response.body.withUnsafeBytes { raw in
            MHD_create_response_from_buffer(raw.count, UnsafeMutableRawPointer(mutating: raw.baseAddress), .RESPMEM_MUST_COPY)
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

private let accessHandler: MHD_AccessHandlerCallback = { cls, connection, url, method, _, uploadData, uploadSize, conCls in
    let server = Unmanaged<MHDServer>.fromOpaque(cls!).takeUnretainedValue()
    guard let connection, let conCls, let uploadSize else { return .NO }
    // First call for this request: headers only. Attach state and ask for the body.
    guard let raw = conCls.pointee else {
        conCls.pointee = Unmanaged.passRetained(MHDServer.RequestState()).toOpaque()
        return .YES
    }
    let state = Unmanaged<MHDServer.RequestState>.fromOpaque(raw).takeUnretainedValue()
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
    var client = [CChar](repeating: 0, count: 64)
    biggan_mhd_client(connection, &client, client.count)
    let headers = Dictionary(MHDServer.values(connection, .HEADER_KIND).map { ($0.0.lowercased(), $0.1) }, uniquingKeysWith: { _, b in b })
    let request = HTTPRequest(method: method.map { String(cString: $0) } ?? "GET", path: url.map { String(cString: $0) } ?? "/",
                              query: MHDServer.values(connection, .GET_ARGUMENT_KIND), headers: headers, body: state.body,
                              client: String(cString: client), bodyTooLarge: state.tooLarge)
    return server.answer(connection, state, request)
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
