import BigGANEngine

/// The model pairs `biggan-train` trains and `biggan-bench --train` times, in one place so that
/// the benchmark measures exactly what the trainer runs.
public enum TrainingPresets {
    /// The shipped Fashion-MNIST generator scaled by `width`: three up-blocks 8w→4w→2w→w at
    /// 8, 16 and 32 pixels (256→128→64→32 at the default width 32), attention at 16 when 2w
    /// channels allow it, hierarchical z of `dimZ` with a shared embedding of the same size.
    public static func taperedGenerator(width w: Int, dimZ: Int, classNames: [String], channels: Int) -> ModelConfig {
        var c = ModelConfig.fashionMNIST32()
        c.ch = w
        c.blocks = [.init(8 * w, 4 * w, up: true), .init(4 * w, 2 * w, up: true), .init(2 * w, w, up: true)]
        c.attention = 2 * w >= 8 && (2 * w) % 8 == 0 ? [16] : []
        c.dimZ = dimZ; c.sharedDim = dimZ
        c.nClasses = classNames.count; c.classNames = classNames
        c.outChannels = channels; c.resolution = 32
        return c
    }

    /// ajbrock's 32×32 discriminator with `4·width` channels in every block, no attention.
    public static func discriminator(width: Int, channels: Int, classes: Int) -> DiscriminatorConfig? {
        DiscriminatorConfig.biggan(resolution: 32, ch: width, inputChannels: channels, nClasses: classes, attention: [])
    }

    /// BigGAN-PyTorch's CIFAR-style 32×32 generator at `ch`: 4·ch channels in all three blocks,
    /// hierarchical z 128, shared embedding 128, no attention (1.25 M parameters at ch 32, RGB).
    public static func cifarGenerator(ch: Int, classes: Int, channels: Int) -> ModelConfig? {
        ModelConfig.biggan(resolution: 32, ch: ch, dimZ: 128, sharedDim: 128, nClasses: classes, attention: [], outChannels: channels)
    }
}
