#!/usr/bin/env python3
"""Write the BigBiGAN parity fixtures into Tests/Fixtures/ (seeded, deterministic up to BLAS rounding).

    python3 scripts/make_bigbigan_fixtures.py [--out Tests/Fixtures]

Two small random-weight `bigbigan` checkpoints (docs/CHECKPOINT_FORMAT.md, "bigbigan"): an
ajbrock BigGAN generator (scripts/biggan_ref.py, randomised and converted as
scripts/make_fixtures.py does) plus an encoder (scripts/bigbigan_ref.py) with calibrated,
perturbed BN running statistics:

  bigbigan-32-grey   conditional G (3 named classes, hier, attention at 16), 1 channel;
                     E: avgpool downsampling, one hidden MLP layer, sigma softplus
  bigbigan-32-rgb    unconditional G (n_classes 1), 3 channels, no hier, no attention;
                     E: strided downsampling, no hidden MLP layer, sigma logvar

and for each an io file `{case}-io.safetensors` (B = 3 rows):

  x         [B, R, R, C]  NHWC input images in [-1, 1]
  z_mean    [B, z_dim]    sigma [B, z_dim]    features [B, feature_width]
  z_sample  [B, z_dim]    z_mean + sigma * eps, eps = the engine's untruncated latent of seed
                          SEED_BASE + i (scripts/noise_reference.py)
  classes   [B]           the class each reconstruction is conditioned on (0 when unconditional)
  recon     [B, R, R, C]  NHWC G(z_mean, shared(class)): the reconstruction
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import biggan_ref  # noqa: E402
import bigbigan_ref  # noqa: E402
import checkpoint  # noqa: E402
import noise_reference  # noqa: E402
from checkpoint import write_checkpoint, write_tensors_sorted  # noqa: E402
from make_fixtures import randomise_ajbrock, _perturbed_stats, _calibrate  # noqa: E402

B = 3
SEED_BASE = 11


def smooth_images(n, channels, side):
    """Random smooth images in [-1, 1]: 8x8 uniform noise upsampled bilinearly."""
    low = torch.rand(n, channels, 8, 8)
    return F.interpolate(low, size=(side, side), mode="bilinear", align_corners=False) * 2 - 1


def randomise_encoder(E, calib):
    with torch.no_grad():
        for m in E.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.3)
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                m.bias.normal_(0.0, 0.1)
    E.eval()

    def set_stats(mod, x):
        mean, var = _perturbed_stats(x)
        mod.running_mean.copy_(mean)
        mod.running_var.copy_(var)
    bns = [m for m in E.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    _calibrate(bns, set_stats, lambda: E(calib))
    return E


def bigbigan_checkpoint(G, E, provenance, class_names=None):
    """(config, tensors) of a `bigbigan` checkpoint holding the ajbrock generator G (SN not baked;
    converted by the registry's "biggan" converter, which bakes it) and the encoder E
    (bigbigan_ref.Encoder, its tensors under `encoder.`)."""
    cfg = G.config_dict()
    opts = {k: cfg[k] for k in ("resolution", "ch", "dim_z", "shared_dim", "hier", "attention", "bn_eps", "sn_eps")}
    gconfig, gtensors = checkpoint.get("biggan").convert(G.state_dict(), **opts, class_names=class_names,
                                                          provenance=provenance)
    config = {"format_version": 1, "architecture": "bigbigan", "generator": gconfig, "encoder": E.config_dict()}
    tensors = dict(gtensors)
    etensors = E.checkpoint_tensors()
    assert not set(tensors) & set(etensors)
    tensors.update(etensors)
    return config, tensors


def make_case(outdir, case, seed, g_kw, e_kw, class_names=None):
    torch.manual_seed(seed)
    G = biggan_ref.Generator(**g_kw)
    randomise_ajbrock(G)
    channels = G.out_channels
    E = bigbigan_ref.Encoder(in_channels=channels, z_dim=G.dim_z, **e_kw)
    randomise_encoder(E, smooth_images(8, channels, E.cfg["resolution"]))
    config, tensors = bigbigan_checkpoint(
        G, E, class_names=class_names,
        provenance=f"random test fixture '{case}' (scripts/make_bigbigan_fixtures.py, seed {seed})")
    write_checkpoint(os.path.join(outdir, f"{case}.safetensors"), tensors, config)

    x = smooth_images(B, channels, E.cfg["resolution"])
    classes = torch.tensor([i % G.n_classes for i in (1, 2, 0)])
    with torch.no_grad():
        mean, sigma, feats = E(x)
        recon = G(mean, G.shared(classes))
    eps = torch.tensor([eps_row(SEED_BASE + i, G.dim_z) for i in range(B)])
    z_sample = mean + sigma * eps
    nhwc = lambda t: t.permute(0, 2, 3, 1).contiguous()  # noqa: E731
    io_path = os.path.join(outdir, f"{case}-io.safetensors")
    write_tensors_sorted(io_path, {"x": nhwc(x), "z_mean": mean, "sigma": sigma, "features": feats, "z_sample": z_sample,
                                   "classes": classes.float(), "recon": nhwc(recon)},
                         {"case": case, "model": f"{case}.safetensors", "seed_base": str(SEED_BASE)})
    print(f"  {case}: z_mean |max| {mean.abs().max():.3f}, sigma [{sigma.min():.3f}, {sigma.max():.3f}], "
          f"features {tuple(feats.shape)} |max| {feats.abs().max():.3f}, recon std {recon.std():.3f}")


def eps_row(seed, dim):
    """The engine's untruncated latent of `seed`: `dim` standard normal draws in order."""
    r = noise_reference.Noise(seed)
    return [r.next_normal() for _ in range(dim)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures"))
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    print("writing BigBiGAN fixtures to", args.out)
    make_case(args.out, "bigbigan-32-grey", seed=21,
              g_kw=dict(resolution=32, ch=4, dim_z=20, shared_dim=8, n_classes=3, hier=True, attention=[16],
                        bn_eps=1e-5, sn_eps=1e-6, out_channels=1),
              e_kw=dict(resolution=32, stem_channels=8, blocks=[(8, 16, True), (16, 16, False), (16, 32, True)],
                        mlp=[32], bn_eps=1e-5, sigma="softplus", downsample="avgpool"),
              class_names=["circle", "square", "triangle"])
    make_case(args.out, "bigbigan-32-rgb", seed=22,
              g_kw=dict(resolution=32, ch=4, dim_z=16, shared_dim=8, n_classes=1, hier=False, attention=[],
                        bn_eps=1e-5, sn_eps=1e-6, out_channels=3),
              e_kw=dict(resolution=32, stem_channels=8, blocks=[(8, 16, True), (16, 24, True), (24, 24, False)],
                        mlp=[], bn_eps=1e-4, sigma="logvar", downsample="stride"))
    for f in sorted(os.listdir(args.out)):
        if f.startswith("bigbigan"):
            print(f"  {f:32s} {os.path.getsize(os.path.join(args.out, f)) / 1024:8.1f} KiB")


if __name__ == "__main__":
    main()
