import BigGANEngine
import Foundation
import Logging

/// Limits applied to every request.
public struct Limits: Sendable {
    public var maxImages = 64
    public var maxSteps = 32
    public var maxNeighbours = 32
    /// Most mixed cells in a `/v1/mix` grid: rows × cols (the grid also shows the rows' and
    /// columns' own images).
    public var maxMixCells = 64
    /// JSON bodies (`POST /v1/samples`).
    public var maxBodyBytes = 1 << 20
    /// Image bodies (`POST /v1/encode`, `POST /v1/reconstruct`): 8 MiB.
    public var maxImageBytes = 8 << 20
    /// Pixels (`width × height`) an image body's header may claim: 4096 × 4096.
    public var maxImagePixels = 1 << 24
    /// What the HTTP adapter buffers at most: the larger body limit.
    public var maxAnyBodyBytes: Int { max(maxBodyBytes, maxImageBytes) }
    public var maxLogRows = 1000
    public init() {}
}

/// Everything the routes need, built once at start-up.
public final class ServerContext: Sendable {
    public let registry: ModelRegistry
    public let worker: ComputeWorker
    public let log: RequestLog?
    public let metrics: Metrics
    public let cache: ImageCache
    public let publicDirectory: String?
    /// Where the gallery was looked for when `publicDirectory` is nil (shown by `GET /`).
    public let publicSearched: [String]
    public let adminToken: String?
    public let limits: Limits
    public let logger: Logger

    public init(registry: ModelRegistry, worker: ComputeWorker, log: RequestLog?, metrics: Metrics,
                cache: ImageCache = ImageCache(capacityBytes: 32 << 20), publicDirectory: String?, adminToken: String?,
                limits: Limits = Limits(), logger: Logger = Logger(label: "biggan.server"), publicSearched: [String] = []) {
        self.registry = registry; self.worker = worker; self.log = log; self.metrics = metrics; self.cache = cache
        self.publicDirectory = publicDirectory; self.publicSearched = publicSearched; self.adminToken = adminToken; self.limits = limits; self.logger = logger
    }
}
