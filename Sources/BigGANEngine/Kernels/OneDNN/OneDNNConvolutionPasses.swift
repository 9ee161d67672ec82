import CBigGANDNNL
import Foundation

/// The three passes of a convolution for training, run by oneDNN on whole batches:
/// forward, backward data (`dX`) and backward weights (`dW`). Unlike `OneDNNConvolution` the
/// weights change every step, so they are passed to each call in PyTorch's layout and reordered
/// into each primitive's preferred layout on the way in (`dW` on the way out).
///
/// - `x` / `dx`: `[B, H, W, in]`; `y` / `dy`: `[B, H', W', out]` with
///   `H' = (H + 2·padding − kernel) / stride + 1` (the same size for "same" padding, `H + 1` for
///   the 2×2 phase grid of `PhaseGrid`, `H/2` for `PooledConvolution`). NHWC f32, used in place.
/// - `weight` / `dW`: `[out, in, kernel, kernel]`; `bias`: `[out]`.
/// Primitives are made once per input shape `(B, H, W)`.
public final class OneDNNConvolutionPasses: @unchecked Sendable {
    public let inChannels: Int, outChannels: Int, kernel: Int, padding: Int, stride: Int

    /// A primitive with the layouts its operands need.
    private struct Primitive {
        let primitive: dnnl_primitive_t
        let scratchpad: dnnl_memory_desc_t
        /// The weights (or weight-gradient) layout it wants, and a buffer of that layout.
        let weightsDesc: dnnl_memory_desc_t
        let weights: dnnl_memory_t
    }
    private final class Prepared {
        let forwardPD: dnnl_primitive_desc_t
        let forward: Primitive
        var backwardData: Primitive?
        var backwardWeights: Primitive?
        let src: dnnl_memory_desc_t, dst: dnnl_memory_desc_t
        let threads: Int
        init(forwardPD: dnnl_primitive_desc_t, forward: Primitive, src: dnnl_memory_desc_t, dst: dnnl_memory_desc_t, threads: Int) {
            self.forwardPD = forwardPD; self.forward = forward; self.src = src; self.dst = dst; self.threads = threads
        }
    }
    private var prepared: [[Int]: Prepared] = [:]
    private let lock = NSLock()
    private let plainWeights: dnnl_memory_desc_t
    private let biasDesc: dnnl_memory_desc_t

    public init(inChannels: Int, outChannels: Int, kernel: Int, padding: Int, stride: Int = 1) {
        self.inChannels = inChannels; self.outChannels = outChannels; self.kernel = kernel; self.padding = padding; self.stride = stride
        plainWeights = OneDNN.descriptor([outChannels, inChannels, kernel, kernel], dnnl_oihw)
        biasDesc = OneDNN.descriptor([outChannels], dnnl_a)
    }

    deinit {
        for p in prepared.values {
            for prim in [p.forward, p.backwardData, p.backwardWeights].compactMap({ $0 }) {
                dnnl_primitive_destroy(prim.primitive); dnnl_memory_destroy(prim.weights)
            }
            dnnl_primitive_desc_destroy(p.forwardPD)
        }
    }

    /// Output size for an input of `h × w`.
    public func outputSize(h: Int, w: Int) -> (h: Int, w: Int) {
        ((h + 2 * padding - kernel) / stride + 1, (w + 2 * padding - kernel) / stride + 1)
    }

    private var geometry: (strides: [Int64], padding: [Int64]) { ([Int64(stride), Int64(stride)], [Int64(padding), Int64(padding)]) }

    private func primitive(_ pd: dnnl_primitive_desc_t, weightsQuery: dnnl_query_t) -> Primitive {
        var p: dnnl_primitive_t?
        OneDNN.check(dnnl_primitive_create(&p, pd), "convolution pass primitive")
        let wd = dnnl_primitive_desc_query_md(pd, weightsQuery, 0)!.pointee
        return Primitive(primitive: p!, scratchpad: OneDNN.scratchpadDescriptor(pd), weightsDesc: wd,
                         weights: OneDNN.memory(wd, data: nil, allocate: true))
    }

    /// The primitives for inputs `[b, h, w, in]` at `Parallel.workers` threads; made with
    /// `OneDNN.setThreads` in force (also for the backward primitives made later).
    private func preparedFor(b: Int, h: Int, w: Int) -> Prepared {
        let threads = Parallel.workers
        OneDNN.setThreads(threads)
        if let p = prepared[[b, h, w, threads]] { return p }
        let (oh, ow) = outputSize(h: h, w: w)
        var src = OneDNN.descriptor([b, inChannels, h, w], dnnl_nhwc)
        var dst = OneDNN.descriptor([b, outChannels, oh, ow], dnnl_nhwc)
        var wAny = OneDNN.descriptor([outChannels, inChannels, kernel, kernel], dnnl_format_tag_any)
        var bias = biasDesc
        var desc = dnnl_convolution_desc_t()
        let (st, pad) = geometry
        OneDNN.check(st.withUnsafeBufferPointer { s in pad.withUnsafeBufferPointer { p in
            dnnl_convolution_forward_desc_init(&desc, dnnl_forward_training, dnnl_convolution_direct, &src, &wAny, &bias, &dst,
                                               s.baseAddress, p.baseAddress, p.baseAddress) } }, "training convolution descriptor")
        let attr = OneDNN.attributes()
        defer { dnnl_primitive_attr_destroy(attr) }
        var pd: dnnl_primitive_desc_t?
        OneDNN.check(dnnl_primitive_desc_create(&pd, &desc, attr, OneDNN.shared.engine, nil), "training convolution primitive descriptor")
        let p = Prepared(forwardPD: pd!, forward: primitive(pd!, weightsQuery: dnnl_query_weights_md), src: src, dst: dst, threads: threads)
        prepared[[b, h, w, threads]] = p
        return p
    }

    private func reorder(_ from: dnnl_memory_t, _ to: dnnl_memory_t) {
        var pd: dnnl_primitive_desc_t?
        let attr = OneDNN.attributes()
        defer { dnnl_primitive_attr_destroy(attr) }
        var fd = OneDNN.descriptorOf(from), td = OneDNN.descriptorOf(to)
        OneDNN.check(dnnl_reorder_primitive_desc_create(&pd, &fd, OneDNN.shared.engine, &td, OneDNN.shared.engine, attr), "weights reorder")
        var r: dnnl_primitive_t?
        OneDNN.check(dnnl_primitive_create(&r, pd), "weights reorder primitive")
        OneDNN.execute(r!, [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: from), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: to)],
                       scratchpad: OneDNN.scratchpadDescriptor(pd!), threads: Parallel.workers)
        dnnl_primitive_destroy(r); dnnl_primitive_desc_destroy(pd)
    }

    /// `weight` (PyTorch layout) into `target`'s buffer and layout.
    private func load(_ weight: Tensor, into target: Primitive) {
        precondition(weight.shape == [outChannels, inChannels, kernel, kernel], "weights \(weight.shape)")
        let user = OneDNN.memory(plainWeights, data: weight.data)
        reorder(user, target.weights)
        dnnl_memory_destroy(user)
    }

    /// `y = conv(x, weight) + bias`.
    public func forward(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[3] == inChannels, "convolution expects [B,H,W,\(inChannels)], got \(x.shape)")
        lock.lock(); defer { lock.unlock() }
        let (b, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let p = preparedFor(b: b, h: h, w: w)
        load(weight, into: p.forward)
        let (oh, ow) = outputSize(h: h, w: w)
        let y = Tensor(uninitializedShape: [b, oh, ow, outChannels])
        let zero = bias == nil ? Tensor(shape: [outChannels]) : nil
        let mems = [OneDNN.memory(p.src, data: x.data), OneDNN.memory(p.dst, data: y.data), OneDNN.memory(biasDesc, data: (bias ?? zero!).data)]
        OneDNN.execute(p.forward.primitive, [
            dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: mems[0]), dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: p.forward.weights),
            dnnl_exec_arg_t(arg: DNNL_ARG_BIAS, memory: mems[2]), dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: mems[1]),
        ], scratchpad: p.forward.scratchpad, threads: p.threads)
        mems.forEach { dnnl_memory_destroy($0) }
        return y
    }

    /// A backward primitive for `p`'s shapes: `initialize` fills the descriptor from the source,
    /// weights (any layout) and destination descriptors, strides and padding.
    private func backwardPrimitive(
        _ p: Prepared, _ what: String, weightsQuery: dnnl_query_t,
        _ initialize: (inout dnnl_convolution_desc_t, inout dnnl_memory_desc_t, inout dnnl_memory_desc_t, inout dnnl_memory_desc_t,
                       UnsafePointer<Int64>?, UnsafePointer<Int64>?) -> dnnl_status_t
    ) -> Primitive {
        var src = p.src, dst = p.dst
        var weights = OneDNN.descriptor([outChannels, inChannels, kernel, kernel], dnnl_format_tag_any)
        var desc = dnnl_convolution_desc_t()
        let (st, pad) = geometry
        OneDNN.check(st.withUnsafeBufferPointer { s in pad.withUnsafeBufferPointer { q in
            initialize(&desc, &src, &weights, &dst, s.baseAddress, q.baseAddress) } }, what + " descriptor")
        let attr = OneDNN.attributes()
        defer { dnnl_primitive_attr_destroy(attr) }
        var pd: dnnl_primitive_desc_t?
        OneDNN.check(dnnl_primitive_desc_create(&pd, &desc, attr, OneDNN.shared.engine, p.forwardPD), what + " primitive descriptor")
        defer { dnnl_primitive_desc_destroy(pd) }
        return primitive(pd!, weightsQuery: weightsQuery)
    }

    /// `dx = convᵀ(dy, weight)` for an input of `inputShape` `[B, H, W, in]`.
    public func backwardData(_ dy: Tensor, weight: Tensor, inputShape: [Int]) -> Tensor {
        lock.lock(); defer { lock.unlock() }
        let (b, h, w) = (inputShape[0], inputShape[1], inputShape[2])
        let p = preparedFor(b: b, h: h, w: w)
        precondition(dy.shape == [b] + [outputSize(h: h, w: w).h, outputSize(h: h, w: w).w, outChannels], "gradient \(dy.shape)")
        if p.backwardData == nil {
            p.backwardData = backwardPrimitive(p, "backward-data", weightsQuery: dnnl_query_weights_md) { desc, src, weights, dst, s, q in
                dnnl_convolution_backward_data_desc_init(&desc, dnnl_convolution_direct, &src, &weights, &dst, s, q, q)
            }
        }
        let bd = p.backwardData!
        load(weight, into: bd)
        let dx = Tensor(uninitializedShape: inputShape)
        let mems = [OneDNN.memory(p.dst, data: dy.data), OneDNN.memory(p.src, data: dx.data)]
        OneDNN.execute(bd.primitive, [
            dnnl_exec_arg_t(arg: DNNL_ARG_DIFF_DST, memory: mems[0]), dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: bd.weights),
            dnnl_exec_arg_t(arg: DNNL_ARG_DIFF_SRC, memory: mems[1]),
        ], scratchpad: bd.scratchpad, threads: p.threads)
        mems.forEach { dnnl_memory_destroy($0) }
        return dx
    }

    /// `dW` `[out, in, kernel, kernel]` (PyTorch layout) of `x` and `dy`; the bias gradient is the
    /// caller's (`Σ dy` per channel).
    public func backwardWeights(_ x: Tensor, _ dy: Tensor) -> Tensor {
        lock.lock(); defer { lock.unlock() }
        let (b, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let p = preparedFor(b: b, h: h, w: w)
        if p.backwardWeights == nil {
            p.backwardWeights = backwardPrimitive(p, "backward-weights", weightsQuery: dnnl_query_diff_weights_md) { desc, src, weights, dst, s, q in
                dnnl_convolution_backward_weights_desc_init(&desc, dnnl_convolution_direct, &src, &weights, nil, &dst, s, q, q)
            }
        }
        let bw = p.backwardWeights!
        let mems = [OneDNN.memory(p.src, data: x.data), OneDNN.memory(p.dst, data: dy.data)]
        OneDNN.execute(bw.primitive, [
            dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: mems[0]), dnnl_exec_arg_t(arg: DNNL_ARG_DIFF_DST, memory: mems[1]),
            dnnl_exec_arg_t(arg: DNNL_ARG_DIFF_WEIGHTS, memory: bw.weights),
        ], scratchpad: bw.scratchpad, threads: p.threads)
        mems.forEach { dnnl_memory_destroy($0) }
        let dW = Tensor(uninitializedShape: [outChannels, inChannels, kernel, kernel])
        let user = OneDNN.memory(plainWeights, data: dW.data)
        reorder(bw.weights, user)
        dnnl_memory_destroy(user)
        return dW
    }
}
