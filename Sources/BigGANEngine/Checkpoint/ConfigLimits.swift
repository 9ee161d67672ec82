/// Bounds on every number a checkpoint's configuration may hold, checked before any arithmetic
/// uses it. Generous (BigGAN 512 and BigGAN-deep 512 are well inside) but finite, so that no
/// file can make a derived size overflow `Int` or ask for more memory than a machine has.
public enum ConfigLimits {
    /// Output height = width, and every intermediate resolution.
    public static let maxResolution = 4096
    /// `dim_z`, `shared_dim`, a classifier's `feature_dim`.
    public static let maxVectorWidth = 4096
    public static let maxClasses = 100_000
    public static let maxBlocks = 64
    public static let maxBottomWidth = 64
    /// Channels of any block (and `ch`).
    public static let maxChannels = 16384
    /// Truncation-indexed batch-norm statistics (`n_stats`).
    public static let maxStats = 1000
    /// Elements of one image's largest activation (resolution² × channels, or an attention map),
    /// 2^28 F32 values = 1 GiB.
    public static let maxActivationElements = 1 << 28
    /// Elements of one tensor (the safetensors reader's limit too).
    public static let maxTensorElements = Int(Int32.max)
    /// Stored scalars of one model, 2^31 F32 values = 8 GiB.
    public static let maxParameters = 1 << 31
}

/// Adds up tensor sizes with overflow checks: a product or sum past `Int` (or past the limits)
/// marks the tally as overflowed instead of trapping.
public struct SizeTally {
    public private(set) var total = 0
    public private(set) var largest = 0
    public private(set) var overflowed = false

    public init() {}

    /// The product of `dims` (all ≥ 0), or nil when it overflows `Int`.
    public static func product(_ dims: [Int]) -> Int? {
        var p = 1
        for d in dims {
            guard d >= 0 else { return nil }
            let (q, o) = p.multipliedReportingOverflow(by: d)
            if o { return nil }
            p = q
        }
        return p
    }

    /// Counts one tensor of shape `dims`.
    public mutating func add(_ dims: Int...) { add(dims) }

    public mutating func add(_ dims: [Int]) {
        guard let n = Self.product(dims) else { overflowed = true; return }
        largest = max(largest, n)
        let (s, o) = total.addingReportingOverflow(n)
        if o { overflowed = true } else { total = s }
    }

    /// The total, or nil when anything overflowed.
    public var value: Int? { overflowed ? nil : total }
}
