/// A dense, row-major (C-contiguous) array of `Float` with a shape.
///
/// Activations in the engine are always NHWC: `[batch, height, width, channels]`.
/// Storage is a 64-byte aligned buffer owned by the tensor and freed in `deinit`, so inner
/// loops can run over raw pointers without copy-on-write or exclusivity checks.
public final class Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let count: Int
    public let data: UnsafeMutablePointer<Float>

    /// Allocates a zero-filled tensor.
    public convenience init(shape: [Int]) {
        self.init(uninitializedShape: shape)
        data.update(repeating: 0, count: max(count, 1))
    }

    /// Allocates a tensor whose contents are unspecified: for kernels that write every element.
    /// Storage comes from `BufferPool`.
    public init(uninitializedShape shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        let raw = BufferPool.shared.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride)
        data = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// Creates a tensor holding a copy of `values`.
    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit { BufferPool.shared.release(UnsafeMutableRawPointer(data), byteCount: max(count, 1) * MemoryLayout<Float>.stride) }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }
    public var array: [Float] { Array(buffer) }

    public subscript(i: Int) -> Float {
        get { data[i] }
        set { data[i] = newValue }
    }

    public func copy() -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        t.data.update(from: data, count: count)
        return t
    }

    /// The same elements under another shape (a copy; shapes must have equal element counts).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        let t = Tensor(uninitializedShape: newShape)
        t.data.update(from: data, count: count)
        return t
    }

    /// Rows `[start, start+n)` of the first dimension, copied.
    public func slice(first start: Int, count n: Int) -> Tensor {
        precondition(start >= 0 && start + n <= shape[0])
        let inner = count / max(shape[0], 1)
        var s = shape; s[0] = n
        let t = Tensor(shape: s)
        t.data.update(from: data + start * inner, count: n * inner)
        return t
    }
}
