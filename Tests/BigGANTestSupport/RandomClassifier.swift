import BigGANEngine

/// A data-set classifier for `config` whose every weight is 0.3·N(0, 1), drawn from `rng` in
/// `config.tensorShapes` order (tests that need a classifier's shape, not its accuracy).
public func randomClassifier(_ config: ClassifierConfig, rng: inout NoiseGenerator) throws -> Classifier {
    var t: [String: Tensor] = [:]
    for (name, shape) in config.tensorShapes {
        let x = Tensor(shape: shape)
        for i in 0..<x.count { x[i] = rng.nextNormal() * 0.3 }
        t[name] = x
    }
    return try Classifier(config: config, tensors: t)
}
