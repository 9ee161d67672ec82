import BigGANEngine

/// Deterministic parallel sums.
///
/// The index range `0..<count` is cut into a number of chunks that depends only on the amount of
/// work (never on the number of threads); each chunk accumulates into its own `width`-long row
/// of `Double` partials and the rows are then added in chunk order. Results are therefore
/// bit-identical whatever `Parallel.workers` is, which `--resume` relies on.
enum Reduce {
    /// At most this many chunks per reduction.
    static let maxChunks = 16

    /// Returns `Σ_chunks partial`, where `body(range, partial)` adds the contribution of the
    /// indices in `range` into `partial[0..<width]` (zeroed beforehand).
    /// - Parameters:
    ///   - count: number of indices (rows, pixels, samples).
    ///   - width: number of accumulators (e.g. channels).
    ///   - work: rough number of scalar operations, to decide how many chunks pay off.
    static func sums(count: Int, width: Int, work: Int,
                     _ body: (Range<Int>, UnsafeMutablePointer<Double>) -> Void) -> [Double] {
        let chunks = max(1, min(maxChunks, count, work / (1 << 15)))
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: chunks * width)
        defer { partial.deallocate() }
        partial.initialize(repeating: 0, count: chunks * width)
        Parallel.forRanges(chunks, minChunk: 1) { range in
            for ci in range {
                let lo = count * ci / chunks, hi = count * (ci + 1) / chunks
                if lo < hi { body(lo..<hi, partial + ci * width) }
            }
        }
        var out = [Double](repeating: 0, count: width)
        for ci in 0..<chunks { for j in 0..<width { out[j] += partial[ci * width + j] } }
        return out
    }

    /// Column sums of a row-major `[rows, cols]` matrix: `out[c] = Σ_r a[r, c]`.
    static func columnSums(_ a: UnsafePointer<Float>, rows: Int, cols: Int) -> [Double] {
        sums(count: rows, width: cols, work: rows * cols) { range, acc in
            for r in range {
                let row = a + r * cols
                for c in 0..<cols { acc[c] += Double(row[c]) }
            }
        }
    }

    /// `Σ_i a[i]·b[i]` over `n` elements.
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> Double {
        let block = 4096
        let blocks = (n + block - 1) / block
        return sums(count: blocks, width: 1, work: n) { range, acc in
            var s = 0.0
            for bi in range {
                let lo = bi * block, hi = min(n, lo + block)
                var f: Float = 0
                for i in lo..<hi { f += a[i] * b[i] }
                s += Double(f)
            }
            acc[0] += s
        }[0]
    }
}

// MARK: - Small tensor helpers

/// `[B, ...] ++ [B', ...]` → `[B + B', ...]` along the first (batch) dimension.
func concatenateBatch(_ x: Tensor, _ y: Tensor) -> Tensor {
    precondition(Array(x.shape.dropFirst()) == Array(y.shape.dropFirst()), "concat: \(x.shape) vs \(y.shape)")
    var shape = x.shape
    shape[0] += y.shape[0]
    let out = Tensor(uninitializedShape: shape)
    out.data.update(from: x.data, count: x.count)
    (out.data + x.count).update(from: y.data, count: y.count)
    return out
}

/// `x + y` as a new tensor with `x`'s shape.
func adding(_ x: Tensor, _ y: Tensor) -> Tensor {
    precondition(x.count == y.count, "add: \(x.shape) vs \(y.shape)")
    let out = Tensor(uninitializedShape: x.shape)
    let a = x.data, b = y.data, d = out.data
    Parallel.forRanges(x.count, minChunk: 1 << 16) { r in for i in r { d[i] = a[i] + b[i] } }
    return out
}

/// `x` when `factor` is 1, else `factor·x` as a new tensor (equalised learning rate's runtime
/// weight scaling).
func scaledCopy(_ x: Tensor, _ factor: Float) -> Tensor {
    guard factor != 1 else { return x }
    let out = Tensor(uninitializedShape: x.shape)
    let a = x.data, d = out.data
    Parallel.forRanges(x.count, minChunk: 1 << 16) { r in for i in r { d[i] = a[i] * factor } }
    return out
}
