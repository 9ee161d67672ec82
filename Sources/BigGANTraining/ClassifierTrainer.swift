import BigGANDatasets
import BigGANEngine
import Foundation

/// Trains the data-set `Classifier` (engine inference model) with the training layers:
/// per stage 3×3 conv → ReLU → 2×2 average pool; global average pool; `fc1` → ReLU; `fc2`;
/// softmax cross-entropy; Adam (β1 0.9, β2 0.999). No spectral norm. Orthogonal initialisation
/// with ReLU gain √2, zero biases.
public final class ClassifierTrainer {
    public let config: ClassifierConfig
    let convs: [ConvLayer]
    let fc1: LinearLayer, fc2: LinearLayer
    let optimizer: Adam

    public init(config: ClassifierConfig, learningRate: Double = 1e-3, seed: UInt64 = 0) throws {
        self.config = config
        var c = config.inChannels
        var convs: [ConvLayer] = []
        for (i, co) in config.channels.enumerated() {
            convs.append(ConvLayer(name: "stages.\(i).conv", inChannels: c, outChannels: co, kernelSize: 3, spectralNorm: false))
            c = co
        }
        self.convs = convs
        fc1 = LinearLayer(name: "fc1", inFeatures: c, outFeatures: config.featureDim, spectralNorm: false)
        fc2 = LinearLayer(name: "fc2", inFeatures: config.featureDim, outFeatures: config.nClasses, spectralNorm: false)
        var rng = NoiseGenerator(seed: seed)
        let params = convs.flatMap(\.parameters) + fc1.parameters + fc2.parameters
        for p in params where p.value.shape.count >= 2 { Orthogonal.initialise(p.value, rng: &rng, gain: 2.0.squareRoot()) }
        optimizer = Adam(parameters: params, learningRate: learningRate, beta1: 0.9, beta2: 0.999)
    }

    /// One Adam step on a batch `[B, R, R, C]`; returns the mean cross-entropy.
    public func step(images: Tensor, labels: [Int]) -> Float {
        let b = images.shape[0]
        for p in optimizer.parameters { p.zeroGradient() }
        // Forward, keeping what backward needs.
        var h = images
        var reluOutputs: [Tensor] = []
        for conv in convs {
            let y = Pointwise.relu(conv.forward(h, mode: .training))
            reluOutputs.append(y)
            h = Pointwise.averagePool(y)
        }
        let pooledShape = h.shape
        let pixels = Float(h.shape[1] * h.shape[2])
        let gap = Pointwise.sumPool(h)
        for i in 0..<gap.count { gap[i] /= pixels }
        let f = Pointwise.relu(fc1.forward(gap, mode: .training))
        let logits = fc2.forward(f, mode: .training)
        // Softmax cross-entropy and its gradient (softmax − one-hot) / B.
        let k = config.nClasses
        let dLogits = Tensor(uninitializedShape: logits.shape)
        var loss = 0.0
        for i in 0..<b {
            let row = (0..<k).map { Double(logits[i * k + $0]) }
            let m = row.max()!
            let e = row.map { exp($0 - m) }, s = e.reduce(0, +)
            loss -= log(e[labels[i]] / s)
            for j in 0..<k { dLogits[i * k + j] = Float((e[j] / s - (j == labels[i] ? 1 : 0)) / Double(b)) }
        }
        // Backward.
        let df = Pointwise.reluBackward(fc2.backward(dLogits)!, output: f)
        let dGap = fc1.backward(df)!
        for i in 0..<dGap.count { dGap[i] /= pixels }
        var dh = Pointwise.sumPoolBackward(dGap, shape: pooledShape)
        for (i, conv) in convs.enumerated().reversed() {
            let dy = Pointwise.reluBackward(Pointwise.averagePoolBackward(dh), output: reluOutputs[i])
            dh = conv.backward(dy, inputGradient: i > 0) ?? dh
        }
        optimizer.update()
        return Float(loss / Double(b))
    }

    /// The current weights as an inference `Classifier`.
    public func model(testAccuracy: Double? = nil) throws -> Classifier {
        var cfg = config
        cfg.testAccuracy = testAccuracy
        var t: [String: Tensor] = [:]
        for p in optimizer.parameters { t[p.name] = p.value.copy() }
        return try Classifier(config: cfg, tensors: t)
    }

    /// Accuracy on a data set, through the inference model.
    public func accuracy(_ d: ImageDataset) -> Double {
        guard let m = try? model() else { return 0 }
        let (_, logits) = m.run(d.batch(Array(0..<d.count)).images, batch: 256)
        return Classifier.accuracy(logits: logits, labels: d.labels)
    }
}

