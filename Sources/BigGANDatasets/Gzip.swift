import CBigGANZlib
import Foundation

/// Gzip (or zlib) decompression through zlib's `inflate`, for the `.gz` IDX files.
/// Foundation on Linux has no decompression API, hence this small wrapper.
enum Gzip {
    static func isGzip(_ d: [UInt8]) -> Bool { d.count >= 2 && d[0] == 0x1f && d[1] == 0x8b }

    /// Inflates `input`; `limit` bounds the output so a hostile file cannot exhaust memory.
    static func decompress(_ input: [UInt8], path: String, limit: Int = 1 << 30) throws -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 32: accept gzip or zlib headers.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DatasetError(path, "cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var status: Int32 = Z_OK
        try input.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = uInt(inBuf.count)
            repeat {
                status = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    throw DatasetError(path, status == Z_BUF_ERROR ? "truncated gzip data" : "corrupt gzip data (zlib error \(status))")
                }
                output.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
                guard output.count <= limit else { throw DatasetError(path, "decompressed data exceeds \(limit) bytes") }
                if status != Z_STREAM_END && stream.avail_in == 0 && stream.avail_out != 0 {
                    throw DatasetError(path, "truncated gzip data")
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
