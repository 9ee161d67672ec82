import BigGANTestSupport
import Testing
@testable import BigGANEngine

/// The oneDNN-backed kernels against plain references: epilogues (post-ops), the weight-streaming
/// linear kernel, matmul and softmax.
@Suite struct OneDNNKernelTests {
    @Test(arguments: [Conv2D.Input.same, .upsampled])
    func affineReLUEpilogueEqualsConvolutionThenAffineReLU(input: Conv2D.Input) {
        let x = randomTensor([2, 6, 5, 16], seed: 30)
        let w = randomTensor([24, 16, 3, 3], seed: 31, scale: 0.1), bias = randomTensor([24], seed: 32)
        let scale = randomTensor([2, 24], seed: 33), shift = randomTensor([2, 24], seed: 34)
        let conv = Conv2D(weight: w, bias: bias, input: input)
        let fused = conv(x, epilogue: .affineReLU(scale: scale, shift: shift))
        let expected = affineReLU(conv(x), scale: scale, shift: shift)
        #expect(fused.shape == expected.shape)
        #expect(maxAbsDiff(fused, expected) < 1e-5)
        #expect(fused.array.contains(0) && fused.array.allSatisfy { $0 >= 0 })
    }

    @Test func accumulateEpilogueAddsToTheResidual() {
        let x = randomTensor([3, 5, 7, 12], seed: 37)
        let conv = Conv2D(weight: randomTensor([20, 12, 1, 1], seed: 38), bias: randomTensor([20], seed: 39))
        let residual = randomTensor([3, 5, 7, 20], seed: 40)
        let expected = conv(x)
        addInPlace(expected, residual)
        let out = conv(x, epilogue: .accumulate(into: residual))
        #expect(out === residual)
        #expect(maxAbsDiff(out, expected) < 1e-5)
    }

    @Test func scaledAccumulateEpilogueAddsGammaTimesTheConvolution() {
        let x = randomTensor([2, 4, 6, 16], seed: 46)
        let conv = Conv2D(weight: randomTensor([8, 16, 1, 1], seed: 47), bias: nil)
        let residual = randomTensor([2, 4, 6, 8], seed: 48)
        let expected = addingScaled(residual, 0.7, conv(x))
        #expect(maxAbsDiff(conv(x, epilogue: .accumulate(into: residual, scale: 0.7)), expected) < 1e-5)
    }

    @Test(arguments: [false, true])
    func affineReLUAndResidualEqualsTheTwoPasses(upsample: Bool) {
        let x = randomTensor([2, 3, 5, 8], seed: 53)
        let scale = randomTensor([2, 8], seed: 54), shift = randomTensor([2, 8], seed: 55)
        let (a, r) = affineReLUAndResidual(x, scale: scale, shift: shift, keep: 3, upsample: upsample)
        #expect(a.array == affineReLU(x, scale: scale, shift: shift).array)
        let first = Tensor(shape: [2, 3, 5, 3], values: (0..<30).flatMap { p in (0..<3).map { x[p * 8 + $0] } })
        #expect(r.array == (upsample ? upsampleNearest2x(first) : first).array)
    }

    @Test func maxPoolPropagatesNaN() {
        let x = Tensor(shape: [1, 2, 2, 2], values: [1, .nan, 5, 2, -1, 3, 0, 4])
        let y = maxPool2x2(x)
        #expect(y[0] == 5 && y[1].isNaN)
    }

    @Test(arguments: [(1, 300, 7), (5, 256, 1000), (3, 17, 33)])
    func linearMatchesNaiveAndIsBatchInvariant(args: (Int, Int, Int)) {
        let (rows, inputs, outputs) = args
        let x = randomTensor([rows, inputs], seed: 41), w = randomTensor([outputs, inputs], seed: 42), b = randomTensor([outputs], seed: 43)
        let y = Linear(weight: w, bias: b)(x)
        for i in 0..<rows {
            for j in Set([0, outputs / 2, outputs - 1]) {
                var s = Double(b[j])
                for k in 0..<inputs { s += Double(x[i * inputs + k]) * Double(w[j * inputs + k]) }
                #expect(abs(Double(y[i * outputs + j]) - s) < 1e-4)
            }
            let alone = Linear(weight: w, bias: b)(Tensor(shape: [1, inputs], values: Array(x.array[(i * inputs)..<((i + 1) * inputs)])))
            #expect(alone.array == Array(y.array[(i * outputs)..<((i + 1) * outputs)]))
        }
    }

    /// `OneDNN.forEachImage` runs a batch's images one thread each and a single image on two:
    /// the products must not depend on the thread count (BigGAN-deep-128's attention shapes).
    @Test(arguments: [(512, 32, 1024, true), (512, 1024, 128, false), (4096, 128, 27, false)])
    func matmulBytesDoNotDependOnThreads(shape: (Int, Int, Int, Bool)) {
        let (m, k, n, transposed) = shape
        let a = randomTensor([m, k], seed: 49), b = randomTensor(transposed ? [n, k] : [k, n], seed: 50)
        let results = [1, 2].map { threads in
            BLAS.withThreads(threads) { () -> [Float] in
                let c = Tensor(shape: [m, n])
                OneDNNMatmul.cached(m: m, k: k, n: n, transposedB: transposed)(a.data, b.data, into: c.data)
                return c.array
            }
        }
        #expect(results[0] == results[1])
    }

    @Test(arguments: [([1, 16, 16, 128], 128, 3), ([1, 8, 8, 512], 128, 1), ([1, 4, 4, 256], 256, 3)])
    func convolutionBytesDoNotDependOnThreads(shape: [Int], outputs: Int, kernel: Int) {
        let x = randomTensor(shape, seed: 51)
        let w = randomTensor([outputs, shape[3], kernel, kernel], seed: 52, scale: 0.05)
        for input in kernel == 3 ? [Conv2D.Input.same, .upsampled] : [.same] {
            let conv = Conv2D(weight: w, bias: nil, input: input)
            let one = BLAS.withThreads(1) { conv(x).array }, two = BLAS.withThreads(2) { conv(x).array }
            #expect(one == two)
        }
    }

    @Test func matmulAndSoftmaxMatchReferences() {
        let (m, k, n) = (9, 5, 13)
        let a = randomTensor([m, k], seed: 44), bt = randomTensor([n, k], seed: 45)
        let c = Tensor(shape: [m, n])
        OneDNNMatmul.cached(m: m, k: k, n: n, transposedB: true)(a.data, bt.data, into: c.data)
        for i in 0..<m { for j in 0..<n {
            var s: Float = 0
            for q in 0..<k { s += a[i * k + q] * bt[j * k + q] }
            #expect(abs(c[i * n + j] - s) < 1e-5)
        } }
        let expected = c.copy()
        softmaxRows(expected.data, rows: m, cols: n)
        OneDNNSoftmax.cached(rows: m, cols: n)(c.data)
        #expect(maxAbsDiff(c, expected) < 1e-6)
    }
}
