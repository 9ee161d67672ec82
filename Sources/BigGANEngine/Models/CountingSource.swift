/// Loads a model's layers by name from a `WeightSource`, counting the stored scalars it takes.
final class CountingSource {
    let source: WeightSource
    private(set) var count = 0
    init(_ s: WeightSource) { source = s }
    func callAsFunction(_ name: String, _ shape: [Int]) throws -> Tensor {
        let t = try source.tensor(name, shape: shape)
        count += t.count
        return t
    }
    func linear(_ name: String, out: Int, in i: Int, bias: Bool) throws -> Linear {
        Linear(weight: try self(name + ".weight", [out, i]), bias: bias ? try self(name + ".bias", [out]) : nil)
    }
    /// `side`: the input's height and width in the model (see `Conv2D.init`).
    func conv(_ name: String, out: Int, in i: Int, k: Int, bias: Bool = true, input: Conv2D.Input = .same, side: Int) throws -> Conv2D {
        Conv2D(weight: try self(name + ".weight", [out, i, k, k]), bias: bias ? try self(name + ".bias", [out]) : nil, input: input,
               size: (side, side))
    }
    func attention(_ name: String, channels c: Int, side: Int) throws -> SelfAttention {
        SelfAttention(theta: try conv(name + ".theta", out: c / 8, in: c, k: 1, bias: false, side: side),
                      phi: try conv(name + ".phi", out: c / 8, in: c, k: 1, bias: false, side: side),
                      g: try conv(name + ".g", out: c / 2, in: c, k: 1, bias: false, side: side),
                      o: try conv(name + ".o", out: c, in: c / 2, k: 1, bias: false, side: side),
                      gamma: try self(name + ".gamma", [1])[0])
    }
    /// Conditional BN with fixed (`nStats == nil`) or truncation-indexed statistics.
    func conditionalBN(_ name: String, channels c: Int, cond: Int, nStats: Int?, eps: Double) throws -> ConditionalBatchNorm {
        ConditionalBatchNorm(gain: try linear(name + ".gain", out: c, in: cond, bias: false),
                             bias: try linear(name + ".bias", out: c, in: cond, bias: false),
                             statistics: try statistics(name, channels: c, nStats: nStats), eps: Float(eps))
    }
    func statistics(_ name: String, channels c: Int, nStats: Int?) throws -> NormStatistics {
        if let n = nStats { return .truncationIndexed(means: try self(name + ".mean", [n, c]), variances: try self(name + ".var", [n, c])) }
        return .fixed(mean: try self(name + ".mean", [c]), variance: try self(name + ".var", [c]))
    }
}
