import Foundation

/// The engine's seeded noise source. Platform-independent by construction:
///
/// - Integers: SplitMix64 (Steele, Lea & Flood 2014). The state starts at `seed`; each step adds
///   `0x9E3779B97F4A7C15` (wrapping) and returns the state mixed by
///   `z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27; z *= 0x94D049BB133111EB; z ^= z >> 31`.
/// - Uniforms: `Double(next() >> 11) * 2⁻⁵³` in `[0, 1)`.
/// - Normals: Box–Muller in double precision on a pair of uniforms `(u1, u2)`:
///   `r = sqrt(−2·ln(1 − u1))`, first `r·cos(2π·u2)`, then (next call) `r·sin(2π·u2)`; each is
///   rounded to `Float`. Only IEEE-754 arithmetic and libm's `log`, `cos`, `sin` in double are
///   used, so the same seed gives the same floats on every machine (libm differences of one ulp
///   in double vanish when rounding to float, barring a one-in-2²⁹ tie).
///
/// `scripts/noise_reference.py` implements the same algorithm; tests compare fixed vectors.
public struct NoiseGenerator: Sendable {
    /// The SplitMix64 state (read-only; with `spare` it is the whole generator state).
    public private(set) var state: UInt64
    /// The second normal of the last Box–Muller pair, returned by the next `nextNormal()`.
    public private(set) var spare: Float?

    public init(seed: UInt64) { state = seed }

    /// Restores a generator from a saved `state` and `spare` (e.g. to resume training exactly).
    public init(state: UInt64, spare: Float?) { self.state = state; self.spare = spare }

    public mutating func nextUInt64() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func nextUniform() -> Double { Double(nextUInt64() >> 11) * 0x1p-53 }

    /// Shuffles `a` in place (Fisher–Yates): for i from the last index down to 1, swaps a[i] with
    /// a[j], j = `nextUInt64() % (i + 1)`, one draw per i. Training data order, evaluation
    /// subsets and the linear probe's batches all use it, so their orders are fixed by the seed.
    public mutating func shuffle<T>(_ a: inout [T]) {
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, Int(nextUInt64() % UInt64(i + 1))) }
    }

    /// `0..<count` in the order `shuffle` gives.
    public mutating func permutation(_ count: Int) -> [Int] {
        var p = Array(0..<count)
        shuffle(&p)
        return p
    }

    public mutating func nextNormal() -> Float {
        if let s = spare { spare = nil; return s }
        let u1 = nextUniform(), u2 = nextUniform()
        let r = (-2 * Foundation.log(1 - u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        spare = Float(r * Foundation.sin(theta))
        return Float(r * Foundation.cos(theta))
    }
}
