/// Fully connected layer: `y[B, out] = x[B, in] · Wᵀ + bias`, from PyTorch's `[out, in]` weight,
/// kept in `rowsTimesBlockedColumns`' blocked layout.
public struct Linear: @unchecked Sendable {
    /// `Wᵀ` in blocks of `linearBlock` outputs: `[⌈out/64⌉, in, 64]`, zero-padded.
    public let blocked: Tensor
    public let bias: Tensor?
    public let inFeatures: Int, outFeatures: Int

    /// `weight`: PyTorch's `[out, in]`; `bias`: `[out]` or nil.
    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.shape.count == 2)
        let (o, i) = (weight.shape[0], weight.shape[1])
        let nb = (o + linearBlock - 1) / linearBlock
        let t = Tensor(shape: [nb, i, linearBlock])
        let src = weight.data, dst = t.data
        Parallel.forRanges(nb, minChunk: 4) { blocks in
            for b in blocks {
                for j in 0..<min(linearBlock, o - b * linearBlock) {
                    let row = src + (b * linearBlock + j) * i, d = dst + b * i * linearBlock + j
                    for k in 0..<i { d[k * linearBlock] = row[k] }
                }
            }
        }
        blocked = t; self.bias = bias; inFeatures = i; outFeatures = o
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let b = x.count / inFeatures
        precondition(x.count == b * inFeatures, "linear expects [B, \(inFeatures)], got \(x.shape)")
        let out = Tensor(uninitializedShape: [b, outFeatures])
        rowsTimesBlockedColumns(x.data, rows: b, blocked: blocked.data, outputs: outFeatures, inputs: inFeatures, bias: bias?.data, into: out.data)
        return out
    }
}

/// Outputs per block of `Linear.blocked`.
let linearBlock = 64

/// `y[i, j] = bias[j] + Σₖ x[i, k] · W[j, k]` for a few rows `x` `[rows, inputs]`, with `W` in
/// blocks of `linearBlock` outputs: `blocked` `[⌈outputs/64⌉, inputs, 64]`; `y` `[rows, outputs]`.
///
/// Made for the small batches of sampling, where a GEMM is a weight-streaming GEMV: each block's
/// weights are read from memory once, in order, and stay in cache while every row of `x` passes.
/// Every output element is summed over `k` in order, vectorised across the outputs of a block, so
/// a row's result is the same at any batch size and thread count (same request, same bytes).
/// Parallel over blocks.
public func rowsTimesBlockedColumns(
    _ x: UnsafePointer<Float>, rows: Int, blocked w: UnsafePointer<Float>, outputs: Int, inputs: Int,
    bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>
) {
    if rows == 0 || outputs == 0 { return }
    let blocks = (outputs + linearBlock - 1) / linearBlock
    // About 256 KiB of weights per chunk at least, so small layers stay on one thread.
    Parallel.forRanges(blocks, minChunk: max(1, (64 << 10) / max(inputs * linearBlock, 1))) { range in
        var acc = [Float](repeating: 0, count: linearBlock)
        acc.withUnsafeMutableBufferPointer { a in
            let a = a.baseAddress!
            for blk in range {
                let j0 = blk * linearBlock, n = min(linearBlock, outputs - j0), wb = w + blk * inputs * linearBlock
                for i in 0..<rows {
                    if let bias { for j in 0..<n { a[j] = bias[j0 + j] } } else { for j in 0..<n { a[j] = 0 } }
                    for j in n..<linearBlock { a[j] = 0 }
                    let xi = x + i * inputs
                    for k in 0..<inputs {
                        let v = xi[k], wk = wb + k * linearBlock
                        for j in 0..<linearBlock { a[j] += v * wk[j] }
                    }
                    (y + i * outputs + j0).update(from: a, count: n)
                }
            }
        }
    }
}
