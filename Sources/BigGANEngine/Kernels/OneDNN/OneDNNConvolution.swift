import CBigGANDNNL
import Foundation

/// A convolution with fixed weights run by oneDNN, on NHWC f32 activations used in place.
///
/// - `.same`: k×k, "same" zero padding (k/2 on each side): `[B, H, W, in]` → `[B, H, W, out]`;
///   with `stride` s > 1 (encoders' downsampling), `[B, ⌊(H − 1)/s⌋ + 1, ⌊(W − 1)/s⌋ + 1, out]`,
///   as PyTorch's `Conv2d(k, stride=s, padding=k//2)` for odd k.
/// - `.upsampledInput`: a 3×3 "same" convolution of the nearest-neighbour 2× upsampled input,
///   `[B, H, W, in]` → `[B, 2H, 2W, out]`, computed without upsampling as one 2×2 convolution to
///   the phase grid and a gather (`PhaseGrid`; oneDNN's `brgconv` kernels need dense outputs).
///
/// Weights come in PyTorch's `[out, in, k, k]` and are reordered at construction into the layout
/// oneDNN's kernel prefers for the input size the model will give (`size`; oneDNN's blocking
/// depends on it). Only that copy is kept; a call at a size that prefers another layout gets its
/// own reordered copy at its first call.
/// Each image runs as its own batch-1 call, so an image's bytes never depend on its batch.
public final class OneDNNConvolution: @unchecked Sendable {
    public enum Mode: Sendable { case same, upsampledInput }

    /// What oneDNN does with the convolution's result as it writes it (post-ops), saving a pass
    /// over the activations.
    public enum Epilogue {
        /// Written as is.
        case none
        /// `max(0, y · scale[b, c] + shift[b, c])` (the next layer's batch norm and ReLU; per-sample
        /// `scale`, `shift` `[B, out]`). Unlike PyTorch's ReLU, oneDNN's maps NaN to 0 (every
        /// eltwise form that could keep NaN either is inexact or runs the same `max`). Weights are
        /// checked finite at load, and overflow shows as ±inf, which still reaches the output
        /// check (`NonFiniteOutputError`).
        case affineReLU(scale: Tensor, shift: Tensor)
        /// `into += scale · y` (`into` `[B, H', W', out]`, the residual, becomes the result). `.same` only.
        case accumulate(into: Tensor, scale: Float = 1)

        /// What the primitive is made for: the kind (0 none, 1 affine + ReLU, 2 accumulate) and,
        /// above two bits, the accumulate scale's bits.
        var key: Int {
            switch self {
            case .none: return 0
            case .affineReLU: return 1
            case .accumulate(_, let scale): return Int(scale.bitPattern) << 2 | 2
            }
        }
    }

    public let inChannels: Int, outChannels: Int, kernelSize: Int
    public let mode: Mode
    /// Step between output pixels in the input (`.same` only; 1 elsewhere).
    public let stride: Int

    /// The primitive for one input size.
    private struct Prepared {
        let primitive: dnnl_primitive_t
        let weights: dnnl_memory_t
        let srcDesc: dnnl_memory_desc_t, dstDesc: dnnl_memory_desc_t, scratchpad: dnnl_memory_desc_t
        let implementation: String
        let threads: Int
    }

    /// oneDNN's kernel size, padding and output channels: `k`, `k/2`, `out` (`.same`), or 2, 1,
    /// `4·out` (`.upsampledInput`).
    private let kernel: Int, padding: Int, convOutChannels: Int
    /// The reordered weights and their layout.
    private var weights: (memory: dnnl_memory_t, desc: dnnl_memory_desc_t)!
    private let bias: dnnl_memory_t
    private let biasStorage: Tensor
    private var prepared: [[Int]: Prepared] = [:]
    private var extraWeights: [dnnl_memory_t] = []
    private let lock = NSLock()

    /// - `weight`: `[out, in, k, k]`; `.upsampledInput` needs k = 3.
    /// - `bias`: `[out]`.
    /// - `size`: the input size `(H, W)` the layer will mostly see (default 8×8).
    /// - `stride`: ≥ 1; above 1 only for `.same`.
    public init(weight: Tensor, bias: Tensor, mode: Mode, size: (h: Int, w: Int)? = nil, stride: Int = 1) {
        precondition(weight.shape.count == 4 && weight.shape[2] == weight.shape[3] && bias.count == weight.shape[0])
        precondition(stride >= 1 && (stride == 1 || mode == .same), "only .same convolutions may be strided")
        self.stride = stride
        let user: Tensor   // [convOut, in, kernel, kernel], PyTorch order
        outChannels = weight.shape[0]; inChannels = weight.shape[1]; kernelSize = weight.shape[2]
        self.mode = mode
        switch mode {
        case .same:
            user = weight
            kernel = kernelSize; padding = kernelSize / 2; convOutChannels = outChannels
            biasStorage = bias.copy()
        case .upsampledInput:
            precondition(kernelSize == 3, "upsampled-input convolution needs a 3×3 kernel")
            kernel = 2; padding = 1; convOutChannels = 4 * outChannels
            user = PhaseGrid.kernel(weight)
            biasStorage = Tensor(shape: [4 * outChannels], values: Array(repeating: bias.array, count: 4).flatMap { $0 })
        }
        self.bias = OneDNN.memory(OneDNN.descriptor([convOutChannels], dnnl_a), data: biasStorage.data)
        let nominal = primitiveDescriptor(h: size?.h ?? 8, w: size?.w ?? 8, epilogue: 0)
        defer { dnnl_primitive_desc_destroy(nominal) }
        let preferred = dnnl_primitive_desc_query_md(nominal, dnnl_query_weights_md, 0)!.pointee
        let plain = OneDNN.descriptor([convOutChannels, inChannels, kernel, kernel], dnnl_oihw)
        weights = (OneDNN.reordered(UnsafeMutableRawPointer(user.data), plain, to: preferred), preferred)
    }

    deinit {
        for p in prepared.values { dnnl_primitive_destroy(p.primitive) }
        dnnl_memory_destroy(weights.memory)
        for m in extraWeights { dnnl_memory_destroy(m) }
        dnnl_memory_destroy(bias)
    }

    /// Output spatial size for an input of `h × w`.
    public func outputSize(h: Int, w: Int) -> (h: Int, w: Int) {
        mode == .same ? ((h - 1) / stride + 1, (w - 1) / stride + 1) : (2 * h, 2 * w)
    }

    /// The convolution's output grid for an input of `h × w`: the output (`.same`) or the phase grid.
    private func gridSize(h: Int, w: Int) -> (h: Int, w: Int) { mode == .same ? outputSize(h: h, w: w) : (h + 1, w + 1) }

    /// The primitive descriptor for inputs of `h × w` with the epilogue of key `epilogue`
    /// (`Epilogue.key`); the caller destroys it.
    private func primitiveDescriptor(h: Int, w: Int, epilogue: Int) -> dnnl_primitive_desc_t {
        let (gh, gw) = gridSize(h: h, w: w)
        var src = OneDNN.descriptor([1, inChannels, h, w], dnnl_nhwc)
        var dst = OneDNN.descriptor([1, convOutChannels, gh, gw], dnnl_nhwc)
        var wAny = OneDNN.descriptor([convOutChannels, inChannels, kernel, kernel], dnnl_format_tag_any)
        var b = OneDNN.descriptor([convOutChannels], dnnl_a)
        let strides: [Int64] = [Int64(stride), Int64(stride)], pad: [Int64] = [Int64(padding), Int64(padding)]
        var desc = dnnl_convolution_desc_t()
        OneDNN.check(strides.withUnsafeBufferPointer { st in pad.withUnsafeBufferPointer { p in
            dnnl_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct, &src, &wAny, &b, &dst,
                                               st.baseAddress, p.baseAddress, p.baseAddress) } }, "convolution descriptor")
        let attr = OneDNN.attributes()
        defer { dnnl_primitive_attr_destroy(attr) }
        if epilogue != 0 {
            var ops: dnnl_post_ops_t?
            OneDNN.check(dnnl_post_ops_create(&ops), "post-ops")
            defer { dnnl_post_ops_destroy(ops) }
            if epilogue == 1 {
                var perChannel = OneDNN.descriptor([1, convOutChannels, 1, 1], dnnl_nchw)
                OneDNN.check(dnnl_post_ops_append_binary(ops, dnnl_binary_mul, &perChannel), "scale post-op")
                OneDNN.check(dnnl_post_ops_append_binary(ops, dnnl_binary_add, &perChannel), "shift post-op")
                OneDNN.check(dnnl_post_ops_append_eltwise(ops, 1, dnnl_eltwise_relu, 0, 0), "ReLU post-op")
            } else {
                let scale = Float(bitPattern: UInt32(epilogue >> 2))
                if scale != 1 { OneDNN.check(dnnl_post_ops_append_eltwise(ops, 1, dnnl_eltwise_linear, scale, 0), "scale post-op") }
                OneDNN.check(dnnl_post_ops_append_sum(ops, 1), "sum post-op")
            }
            OneDNN.check(dnnl_primitive_attr_set_post_ops(attr, ops), "set post-ops")
        }
        var pd: dnnl_primitive_desc_t?
        OneDNN.check(dnnl_primitive_desc_create(&pd, &desc, attr, OneDNN.shared.engine, nil), "convolution primitive descriptor")
        return pd!
    }

    private func prepare(h: Int, w: Int, epilogue: Int, threads: Int) -> Prepared {
        let pd = primitiveDescriptor(h: h, w: w, epilogue: epilogue)
        defer { dnnl_primitive_desc_destroy(pd) }
        var primitive: dnnl_primitive_t?
        OneDNN.check(dnnl_primitive_create(&primitive, pd), "convolution primitive")
        var preferred = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)!.pointee
        var held = weights.desc
        let mem: dnnl_memory_t
        if dnnl_memory_desc_equal(&held, &preferred) != 0 {
            mem = weights.memory
        } else {
            // Another layout at this size: one more copy, reordered from the held one.
            var handle: UnsafeMutableRawPointer?
            OneDNN.check(dnnl_memory_get_data_handle(weights.memory, &handle), "weights handle")
            mem = OneDNN.reordered(handle!, weights.desc, to: preferred)
            extraWeights.append(mem)
        }
        return Prepared(primitive: primitive!, weights: mem,
                        srcDesc: dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0)!.pointee,
                        dstDesc: dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0)!.pointee,
                        scratchpad: OneDNN.scratchpadDescriptor(pd),
                        implementation: OneDNN.implementation(pd), threads: threads)
    }

    private func preparedFor(h: Int, w: Int, epilogue: Int = 0, threads: Int = Parallel.workers) -> Prepared {
        lock.lock(); defer { lock.unlock() }
        let key = [h, w, epilogue, threads]
        if let p = prepared[key] { return p }
        let p = OneDNN.creating(threads: threads) { prepare(h: h, w: w, epilogue: epilogue, threads: threads) }
        prepared[key] = p
        return p
    }

    /// Weight copies beyond the one made at construction (sizes that prefer another layout).
    public var extraWeightCopies: Int { lock.lock(); defer { lock.unlock() }; return extraWeights.count }

    /// The oneDNN implementation used for inputs of `h × w` (e.g. `brg:avx512_core`).
    public func implementation(h: Int, w: Int) -> String { preparedFor(h: h, w: w).implementation }

    /// `x` `[B, H, W, in]` → `[B, H', W', out]` (see `Mode`), finished by `epilogue`.
    public func callAsFunction(_ x: Tensor, epilogue: Epilogue = .none) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[3] == inChannels, "convolution expects [B,H,W,\(inChannels)], got \(x.shape)")
        let (b, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let (oh, ow) = outputSize(h: h, w: w), (gh, gw) = gridSize(h: h, w: w)
        let out: Tensor
        var scale: Tensor?, shift: Tensor?
        switch epilogue {
        case .none: out = Tensor(uninitializedShape: [b, oh, ow, outChannels])
        case .affineReLU(let sc, let sh):
            precondition(sc.count == b * outChannels && sh.count == b * outChannels, "epilogue: \(sc.shape) for \(b) images of \(outChannels)")
            out = Tensor(uninitializedShape: [b, oh, ow, outChannels])
            scale = sc; shift = sh
        case .accumulate(let into, _):
            precondition(mode == .same && into.shape == [b, oh, ow, outChannels], "accumulate into \(into.shape), expected \([b, oh, ow, outChannels])")
            out = into
        }
        let p = preparedFor(h: h, w: w, epilogue: epilogue.key, threads: OneDNN.threadsPerImage(b))
        OneDNN.forEachImage(b) { i in
            let image = out.data + i * oh * ow * outChannels
            let grid = mode == .same ? nil : Tensor(uninitializedShape: [gh, gw, convOutChannels])
            let src = OneDNN.memory(p.srcDesc, data: UnsafeMutableRawPointer(x.data + i * h * w * inChannels))
            let dst = OneDNN.memory(p.dstDesc, data: UnsafeMutableRawPointer(grid?.data ?? image))
            var args = [
                dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: src), dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: p.weights),
                dnnl_exec_arg_t(arg: DNNL_ARG_BIAS, memory: bias), dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: dst),
            ]
            var extra: [dnnl_memory_t] = []
            // The phase grid has each output channel four times: so have its scale and shift.
            let perImage = scale == nil ? nil : Tensor(uninitializedShape: [2, convOutChannels])
            if let scale, let shift, let perImage {
                for r in 0..<(convOutChannels / outChannels) {
                    (perImage.data + r * outChannels).update(from: scale.data + i * outChannels, count: outChannels)
                    (perImage.data + convOutChannels + r * outChannels).update(from: shift.data + i * outChannels, count: outChannels)
                }
                let d = OneDNN.descriptor([1, convOutChannels, 1, 1], dnnl_nchw)
                extra = [OneDNN.memory(d, data: perImage.data), OneDNN.memory(d, data: perImage.data + convOutChannels)]
                args.append(dnnl_exec_arg_t(arg: OneDNN.postOpArgument(0) | DNNL_ARG_SRC_1, memory: extra[0]))
                args.append(dnnl_exec_arg_t(arg: OneDNN.postOpArgument(1) | DNNL_ARG_SRC_1, memory: extra[1]))
            }
            OneDNN.execute(p.primitive, args, scratchpad: p.scratchpad, threads: p.threads)
            dnnl_memory_destroy(src); dnnl_memory_destroy(dst)
            for m in extra { dnnl_memory_destroy(m) }
            if let grid { Profiler.measure("phase gather") { PhaseGrid.gather(grid.data, h: h, w: w, channels: outChannels, into: image) } }
        }
        return out
    }
}
