import BigGANTestSupport
import Testing
@testable import BigGANEngine

@Suite struct KernelTests {
    @Test(arguments: [(1, 3, 5, 7), (3, 3, 4, 2), (1, 1, 6, 5), (2, 1, 3, 8)])
    func convolutionMatchesDirectReference(args: (Int, Int, Int, Int)) {
        let (batch, k, cin, cout) = args
        let x = randomTensor([batch, 6, 5, cin], seed: 1)
        let w = randomTensor([cout, cin, k, k], seed: 2), bias = randomTensor([cout], seed: 3)
        let conv = Conv2D(weight: w, bias: bias)
        #expect(maxAbsDiff(conv(x), referenceConv(x, weight: w, bias: bias)) < 1e-4)
    }

    @Test(arguments: [
        ([2, 5, 4, 6], 7),      // odd sizes, few channels
        ([2, 4, 4, 16], 32),    // BigGAN's first block: 4×4 inputs
        ([1, 8, 8, 288], 256),  // many channels (oneDNN's blocked kernels)
    ])
    func upsampledConvolutionEqualsUpsampleThenConvolve(shape: [Int], outChannels: Int) {
        let x = randomTensor(shape, seed: 6)
        let w = randomTensor([outChannels, shape[3], 3, 3], seed: 7, scale: 0.05), bias = randomTensor([outChannels], seed: 8)
        let conv = Conv2D(weight: w, bias: bias, input: .upsampled)
        let fused = conv(x)
        #expect(fused.shape == [shape[0], 2 * shape[1], 2 * shape[2], outChannels])
        #expect(maxAbsDiff(fused, referenceConv(upsampleNearest2x(x), weight: w, bias: bias)) < 1e-4)
    }

    @Test func imagesInABatchGetTheBytesTheyGetAlone() {
        let x = randomTensor([3, 8, 8, 32], seed: 9)
        let w = randomTensor([48, 32, 3, 3], seed: 10, scale: 0.1), bias = randomTensor([48], seed: 11)
        for input in [Conv2D.Input.same, .upsampled] {
            let conv = Conv2D(weight: w, bias: bias, input: input)
            let batch = conv(x)
            let per = batch.count / 3
            for i in 0..<3 {
                let one = conv(Tensor(shape: [1, 8, 8, 32], values: Array(UnsafeBufferPointer(start: x.data + i * 8 * 8 * 32, count: 8 * 8 * 32))))
                #expect(Array(UnsafeBufferPointer(start: batch.data + i * per, count: per)) == one.array)
            }
        }
    }

    @Test func convolutionKeepsOneWeightCopyAcrossSizes() {
        let w = randomTensor([32, 16, 3, 3], seed: 12, scale: 0.1)
        let conv = Conv2D(weight: w, bias: nil)
        for side in [4, 8, 16] {
            let x = randomTensor([1, side, side, 16], seed: 13)
            #expect(maxAbsDiff(conv(x), referenceConv(x, weight: w, bias: nil)) < 1e-4)
        }
        #expect(!conv.engine!.implementation(h: 8, w: 8).isEmpty)
        #expect(conv.engine!.extraWeightCopies == 0)
    }

    @Test func upsampleAndMaxPool() {
        let x = Tensor(shape: [1, 2, 2, 1], values: [1, 2, 3, 4])
        #expect(upsampleNearest2x(x).array == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        let y = Tensor(shape: [1, 2, 4, 2], values: [1, -1, 5, 0, 2, 2, 3, 9, 0, 7, 4, 1, -3, 3, 8, 8])
        #expect(maxPool2x2(y).array == [5, 7, 8, 9])
    }

    @Test func averagePool() {
        let y = Tensor(shape: [1, 2, 4, 2], values: [1, -1, 5, 0, 2, 2, 3, 9, 0, 7, 4, 1, -3, 3, 8, 8])
        #expect(avgPool2x2(y).array == [2.5, 1.75, 2.5, 5.5])
    }

    @Test func affineReLUUsesPerSampleScaleAndShift() {
        let x = Tensor(shape: [2, 1, 2, 2], values: [1, 2, 3, -4, 1, 2, 3, 4])
        let scale = Tensor(shape: [2, 2], values: [1, 2, -1, 0.5])
        let shift = Tensor(shape: [2, 2], values: [0, 1, 0, -1])
        #expect(affineReLU(x, scale: scale, shift: shift).array == [1, 5, 3, 0, 0, 0, 0, 1])
    }

    @Test func softmaxRowsSumToOne() {
        let t = Tensor(shape: [2, 3], values: [1, 2, 3, 1000, 1000, 1000])
        softmaxRows(t.data, rows: 2, cols: 3)
        #expect(abs(t[0] + t[1] + t[2] - 1) < 1e-6)
        #expect(abs(t[3] - 1.0 / 3) < 1e-6)
        #expect(t[2] > t[1] && t[1] > t[0])
    }

    /// 48×48 has 2304 queries: four full query chunks and a partial one.
    @Test(arguments: [4, 48])
    func attentionMatchesNaiveComputation(size: Int) {
        let (b, h, w, c) = (2, size, size, 16)
        let x = randomTensor([b, h, w, c], seed: 10)
        func proj(_ o: Int, _ i: Int, _ s: UInt64) -> Tensor { randomTensor([o, i, 1, 1], seed: s, scale: 0.3) }
        let wt = proj(2, c, 11), wp = proj(2, c, 12), wg = proj(8, c, 13), wo = proj(c, 8, 14)
        let att = SelfAttention(theta: Conv2D(weight: wt, bias: nil), phi: Conv2D(weight: wp, bias: nil),
                                g: Conv2D(weight: wg, bias: nil), o: Conv2D(weight: wo, bias: nil), gamma: 0.7)
        let x0 = x.copy()
        let y = att(x)
        #expect(x.array == x0.array, "attention changed its input")
        #expect(att(x0, consuming: true).array == y.array)
        // Naive: per pixel, dot products with pooled keys.
        let th = referenceConv(x, weight: wt, bias: nil), ph = maxPool2x2(referenceConv(x, weight: wp, bias: nil))
        let g = maxPool2x2(referenceConv(x, weight: wg, bias: nil))
        let n = h * w, m = n / 4
        let mixed = Tensor(shape: [b, h, w, 8])
        for bi in 0..<b { for p in 0..<n {
            var logits = [Double](repeating: 0, count: m)
            for q in 0..<m { for k in 0..<2 { logits[q] += Double(th[(bi * n + p) * 2 + k]) * Double(ph[(bi * m + q) * 2 + k]) } }
            let mx = logits.max()!, e = logits.map { Foundation.exp($0 - mx) }, s = e.reduce(0, +)
            for k in 0..<8 {
                var acc = 0.0
                for q in 0..<m { acc += e[q] / s * Double(g[(bi * m + q) * 8 + k]) }
                mixed[(bi * n + p) * 8 + k] = Float(acc)
            }
        } }
        let o = referenceConv(mixed, weight: wo, bias: nil)
        let expected = x.copy()
        for i in 0..<expected.count { expected[i] += 0.7 * o[i] }
        #expect(maxAbsDiff(y, expected) < 1e-4)
    }

    @Test func linearMatchesDefinition() {
        let w = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]), bias = Tensor(shape: [2], values: [0.5, -1])
        let x = Tensor(shape: [2, 3], values: [1, 0, -1, 2, 1, 0])
        #expect(Linear(weight: w, bias: bias)(x).array == [-1.5, -3, 4.5, 12])
    }

    @Test func truncationIndexedStatisticsFollowTheReference() {
        // 51 rows; row k holds the value k in every channel.
        let n = 51, c = 2
        let m = Tensor(shape: [n, c]), v = Tensor(shape: [n, c])
        for k in 0..<n { for j in 0..<c { m[k * c + j] = Float(k); v[k * c + j] = Float(k) + 1 } }
        let s = NormStatistics.truncationIndexed(means: m, variances: v)
        #expect(s.select(truncation: 0.4).mean == [20, 20])     // 0.4/0.02 == 20 exactly: row 20
        #expect(s.select(truncation: 1.0).mean == [50, 50])
        // 0.14/0.02 = 7.000000000000001: coef ≈ 9e-16, so the reference's inverted weights take row 8.
        #expect(abs(s.select(truncation: 0.14).mean[0] - 8) < 1e-5)
        // 0.45/0.02 = 22.5: an even mix of rows 22 and 23.
        #expect(abs(s.select(truncation: 0.45).mean[0] - 22.5) < 1e-4)
    }
}

import Foundation

@Suite struct FastMathTests {
    @Test func fastExpIsAccurate() {
        var worst: Double = 0
        var x: Float = -80
        while x < 80 {
            let rel = abs(Double(fastExp(x)) - Foundation.exp(Double(x))) / Foundation.exp(Double(x))
            worst = max(worst, rel)
            x += 0.0137
        }
        #expect(worst < 1e-6, "worst relative error \(worst)")
        #expect(fastExp(-200) >= 0 && fastExp(-200) < 1e-37)
        #expect(fastExp(0) == 1)
    }

    @Test func fastTanhIsAccurate() {
        var worst: Double = 0
        var x: Float = -12
        while x < 12 { worst = max(worst, abs(Double(fastTanh(x)) - Foundation.tanh(Double(x)))); x += 0.001 }
        #expect(worst < 1e-6, "worst absolute error \(worst)")
        #expect(fastTanh(100) == 1 && fastTanh(-100) == -1)
    }
}

@Suite struct FusedKernelTests {
    @Test(arguments: [1, 3, 4])
    func fewOutputConvolutionMatchesReference(outputs: Int) {
        let x = randomTensor([2, 7, 6, 10], seed: 20)
        let w = randomTensor([outputs, 10, 3, 3], seed: 21), bias = randomTensor([outputs], seed: 22)
        let conv = Conv2D(weight: w, bias: bias)
        #expect(conv.tapMajor != nil && conv.engine == nil)
        #expect(maxAbsDiff(conv(x), referenceConv(x, weight: w, bias: bias)) < 1e-4)
    }

    @Test func addUpsampledEqualsUpsampleThenAdd() {
        let x = randomTensor([2, 6, 4, 3], seed: 23), y = randomTensor([2, 3, 2, 3], seed: 24)
        let expected = x.copy()
        addInPlace(expected, upsampleNearest2x(y))
        addUpsampledInPlace(x, y)
        #expect(maxAbsDiff(x, expected) == 0)
    }
}
