#!/usr/bin/env python3
"""PyTorch CPU baseline timing for BigGAN-deep-128 (HF), BigGAN-128 (ajbrock, ch 96) and the
shipped Fashion-MNIST architecture (fashion-mnist-32).

    python3 scripts/bench_torch.py --model deep-128|biggan-128|fashion-mnist-32 --batch N --threads T [--iters K] [--json] [--keep-sn]

Builds the model with random weights (HF `BigGAN(BigGANConfig())` for deep-128; the ajbrock
reference in scripts/biggan_ref.py with ch 96, dim_z 120, shared 128, hier, attention [64] for
biggan-128; the same reference with the tapered 256→128→64→32 block table, z 64, shared 64,
attention [16], one output channel for fashion-mnist-32), eval(), torch.no_grad(), torch.set_num_threads(T); one warm-up iteration, then K
timed iterations (default 5, at least 3). Reports the median ms per image and GFLOP/s.

Spectral norm: by default SN is baked once before timing (W / sigma computed once, as our
engine does at load time), so torch is timed on plain convolutions; --keep-sn times the modules
as they ship (HF re-divides every weight by sigma on each forward; ajbrock re-runs a power step).

FLOPs: `flops_per_image(model_name)` counts 2 x MACs of every convolution, linear layer
(including the conditional-BN gain/bias linears and the class embedding matmul of -deep) and the
two attention matmuls. BN, ReLU, upsampling, softmax and tanh are not counted. The count is for
the useful output: the -deep `conv_to_rgb` is counted with its 3 kept output channels (torch
actually computes all 128; `flops_per_image(name, torch_executed=True)` counts those too).
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

MODELS = ("deep-128", "biggan-128", "fashion-mnist-32")

# layer lists (upsample?, in x ch, out x ch) of the HF -deep models
_DEEP_LAYERS = {
    128: [(False, 16, 16), (True, 16, 16), (False, 16, 16), (True, 16, 8), (False, 8, 8),
          (True, 8, 4), (False, 4, 4), (True, 4, 2), (False, 2, 2), (True, 2, 1)],
    256: [(False, 16, 16), (True, 16, 16), (False, 16, 16), (True, 16, 8), (False, 8, 8),
          (True, 8, 8), (False, 8, 8), (True, 8, 4), (False, 4, 4), (True, 4, 2),
          (False, 2, 2), (True, 2, 1)],
}


def _attention_flops(c, res):
    n = res * res
    f = 2 * n * c * (c // 8) * 2          # theta, phi
    f += 2 * n * c * (c // 2)             # g
    f += 2 * n * (c // 2) * c             # o
    f += 2 * n * (n // 4) * (c // 8)      # theta^T phi
    f += 2 * (c // 2) * n * (n // 4)      # g beta^T
    return f


def deep_flops(resolution=128, ch=128, dim_z=128, n_classes=1000, attention_position=8,
               torch_executed=False):
    layers = _DEEP_LAYERS[resolution]
    cond = 2 * dim_z
    f = 2 * n_classes * dim_z                     # embeddings (linear on the class vector)
    f += 2 * cond * 16 * ch * 16                  # gen_z
    res = 4
    for i, (up, a_m, b_m) in enumerate(layers):
        a, b = a_m * ch, b_m * ch
        if i == attention_position:
            f += _attention_flops(a, res)
        m = a // 4
        r_in = res
        if up:
            res *= 2
        f += 2 * 2 * cond * (a + 3 * m)           # scale/offset linears of bn_0..bn_3
        f += 2 * a * m * r_in * r_in              # conv_0 (1x1, before the upsample)
        f += 2 * 2 * m * m * 9 * res * res        # conv_1, conv_2
        f += 2 * m * b * res * res                # conv_3
    rgb_out = ch if torch_executed else 3
    f += 2 * ch * rgb_out * 9 * res * res         # conv_to_rgb
    return f


def biggan_flops(resolution=128, ch=96, dim_z=120, shared_dim=128, hier=True, attention=(64,),
                 out_channels=3, arch=None):
    import biggan_ref
    arch = arch or biggan_ref.g_arch(resolution, ch, attention)
    n = len(arch)
    chunk = dim_z // (n + 1) if hier else 0
    z0 = chunk if hier else dim_z
    cond = shared_dim + chunk
    f = 2 * z0 * arch[0]["in"] * 16               # linear
    for b in arch:
        r = b["resolution"]
        f += 2 * 2 * cond * (b["in"] + b["out"])  # bn1/bn2 gain+bias linears
        f += 2 * b["in"] * b["out"] * 9 * r * r   # conv1
        f += 2 * b["out"] * b["out"] * 9 * r * r  # conv2
        f += 2 * b["in"] * b["out"] * r * r       # conv_sc
        if b["attention"]:
            f += _attention_flops(b["out"], r)
    f += 2 * arch[-1]["out"] * out_channels * 9 * resolution * resolution
    return f


def flops_per_image(model_name, torch_executed=False):
    """Analytic FLOPs (2 x MACs) for one image of the benchmark models."""
    if model_name == "deep-128":
        return deep_flops(128, torch_executed=torch_executed)
    if model_name == "deep-256":
        return deep_flops(256, torch_executed=torch_executed)
    if model_name == "biggan-128":
        return biggan_flops()
    if model_name == "fashion-mnist-32":
        import biggan_ref
        return biggan_flops(32, 32, 64, 64, True, (16,), 1, arch=biggan_ref.tapered_arch(32))
    raise ValueError(model_name)


def _bake_hf_sn(model):
    for m in model.modules():
        if hasattr(m, "weight_orig"):
            torch.nn.utils.remove_spectral_norm(m)  # keeps W_orig / sigma (eval-mode sigma)


def _bake_ajbrock_sn(G):
    import biggan_ref
    for m in G.modules():
        if isinstance(m, (biggan_ref.SNConv2d, biggan_ref.SNLinear)):
            with torch.no_grad():
                sigma, _ = biggan_ref.sn_sigma(m.weight, m.u0, m.sn_eps)
                w = (m.weight / sigma).contiguous()
            if isinstance(m, biggan_ref.SNConv2d):
                m.forward = (lambda x, m=m, w=w: torch.nn.functional.conv2d(x, w, m.bias, m.stride, m.padding))
            else:
                m.forward = (lambda x, m=m, w=w: torch.nn.functional.linear(x, w, m.bias))


def build(model_name, batch, keep_sn=False):
    """Return (callable running one batch, description)."""
    torch.manual_seed(0)
    if model_name == "deep-128":
        from pytorch_pretrained_biggan import BigGAN, BigGANConfig
        from pytorch_pretrained_biggan.utils import truncated_noise_sample
        from make_fixtures import _set_sn_vectors
        model = BigGAN(BigGANConfig())
        with torch.no_grad():
            for m in model.modules():
                if hasattr(m, "weight_orig"):
                    _set_sn_vectors(m)
        model.eval()
        if not keep_sn:
            _bake_hf_sn(model)
        t = 0.4
        z = torch.from_numpy(truncated_noise_sample(batch, 128, t, seed=0)).float()
        y = torch.nn.functional.one_hot(torch.arange(batch) % 1000, 1000).float()
        return (lambda: model(z, y, t)), "HF BigGAN-deep-128 (BigGANConfig() defaults)"
    if model_name in ("biggan-128", "fashion-mnist-32"):
        import biggan_ref
        if model_name == "biggan-128":
            G = biggan_ref.Generator(resolution=128, ch=96, dim_z=120, shared_dim=128, n_classes=1000,
                                     hier=True, attention=[64], bn_eps=1e-5, sn_eps=1e-6)
            desc = "ajbrock BigGAN-128 reference (ch 96, hier, attention 64)"
        else:
            G = biggan_ref.Generator(resolution=32, ch=32, dim_z=64, shared_dim=64, n_classes=10, hier=True,
                                     attention=[16], sn_eps=1e-6, out_channels=1, arch=biggan_ref.tapered_arch(32))
            desc = "shipped fashion-mnist-32 architecture (ajbrock reference, tapered blocks)"
        biggan_ref.init_ortho(G)
        G.eval()
        if not keep_sn:
            _bake_ajbrock_sn(G)
        z = torch.randn(batch, G.dim_z)
        with torch.no_grad():
            y = G.shared(torch.arange(batch) % G.n_classes)
        return (lambda: G(z, y)), desc
    raise ValueError(model_name)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, choices=MODELS)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print one JSON object only")
    ap.add_argument("--keep-sn", action="store_true", help="time the SN modules as shipped")
    args = ap.parse_args(argv)
    iters = max(3, args.iters)

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    flops = flops_per_image(args.model)
    flops_exec = flops_per_image(args.model, torch_executed=True)
    with torch.no_grad():
        run, desc = build(args.model, args.batch, keep_sn=args.keep_sn)
        out = run()                                   # warm-up
        if not torch.isfinite(out).all():
            print("warning: non-finite outputs", file=sys.stderr)
        times = []
        for _ in range(iters):
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
    ms = statistics.median(times) * 1000.0 / args.batch
    gflops = flops / (ms / 1000.0) / 1e9
    res = {"model": args.model, "batch": args.batch, "threads": args.threads,
           "ms_per_image": round(ms, 3), "gflops": round(gflops, 2),
           "gflop_per_image": round(flops / 1e9, 4), "torch_version": torch.__version__}
    if args.json:
        print(json.dumps(res))
        return
    print(f"{desc}: batch {args.batch}, threads {args.threads}, {iters} timed iterations"
          f"{' (SN as shipped)' if args.keep_sn else ' (SN baked)'}, torch {torch.__version__}")
    print(f"flops_per_image({args.model}) = {flops / 1e9:.3f} GFLOP"
          + (f" (torch executes {flops_exec / 1e9:.3f}: full conv_to_rgb)" if flops_exec != flops else ""))
    print(f"iteration times (s): {', '.join(f'{t:.3f}' for t in times)}")
    print(f"ms_per_image {ms:.1f}   GFLOP/s {gflops:.1f}")


if __name__ == "__main__":
    main()
