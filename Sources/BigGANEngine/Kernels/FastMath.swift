/// Branch-free `exp` for `Float` that the compiler vectorises with baseline SSE2, used by the
/// softmax and tanh loops (libm's `expf` is a scalar call per element).
///
/// `exp(x) = 2ⁿ · exp(r)`, `n = round(x / ln 2)` (by the 1.5·2²³ magic-number trick),
/// `r = x − n·ln 2` in two parts (Cody–Waite), `exp(r)` by its degree-7 Taylor polynomial on
/// `|r| ≤ ln2/2` (truncation error < 5e-9 relative), `2ⁿ` built in the exponent bits.
/// Inputs are clamped to [−87, 88]; relative error is within a few float ulps.
@inlinable @inline(__always)
public func fastExp(_ x: Float) -> Float {
    // Only wrapping integer ops and selects below: a trapping conversion (Int32(Float)) or
    // Swift's NaN-aware min/max would stop the loop from vectorising.
    let xc = x < -87 ? -87 : (x > 88 ? 88 : x)
    let magic: Float = 12_582_912   // 1.5 · 2²³: adding it rounds to an integer in the low mantissa bits
    let t = xc * 1.442_695_04 + magic
    let n = t - magic
    let ni = Int32(bitPattern: t.bitPattern &- magic.bitPattern)
    let r = (xc - n * 0.693_145_751_953_125) - n * 1.428_606_765_330_187_045e-6
    var p: Float = 1.0 / 5040
    p = p * r + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let scale = Float(bitPattern: UInt32(bitPattern: (ni &+ 127) &<< 23))
    return p * scale
}

/// `tanh(x) = 1 − 2 / (exp(2x) + 1)`, absolute error below 1e-6.
@inlinable @inline(__always)
public func fastTanh(_ x: Float) -> Float {
    1 - 2 / (fastExp(2 * x) + 1)
}
