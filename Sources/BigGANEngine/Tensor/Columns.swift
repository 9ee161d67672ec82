/// Column helpers for row-major `[B, N]` matrices (latents, embeddings, conditioning vectors),
/// shared by the inference generators and the training models.

/// Columns `[from, from+count)` of a `[B, N]` matrix: `[B, count]`.
public func columns(_ x: Tensor, from: Int, count: Int) -> Tensor {
    let b = x.shape[0], n = x.count / max(b, 1)
    precondition(from >= 0 && from + count <= n, "columns \(from)..<\(from + count) of \(x.shape)")
    let out = Tensor(uninitializedShape: [b, count])
    for i in 0..<b { (out.data + i * count).update(from: x.data + i * n + from, count: count) }
    return out
}

/// `[B, N] ++ [B, M]` → `[B, N+M]`: each row of `x` followed by the same row of `y`.
public func concatColumns(_ x: Tensor, _ y: Tensor) -> Tensor {
    let b = x.shape[0], n = x.count / max(b, 1), m = y.count / max(b, 1)
    precondition(y.count == b * m, "concatColumns: \(x.shape) and \(y.shape) differ in rows")
    let out = Tensor(uninitializedShape: [b, n + m])
    for i in 0..<b {
        (out.data + i * (n + m)).update(from: x.data + i * n, count: n)
        (out.data + i * (n + m) + n).update(from: y.data + i * m, count: m)
    }
    return out
}

/// Writes `values` (`[n]`) into each of the `rows` rows of `out` (`[rows, n]`), or zeros when
/// `values` is nil: the bias that a GEMM with `beta = 1` then adds to. Parallel over rows.
public func fillRows(_ out: UnsafeMutablePointer<Float>, rows: Int, with values: UnsafePointer<Float>?, count n: Int) {
    guard let values else { out.update(repeating: 0, count: rows * n); return }
    Parallel.forRanges(rows, minChunk: 4096) { range in
        for p in range { (out + p * n).update(from: values, count: n) }
    }
}
