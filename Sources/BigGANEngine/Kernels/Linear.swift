/// Fully connected layer: `y[B, out] = x[B, in] · Wᵀ + bias`.
/// `weight` is PyTorch's `[out, in]`, used directly through a transposed GEMM, one row of `x`
/// per call so that a row's result does not depend on the batch.
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
        fillRows(out.data, rows: b, with: bias?.data, count: outFeatures)
        // One row at a time: a row's result must not depend on the batch (see `sgemmPerImage`).
        sgemmPerImage(images: b, rowsPerImage: 1, n: outFeatures, k: inFeatures, transB: true, a: x.data, lda: inFeatures,
                      b: weight.data, ldb: inFeatures, beta: bias == nil ? 0 : 1, c: out.data, ldc: outFeatures)
        return out
    }
}
