/// Which way a residual block resamples, named by the JSON key that says whether it does:
/// generator blocks upsample (`"up"`), discriminator blocks downsample (`"down"`).
public protocol BlockResampling: Sendable {
    static var key: String { get }
}

/// Nearest ×2 upsampling at the start of a generator block.
public enum Upsampling: BlockResampling { public static let key = "up" }

/// 2×2 average pooling at the end of a discriminator block.
public enum Downsampling: BlockResampling { public static let key = "down" }

/// One residual block of a generator (`ModelConfig.Block`) or discriminator
/// (`DiscriminatorConfig.Block`) configuration: its input and output channels and whether it
/// resamples by 2, stored as JSON `{"in": …, "out": …, "up"|"down": …}`.
public struct BlockSpec<Direction: BlockResampling>: Codable, Equatable, Sendable {
    public var inChannels: Int
    public var outChannels: Int
    /// Whether the block resamples (`up` or `down`, by `Direction`).
    public var resamples: Bool

    public init(_ i: Int, _ o: Int, resamples: Bool) { inChannels = i; outChannels = o; self.resamples = resamples }

    private struct Key: CodingKey {
        let stringValue: String
        init(_ s: String) { stringValue = s }
        init?(stringValue s: String) { stringValue = s }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        inChannels = try c.decode(Int.self, forKey: Key("in"))
        outChannels = try c.decode(Int.self, forKey: Key("out"))
        resamples = try c.decode(Bool.self, forKey: Key(Direction.key))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(inChannels, forKey: Key("in"))
        try c.encode(outChannels, forKey: Key("out"))
        try c.encode(resamples, forKey: Key(Direction.key))
    }
}

extension BlockSpec where Direction == Upsampling {
    public init(_ i: Int, _ o: Int, up: Bool) { self.init(i, o, resamples: up) }
    /// Nearest ×2 upsampling at the start of the block.
    public var up: Bool { get { resamples } set { resamples = newValue } }
}

extension BlockSpec where Direction == Downsampling {
    public init(_ i: Int, _ o: Int, down: Bool) { self.init(i, o, resamples: down) }
    /// 2×2 average pooling at the end of the block.
    public var down: Bool { get { resamples } set { resamples = newValue } }
}
