import BigGANEngine

extension TrainableGenerator {
    /// The inference checkpoint of this generator (`docs/CHECKPOINT_FORMAT.md`, architecture
    /// `biggan`): every spectral-norm weight baked as `W/σ` with σ from one power iteration from
    /// the current `u` (evaluation mode: `u` is not changed), other parameters copied, batch-norm
    /// running statistics as `.mean`/`.var`, no `u` vectors. `GeneratorLoader.build` accepts the
    /// result, and the engine's forward pass then equals `forward(…, mode: .evaluation)`.
    ///
    /// Do not call between a training forward pass and its backward pass (it recomputes the
    /// power iteration, which backward reads).
    public func export() -> ([(String, Tensor)], ModelConfig) {
        var normalised: [ObjectIdentifier: SpectralNorm] = [:]
        for sn in spectralNorms { normalised[ObjectIdentifier(sn.weight)] = sn }
        var out: [(String, Tensor)] = []
        for p in parameters {
            if let sn = normalised[ObjectIdentifier(p)] {
                out.append((p.name, sn.normalize(mode: .evaluation).copy()))
            } else {
                out.append((p.name, p.value.copy()))
            }
        }
        for b in buffers where b.name.hasSuffix(".mean") || b.name.hasSuffix(".var") {
            out.append((b.name, b.value.copy()))
        }
        return (out, config)
    }

    /// Writes `export()` as a checkpoint the engine and server load.
    public func saveCheckpoint(to path: String, provenance: String? = nil, classNames: [String]? = nil) throws {
        var (tensors, cfg) = export()
        if let provenance { cfg.provenance = provenance }
        if let classNames { cfg.classNames = classNames }
        try GeneratorLoader.save(config: cfg, tensors: tensors, to: path)
    }

    /// An engine generator with the exported weights (for sampling during training).
    public func inferenceGenerator() throws -> any Generator {
        let (tensors, cfg) = export()
        return try GeneratorLoader.build(config: cfg, weights: NamedTensors(tensors), file: "<exported>")
    }
}
