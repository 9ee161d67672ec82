import Foundation

/// Optional timing by kind, for `biggan-bench --profile` (inference forward passes) and
/// `biggan-bench --train --profile` (training iterations). Off by default; when off, `measure`
/// only calls its body. Not thread-safe: profile from one thread at a time (the kernels
/// parallelise inside a measured body).
///
/// A kind named `outer: part` is measured inside a larger span (the kind `outer`, or for training
/// `step: …` the whole step): `report` lists it but does not add it to the total.
public enum Profiler {
    public struct Entry: Sendable {
        public var seconds: Double = 0
        /// Multiply-adds actually performed (after algebraic savings), where counted.
        public var macs: Int = 0
        public var calls: Int = 0
    }

    nonisolated(unsafe) public static var isEnabled = false
    /// Also split inference convolutions by input size and channels.
    nonisolated(unsafe) public static var detailed = false
    nonisolated(unsafe) public private(set) static var entries: [String: Entry] = [:]
    /// Parts measured on several threads at once (images side by side) add their times up.
    private static let lock = NSLock()

    @inline(__always) @discardableResult
    public static func measure<T>(_ kind: @autoclosure () -> String, macs: @autoclosure () -> Int = 0, _ body: () -> T) -> T {
        guard isEnabled else { return body() }
        let start = DispatchTime.now().uptimeNanoseconds
        let result = body()
        let s = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let k = kind(), m = macs()
        lock.lock()
        entries[k, default: Entry()].seconds += s
        entries[k, default: Entry()].macs += m
        entries[k, default: Entry()].calls += 1
        lock.unlock()
        return result
    }

    public static func reset() { entries = [:] }

    /// A table, slowest kind first: calls, milliseconds, share of the total, GFLOP/s (2 FLOP per
    /// counted multiply-add); then the total of the kinds that are not parts of another.
    public static func report() -> String {
        let sorted = entries.sorted { $0.value.seconds > $1.value.seconds }
        let total = sorted.filter { !$0.key.contains(": ") }.reduce(0) { $0 + $1.value.seconds }
        let width = max(40, (sorted.map(\.key.count).max() ?? 0) + 2)
        func pad(_ s: String) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
        var lines = [pad("kind") + " calls       ms   share  GFLOP/s"]
        for (kind, e) in sorted {
            let gf = e.macs > 0 ? String(format: "%8.1f", 2 * Double(e.macs) / e.seconds / 1e9) : "       -"
            lines.append(pad(kind) + String(format: " %5d %8.1f %6.1f%% ", e.calls, e.seconds * 1000, 100 * e.seconds / max(total, 1e-12)) + gf)
        }
        lines.append(pad("total") + String(format: "       %8.1f", total * 1000))
        return lines.joined(separator: "\n")
    }
}

extension Conv2D {
    /// `self(x, epilogue:)`, timed under the profiler.
    func profiled(_ x: Tensor, epilogue: Epilogue = .none) -> Tensor {
        guard Profiler.isEnabled else { return self(x, epilogue: epilogue) }
        let detail = Profiler.detailed ? " \(x.shape[1])x\(x.shape[2]) \(inChannels)->\(outChannels)" : ""
        let kind = (input == .upsampled ? "conv3x3 after upsample (2x2 phases)" : kernelSize == 1 ? "conv1x1"
                    : outChannels <= Conv2D.fewOutputs ? "conv3x3 to image" : "conv3x3") + detail
        let size = outputSize(h: x.shape[1], w: x.shape[2])   // strided convolutions included
        let pixels = x.shape[0] * size.h * size.w
        return Profiler.measure(kind, macs: input == .upsampled && !upsamplesFirst ? pixels / 4 * 16 * inChannels * outChannels : macs(outputPixels: pixels)) {
            self(x, epilogue: epilogue)
        }
    }
}

/// `affineReLU` timed under the profiler.
func profiledAffineReLU(_ x: Tensor, _ ss: (scale: Tensor, shift: Tensor), inPlace: Bool = false) -> Tensor {
    Profiler.measure("batch norm + ReLU") { affineReLU(x, scale: ss.scale, shift: ss.shift, inPlace: inPlace) }
}
