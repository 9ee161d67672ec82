import ArgumentParser
import BigGANEngine
import BigGANMHD
import BigGANServer
import Foundation
import Logging

/// `biggan-server`: serves the checkpoints in `Models/` (or those named with `--model`) over HTTP.
struct ServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "biggan-server",
        abstract: "Serve BigGAN samples, interpolations and the gallery over HTTP.",
        discussion: """
        Threads: one compute worker runs every forward pass on --blas-threads engine workers
        (default: all cores; OpenBLAS itself runs single-threaded and large GEMMs are cut into
        one piece per worker); HTTP connections get a thread each but only parse, wait and
        encode PNGs. Concurrent requests for the same model are batched (--max-batch).
        """)

    @Option(name: .long, help: "Checkpoint to serve; repeat for several (default: every *.safetensors in --models-dir).")
    var model: [String] = []
    @Option(help: "Folder scanned when no --model is given (default: Models in the current directory, else next to the executable or above it).")
    var modelsDir: String?
    @Option(help: "Address to bind (0.0.0.0 for all interfaces).") var host = "127.0.0.1"
    @Option(help: "Port (0 picks a free one).") var port: Int = 8080
    @Option(help: "SQLite request log.") var db = "requests.sqlite"
    @Option(help: "Token that unlocks GET /v1/requests (default: none, endpoint disabled).") var adminToken: String?
    @Option(help: "Folder of the gallery and static files (default: public in the current directory, else next to the executable or above it).")
    var publicDir: String?
    @Option(help: "Most images per forward pass.") var maxBatch = 16
    @Option(help: "Requests allowed to wait for the worker before 503.") var queueSize = 64
    @Option(help: "Under load, milliseconds the worker waits for in-flight requests to join a batch.") var batchWindowMs = 2.0
    @Option(help: "Engine threads for the compute worker's GEMMs (default: number of cores).") var blasThreads: Int?
    @Option(help: "Most simultaneous connections.") var connections = 256
    @Option(help: "Most simultaneous connections from one client address (0: no limit).") var perIpConnections = 32
    @Option(help: "Seconds a client has to send a request's headers, counted from the connection (or the previous response), however slowly it trickles.")
    var headerTimeout = 10
    @Option(help: "Nice value of connection threads, so that a flood of requests (even only 503s) cannot starve the compute worker and the request-log writer (0: the same priority; on a busy host a higher value starves the worker of admitted work).")
    var connectionNice = 0
    @Option(help: "Milliseconds a request refused for a full queue waits before its 503, bounding how fast clients that ignore Retry-After can be refused (0: answer at once).")
    var rejectDelayMs = 50.0
    @Option(help: "PNG cache size in MiB for deterministic requests (0 disables).") var cacheMb = 32
    @Option(help: "Largest image body of POST /v1/encode and /v1/reconstruct, in MiB (larger: 413).") var maxImageMb = 8
    @Option(help: "Most pixels (width × height, read from the PNG header before decoding) an image body may claim (more: 413).")
    var maxImagePixels = 1 << 24
    @Option(help: "Activation buffers the engine keeps after 2 s without requests, in MiB; while busy it keeps what the batches need.")
    var bufferPoolMb = BufferPool.shared.capacityBytes >> 20
    @Option(help: "When to build the models' neighbour indexes, on a low-priority background thread: startup or lazy (on the first /v1/neighbours request). Until an index is ready its lookups answer 503 with progress; /healthz shows each index's state.")
    var neighbourIndexes: IndexTiming = .startup

    @Flag(help: "Print the route table (the README's Markdown table, generated from the server's routes) and exit.")
    var printRouteTable = false

    enum IndexTiming: String, ExpressibleByArgument, CaseIterable { case startup, lazy }

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard (1...256).contains(maxBatch) else { throw ValidationError("--max-batch must be between 1 and 256") }
        guard (1...100_000).contains(queueSize) else { throw ValidationError("--queue-size must be between 1 and 100000") }
        guard batchWindowMs >= 0, batchWindowMs <= 1000 else { throw ValidationError("--batch-window-ms must be between 0 and 1000") }
        guard (1...10_000).contains(connections) else { throw ValidationError("--connections must be between 1 and 10000") }
        guard (0...10_000).contains(perIpConnections) else { throw ValidationError("--per-ip-connections must be between 0 and 10000") }
        guard rejectDelayMs >= 0, rejectDelayMs <= 10_000 else { throw ValidationError("--reject-delay-ms must be between 0 and 10000") }
        guard (0...19).contains(connectionNice) else { throw ValidationError("--connection-nice must be between 0 and 19") }
        guard (1...3600).contains(headerTimeout) else { throw ValidationError("--header-timeout must be between 1 and 3600 seconds") }
        guard (0...4096).contains(cacheMb) else { throw ValidationError("--cache-mb must be between 0 and 4096") }
        guard (1...256).contains(maxImageMb) else { throw ValidationError("--max-image-mb must be between 1 and 256") }
        guard (1...(1 << 28)).contains(maxImagePixels) else { throw ValidationError("--max-image-pixels must be between 1 and \(1 << 28)") }
        guard (0...65536).contains(bufferPoolMb) else { throw ValidationError("--buffer-pool-mb must be between 0 and 65536") }
        if let t = blasThreads, !(1...256).contains(t) { throw ValidationError("--blas-threads must be between 1 and 256") }
        if let t = adminToken, t.count < 8 { throw ValidationError("--admin-token must be at least 8 characters") }
    }

    func run() throws {
        if printRouteTable { print(RouteTableMarkdown.render(), terminator: ""); return }
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "biggan.server")
        BLAS.setThreads(blasThreads ?? ProcessInfo.processInfo.activeProcessorCount)
        BufferPool.shared.capacityBytes = bufferPoolMb << 20
        logger.info("\(BLAS.configDescription); BLAS threads \(BLAS.threads), one compute worker, max batch \(maxBatch)")

        let models = ResourceLocator.locate("Models", flag: modelsDir)
        if model.isEmpty {
            if let found = models.path { logger.info("models folder: \(found)") }
            else { logger.warning("no models folder found; looked in \(models.searched.joined(separator: ", "))") }
        }
        let modelsFolder = models.path ?? modelsDir ?? "Models"
        let paths = model.isEmpty ? ModelRegistry.checkpoints(in: modelsFolder) : model
        let registry = ModelRegistry.load(paths: paths)
        for f in registry.failures { logger.error("skipped \(f.path): \(f.reason)") }
        for m in registry.models {
            logger.info("loaded \(m.name): \(m.info.architecture) \(m.info.resolution)px, \(m.capabilities.conditional ? "\(m.info.nClasses) classes" : "unconditional")")
            // Index builds (in the background, see below) report here; set before any starts.
            m.neighbours?.log = { logger.info("\(m.name): \($0)") }
        }
        guard !registry.models.isEmpty else {
            throw ValidationError(paths.isEmpty ? "no checkpoints found in \(modelsFolder)" : "none of the \(paths.count) checkpoints could be loaded")
        }

        let metrics = Metrics()
        let worker = ComputeWorker(maxBatch: maxBatch, queueCapacity: queueSize, batchWindow: batchWindowMs / 1000, metrics: metrics,
                                   rejectionDelay: rejectDelayMs / 1000)
        // Between batches of its classifier work the index builder waits while requests are in
        // flight, so that its GEMMs and the compute worker's rarely share the cores.
        registry.indexBuilder.pacing = .init(isBusy: { metrics.requestsInFlight > 0 })
        registry.indexBuilder.log = { logger.info("\($0)") }
        let log = RequestLog(path: db)
        if let e = log.health.error { logger.error("request log unavailable (serving anyway): \(e)") }
        var limits = Limits()
        limits.maxImages = min(limits.maxImages, 64)
        limits.maxImageBytes = maxImageMb << 20
        limits.maxImagePixels = maxImagePixels
        let gallery = ResourceLocator.locate("public", flag: publicDir)
        if let found = gallery.path { logger.info("gallery: \(found)") }
        else { logger.warning("gallery files not found (looked in \(gallery.searched.joined(separator: ", "))); GET / explains, the API is unaffected") }
        let context = ServerContext(registry: registry, worker: worker, log: log, metrics: metrics,
                                    cache: ImageCache(capacityBytes: cacheMb << 20),
                                    publicDirectory: gallery.path, adminToken: adminToken, limits: limits, logger: logger,
                                    publicSearched: gallery.searched)
        let router = Router(context: context)
        var config = MHDServer.Configuration(maxBodyBytes: limits.maxAnyBodyBytes)
        config.connectionLimit = connections
        config.perIPConnectionLimit = perIpConnections
        config.headerTimeout = TimeInterval(headerTimeout)
        config.connectionThreadNice = Int32(connectionNice)
        // Clean shutdown on SIGINT/SIGTERM: stop accepting, let in-flight requests finish,
        // drain the worker, flush the log. The handlers are in place before the port opens, so a
        // signal sent as soon as the server answers is never lost (it was, under heavy load, when
        // they were installed after the "listening" line).
        let done = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { done.signal() }
            s.resume()
            sources.append(s)
        }
        let server = MHDServer(config, handler: { router.handle($0) }, refused: { router.record($0, status: $1, error: $2) })
        try server.start(host: host, port: UInt16(port))
        logger.info("listening on http://\(host):\(server.port)/ (request log \(db))")
        // Scripts and tests read this line to find the port.
        FileHandle.standardOutput.write(Data("listening on http://\(host):\(server.port)/\n".utf8))
        if neighbourIndexes == .startup { registry.prepareNeighbourIndexes() }

        done.wait()
        logger.info("shutting down: finishing in-flight requests")
        server.stop()
        registry.indexBuilder.stop()
        worker.shutdown()
        log.flush()
        logger.info("stopped")
        _ = sources
    }
}

OpenMPSettings.restartWithShortSpinIfNeeded()
ServerCommand.main()
