#!/usr/bin/env python3
"""PyTorch timing of one BigGAN training iteration (one D step + one G step), the baseline for
the Swift training library's benchmark (`BIGGAN_TRAIN_BENCH=1 swift test ... --filter BenchmarkTests`).

    python3 scripts/bench_train_torch.py [--batch 32] [--ch 32] [--iters 5] [--threads 2]

Model (the same as the Swift benchmark): 32×32 grey images, 10 classes; G = ajbrock generator
(`biggan_ref.Generator`, resolution 32, G_ch `ch`, dim_z 128 hierarchical, shared 128, attention at
16); D = ajbrock D_arch[32] with D_ch `ch`, 1 input channel, attention after the first block with a
16×16 output (`make_train_fixtures.Discriminator`). The step is ajbrock's training function: D on
cat[G(z), x] in one pass, hinge losses, Adam(0, 0.999); G step through D; no ortho term (it is
cheap); fp32, train mode, `torch.set_num_threads(threads)`.
"""
import argparse
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--ch", type=int, default=32)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    c = 4 * args.ch
    G = biggan_ref.Generator(resolution=32, ch=args.ch, dim_z=128, shared_dim=128, n_classes=10, hier=True,
                             attention=[16], sn_eps=1e-6, out_channels=1)
    D = Discriminator([(1, c, True, True), (c, c, True, False), (c, c, False, False), (c, c, False, False)], 10, sn_eps=1e-6)
    biggan_ref.init_ortho(G)
    biggan_ref.init_ortho(D)
    G.train(); D.train()
    g_opt = torch.optim.Adam(G.parameters(), lr=5e-5, betas=(0.0, 0.999), eps=1e-8)
    d_opt = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.0, 0.999), eps=1e-8)
    b = args.batch
    x = (torch.randn(b, 1, 32, 32) * 0.5).clamp(-1, 1)
    y = torch.arange(b) % 10

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
        g_opt.step()
        for p in D.parameters():
            p.requires_grad_(True)

    d_step(); g_step()   # warm-up
    dt, gt = [], []
    for _ in range(args.iters):
        t0 = time.perf_counter(); d_step(); t1 = time.perf_counter(); g_step(); t2 = time.perf_counter()
        dt.append(t1 - t0); gt.append(t2 - t1)
    dm, gm = statistics.median(dt), statistics.median(gt)
    best = min(d + g for d, g in zip(dt, gt))
    print(f"torch train bench: batch {b} ch {args.ch}: D step {dm * 1e3:.1f} ms, G step {gm * 1e3:.1f} ms, "
          f"iteration {(dm + gm) * 1e3:.1f} ms (median of {args.iters}), best {best * 1e3:.1f} ms; threads {args.threads}")


if __name__ == "__main__":
    main()
