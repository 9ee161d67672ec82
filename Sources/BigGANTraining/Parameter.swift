import BigGANEngine

/// A trainable tensor and its gradient, both in PyTorch layout (convolution weights
/// `[out, in, kh, kw]`, linear weights `[out, in]`), so that export is a copy.
///
/// Backward passes *accumulate* into `grad`; `zeroGradients()` clears it before a step.
public final class Parameter {
    /// Name inside its model, e.g. `blocks.0.conv1.weight` (the checkpoint name where one exists).
    public let name: String
    public let value: Tensor
    public let grad: Tensor
    /// Whether the off-diagonal orthogonal regulariser applies: every weight with at least two
    /// dimensions, except the generator's shared class embedding (ajbrock's blacklist).
    public let orthogonalRegularised: Bool

    public init(name: String, shape: [Int], orthogonalRegularised: Bool? = nil) {
        self.name = name
        value = Tensor(shape: shape)
        grad = Tensor(shape: shape)
        self.orthogonalRegularised = orthogonalRegularised ?? (shape.count >= 2)
    }

    public func zeroGradient() { grad.data.update(repeating: 0, count: grad.count) }
}

/// A named tensor that is state but not trained: spectral-norm `u` vectors and batch-norm
/// running statistics. Updated in place by training-mode forward passes.
public struct Buffer {
    public let name: String
    public let value: Tensor
}

/// Anything with parameters and buffers (layers and models). Names are unique within a model.
public protocol ParameterContainer: AnyObject {
    /// Parameters in a fixed order (the order optimiser state is stored in).
    var parameters: [Parameter] { get }
    /// Buffers in a fixed order.
    var buffers: [Buffer] { get }
    /// The spectral norms of the weights that have one, in parameter order.
    var spectralNorms: [SpectralNorm] { get }
}

extension ParameterContainer {
    public func zeroGradients() { for p in parameters { p.zeroGradient() } }

    /// σ of every spectral-norm layer from its latest power iteration, named by layer
    /// (`blocks.0.conv1`), for logging (ajbrock's `sv0`).
    public var singularValues: [(String, Float)] {
        spectralNorms.map { sn in
            let n = sn.weight.name
            return (n.hasSuffix(".weight") ? String(n.dropLast(7)) : n, sn.sigma)
        }
    }

    /// Parameters then buffers, by name: everything that defines the model (ajbrock's state_dict).
    public var stateTensors: [(String, Tensor)] {
        parameters.map { ($0.name, $0.value) } + buffers.map { ($0.name, $0.value) }
    }

    /// Copies every parameter and buffer value from `other`, which must have the same structure.
    public func copyState(from other: ParameterContainer) {
        let mine = stateTensors, theirs = other.stateTensors
        precondition(mine.count == theirs.count, "copyState: different models")
        for ((n1, a), (n2, b)) in zip(mine, theirs) {
            precondition(n1 == n2 && a.count == b.count, "copyState: \(n1) vs \(n2)")
            a.data.update(from: b.data, count: a.count)
        }
    }
}

/// Whether a forward pass trains (batch statistics, spectral-norm `u` updated, activations
/// cached for backward) or evaluates (running statistics, nothing written).
public enum Mode: Sendable {
    case training
    case evaluation
}
