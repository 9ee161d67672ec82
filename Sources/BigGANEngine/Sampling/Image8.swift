/// An 8-bit image, rows top to bottom, channels interleaved (grey or RGB): the form PNG writers take.
public struct Image8: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, fill: UInt8 = 0) {
        self.width = width; self.height = height; self.channels = channels
        pixels = [UInt8](repeating: fill, count: width * height * channels)
    }

    /// Maps [−1, 1] to 0...255: `round((x + 1) · 127.5)`, clamped.
    @inline(__always) static func quantize(_ x: Float) -> UInt8 {
        let v = ((x + 1) * 127.5).rounded()
        return UInt8(max(0, min(255, v.isNaN ? 0 : v)))
    }

    /// Image `index` of an NHWC batch in [−1, 1].
    public init(batch: Tensor, index: Int) {
        let (h, w, c) = (batch.shape[1], batch.shape[2], batch.shape[3])
        self.init(width: w, height: h, channels: c)
        let src = batch.data + index * h * w * c
        for i in 0..<(h * w * c) { pixels[i] = Image8.quantize(src[i]) }
    }

    /// All images of a batch laid out in a grid, `columns` wide, separated by `gutter` pixels of
    /// `background`. With one image and no gutter this is just that image.
    public static func grid(_ batch: Tensor, columns: Int? = nil, gutter: Int = 2, background: UInt8 = 255) -> Image8 {
        let (n, h, w, c) = (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3])
        if n == 1 { return Image8(batch: batch, index: 0) }
        let cols = max(1, min(n, columns ?? Int(Double(n).squareRoot().rounded(.up))))
        let rows = (n + cols - 1) / cols
        var img = Image8(width: cols * w + (cols - 1) * gutter, height: rows * h + (rows - 1) * gutter, channels: c, fill: background)
        for k in 0..<n {
            let tile = Image8(batch: batch, index: k)
            let x0 = (k % cols) * (w + gutter), y0 = (k / cols) * (h + gutter)
            for y in 0..<h {
                let dst = ((y0 + y) * img.width + x0) * c
                img.pixels.replaceSubrange(dst..<dst + w * c, with: tile.pixels[(y * w * c)..<((y + 1) * w * c)])
            }
        }
        return img
    }
}
