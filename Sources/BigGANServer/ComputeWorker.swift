import BigGANEngine
import BigGANEvaluation
import Foundation

/// The one thread that runs generators. Requests enqueue typed jobs (`Work`) and block until
/// theirs is done; generation jobs with the same batch key (the model's, see
/// `Generator.batchKey`) that wait in the queue together are batched into one forward pass of up
/// to `maxBatch` images.
///
/// Threading: this worker is the only caller of the engine, so OpenBLAS may use every core
/// inside each GEMM while HTTP threads only parse, wait and encode PNGs.
public final class ComputeWorker: @unchecked Sendable {
    /// What a job asks of the compute thread.
    enum Work {
        /// Run the generator on a validated request.
        case generate(PreparedBatch)
        /// Generate one image, then find its nearest training images (both use BLAS).
        case neighbours(PreparedBatch, NeighbourLookup)
        /// Draw a style-mixing grid (`Sampler.mixingGrid`); runs alone, in chunks of `maxBatch`.
        case mix(PreparedMix)
        /// Encode preprocessed images, and reconstruct them when asked (BigBiGAN); runs alone.
        case encode(EncodingJob)
    }

    /// What a job hands back.
    enum Output {
        case images(Tensor)
        case neighbours(Tensor, NeighbourService.Result)
        /// The encoding, and what else the job asked for.
        case encoded(EncodingResult)
    }

    final class Job {
        let model: LoadedModel
        let work: Work
        let done = DispatchSemaphore(value: 0)
        var result: Result<Output, Error>?
        init(model: LoadedModel, work: Work) { self.model = model; self.work = work }

        /// The images this job generates (a mixing grid's cells, blank corner included).
        var images: Int {
            switch work {
            case .generate(let b), .neighbours(let b, _): return b.count
            case .mix(let m): return m.cells
            case .encode(let e): return e.images.shape[0]
            }
        }
        /// Jobs with equal keys share a forward pass: generation jobs of one model whose
        /// generator gave the same `batchKey` (see `Generator.batchKey`). Lookups run alone.
        lazy var batchKey: String? = {
            guard case .generate(let b) = work else { return nil }
            return model.name + "|" + b.batchKey
        }()
    }

    public let maxBatch: Int
    public let queueCapacity: Int
    /// Under load, how long the worker may wait for requests already in flight to join a batch.
    public let batchWindow: TimeInterval
    /// Seconds without work after which the worker trims `pool` (default 2).
    public let idleTrimDelay: TimeInterval
    /// The engine's buffer pool, trimmed after `idleTrimDelay` without work.
    private let pool: BufferPool
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var stopping = false
    /// Test hook: while paused, jobs queue up but none runs.
    private var paused = false
    private var thread: Thread?
    private let metrics: Metrics?
    /// The 503 for a full queue, encoded once: under a storm of rejected requests answering one
    /// must cost next to nothing.
    private let queueFull: APIError

    /// How long a request refused for a full queue waits before its 503 (default 0). Clients that
    /// ignore Retry-After and retry at once would otherwise turn every freed CPU cycle into more
    /// 503s; waiting costs no CPU and bounds each connection's rate of refusals.
    public let rejectionDelay: TimeInterval

    public init(maxBatch: Int = 16, queueCapacity: Int = 64, batchWindow: TimeInterval = 0.002, metrics: Metrics? = nil,
                pool: BufferPool = .shared, idleTrimDelay: TimeInterval = 2, rejectionDelay: TimeInterval = 0) {
        self.maxBatch = max(1, maxBatch); self.queueCapacity = max(1, queueCapacity); self.metrics = metrics
        self.pool = pool; self.idleTrimDelay = max(0.001, idleTrimDelay)
        self.batchWindow = max(0, batchWindow)
        self.rejectionDelay = max(0, rejectionDelay)
        queueFull = APIError(503, "queue_full", "the sampling queue is full (\(max(1, queueCapacity)) requests); retry shortly", retryAfter: 1).preEncoded()
        let t = Thread { [unowned self] in self.loop() }
        t.name = "compute-worker"
        t.stackSize = 8 << 20
        thread = t
        t.start()
    }

    public var queueDepth: Int { condition.lock(); defer { condition.unlock() }; return queue.count }

    /// Queue slots taken (jobs queued, or admitted and about to be): admission reserves a slot
    /// without `condition`, so a request refused because the queue is full never takes the lock
    /// the worker needs. Under a storm of such requests (thousands a second, on low-priority
    /// connection threads) the worker would otherwise wait behind them for its own lock.
    private let slots = AtomicCount()

    /// The images `[N, R, R, C]` of a validated request (`LoadedModel.prepare`); blocks until
    /// done. A full queue is a 503; non-finite output is a `NonFiniteOutputError`.
    public func generate(model: LoadedModel, _ batch: PreparedBatch) throws -> Tensor {
        guard case .images(let t) = try run(Job(model: model, work: .generate(batch))) else { preconditionFailure("generate returns images") }
        return t
    }

    /// The image of a one-image request and its nearest training images.
    /// - Throws: as `generate`, and the lookup's own errors (`NeighbourError`).
    public func neighbours(model: LoadedModel, _ batch: PreparedBatch, _ lookup: NeighbourLookup) throws -> (Tensor, NeighbourService.Result) {
        guard case let .neighbours(image, found) = try run(Job(model: model, work: .neighbours(batch, lookup))) else {
            preconditionFailure("neighbours returns neighbours")
        }
        return (image, found)
    }

    /// The images `[cells, R, R, C]` of a prepared style-mixing grid (`Sampler.prepare(mix:)`),
    /// in grid order; blocks until done. Errors as `generate`.
    public func mix(model: LoadedModel, _ mix: PreparedMix) throws -> Tensor {
        guard case .images(let t) = try run(Job(model: model, work: .mix(mix))) else { preconditionFailure("mix returns images") }
        return t
    }

    /// The encoding of `job.images` and what else `job` asks for (see `EncodingJob`); blocks
    /// until done. Errors as `generate`, `SamplingError` for a model without an encoder (routes
    /// check that before enqueueing), and the lookup's own errors (`NeighbourError`).
    public func encode(model: LoadedModel, _ job: EncodingJob) throws -> EncodingResult {
        guard case let .encoded(result) = try run(Job(model: model, work: .encode(job))) else { preconditionFailure("encode returns an encoding") }
        return result
    }

    private func run(_ job: Job) throws -> Output {
        try enqueueAndWait(job)
        return try job.result!.get()
    }

    private func enqueueAndWait(_ job: Job) throws {
        guard slots.reserve(below: queueCapacity) else {
            if rejectionDelay > 0 { Thread.sleep(forTimeInterval: rejectionDelay) }
            throw queueFull
        }
        condition.lock()
        if stopping { condition.unlock(); slots.release(1); throw APIError(503, "shutting_down", "the server is shutting down", retryAfter: 5) }
        queue.append(job)
        metrics?.setQueueDepth(queue.count)
        condition.signal()
        condition.unlock()
        job.done.wait()
    }

    /// Runs `body` while holding the worker's lock (test hook: refusals must not need it).
    func withLockHeld<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock(); defer { condition.unlock() }
        return try body()
    }

    /// Holds (`true`) or releases (`false`) the queue; used by tests to make batching and
    /// back-pressure deterministic.
    func setPaused(_ p: Bool) {
        condition.lock(); paused = p; condition.broadcast(); condition.unlock()
    }

    /// Finishes every queued job, then stops the thread.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        while thread?.isFinished == false { usleep(1000) }
    }

    private func loop() {
        while true {
            condition.lock()
            // After a quiet spell, hand surplus activation buffers back to the system (a burst of
            // large batches must not keep its memory), then sleep until work arrives.
            if queue.isEmpty && !stopping && !condition.wait(until: Date().addingTimeInterval(idleTrimDelay)) && queue.isEmpty {
                pool.trim()
            }
            while (queue.isEmpty || paused) && !stopping { condition.wait() }
            if queue.isEmpty && stopping { condition.unlock(); return }
            // Under load (more HTTP requests in flight than jobs queued), wait briefly so the
            // requests about to arrive join this forward pass; small batches waste the GEMMs.
            func queuedImages() -> Int { queue.reduce(0) { $0 + $1.images } }
            if batchWindow > 0, let m = metrics, queuedImages() < maxBatch, m.requestsInFlight > queue.count {
                let deadline = Date().addingTimeInterval(batchWindow)
                while !stopping, queuedImages() < maxBatch, m.requestsInFlight > queue.count, condition.wait(until: deadline) {}
            }
            // The oldest job, plus later compatible jobs while the batch has room.
            let first = queue.removeFirst()
            var batch = [first], images = first.images
            var i = 0
            while let key = first.batchKey, i < queue.count && images < maxBatch {
                let j = queue[i]
                if j.batchKey == key && images + j.images <= maxBatch {
                    batch.append(j); images += j.images; queue.remove(at: i)
                } else { i += 1 }
            }
            metrics?.setQueueDepth(queue.count)
            condition.unlock()
            slots.release(batch.count)
            run(batch)
        }
    }

    private func run(_ jobs: [Job]) {
        let model = jobs[0].model
        let sampler = Sampler(generator: model.generator, maxBatch: maxBatch)
        switch jobs[0].work {
        case let .neighbours(batch, lookup):
            jobs[0].result = Result {
                let image = try sampler.finite(sampler.run(batch))
                metrics?.recordBatch(images: 1, model: model.name)
                return .neighbours(image, try lookup.search(image))
            }
            jobs[0].done.signal()
            return
        case let .mix(mix):
            jobs[0].result = Result {
                let grid = try sampler.finite(sampler.mixingGrid(mix))
                metrics?.recordBatch(images: grid.shape[0], model: model.name)
                return .images(grid)
            }
            jobs[0].done.signal()
            return
        case let .encode(job):
            jobs[0].result = Result {
                guard let r = job.reconstruction else { return .encoded(EncodingResult(encoding: try sampler.encode(job.images))) }
                let (encoding, _, images) = try sampler.reconstruct(job.images, latent: r.latent, template: r.template)
                metrics?.recordBatch(images: images.shape[0], model: model.name)
                let found = try job.neighboursOf.map { try $0.lookup.search($0.query) }
                return .encoded(EncodingResult(encoding: encoding, reconstruction: images, neighbours: found))
            }
            jobs[0].done.signal()
            return
        case .generate:
            break
        }
        let batches = jobs.map { job -> PreparedBatch in
            guard case .generate(let b) = job.work else { preconditionFailure("only generation jobs are batched") }
            return b
        }
        let out = sampler.run(PreparedBatch.concatenated(batches))
        metrics?.recordBatch(images: out.shape[0], model: model.name)
        var start = 0
        for j in jobs {
            // Each request's images are checked on their own: a request whose z overflows fails
            // alone, never the requests it was batched with.
            let mine = out.slice(first: start, count: j.images)
            j.result = Result { .images(try sampler.finite(mine)) }
            start += j.images
            j.done.signal()
        }
    }
}

/// Images to encode on the compute thread (BigBiGAN), preprocessed and checked by the route:
/// `images` `[B, R, R, C]` in [−1, 1] at the encoder's resolution and channels; with
/// `reconstruction`, G(E(x)) of the chosen latent, conditioned as `template`
/// (`Sampler.prepareReconstruction`); with `neighboursOf` (reconstructions only), the nearest
/// training images of `query` (`[1, R_G, R_G, C_G]`, the input as the generator's images are shaped).
public struct EncodingJob: @unchecked Sendable {
    public let images: Tensor
    public let reconstruction: (template: PreparedBatch, latent: Sampler.ReconstructionLatent)?
    public let neighboursOf: (lookup: NeighbourLookup, query: Tensor)?

    public init(images: Tensor, reconstruction: (template: PreparedBatch, latent: Sampler.ReconstructionLatent)? = nil,
                neighboursOf: (lookup: NeighbourLookup, query: Tensor)? = nil) {
        self.images = images; self.reconstruction = reconstruction; self.neighboursOf = neighboursOf
    }
}

/// What an `EncodingJob` gives: the encoding, the reconstructions `[B, R_G, R_G, C_G]` in
/// [−1, 1] when asked, and the neighbours found when asked.
public struct EncodingResult: @unchecked Sendable {
    public let encoding: EncoderOutput
    public var reconstruction: Tensor? = nil
    public var neighbours: NeighbourService.Result? = nil
}

/// A nearest-neighbour search to run on the compute thread after generating its query image.
public struct NeighbourLookup: Sendable {
    public let service: NeighbourService
    public let k: Int
    public let space: NeighbourService.Space
    /// Search only this class's training images (nil: all).
    public let restrictTo: Int?

    public init(service: NeighbourService, k: Int, space: NeighbourService.Space, restrictTo: Int?) {
        self.service = service; self.k = k; self.space = space; self.restrictTo = restrictTo
    }

    /// Searches a ready index only (indexes are built by `NeighbourIndexBuilder`, never here).
    func search(_ image: Tensor) throws -> NeighbourService.Result {
        try service.neighbours(of: image, k: k, space: space, restrictTo: restrictTo, build: false)
    }
}
