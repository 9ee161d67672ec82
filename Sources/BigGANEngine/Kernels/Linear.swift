/// Fully connected layer: `y[B, out] = x[B, in] · Wᵀ + bias`, `weight` in PyTorch's `[out, in]`
/// layout, used as stored (`rowsTimesWeightsT`).
public struct Linear: @unchecked Sendable {
    public let weight: Tensor
    public let bias: Tensor?
    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.shape.count == 2)
        self.weight = weight; self.bias = bias
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let b = x.count / inFeatures
        precondition(x.count == b * inFeatures, "linear expects [B, \(inFeatures)], got \(x.shape)")
        let out = Tensor(uninitializedShape: [b, outFeatures])
        rowsTimesWeightsT(x.data, rows: b, weights: weight.data, outputs: outFeatures, inputs: inFeatures,
                          bias: bias?.data, into: out.data)
        return out
    }
}

/// `y[i, j] = bias[j] + Σₖ x[i, k] · w[j, k]` for a few rows `x` `[rows, inputs]` and weights `w`
/// `[outputs, inputs]` (row-major, PyTorch's `Linear` layout); `y` `[rows, outputs]`.
///
/// Made for the small batches of sampling, where a GEMM is a weight-streaming GEMV: each weight
/// row is read from memory once and, while it sits in L1, dotted with every row of `x`. Every
/// output element is one dot product in a fixed order (`dot`), so a row's result is the same at
/// any batch size and any thread count (same request, same bytes). Parallel over outputs.
public func rowsTimesWeightsT(
    _ x: UnsafePointer<Float>, rows: Int, weights w: UnsafePointer<Float>, outputs: Int, inputs: Int,
    bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>
) {
    if rows == 0 || outputs == 0 { return }
    // About 64 KiB of weights per chunk at least, so small layers stay on one thread.
    Parallel.forRanges(outputs, minChunk: max(1, (16 << 10) / max(inputs, 1))) { range in
        for j in range {
            let wj = w + j * inputs, b0 = bias?[j] ?? 0
            for i in 0..<rows { y[i * outputs + j] = b0 + dot(x + i * inputs, wj, count: inputs) }
        }
    }
}

/// `Σₖ a[k]·b[k]` in a fixed order: two 8-lane accumulators over blocks of 16, then one 8-lane
/// block, a lane sum, and the scalar tail.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> Float {
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    let stride = MemoryLayout<Float>.stride
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
    var k = 0
    while k + 16 <= n {
        acc0 += ra.loadUnaligned(fromByteOffset: k * stride, as: SIMD8<Float>.self)
            * rb.loadUnaligned(fromByteOffset: k * stride, as: SIMD8<Float>.self)
        acc1 += ra.loadUnaligned(fromByteOffset: (k + 8) * stride, as: SIMD8<Float>.self)
            * rb.loadUnaligned(fromByteOffset: (k + 8) * stride, as: SIMD8<Float>.self)
        k += 16
    }
    if k + 8 <= n {
        acc0 += ra.loadUnaligned(fromByteOffset: k * stride, as: SIMD8<Float>.self)
            * rb.loadUnaligned(fromByteOffset: k * stride, as: SIMD8<Float>.self)
        k += 8
    }
    var s = (acc0 + acc1).sum()
    while k < n { s += a[k] * b[k]; k += 1 }
    return s
}
