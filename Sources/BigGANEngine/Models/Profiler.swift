import Foundation

/// Optional per-layer-kind timing of forward passes (for `biggan-bench --profile`).
/// Off by default; when off, `measure` only calls its body. Not thread-safe: profile one
/// forward pass at a time.
public enum Profiler {
    public struct Entry: Sendable {
        public var seconds: Double = 0
        /// Multiply-adds the engine actually performed (after algebraic savings).
        public var macs: Int = 0
        public var calls: Int = 0
    }

    nonisolated(unsafe) public static var isEnabled = false
    /// Also split convolutions by input size and channels.
    nonisolated(unsafe) public static var detailed = false
    nonisolated(unsafe) public private(set) static var entries: [String: Entry] = [:]

    @inline(__always)
    static func measure<T>(_ kind: String, macs: Int = 0, _ body: () -> T) -> T {
        guard isEnabled else { return body() }
        let start = DispatchTime.now().uptimeNanoseconds
        let result = body()
        let s = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        entries[kind, default: Entry()].seconds += s
        entries[kind, default: Entry()].macs += macs
        entries[kind, default: Entry()].calls += 1
        return result
    }

    public static func reset() { entries = [:] }
}

extension Conv2D {
    /// `self(x)`, or `self(up(x))` through the phase decomposition, timed under the profiler.
    func profiled(_ x: Tensor, upsampled: Bool = false) -> Tensor {
        guard Profiler.isEnabled else { return upsampled ? forwardUpsampled(x) : self(x) }
        let pixels = x.count / inChannels
        let detail = Profiler.detailed ? " \(x.shape[1])x\(x.shape[2]) \(inChannels)->\(outChannels)" : ""
        if upsampled {
            return Profiler.measure("conv3x3 after upsample (4 phases)" + detail, macs: pixels * 16 * inChannels * outChannels) { forwardUpsampled(x) }
        }
        let kind = kernelSize == 1 ? "conv1x1" : outChannels < 8 ? "conv3x3 to image" : "conv3x3"
        return Profiler.measure(kind + detail, macs: macs(outputPixels: pixels)) { self(x) }
    }
}

/// `affineReLU` timed under the profiler.
func profiledAffineReLU(_ x: Tensor, _ ss: (scale: Tensor, shift: Tensor), inPlace: Bool = false) -> Tensor {
    Profiler.measure("batch norm + ReLU") { affineReLU(x, scale: ss.scale, shift: ss.shift, inPlace: inPlace) }
}
