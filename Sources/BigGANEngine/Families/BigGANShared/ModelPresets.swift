/// Every standard generator configuration, in one place: ajbrock's BigGAN and
/// pytorch-pretrained-BigGAN's BigGAN-deep at their resolutions, the shipped Fashion-MNIST model,
/// the generator `biggan-train` trains, and the named presets of `biggan init` and `biggan-bench`.
extension ModelConfig {
    /// ajbrock BigGAN-PyTorch `G_arch` channel multipliers (in, out) per block, by resolution.
    static let bigganArch: [Int: [(Int, Int)]] = [
        32: [(4, 4), (4, 4), (4, 4)],
        64: [(16, 16), (16, 8), (8, 4), (4, 2)],
        128: [(16, 16), (16, 8), (8, 4), (4, 2), (2, 1)],
        256: [(16, 16), (16, 8), (8, 8), (8, 4), (4, 2), (2, 1)],
        512: [(16, 16), (16, 8), (8, 8), (8, 4), (4, 2), (2, 1), (1, 1)],
    ]

    /// pytorch-pretrained-BigGAN layer lists (upsample, in, out multipliers), by resolution.
    static let deepArch: [Int: [(Bool, Int, Int)]] = {
        let base: [(Bool, Int, Int)] = [(false, 16, 16), (true, 16, 16), (false, 16, 16), (true, 16, 8), (false, 8, 8)]
        let r128 = base + [(true, 8, 4), (false, 4, 4), (true, 4, 2), (false, 2, 2), (true, 2, 1)]
        let r256 = base + [(true, 8, 8), (false, 8, 8), (true, 8, 4), (false, 4, 4), (true, 4, 2), (false, 2, 2), (true, 2, 1)]
        return [128: r128, 256: r256, 512: r256 + [(false, 1, 1), (true, 1, 1)]]
    }()

    /// The ajbrock BigGAN generator at a standard resolution (32, 64, 128, 256, 512).
    public static func biggan(resolution: Int, ch: Int = 96, dimZ: Int = 120, sharedDim: Int = 128, nClasses: Int = 1000,
                              hier: Bool = true, attention: [Int] = [64], bnEps: Double = 1e-5, outChannels: Int = 3) -> ModelConfig? {
        guard let arch = bigganArch[resolution] else { return nil }
        return ModelConfig(architecture: .biggan, resolution: resolution, dimZ: dimZ, sharedDim: sharedDim, nClasses: nClasses,
                           classNames: nil, ch: ch, blocks: arch.map { Block($0.0 * ch, $0.1 * ch, up: true) },
                           attention: attention, hier: hier, bnEps: bnEps, outputBnEps: 1e-5, outChannels: outChannels,
                           nStats: nil, truncation: .resample, provenance: nil)
    }

    /// Fashion-MNIST's ten class names, in label order.
    public static let fashionMNISTClasses = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// The architecture of the shipped Fashion-MNIST model: 32×32 grey, channels tapering
    /// 256 → 128 → 64 → 32 over three upsampling blocks, attention at 16×16, hierarchical z.
    public static func fashionMNIST32() -> ModelConfig {
        var c = tapered(width: 32, dimZ: 64, classNames: fashionMNISTClasses, channels: 1)
        c.dataset = "fashion-mnist"
        c.classifier = "fashion-mnist-classifier.safetensors"
        return c
    }

    /// The generator `biggan-train` trains (and `biggan-bench --train` times): the shipped
    /// Fashion-MNIST layout scaled by `width`, three up-blocks 8w→4w→2w→w at 8, 16 and 32 pixels
    /// (256→128→64→32 at the default width 32), attention at 16 when 2w channels allow it,
    /// hierarchical z of `dimZ` with a shared embedding of the same size.
    public static func tapered(width w: Int, dimZ: Int, classNames: [String], channels: Int) -> ModelConfig {
        ModelConfig(architecture: .biggan, resolution: 32, dimZ: dimZ, sharedDim: dimZ, nClasses: classNames.count, classNames: classNames,
                    ch: w, blocks: [Block(8 * w, 4 * w, up: true), Block(4 * w, 2 * w, up: true), Block(2 * w, w, up: true)],
                    attention: 2 * w >= 8 && (2 * w) % 8 == 0 ? [16] : [], hier: true, bnEps: 1e-5, outputBnEps: 1e-5,
                    outChannels: channels, nStats: nil, truncation: .resample, provenance: nil)
    }

    /// The pytorch-pretrained-BigGAN BigGAN-deep generator (128, 256, 512).
    public static func bigganDeep(resolution: Int, ch: Int = 128, dimZ: Int = 128, sharedDim: Int = 128,
                                  nClasses: Int = 1000, attention: [Int] = [64]) -> ModelConfig? {
        guard let arch = deepArch[resolution] else { return nil }
        return ModelConfig(architecture: .bigganDeep, resolution: resolution, dimZ: dimZ, sharedDim: sharedDim, nClasses: nClasses,
                           classNames: nil, ch: ch, blocks: arch.map { Block($0.1 * ch, $0.2 * ch, up: $0.0) },
                           attention: attention, hier: nil, bnEps: 1e-4, outputBnEps: nil, outChannels: 3,
                           nStats: 51, truncation: .truncnormScaled, provenance: nil)
    }

    /// The names `preset(_:)` knows: `biggan-R` (R = 32, 64, 128, 256, 512), `deep-R`
    /// (R = 128, 256, 512) and `fashion-mnist-32`.
    public static let presetNames = ["biggan-32", "biggan-64", "biggan-128", "biggan-256", "biggan-512", "deep-128", "deep-256",
                                     "deep-512", "fashion-mnist-32"]

    /// A named standard configuration (`biggan init --preset`, `biggan-bench --model`); `ch`
    /// overrides the channel width and `nClasses` the class count (not for `fashion-mnist-32`).
    public static func preset(_ name: String, ch: Int? = nil, nClasses: Int = 1000) -> ModelConfig? {
        if name == "fashion-mnist-32" { return fashionMNIST32() }
        let parts = name.split(separator: "-")
        guard parts.count == 2, let res = Int(parts[1]) else { return nil }
        switch parts[0] {
        case "biggan":
            // ajbrock's TF-Hub placements: attention at 64 (128, 512) or 128 (256); at 32/64 use the middle block.
            let att = res == 256 ? [128] : res == 32 ? [16] : res == 64 ? [32] : [64]
            return biggan(resolution: res, ch: ch ?? (res == 32 ? 64 : 96), dimZ: res == 256 ? 140 : res == 512 ? 128 : 120,
                          nClasses: nClasses, attention: att)
        case "deep":
            return bigganDeep(resolution: res, ch: ch ?? 128, nClasses: nClasses)
        default: return nil
        }
    }
}
