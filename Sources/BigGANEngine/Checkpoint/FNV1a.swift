import Foundation

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

    /// Mixes `bytes` eight at a time, each little-endian 64-bit word as one FNV-1a step (then
    /// the last `count mod 8` bytes one by one): eight times faster than `mix(_:)` over large
    /// files, and a different value.
    @inlinable public mutating func mixWords(_ bytes: UnsafeRawBufferPointer) {
        let words = bytes.count / 8
        for i in 0..<words { value = (value ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))) &* 0x100_0000_01b3 }
        for b in bytes[(8 * words)...] { mix(b) }
    }

    /// The `mixWords` hash of the file at `path`, read in 4 MiB pieces (nothing is kept
    /// resident); nil if it cannot be read.
    public static func fileHash(_ path: String) -> UInt64? {
        guard let f = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? f.close() }
        var h = FNV1a()
        do {
            // `read(upToCount:)` answers nil (or empty data) at the end of the file and throws on errors.
            while let piece = try f.read(upToCount: 4 << 20), !piece.isEmpty { piece.withUnsafeBytes { h.mixWords($0) } }
            return h.value
        } catch { return nil }
    }

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
