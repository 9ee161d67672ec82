#!/usr/bin/env python3
"""PyTorch timing of BigGAN training iterations, the baseline for `biggan-bench --train`.

    python3 scripts/bench_torch_train.py --config shipped|width32 [--batch N] [--iters 5] [--threads 2] [--json]

One iteration is what biggan-train runs: two D steps and one G step, each D step on
cat[G(z), x] in one pass with hinge losses and Adam(β1 0, β2 0.999); the G step through D,
G's off-diagonal orthogonal regulariser (β 1e-4, shared embedding excluded) and an EMA update
of G. fp32, train mode, random data, `torch.set_num_threads(threads)`.

Models (the same as biggan-bench's presets):
  shipped  G 256→128→64→32 (blocks at 8/16/32, attention at 16), z 64 hierarchical, shared 64,
           1 output channel; D ajbrock 32×32 with 64 channels, no attention; batch 32.
  width32  BigGAN-PyTorch's CIFAR-style pair at ch 32: G 128 channels in every block, z 128
           hierarchical, shared 128, no attention, RGB (1.25 M parameters); D 128 channels,
           no attention (1.06 M); batch 64.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import biggan_ref  # noqa: E402
from make_train_fixtures import Discriminator  # noqa: E402


def models(config):
    if config == "shipped":
        G = biggan_ref.Generator(resolution=32, ch=32, dim_z=64, shared_dim=64, n_classes=10, hier=True,
                                 attention=[16], sn_eps=1e-6, out_channels=1, arch=biggan_ref.tapered_arch(32))
        c, channels, batch = 64, 1, 32
    else:
        G = biggan_ref.Generator(resolution=32, ch=32, dim_z=128, shared_dim=128, n_classes=10, hier=True,
                                 attention=[], sn_eps=1e-6, out_channels=3)
        c, channels, batch = 128, 3, 64
    D = Discriminator([(channels, c, True, False), (c, c, True, False), (c, c, False, False), (c, c, False, False)],
                      10, sn_eps=1e-6)
    return G, D, channels, batch


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", choices=["shipped", "width32"], default="shipped")
    ap.add_argument("--batch", type=int, help="default: 32 shipped, 64 width32")
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    G, D, channels, default_batch = models(args.config)
    b = args.batch or default_batch
    biggan_ref.init_ortho(G)
    biggan_ref.init_ortho(D)
    G.train(); D.train()
    ema = {k: v.detach().clone() for k, v in G.state_dict().items()}
    g_opt = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.0, 0.999), eps=1e-8)
    d_opt = torch.optim.Adam(D.parameters(), lr=4e-4, betas=(0.0, 0.999), eps=1e-8)
    x = (torch.randn(b, channels, 32, 32) * 0.5).clamp(-1, 1)
    y = torch.arange(b) % 10
    ortho = [p for n, p in G.named_parameters() if p.dim() >= 2 and not n.startswith("shared")]

    def d_step():
        d_opt.zero_grad()
        z, fy = torch.randn(b, G.dim_z), torch.randint(0, 10, (b,))
        with torch.no_grad():
            g_z = G(z, G.shared(fy))
        out = D(torch.cat([g_z, x], 0), torch.cat([fy, y], 0))
        d_fake, d_real = torch.split(out, [b, b])
        (torch.mean(F.relu(1. - d_real)) + torch.mean(F.relu(1. + d_fake))).backward()
        d_opt.step()

    def g_step():
        for p in D.parameters():
            p.requires_grad_(False)
        g_opt.zero_grad()
        z, fy = torch.randn(b, G.dim_z), torch.randint(0, 10, (b,))
        (-torch.mean(D(G(z, G.shared(fy)), fy))).backward()
        with torch.no_grad():   # ajbrock's utils.ortho: grad += β · 2 (W Wᵀ ⊙ (1 − I)) W
            for p in ortho:
                w = p.view(p.shape[0], -1)
                p.grad += 1e-4 * 2 * torch.mm(torch.mm(w, w.t()) * (1. - torch.eye(w.shape[0])), w).view(p.shape)
        g_opt.step()
        with torch.no_grad():
            for k, v in G.state_dict().items():
                if v.dtype.is_floating_point:
                    ema[k].mul_(0.999).add_(v, alpha=0.001)
        for p in D.parameters():
            p.requires_grad_(True)

    def iteration():
        d_step(); d_step(); g_step()

    iteration()   # warm-up
    times = []
    for _ in range(args.iters):
        t0 = time.perf_counter(); iteration(); times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    gp, dp = sum(p.numel() for p in G.parameters()), sum(p.numel() for p in D.parameters())
    if args.json:
        print(json.dumps({"impl": "torch", "train": args.config, "batch": b, "threads": args.threads, "d_steps": 2,
                          "s_per_iteration": med, "iterations_per_s": 1 / med, "best_s": min(times),
                          "g_params": gp, "d_params": dp, "iters": args.iters}, sort_keys=True))
    else:
        print(f"torch train {args.config} batch {b} (2 D steps + 1 G step), {args.threads} threads: {med:.3f} s/iteration, "
              f"{1 / med:.2f} iterations/s (median of {args.iters}, best {min(times):.3f} s); G {gp}, D {dp} parameters")


if __name__ == "__main__":
    main()
