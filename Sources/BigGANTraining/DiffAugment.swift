import BigGANEngine

/// Differentiable augmentation (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient
/// GAN Training", policy `translation,cutout`): every image D sees, real or fake, is augmented
/// with its own random draw, and the generator's gradient flows back through the same draw.
///
/// On images `[B, H, W, C]` (NHWC):
/// - translation: image `b` moves by `(dy, dx)`, each uniform in `−s…s` with `s = round(H/8)`
///   (`round(W/8)`); `out[y, x] = in[y + dy, x + dx]`, zero (mid-grey) where that is outside.
/// - cutout: a `⌈H/2⌉ × ⌈W/2⌉` square, centre uniform in `0…H` (`0…W`), clipped to the image, is
///   set to zero.
/// Translation comes first, then cutout. Both are linear in the image, so `backward` applies the
/// transposed maps: the shift back (dropping what moved out) and the same mask.
public struct DiffAugment: Sendable, Equatable {
    public var translation: Bool
    public var cutout: Bool

    /// `translation,cutout`, `translation`, `cutout` or `none` (order and spaces do not matter).
    /// - Throws: `DiffAugment.PolicyError` naming the unknown part.
    public init(policy: String) throws {
        let parts = policy.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        translation = false; cutout = false
        for p in parts {
            switch p {
            case "translation": translation = true
            case "cutout": cutout = true
            case "none": continue
            default: throw PolicyError(policy: policy, part: p)
            }
        }
    }

    public struct PolicyError: Error, CustomStringConvertible {
        let policy: String, part: String
        public var description: String { "augmentation policy '\(policy)': unknown part '\(part)' (use translation, cutout, both separated by a comma, or none)" }
    }

    /// The policy as text (`translation,cutout`, `none`).
    public var policy: String {
        let p = [translation ? "translation" : nil, cutout ? "cutout" : nil].compactMap { $0 }
        return p.isEmpty ? "none" : p.joined(separator: ",")
    }

    public var isIdentity: Bool { !translation && !cutout }

    /// One batch's random choices: per image, its shift and its cutout rectangle (half-open rows
    /// and columns; empty when cutout is off).
    public struct Draw: Sendable, Equatable {
        public var shifts: [[Int]]            // [dy, dx] per image
        public var holes: [[Int]]             // [y0, y1, x0, x1] per image

        /// The choices of the images at `indices`, in that order (a rank's share of a global draw).
        public func rows(_ indices: [Int]) -> Draw { Draw(shifts: indices.map { shifts[$0] }, holes: indices.map { holes[$0] }) }
    }

    /// Draws the choices for `batch` images of `height × width` from `rng` (uniforms, in image
    /// order: dy, dx, then cutout centre y, x).
    public func draw(batch: Int, height: Int, width: Int, rng: inout NoiseGenerator) -> Draw {
        func uniformInt(_ lo: Int, _ hi: Int) -> Int { lo + min(hi - lo, Int(rng.nextUniform() * Double(hi - lo + 1))) }
        let sy = Int((Double(height) / 8).rounded()), sx = Int((Double(width) / 8).rounded())
        let hy = (height + 1) / 2, hx = (width + 1) / 2
        var shifts: [[Int]] = [], holes: [[Int]] = []
        for _ in 0..<batch {
            shifts.append(translation ? [uniformInt(-sy, sy), uniformInt(-sx, sx)] : [0, 0])
            if cutout {
                let cy = uniformInt(0, height), cx = uniformInt(0, width)
                holes.append([max(0, cy - hy / 2), min(height, cy - hy / 2 + hy), max(0, cx - hx / 2), min(width, cx - hx / 2 + hx)])
            } else {
                holes.append([0, 0, 0, 0])
            }
        }
        return Draw(shifts: shifts, holes: holes)
    }

    /// `x` (`[B, H, W, C]`) augmented by `d`.
    public func apply(_ x: Tensor, _ d: Draw) -> Tensor { map(x, d, transposed: false) }

    /// The gradient with respect to `apply`'s input, given the gradient `dy` of its output.
    public func backward(_ dy: Tensor, _ d: Draw) -> Tensor { map(dy, d, transposed: true) }

    /// The augmentation (or its transpose) as one pass: output pixel `(y, x)` of image `b` reads
    /// input pixel `(y + dy, x + dx)` (transposed: `(y − dy, x − dx)`, and the hole applies to the
    /// input side), zero outside the image or inside the hole.
    private func map(_ x: Tensor, _ d: Draw, transposed: Bool) -> Tensor {
        let b = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3]
        precondition(d.shifts.count == b && d.holes.count == b, "augmentation draw for \(d.shifts.count) images, batch has \(b)")
        let out = Tensor(shape: x.shape)
        let src = x.data, dst = out.data
        for i in 0..<b {
            let sy = transposed ? -d.shifts[i][0] : d.shifts[i][0], sx = transposed ? -d.shifts[i][1] : d.shifts[i][1]
            let hole = d.holes[i]
            func inHole(_ y: Int, _ x: Int) -> Bool { y >= hole[0] && y < hole[1] && x >= hole[2] && x < hole[3] }
            for y in 0..<h {
                let ys = y + sy
                guard ys >= 0 && ys < h else { continue }
                for xx in 0..<w {
                    let xs = xx + sx
                    guard xs >= 0 && xs < w else { continue }
                    // Forward: the hole masks the output. Transposed: it masked the forward output,
                    // which is the transposed map's input pixel (ys, xs).
                    if transposed ? inHole(ys, xs) : inHole(y, xx) { continue }
                    (dst + ((i * h + y) * w + xx) * c).update(from: src + ((i * h + ys) * w + xs) * c, count: c)
                }
            }
        }
        return out
    }
}
