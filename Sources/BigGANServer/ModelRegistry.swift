import BigGANEngine
import BigGANEvaluation
import Foundation

/// A loaded checkpoint, addressed by name (its file name without `.safetensors`).
public final class LoadedModel: Sendable {
    public let name: String
    public let path: String
    public let generator: any Generator
    /// Identifies the weights in ETags: FNV-1a of the config JSON and the checkpoint file's bytes
    /// (`FNV1a.fileHash`), so replicas serving copies of one file, wherever and whenever copied,
    /// give the same ETag for the same request.
    public let fingerprint: String
    /// Nearest-neighbour lookups, when the checkpoint names its training data.
    public let neighbours: NeighbourService?
    /// Why there is no neighbour service (for the 404 message).
    public let neighboursUnavailable: String?

    /// Resolution, classes, data set and config (any family).
    public var info: ModelInfo { generator.info }
    public var capabilities: ModelCapabilities { generator.capabilities }

    /// Validates `request` for this model and builds its latents (`Sampler.prepare`): the one
    /// place a request is checked. Errors are 400s naming the parameter.
    public func prepare(_ request: GenerationRequest) throws -> PreparedBatch {
        do { return try Sampler(generator: generator).prepare(request) }
        catch let e as SamplingError { throw e.apiError }
    }

    /// Validates a style-mixing request for this model (`Sampler.prepare(mix:)`). Errors are
    /// 400s naming the parameter.
    public func prepare(mix request: StyleMixRequest) throws -> PreparedMix {
        do { return try Sampler(generator: generator).prepare(mix: request) }
        catch let e as SamplingError { throw e.apiError }
    }

    init(name: String, path: String, generator: any Generator, cacheDirectory: String? = nil) {
        self.name = name; self.path = path; self.generator = generator
        let dir = (path as NSString).deletingLastPathComponent
        var service: NeighbourService?, why: String?
        if let ds = generator.info.dataset {
            do {
                let reference = try DatasetReference(ds)
                var classifier: Classifier?
                if let cf = generator.info.classifier {
                    let cpath = (dir as NSString).appendingPathComponent(cf)
                    classifier = FileManager.default.fileExists(atPath: cpath) ? try? Classifier.load(path: cpath) : nil
                }
                service = NeighbourService(dataset: reference, classifier: classifier,
                                           cacheDirectory: cacheDirectory ?? (dir as NSString).appendingPathComponent(".cache"))
            } catch { why = "\(error)" }
        } else {
            why = "its checkpoint names no training data set"
        }
        neighbours = service; neighboursUnavailable = why
        // The loader has just read the file, so it is unchanged and in the page cache; a file that
        // cannot be read again gets a fingerprint no other load will share.
        let content = FNV1a.fileHash(path).map { String($0, radix: 16) } ?? UUID().uuidString
        fingerprint = String(FNV1a.hash(generator.info.configJSON + "|" + content), radix: 16)
    }

    /// The state of the neighbour index for `space` (`unavailable` without a neighbour service).
    public func neighbourIndexState(_ space: NeighbourService.Space) -> NeighbourIndexState {
        guard let service = neighbours else { return .unavailable(neighboursUnavailable ?? "unavailable") }
        return service.state(space)
    }

    /// Queues the index of `space` (default: every space the model has) on `builder`, at the
    /// model's image size; indexes already queued, building or done are left alone.
    public func prepareNeighbourIndexes(on builder: NeighbourIndexBuilder, spaces: [NeighbourService.Space]? = nil) {
        guard let service = neighbours else { return }
        for space in spaces ?? service.spaces {
            builder.enqueue(service, space, size: info.resolution, channels: info.channels, label: name)
        }
    }
}

/// The models a server serves. Loading reports each bad checkpoint and goes on with the others.
public struct ModelRegistry: Sendable {
    public let models: [LoadedModel]
    /// Checkpoints that could not be loaded, with the reason.
    public let failures: [(path: String, reason: String)]
    /// Builds the models' neighbour indexes in the background (one thread, one index at a time).
    public let indexBuilder: NeighbourIndexBuilder

    public var defaultModel: LoadedModel? { models.first }

    public func model(named name: String?) throws -> LoadedModel {
        guard let name, !name.isEmpty else {
            guard let m = defaultModel else { throw APIError(503, "no_model", "no model is loaded") }
            return m
        }
        guard let m = models.first(where: { $0.name == name }) else {
            throw APIError(404, "unknown_model", "unknown model \(Echo.quoted(name)); available: \(models.map(\.name).joined(separator: ", "))")
        }
        return m
    }

    public init(models: [LoadedModel], failures: [(path: String, reason: String)] = [], indexBuilder: NeighbourIndexBuilder = NeighbourIndexBuilder()) {
        self.models = models; self.failures = failures; self.indexBuilder = indexBuilder
    }

    /// Queues every model's neighbour indexes on `indexBuilder` (the server does this at start-up).
    public func prepareNeighbourIndexes() {
        for m in models { m.prepareNeighbourIndexes(on: indexBuilder) }
    }

    /// Loads `paths` (files) in order; duplicate names keep the first.
    public static func load(paths: [String]) -> ModelRegistry {
        var models: [LoadedModel] = [], failures: [(String, String)] = []
        for path in paths {
            let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            if models.contains(where: { $0.name == name }) { failures.append((path, "duplicate model name '\(name)'")); continue }
            do { models.append(LoadedModel(name: name, path: path, generator: try GeneratorLoader.load(path: path))) }
            catch { failures.append((path, "\(error)")) }
        }
        return ModelRegistry(models: models, failures: failures)
    }

    /// Every `*.safetensors` file in `directory`, sorted by name, except data-set classifiers
    /// (files whose metadata holds a `classifier_config`), which models use but are not models.
    public static func checkpoints(in directory: String) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.filter { $0.hasSuffix(".safetensors") }.sorted().map { (directory as NSString).appendingPathComponent($0) }
            .filter { path in (try? SafeTensorsFile(path: path))?.metadata["classifier_config"] == nil }
    }
}
