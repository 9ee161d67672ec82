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
    func conv(_ name: String, out: Int, in i: Int, k: Int, bias: Bool = true, input: Conv2D.Input = .same, side: Int, stride: Int = 1) throws -> Conv2D {
        let conv = Conv2D(weight: try self(name + ".weight", [out, i, k, k]), bias: bias ? try self(name + ".bias", [out]) : nil, input: input,
                          size: (side, side), stride: stride)
        // oneDNN now holds the weights in its own layout: the PyTorch-order copy and any rewritten
        // kernel are idle pool buffers of sizes no later layer may fit; unmap them now, so that
        // loading peaks near the weights' size instead of accumulating every layer's copies.
        BufferPool.shared.drain()
        return conv
    }
    func attention(_ name: String, channels c: Int, side: Int) throws -> SelfAttention {
        SelfAttention(theta: try conv(name + ".theta", out: c / 8, in: c, k: 1, bias: false, side: side),
                      phi: try conv(name + ".phi", out: c / 8, in: c, k: 1, bias: false, side: side),
                      g: try conv(name + ".g", out: c / 2, in: c, k: 1, bias: false, side: side),
                      o: try conv(name + ".o", out: c, in: c / 2, k: 1, bias: false, side: side),
                      gamma: try self(name + ".gamma", [1])[0])
    }
    /// Conditional BNs `(name, channels)` that read the same `cond`-wide conditioning vector,
    /// with fixed (`nStats == nil`) or truncation-indexed statistics, and their projections stacked.
    func conditionalBNs(_ specs: [(name: String, channels: Int)], cond: Int, nStats: Int?, eps: Double) throws
        -> (ProjectionStack, [ConditionalBatchNorm]) {
        let projections = try specs.map { (try self($0.name + ".gain.weight", [$0.channels, cond]), try self($0.name + ".bias.weight", [$0.channels, cond])) }
        let (stack, offsets) = ProjectionStack.stacking(projections.map { (gain: $0.0, bias: $0.1) })
        let bns = try zip(specs, offsets).map { spec, offset in
            ConditionalBatchNorm(channels: spec.channels, offset: offset, statistics: try statistics(spec.name, channels: spec.channels, nStats: nStats),
                                 eps: Float(eps))
        }
        return (stack, bns)
    }
    /// An inference batch norm `name.{weight,bias,mean,var}` over `c` channels (fixed statistics).
    func batchNorm(_ name: String, channels c: Int, eps: Double) throws -> BatchNorm {
        BatchNorm(weight: try self(name + ".weight", [c]), bias: try self(name + ".bias", [c]),
                  statistics: try statistics(name, channels: c, nStats: nil), eps: Float(eps))
    }
    func statistics(_ name: String, channels c: Int, nStats: Int?) throws -> NormStatistics {
        if let n = nStats { return .truncationIndexed(means: try self(name + ".mean", [n, c]), variances: try self(name + ".var", [n, c])) }
        return .fixed(mean: try self(name + ".mean", [c]), variance: try self(name + ".var", [c]))
    }
}
