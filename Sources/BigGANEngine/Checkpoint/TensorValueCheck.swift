/// Refuses parameter values no trained model holds: NaN or ±Inf anywhere, and a negative
/// batch-norm variance (tensors named `*.var`). Such a checkpoint loads without complaint and
/// then draws black or flat images; refusing it at load names the broken tensor instead.
enum TensorValueCheck {
    /// Whether `name` holds batch-norm variances (`statistics` reads `<bn>.mean` / `<bn>.var`).
    static func isVariance(_ name: String) -> Bool { name.hasSuffix(".var") }

    /// Throws a `CheckpointError` for `file`/`name` at the first bad element of `t`.
    static func check(_ t: Tensor, name: String, file: String) throws {
        let variance = isVariance(name)
        let p = t.data
        for i in 0..<t.count {
            let v = p[i]
            if v.isFinite && !(variance && v < 0) { continue }
            let why: String
            if v.isNaN { why = "holds NaN at element \(i)" }
            else if v.isInfinite { why = "holds \(v < 0 ? "-Inf" : "Inf") at element \(i)" }
            else { why = "negative batch-norm variance \(v) at element \(i)" }
            throw CheckpointError(file: file, tensor: name, why)
        }
    }
}
