import BigGANEngine

extension TrainableStyleGAN {
    /// The inference checkpoint of this generator (`docs/CHECKPOINT_FORMAT.md`, architecture
    /// `stylegan`): every parameter under its NVlabs name (`mapping/Dense0.weight` →
    /// `mapping/Dense0/weight`), raw; `dlatent_avg`, the fixed noise maps, and for a conditional
    /// model the class centroids `dlatent_class_avg` (`class_centroids: true`, so ψ pulls each
    /// image towards its class by default). The engine's `StyleGANGenerator` built from
    /// it computes `forward(…, noise: stored maps)` without mixing.
    ///
    /// `centroidSamples`: when given, `dlatent_avg` and the class centroids are recomputed as the
    /// exact means of W over that many z per class (the moving averages of training follow a
    /// network that kept changing), with z from `NoiseGenerator(seed: 0)`.
    public func export(centroidSamples: Int? = nil) -> ([(String, Tensor)], StyleGANConfig) {
        func checkpointName(_ n: String) -> String {
            for suffix in [".weight", ".bias"] where n.hasSuffix(suffix) { return String(n.dropLast(suffix.count)) + "/" + suffix.dropFirst() }
            return n
        }
        var averages: (Tensor, Tensor?) = (dlatentAvg.copy(), classAverages?.copy())
        if let n = centroidSamples { averages = measuredAverages(perClass: n) }
        var c = config
        c.storedNoise = true
        c.classCentroids = config.labelSize > 0 ? true : nil
        let known = Set(c.tensorShapes.map(\.0))
        var out = parameters.map { (checkpointName($0.name), $0.value.copy()) }
        for b in buffers where known.contains(b.name) {
            out.append((b.name, b.name == "dlatent_avg" ? averages.0 : b.name == "dlatent_class_avg" ? averages.1! : b.value.copy()))
        }
        return (out, c)
    }

    /// Exact means of W over `perClass` latents per class (all classes together for
    /// `dlatent_avg`), in batches of 256.
    func measuredAverages(perClass n: Int) -> (Tensor, Tensor?) {
        let wd = config.wDim, classes = max(config.labelSize, 1)
        var rng = NoiseGenerator(seed: 0)
        let total = Tensor(shape: [wd]), perClass = Tensor(shape: [classes, wd])
        for c in 0..<classes {
            var done = 0
            while done < n {
                let b = min(256, n - done)
                let z = Tensor(uninitializedShape: [b, config.zDim])
                for i in 0..<z.count { z[i] = rng.nextNormal() }
                let w = mapping(z: z, labels: Array(repeating: c, count: b))
                for i in 0..<b { for k in 0..<wd { perClass.data[c * wd + k] += w.data[i * wd + k] } }
                done += b
            }
            for k in 0..<wd { total.data[k] += perClass.data[c * wd + k] / Float(classes * n); perClass.data[c * wd + k] /= Float(n) }
        }
        return (total, config.labelSize > 0 ? perClass : nil)
    }

    /// Writes `export(centroidSamples:)` as a checkpoint the engine and server load.
    public func saveCheckpoint(to path: String, centroidSamples: Int? = 1000, provenance: String? = nil, classNames: [String]? = nil,
                               dataset: String? = nil, classifier: String? = nil) throws {
        var (tensors, cfg) = export(centroidSamples: centroidSamples)
        cfg.provenance = provenance ?? cfg.provenance
        cfg.classNames = classNames ?? cfg.classNames
        cfg.dataset = dataset ?? cfg.dataset
        cfg.classifier = classifier ?? cfg.classifier
        try GeneratorLoader.save(configJSON: cfg.canonicalJSON, tensors: tensors, to: path)
    }

    /// An engine generator with the exported weights (for sampling and evaluation during training).
    public func inferenceGenerator(centroidSamples: Int? = nil) throws -> StyleGANGenerator {
        let (tensors, cfg) = export(centroidSamples: centroidSamples)
        guard let g = try GeneratorLoader.build(configJSON: cfg.canonicalJSON, weights: NamedTensors(tensors), file: "<exported>") as? StyleGANGenerator else {
            preconditionFailure("the stylegan family builds StyleGANGenerator")
        }
        return g
    }
}
