/// 64-bit FNV-1a (Fowler–Noll–Vo): a fast, non-cryptographic hash of bytes that is the same on
/// every run and machine. The one hash behind the classifier's weight fingerprint, the data sets'
/// content hash (neighbour-index caches) and the server's model fingerprints and ETags.
///
/// `value = (value ^ byte) &* 0x100000001b3` for each byte, from `0xcbf29ce484222325`.
public struct FNV1a: Sendable {
    public var value: UInt64 = 0xcbf2_9ce4_8422_2325

    @inlinable public init() {}

    @inlinable public mutating func mix(_ byte: UInt8) { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }

    @inlinable public mutating func mix(_ bytes: UnsafeRawBufferPointer) { for b in bytes { mix(b) } }

    @inlinable public mutating func mix<S: Sequence>(_ bytes: S) where S.Element == UInt8 { for b in bytes { mix(b) } }

    /// Mixes a string's UTF-8 bytes.
    @inlinable public mutating func mix(_ s: String) { mix(s.utf8) }

    /// `value` in lower-case hexadecimal, without leading zeros.
    public var hex: String { String(value, radix: 16) }

    /// The hash of a string's UTF-8 bytes.
    @inlinable public static func hash(_ s: String) -> UInt64 {
        var h = FNV1a()
        h.mix(s)
        return h.value
    }
}
