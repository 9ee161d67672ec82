import BigGANEngine

/// Parameter-free layers and their gradients, on NHWC activations. Each forward returns a new
/// tensor; each backward takes what it needs (the forward output or argmax indices) explicitly,
/// so the callers decide what to keep.
enum Pointwise {
    // MARK: ReLU

    /// `max(0, x)`, any shape.
    static func relu(_ x: Tensor) -> Tensor {
        Profiler.measure("relu") { reluBody(x) }
    }

    private static func reluBody(_ x: Tensor) -> Tensor {
        let out = Tensor(uninitializedShape: x.shape)
        let s = x.data, d = out.data
        Parallel.forRanges(x.count, minChunk: 1 << 16) { r in for i in r { d[i] = s[i] > 0 ? s[i] : 0 } }
        return out
    }

    /// `dx = dy` where the ReLU output `y` is positive, else 0 (torch's convention at 0).
    static func reluBackward(_ dy: Tensor, output y: Tensor) -> Tensor {
        Profiler.measure("reluBackward") { reluBackwardBody(dy, output: y) }
    }

    private static func reluBackwardBody(_ dy: Tensor, output y: Tensor) -> Tensor {
        precondition(dy.count == y.count)
        let out = Tensor(uninitializedShape: dy.shape)
        let g = dy.data, o = y.data, d = out.data
        // Both loads unconditional, so the select vectorises (a conditional load compiles to a
        // branch, mispredicted half the time on random signs: ~20× slower).
        Parallel.forRanges(dy.count, minChunk: 1 << 16) { r in for i in r { let gv = g[i], ov = o[i]; d[i] = ov > 0 ? gv : 0 } }
        return out
    }

    // MARK: tanh

    /// `tanh(x)` (engine's `fastTanh`, absolute error below 1e-6), any shape.
    static func tanh(_ x: Tensor) -> Tensor {
        Profiler.measure("tanh") { tanhBody(x) }
    }

    private static func tanhBody(_ x: Tensor) -> Tensor {
        let out = Tensor(uninitializedShape: x.shape)
        let s = x.data, d = out.data
        Parallel.forRanges(x.count, minChunk: 1 << 15) { r in for i in r { d[i] = fastTanh(s[i]) } }
        return out
    }

    /// `dx = dy · (1 − y²)` with `y = tanh(x)` the forward output.
    static func tanhBackward(_ dy: Tensor, output y: Tensor) -> Tensor {
        Profiler.measure("tanhBackward") { tanhBackwardBody(dy, output: y) }
    }

    private static func tanhBackwardBody(_ dy: Tensor, output y: Tensor) -> Tensor {
        let out = Tensor(uninitializedShape: dy.shape)
        let g = dy.data, o = y.data, d = out.data
        Parallel.forRanges(dy.count, minChunk: 1 << 16) { r in for i in r { d[i] = g[i] * (1 - o[i] * o[i]) } }
        return out
    }

    // MARK: Nearest ×2 upsampling

    /// `[B, H, W, C]` → `[B, 2H, 2W, C]`, each pixel repeated 2×2.
    static func upsample(_ x: Tensor) -> Tensor { Profiler.measure("upsample") { upsampleNearest2x(x) } }

    /// Gradient of `upsample`: `[B, 2H, 2W, C]` → `[B, H, W, C]`, the sum of each 2×2 block.
    static func upsampleBackward(_ dy: Tensor) -> Tensor {
        Profiler.measure("upsampleBackward") { upsampleBackwardBody(dy) }
    }

    private static func upsampleBackwardBody(_ dy: Tensor) -> Tensor {
        let (b, h2, w2, c) = (dy.shape[0], dy.shape[1], dy.shape[2], dy.shape[3])
        let (h, w) = (h2 / 2, w2 / 2)
        let out = Tensor(uninitializedShape: [b, h, w, c])
        let src = dy.data, dst = out.data
        Parallel.forRanges(b * h, minChunk: 4) { rows in
            for r in rows {
                let bi = r / h, i = r % h
                let s0 = src + ((bi * h2 + 2 * i) * w2) * c, s1 = s0 + w2 * c
                let d = dst + r * w * c
                for j in 0..<w {
                    let a = s0 + 2 * j * c, e = s1 + 2 * j * c, o = d + j * c
                    for k in 0..<c { o[k] = (a[k] + a[c + k]) + (e[k] + e[c + k]) }
                }
            }
        }
        return out
    }

    // MARK: 2×2 average pooling

    /// `[B, H, W, C]` → `[B, H/2, W/2, C]`, the mean of each 2×2 block (H, W even).
    static func averagePool(_ x: Tensor) -> Tensor { Profiler.measure("averagePool") { avgPool2x2(x) } }

    /// Gradient of `averagePool`: `[B, H/2, W/2, C]` → `[B, H, W, C]`, each value spread /4 over its block.
    static func averagePoolBackward(_ dy: Tensor) -> Tensor {
        Profiler.measure("averagePoolBackward") { averagePoolBackwardBody(dy) }
    }

    private static func averagePoolBackwardBody(_ dy: Tensor) -> Tensor {
        let (b, h, w, c) = (dy.shape[0], dy.shape[1], dy.shape[2], dy.shape[3])
        let out = Tensor(uninitializedShape: [b, 2 * h, 2 * w, c])
        let src = dy.data, dst = out.data
        Parallel.forRanges(b * h, minChunk: 4) { rows in
            for r in rows {
                let bi = r / h, i = r % h
                let s = src + r * w * c
                let d0 = dst + ((bi * 2 * h + 2 * i) * 2 * w) * c, d1 = d0 + 2 * w * c
                for j in 0..<w {
                    let sp = s + j * c, a = d0 + 2 * j * c
                    for k in 0..<c { let v = 0.25 * sp[k]; a[k] = v; a[c + k] = v }
                }
                d1.update(from: d0, count: 2 * w * c)
            }
        }
        return out
    }

    // MARK: 2×2 max pooling with argmax

    /// `[B, H, W, C]` → `[B, H/2, W/2, C]`, the maximum of each 2×2 block, plus, per output
    /// element, which of the four inputs won (0: (0,0), 1: (0,1), 2: (1,0), 3: (1,1); the first
    /// in that order on ties, as torch does).
    static func maxPool(_ x: Tensor) -> (Tensor, [UInt8]) {
        Profiler.measure("maxPool") { maxPoolBody(x) }
    }

    private static func maxPoolBody(_ x: Tensor) -> (Tensor, [UInt8]) {
        let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(h % 2 == 0 && w % 2 == 0, "max-pool needs even sizes, got \(x.shape)")
        let (ho, wo) = (h / 2, w / 2)
        let out = Tensor(uninitializedShape: [b, ho, wo, c])
        var index = [UInt8](repeating: 0, count: out.count)
        let src = x.data, dst = out.data
        index.withUnsafeMutableBufferPointer { idxBuf in
            let idx = idxBuf.baseAddress!
            Parallel.forRanges(b * ho, minChunk: 4) { rows in
                for r in rows {
                    let bi = r / ho, i = r % ho
                    let s0 = src + ((bi * h + 2 * i) * w) * c, s1 = s0 + w * c
                    for j in 0..<wo {
                        let p0 = s0 + 2 * j * c, p1 = p0 + c, p2 = s1 + 2 * j * c, p3 = p2 + c
                        let o = (r * wo + j) * c
                        for k in 0..<c {
                            var best = p0[k], arg: UInt8 = 0
                            if p1[k] > best { best = p1[k]; arg = 1 }
                            if p2[k] > best { best = p2[k]; arg = 2 }
                            if p3[k] > best { best = p3[k]; arg = 3 }
                            dst[o + k] = best; idx[o + k] = arg
                        }
                    }
                }
            }
        }
        return (out, index)
    }

    /// Gradient of `maxPool`: routes each `dy` element to the input that won.
    /// `dy`: `[B, H/2, W/2, C]` → `[B, H, W, C]`.
    static func maxPoolBackward(_ dy: Tensor, index: [UInt8]) -> Tensor {
        Profiler.measure("maxPoolBackward") { maxPoolBackwardBody(dy, index: index) }
    }

    private static func maxPoolBackwardBody(_ dy: Tensor, index: [UInt8]) -> Tensor {
        let (b, ho, wo, c) = (dy.shape[0], dy.shape[1], dy.shape[2], dy.shape[3])
        let (h, w) = (2 * ho, 2 * wo)
        let out = Tensor(shape: [b, h, w, c])
        let src = dy.data, dst = out.data
        index.withUnsafeBufferPointer { idxBuf in
            let idx = idxBuf.baseAddress!
            Parallel.forRanges(b * ho, minChunk: 4) { rows in
                for r in rows {
                    let bi = r / ho, i = r % ho
                    let d0 = dst + ((bi * h + 2 * i) * w) * c
                    for j in 0..<wo {
                        let o = (r * wo + j) * c
                        for k in 0..<c {
                            let a = Int(idx[o + k])
                            d0[((a >> 1) * w + 2 * j + (a & 1)) * c + k] = src[o + k]
                        }
                    }
                }
            }
        }
        return out
    }

    // MARK: Global sum pooling

    /// `[B, H, W, C]` → `[B, C]`, the sum over all pixels of each image.
    static func sumPool(_ x: Tensor) -> Tensor {
        Profiler.measure("sumPool") { sumPoolBody(x) }
    }

    private static func sumPoolBody(_ x: Tensor) -> Tensor {
        let (b, c) = (x.shape[0], x.shape[3])
        let pixels = x.count / max(b * c, 1)
        let out = Tensor(uninitializedShape: [b, c])
        let src = x.data, dst = out.data
        Parallel.forRanges(b, minChunk: 1) { r in
            for i in r {
                var acc = [Double](repeating: 0, count: c)
                for p in 0..<pixels {
                    let s = src + (i * pixels + p) * c
                    for k in 0..<c { acc[k] += Double(s[k]) }
                }
                for k in 0..<c { dst[i * c + k] = Float(acc[k]) }
            }
        }
        return out
    }

    /// Gradient of `sumPool`: `dy` `[B, C]` broadcast to every pixel, `[B, H, W, C]` (`shape`).
    static func sumPoolBackward(_ dy: Tensor, shape: [Int]) -> Tensor {
        Profiler.measure("sumPoolBackward") { sumPoolBackwardBody(dy, shape: shape) }
    }

    private static func sumPoolBackwardBody(_ dy: Tensor, shape: [Int]) -> Tensor {
        let (b, c) = (shape[0], shape[3])
        let pixels = shape[1] * shape[2]
        let out = Tensor(uninitializedShape: shape)
        let src = dy.data, dst = out.data
        Parallel.forRanges(b * pixels, minChunk: 1024) { r in
            for p in r { (dst + p * c).update(from: src + (p / pixels) * c, count: c) }
        }
        return out
    }
}
