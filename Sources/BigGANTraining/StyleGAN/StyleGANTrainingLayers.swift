import BigGANEngine

/// Parameter-free StyleGAN (v1) operations and their gradients (NVlabs `networks_stylegan.py`;
/// ../shared/reference/stylegan-bigbigan-serving.md, section 1). Forward passes return new tensors;
/// backward passes take what they need explicitly.
enum StyleGANOps {
    /// LeakyReLU slope of every StyleGAN activation.
    static let slope: Float = 0.2

    /// `x < 0 ? 0.2·x : x`, any shape.
    static func leakyReLU(_ x: Tensor) -> Tensor {
        let out = Tensor(uninitializedShape: x.shape)
        let s = x.data, d = out.data
        Parallel.forRanges(x.count, minChunk: 1 << 16) { r in for i in r { let v = s[i]; d[i] = v < 0 ? slope * v : v } }
        return out
    }

    /// `x·(m < 0 ? 0.2 : 1)`: the LeakyReLU with the branches of an earlier pass whose outputs
    /// were `m` (R1's frozen masks: a piecewise-linear function's second derivative is zero
    /// away from its kinks, as double backward computes it).
    static func leakyReLU(_ x: Tensor, mask m: Tensor) -> Tensor {
        precondition(x.count == m.count)
        let out = Tensor(uninitializedShape: x.shape)
        let s = x.data, mp = m.data, d = out.data
        Parallel.forRanges(x.count, minChunk: 1 << 16) { r in for i in r { let v = s[i], k = mp[i]; d[i] = k < 0 ? slope * v : v } }
        return out
    }

    /// `dx = dy · (y < 0 ? 0.2 : 1)` from the forward output `y` (same sign as the input).
    static func leakyReLUBackward(_ dy: Tensor, output y: Tensor) -> Tensor {
        precondition(dy.count == y.count)
        let out = Tensor(uninitializedShape: dy.shape)
        let g = dy.data, o = y.data, d = out.data
        Parallel.forRanges(dy.count, minChunk: 1 << 16) { r in for i in r { let gv = g[i], ov = o[i]; d[i] = ov < 0 ? slope * gv : gv } }
        return out
    }

    /// Pixel norm of each row of `x` `[B, n]`: `x · (mean(x²) + 1e-8)^(−1/2)` (NVlabs
    /// `pixel_norm` on the latent; `normalize_latents`).
    static func pixelNorm(_ x: Tensor) -> Tensor {
        let (b, n) = (x.shape[0], x.count / max(x.shape[0], 1))
        let out = Tensor(uninitializedShape: x.shape)
        for i in 0..<b {
            let s = x.data + i * n, d = out.data + i * n
            let r = inverseRMS(s, n)
            for k in 0..<n { d[k] = s[k] * r }
        }
        return out
    }

    /// Gradient of `pixelNorm` at input `x`: `dx = r·dy − x·r³·mean(dy·x)` per row.
    static func pixelNormBackward(_ dy: Tensor, input x: Tensor) -> Tensor {
        let (b, n) = (x.shape[0], x.count / max(x.shape[0], 1))
        let out = Tensor(uninitializedShape: x.shape)
        for i in 0..<b {
            let s = x.data + i * n, g = dy.data + i * n, d = out.data + i * n
            let r = inverseRMS(s, n)
            var dot = 0.0
            for k in 0..<n { dot += Double(g[k]) * Double(s[k]) }
            let c = Float(dot / Double(n)) * r * r * r
            for k in 0..<n { d[k] = r * g[k] - s[k] * c }
        }
        return out
    }

    private static func inverseRMS(_ s: UnsafePointer<Float>, _ n: Int) -> Float {
        var ms = 0.0
        for k in 0..<n { ms += Double(s[k]) * Double(s[k]) }
        return Float(1 / (ms / Double(n) + 1e-8).squareRoot())
    }

    /// The [1,2,1]⊗[1,2,1]/16 blur (engine's `blur121`) on NHWC `[B, H, W, C]`. With zero padding
    /// and a symmetric kernel it is its own adjoint, so the gradient is the blur of `dy`.
    static func blur(_ x: Tensor) -> Tensor { blur121(x) }
    static func blurBackward(_ dy: Tensor) -> Tensor { blur121(dy) }
}

/// One synthesis layer's epilogue with its trainable parts (NVlabs `layer_epilogue`, order
/// verified in the reference notes): `a = x + noise·w_noise + bias` → `h = LeakyReLU(a)` →
/// `x̂ = instance_norm(h)` (eps 1e-8, per image and channel over pixels) →
/// `y = x̂·(1 + y_s) + y_b` with `[y_s, y_b] = StyleMod(w_l)`.
///
/// - `x` `[B, H, W, C]` NHWC; `noise` `[B, H·W]` (one map per image) or nil; `w` `[B, w_dim]`.
/// - Parameters (NVlabs names, PyTorch layouts): `<prefix>/Noise/weight` `[C]`, `<prefix>/bias`
///   `[C]`, `<prefix>/StyleMod.weight` `[2C, w_dim]` (equalised, gain 1), `<prefix>/StyleMod.bias`.
/// - Backward returns `dx` and `dw` and accumulates the parameter gradients.
public final class StyleEpilogueLayer: ParameterContainer {
    public let channels: Int
    public let noiseWeight: Parameter, bias: Parameter
    public let style: LinearLayer
    // Cache of the latest forward pass.
    private var noise: Tensor?
    private var activated: Tensor?          // h, [B, H, W, C]
    private var mean: [Float] = [], inverse: [Float] = []     // per [B, C]
    private var styleOut: Tensor?           // [B, 2C]

    public init(prefix: String, channels: Int, wDim: Int) {
        self.channels = channels
        noiseWeight = Parameter(name: prefix + "/Noise/weight", shape: [channels])
        bias = Parameter(name: prefix + "/bias", shape: [channels])
        style = LinearLayer(name: prefix + "/StyleMod", inFeatures: wDim, outFeatures: 2 * channels, spectralNorm: false,
                            orthogonalRegularised: false, gain: 1 / Float(wDim).squareRoot())
    }

    public var parameters: [Parameter] { [noiseWeight, bias] + style.parameters }
    public var buffers: [Buffer] { [] }
    public var spectralNorms: [SpectralNorm] { [] }

    public func forward(_ x: Tensor, noise: Tensor?, w: Tensor) -> Tensor {
        let (b, h, wd, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(c == channels && w.shape[0] == b, "epilogue: x \(x.shape), w \(w.shape)")
        let pixels = h * wd
        precondition(noise == nil || noise!.count == b * pixels, "epilogue: noise \(noise!.shape) for x \(x.shape)")
        let s = style.forward(w, mode: .training)
        let act = Tensor(uninitializedShape: x.shape), out = Tensor(uninitializedShape: x.shape)
        var mean = [Float](repeating: 0, count: b * c), inv = [Float](repeating: 0, count: b * c)
        let nw = noiseWeight.value.data, bp = bias.value.data
        mean.withUnsafeMutableBufferPointer { mp in
            inv.withUnsafeMutableBufferPointer { ip in
                let mp = mp.baseAddress!, ip = ip.baseAddress!
                Parallel.forRanges(b) { images in
                    var sum = [Double](repeating: 0, count: c), sq = [Double](repeating: 0, count: c)
                    for i in images {
                        let src = x.data + i * pixels * c, hp = act.data + i * pixels * c, dst = out.data + i * pixels * c
                        for k in 0..<c { sum[k] = 0; sq[k] = 0 }
                        for p in 0..<pixels {
                            let n = noise.map { $0.data[i * pixels + p] } ?? 0
                            for k in 0..<c {
                                var v = src[p * c + k] + n * nw[k] + bp[k]
                                v = v < 0 ? StyleGANOps.slope * v : v
                                hp[p * c + k] = v
                                sum[k] += Double(v)
                            }
                        }
                        for k in 0..<c { sum[k] /= Double(pixels) }
                        for p in 0..<pixels { for k in 0..<c { let d = Double(hp[p * c + k]) - sum[k]; sq[k] += d * d } }
                        let st = s.data + i * 2 * c
                        for k in 0..<c {
                            let r = Float(1 / (sq[k] / Double(pixels) + 1e-8).squareRoot())
                            mp[i * c + k] = Float(sum[k]); ip[i * c + k] = r
                        }
                        for p in 0..<pixels {
                            for k in 0..<c {
                                let xn = (hp[p * c + k] - mp[i * c + k]) * ip[i * c + k]
                                dst[p * c + k] = xn * (1 + st[k]) + st[c + k]
                            }
                        }
                    }
                }
            }
        }
        self.noise = noise; activated = act; self.mean = mean; inverse = inv; styleOut = s
        return out
    }

    /// `dx` `[B, H, W, C]` and `dw` `[B, w_dim]` for `dy`; accumulates every parameter gradient.
    public func backward(_ dy: Tensor) -> (dx: Tensor, dw: Tensor) {
        guard let act = activated, let s = styleOut else { preconditionFailure("epilogue: backward before forward") }
        let (b, h, wd, c) = (act.shape[0], act.shape[1], act.shape[2], act.shape[3])
        let pixels = h * wd
        let dStyle = Tensor(shape: [b, 2 * c])
        let dx = Tensor(uninitializedShape: act.shape)
        // Per-image partial sums of the bias and noise-weight gradients, reduced after.
        let dBias = Tensor(shape: [b, c]), dNoise = Tensor(shape: [b, c])
        let noise = self.noise
        mean.withUnsafeBufferPointer { mp in
            inverse.withUnsafeBufferPointer { ip in
                let mp = mp.baseAddress!, ip = ip.baseAddress!
                Parallel.forRanges(b) { images in
                    var gs = [Double](repeating: 0, count: c), gt = [Double](repeating: 0, count: c)
                    for i in images {
                        let hp = act.data + i * pixels * c, g = dy.data + i * pixels * c, d = dx.data + i * pixels * c
                        let st = s.data + i * 2 * c
                        for k in 0..<c { gs[k] = 0; gt[k] = 0 }
                        // dy_s = Σ dy·x̂, dy_b = Σ dy; then d x̂ = dy·(1 + y_s) and its two means.
                        for p in 0..<pixels {
                            for k in 0..<c {
                                let xn = Double((hp[p * c + k] - mp[i * c + k]) * ip[i * c + k])
                                gs[k] += Double(g[p * c + k]) * xn
                                gt[k] += Double(g[p * c + k])
                            }
                        }
                        for k in 0..<c { dStyle.data[i * 2 * c + k] = Float(gs[k]); dStyle.data[i * 2 * c + c + k] = Float(gt[k]) }
                        let dn = dNoise.data + i * c, db = dBias.data + i * c
                        for k in 0..<c {
                            // mean(dx̂) = (1+y_s)·Σdy/P; mean(dx̂·x̂) = (1+y_s)·Σ dy·x̂ / P.
                            let scale = 1 + st[k], r = ip[i * c + k], mu = mp[i * c + k]
                            let m1 = Float(gt[k] / Double(pixels)) * scale, m2 = Float(gs[k] / Double(pixels)) * scale
                            for p in 0..<pixels {
                                let hv = hp[p * c + k], xn = (hv - mu) * r
                                var dh = r * (g[p * c + k] * scale - m1 - xn * m2)
                                if hv < 0 { dh *= StyleGANOps.slope }
                                d[p * c + k] = dh
                                db[k] += dh
                                if let noise { dn[k] += dh * noise.data[i * pixels + p] }
                            }
                        }
                    }
                }
            }
        }
        for i in 0..<b {
            for k in 0..<c {
                bias.grad.data[k] += dBias.data[i * c + k]
                noiseWeight.grad.data[k] += dNoise.data[i * c + k]
            }
        }
        let dw = style.backward(dStyle)!
        return (dx, dw)
    }
}

/// Minibatch standard deviation (Karras et al. 2018; NVlabs `minibatch_stddev_layer`, one new
/// feature): the batch `[B, H, W, C]` is split into `G = min(groupSize, B)` strided groups
/// (image `n` is in group member `n / M` of slot `m = n % M`, `M = B/G`); for each slot the
/// standard deviation over its `G` images (`√(var + 1e-8)`, biased variance) is averaged over
/// pixels and channels, and appended as channel `C` of every image of the slot: `[B, H, W, C+1]`.
/// `B` must be a multiple of `G`.
public final class MinibatchStdDev {
    public let groupSize: Int
    private var input: Tensor?
    private var deviation: Tensor?   // σ per [M, H, W, C]

    public init(groupSize: Int = 4) { self.groupSize = groupSize }

    public func forward(_ x: Tensor) -> Tensor {
        let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let g = min(groupSize, b)
        precondition(b % g == 0, "minibatch stddev: batch \(b) is not a multiple of the group size \(g)")
        let m = b / g, per = h * w * c
        let sigma = Tensor(uninitializedShape: [m, h, w, c])
        var stat = [Float](repeating: 0, count: m)
        for slot in 0..<m {
            var total = 0.0
            for e in 0..<per {
                var mu: Float = 0
                for j in 0..<g { mu += x.data[(j * m + slot) * per + e] }
                mu /= Float(g)
                var v: Float = 0
                for j in 0..<g { let d = x.data[(j * m + slot) * per + e] - mu; v += d * d }
                let s = (v / Float(g) + 1e-8).squareRoot()
                sigma.data[slot * per + e] = s
                total += Double(s)
            }
            stat[slot] = Float(total / Double(per))
        }
        let out = Tensor(uninitializedShape: [b, h, w, c + 1])
        for n in 0..<b {
            for p in 0..<(h * w) {
                (out.data + (n * h * w + p) * (c + 1)).update(from: x.data + (n * h * w + p) * c, count: c)
                out.data[(n * h * w + p) * (c + 1) + c] = stat[n % m]
            }
        }
        input = x; deviation = sigma
        return out
    }

    /// `dx` `[B, H, W, C]` for `dy` `[B, H, W, C+1]`.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input, let sigma = deviation else { preconditionFailure("minibatch stddev: backward before forward") }
        let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let g = min(groupSize, b), m = b / g, per = h * w * c
        let dx = Tensor(uninitializedShape: x.shape)
        var dStat = [Float](repeating: 0, count: m)
        for n in 0..<b {
            for p in 0..<(h * w) {
                (dx.data + (n * h * w + p) * c).update(from: dy.data + (n * h * w + p) * (c + 1), count: c)
                dStat[n % m] += dy.data[(n * h * w + p) * (c + 1) + c]
            }
        }
        for slot in 0..<m {
            let ds = dStat[slot] / Float(per)
            for e in 0..<per {
                var mu: Float = 0
                for j in 0..<g { mu += x.data[(j * m + slot) * per + e] }
                mu /= Float(g)
                // dσ/dx_j = (x_j − μ) / (G·σ); the mean's own term sums to zero.
                let f = ds / (Float(g) * sigma.data[slot * per + e])
                for j in 0..<g {
                    let idx = (j * m + slot) * per + e
                    dx.data[idx] += f * (x.data[idx] - mu)
                }
            }
        }
        return dx
    }
}
