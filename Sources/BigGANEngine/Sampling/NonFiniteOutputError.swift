/// A generator output holding NaN or infinite values: damaged weights, or an explicit z so large
/// that the network overflows. The server answers 500 with a JSON body; the CLI exits non-zero.
public struct NonFiniteOutputError: Error, CustomStringConvertible, Equatable {
    /// Indices of the bad images within their request.
    public let images: [Int]
    /// Images in the request.
    public let count: Int

    public init(images: [Int], count: Int) { self.images = images; self.count = count }

    public var description: String {
        let list = images.prefix(8).map(String.init).joined(separator: ", ") + (images.count > 8 ? ", …" : "")
        return "the generator produced non-finite values (NaN or infinity) in \(images.count) of \(count) image(s) (\(list)); "
            + "the checkpoint's weights or the given z are out of range"
    }

    /// Indices of the images of `[N, ...]` that hold a non-finite value.
    public static func images(in t: Tensor) -> [Int] {
        let n = t.shape.first ?? 0, per = t.count / max(n, 1), p = t.data
        return (0..<n).filter { i in
            let base = p + i * per
            for k in 0..<per where !base[k].isFinite { return true }
            return false
        }
    }
}
