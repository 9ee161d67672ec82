import Foundation

/// Reader for the safetensors container: an 8-byte little-endian header length `n`, `n` bytes of
/// JSON header (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`),
/// then the data section; offsets are relative to the start of the data section.
///
/// Written by hand because no Swift safetensors library is available here. Every field of the
/// header is validated before any tensor is read: the file is treated as hostile input.
public struct SafeTensorsFile {
    public struct Entry: Equatable {
        public let dtype: String
        public let shape: [Int]
        public let begin: Int
        public let end: Int
    }

    public let path: String
    public let metadata: [String: String]
    public let entries: [String: Entry]
    private let data: Data
    private let dataStart: Int
    /// Whether `data` maps the file (then pages of read tensors may be released).
    private let mapped: Bool

    /// Largest header accepted (100 MiB), so a hostile length cannot exhaust memory.
    static let maxHeaderBytes = 100 << 20

    public init(path: String) throws {
        let name = (path as NSString).lastPathComponent
        // A directory, FIFO or link loop gets its own message (and a FIFO is never read, which would block).
        do { try InputFile.requireRegularFile(path) }
        catch let e as FileAccessError { throw CheckpointError(file: name, "cannot read file: \(e.problem) (\(path))") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) }
        catch { throw CheckpointError(file: name, "cannot read file: \((error as NSError).localizedDescription)") }
        try self.init(path: path, data: data, mapped: true)
    }

    /// `data`: the file's bytes; `mapped` only when they are a read-only mapping of the file.
    public init(path: String, data: Data, mapped: Bool = false) throws {
        self.path = path
        self.data = data
        self.mapped = mapped
        let name = (path as NSString).lastPathComponent
        func fail(_ why: String) -> CheckpointError { CheckpointError(file: name, why) }
        func fail(_ tensor: String, _ why: String) -> CheckpointError { CheckpointError(file: name, tensor: tensor, why) }
        guard data.count >= 8 else { throw fail("truncated: \(data.count) bytes, too short for a safetensors header") }
        let n = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> UInt64 in
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(raw[i]) << (8 * UInt64(i)) }
            return v
        }
        guard n <= UInt64(Self.maxHeaderBytes) else { throw fail("header length \(n) is implausibly large (limit \(Self.maxHeaderBytes))") }
        guard 8 + Int(n) <= data.count else { throw fail("truncated: header length \(n) runs past the end of the \(data.count)-byte file") }
        dataStart = 8 + Int(n)
        let dataBytes = data.count - dataStart
        let headerData = data.subdata(in: 8..<dataStart)
        guard let json = try? JSONSerialization.jsonObject(with: headerData), let header = json as? [String: Any] else {
            throw fail("header is not a valid JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]
        // Sorted key order throughout: `header` is a Dictionary, whose order differs from process
        // to process, and the first bad entry is the one reported — the same one on every run.
        for key in header.keys.sorted() {
            let value = header[key]!
            if key == "__metadata__" {
                guard let m = value as? [String: Any] else { throw fail("__metadata__ is not an object") }
                for k in m.keys.sorted() {
                    let v = m[k]!
                    guard let s = v as? String else { throw fail("__metadata__ value for '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let obj = value as? [String: Any] else { throw fail(key, "header entry is not an object") }
            guard let dtype = obj["dtype"] as? String else { throw fail(key, "missing dtype") }
            guard let shapeAny = obj["shape"] as? [Any], let shape = Self.ints(shapeAny) else { throw fail(key, "shape is not a list of integers") }
            guard let offAny = obj["data_offsets"] as? [Any], let offs = Self.ints(offAny), offs.count == 2 else {
                throw fail(key, "data_offsets is not a pair of integers")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw fail(key, "negative dimension in shape \(shape)") }
            guard offs[0] >= 0, offs[0] <= offs[1] else { throw fail(key, "bad data_offsets \(offs)") }
            guard offs[1] <= dataBytes else {
                throw fail(key, "truncated: data_offsets \(offs) run past the \(dataBytes) data bytes in the file")
            }
            guard dtype == "F32" else { throw fail(key, "dtype \(dtype) is not supported (only F32)") }
            var elements = 1
            for d in shape {
                let (p, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow, p <= Int(Int32.max) else { throw fail(key, "shape \(shape) is too large") }
                elements = p
            }
            guard offs[1] - offs[0] == elements * 4 else {
                throw fail(key, "data_offsets \(offs) hold \(offs[1] - offs[0]) bytes but shape \(shape) of F32 needs \(elements * 4)")
            }
            entries[key] = Entry(dtype: dtype, shape: shape, begin: offs[0], end: offs[1])
        }
        let sorted = entries.sorted { ($0.value.begin, $0.key) < ($1.value.begin, $1.key) }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.value.begin < a.value.end {
            throw fail(b.key, "data overlaps tensor '\(a.key)'")
        }
        self.metadata = metadata
        self.entries = entries
    }

    private static func ints(_ a: [Any]) -> [Int]? {
        var out: [Int] = []
        for v in a {
            guard let n = v as? Int else { return nil }
            out.append(n)
        }
        return out
    }

    /// Copies tensor `name` out of the file.
    public func tensor(_ name: String) throws -> Tensor {
        guard let e = entries[name] else {
            throw CheckpointError(file: (path as NSString).lastPathComponent, tensor: name, "missing tensor")
        }
        let t = Tensor(shape: e.shape)
        let byteCount = e.end - e.begin
        data.withUnsafeBytes { raw in
            let src = raw.baseAddress! + dataStart + e.begin
            // Little-endian F32 on a little-endian host: a plain copy (unaligned-safe).
            UnsafeMutableRawPointer(t.data).copyMemory(from: src, byteCount: byteCount)
            // Each tensor is read once: drop its whole pages of the mapped file from resident
            // memory now, so loading never holds the file and the copies at the same time.
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            let lo = (Int(bitPattern: src) + page - 1) / page * page, hi = (Int(bitPattern: src) + byteCount) / page * page
            if mapped && hi > lo { _ = madvise(UnsafeMutableRawPointer(bitPattern: lo), hi - lo, MADV_DONTNEED) }
        }
        return t
    }
}

/// Writes safetensors files (F32 only), atomically: a temporary file in the same folder, then a rename.
public enum SafeTensorsWriter {
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String], to path: String) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, t) in tensors {
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + t.count * 4]] as [String: Any]
            offset += t.count * 4
        }
        var headerBytes = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out = Data(capacity: 8 + headerBytes.count + offset)
        var n = UInt64(headerBytes.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(headerBytes)
        for (_, t) in tensors { out.append(UnsafeBufferPointer(start: t.data, count: t.count)) }
        try writeAtomically(out, to: path)
    }

    /// Writes `data` through `OutputFile.write` (atomic replacement of regular files; links,
    /// devices and FIFOs handled there). Kept so that existing callers read naturally.
    public static func writeAtomically(_ data: Data, to path: String) throws {
        try OutputFile.write(data, to: path)
    }
}
