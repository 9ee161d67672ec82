import Foundation

/// NumPy's legacy `RandomState` for what StyleGAN's scripts draw: `RandomState(seed).randn(...)`
/// (MT19937 seeded with `init_genrand(seed)`, doubles from two 32-bit draws, Gaussians by the polar
/// Box–Muller method with a cached spare, as numpy/random/src/legacy/legacy-distributions.c). A
/// seed then gives NVlabs' z exactly (`seed_mode=numpy`); the engine's own `NoiseGenerator` stays
/// the default.
public struct NumPyRandomState: Sendable {
    private var key = [UInt32](repeating: 0, count: 624)
    private var position = 624
    private var spare: Double?

    /// `seed` must fit in 32 bits, as NumPy requires.
    public init(seed: UInt32) {
        key[0] = seed
        for i in 1..<624 { key[i] = 1_812_433_253 &* (key[i - 1] ^ (key[i - 1] >> 30)) &+ UInt32(i) }
    }

    private mutating func refill() {
        for i in 0..<624 {
            let y = (key[i] & 0x8000_0000) | (key[(i + 1) % 624] & 0x7fff_ffff)
            key[i] = key[(i + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_b0df)
        }
        position = 0
    }

    /// MT19937's next tempered 32-bit output.
    public mutating func nextUInt32() -> UInt32 {
        if position >= 624 { refill() }
        var y = key[position]
        position += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// A double in [0, 1) with 53 random bits (`random_sample`).
    public mutating func nextDouble() -> Double {
        let a = Double(nextUInt32() >> 5), b = Double(nextUInt32() >> 6)
        return (a * 67_108_864 + b) / 9_007_199_254_740_992
    }

    /// A standard normal (`legacy_gauss`).
    public mutating func nextGaussian() -> Double {
        if let s = spare { spare = nil; return s }
        var x1 = 0.0, x2 = 0.0, r2 = 0.0
        repeat {
            x1 = 2 * nextDouble() - 1
            x2 = 2 * nextDouble() - 1
            r2 = x1 * x1 + x2 * x2
        } while r2 >= 1 || r2 == 0
        let f = (-2 * log(r2) / r2).squareRoot()
        spare = f * x1
        return f * x2
    }

    /// `RandomState(seed).randn(1, count)[0]`.
    public static func randn(seed: UInt32, count: Int) -> [Double] {
        var r = NumPyRandomState(seed: seed)
        return (0..<count).map { _ in r.nextGaussian() }
    }
}
