import Foundation

/// Interpolation between two vectors, `t ∈ [0, 1]`.
public enum Interpolation: String, Sendable, CaseIterable {
    case linear
    /// Spherical (slerp): along the great circle between the two directions, with the norm
    /// interpolated by the same weights. Falls back to linear for (anti)parallel vectors.
    case spherical

    public func apply(_ a: [Float], _ b: [Float], _ t: Double) -> [Float] {
        precondition(a.count == b.count)
        switch self {
        case .linear:
            return zip(a, b).map { Float((1 - t) * Double($0) + t * Double($1)) }
        case .spherical:
            let na = sqrt(a.reduce(0.0) { $0 + Double($1) * Double($1) })
            let nb = sqrt(b.reduce(0.0) { $0 + Double($1) * Double($1) })
            let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let cosw = max(-1, min(1, dot / max(na * nb, 1e-30)))
            let w = acos(cosw), s = sin(w)
            if s < 1e-6 { return Interpolation.linear.apply(a, b, t) }
            let ka = sin((1 - t) * w) / s, kb = sin(t * w) / s
            return zip(a, b).map { Float(ka * Double($0) + kb * Double($1)) }
        }
    }

    /// `steps` evenly spaced weights from 0 to 1 inclusive.
    public static func weights(steps: Int) -> [Double] {
        steps <= 1 ? [0] : (0..<steps).map { Double($0) / Double(steps - 1) }
    }
}
