#!/usr/bin/env python3
"""Write the rosinality converter's parity fixture into Tests/Fixtures/: a random-weight checkpoint
in rosinality's `style-based-gan-pytorch` layout, converted by scripts/checkpoint/convert_rosinality.py
(through the registry), and the outputs of the PyTorch reference of rosinality's semantics
(scripts/rosinality_ref.py).

    python3 scripts/make_rosinality_fixtures.py [--out Tests/Fixtures]      (about 10 s)

Case `stylegan-rosinality-128`: rosinality's real key names and layout with reduced sizes (its
Generator fixes 512..16 channels and z = w = 512; a state dict with the same keys and smaller shapes
keeps the fixture small): z = w = 16, 8 mapping layers, blocks 0..6 with channels
16/16/16/16/8/8/4 (4..256 px), blocks from 128 px fused as in rosinality. The checkpoint holds
more blocks than are run (as rosinality's do) and is converted at 128 px (step 5), so it has
non-fused up-layers at 8..64 px and a fused one at 128 px. Channel 0 of the constant is nearly
constant (1 + 1e-3 N(0,1), no noise on it), so the instance norm's eps (1e-5 here, NVlabs 1e-8)
shows in the output; the convolution biases are large (std 0.5), so the bias-before-blur border
shows too. Only the converted checkpoint is written (`stylegan-rosinality-128.safetensors`, noise
maps and dlatent_avg seed 0), not the rosinality file.

`stylegan-rosinality-128-io.safetensors` holds z [1, 16] and, from the rosinality reference with
the noise maps the converter stored (one per block, both layers), out_psi1 (no truncation) and
out_psi07 (psi 0.7 on every layer towards mean_style, computed by the reference from the same
10,000 z the converter uses), NCHW [1, 3, 128, 128].

Checked here as well: the converted checkpoint run by scripts/stylegan_ref.py (our format's
semantics) matches the rosinality reference, the converter's dlatent_avg is the reference's
mean_style, and switching off either config field (bias_before_blur, instance_norm_eps) or the
fused kernel's 1/4 changes the output by far more than the tolerance (the fixture sees each).
"""
import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import checkpoint  # noqa: E402
import rosinality_ref as rref  # noqa: E402
import stylegan_ref as sref  # noqa: E402
from checkpoint.format import write_checkpoint, write_tensors_sorted  # noqa: E402

NAME = "stylegan-rosinality-128"
CHANNELS = [16, 16, 16, 16, 8, 8, 4]
Z_DIM, N_MLP, RESOLUTION, SEED = 16, 8, 128, 0


def fixture_state_dict():
    g = torch.Generator().manual_seed(300)
    sd = rref.random_state_dict(CHANNELS, Z_DIM, N_MLP, rref.ROSINALITY_FUSED_FROM, g)
    const = sd["generator.progression.0.conv1.input"]
    const[0, 0] = 1 + 1e-3 * torch.randn(4, 4, generator=g)      # a nearly constant channel
    sd["generator.progression.0.noise1.weight_orig"][0, 0] = 0
    return sd, g


def max_diff(a, b):
    return float((a - b).abs().max())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(HERE), "Tests", "Fixtures"))
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    sd, g = fixture_state_dict()
    ckpt = {"generator": sd, "g_running": sd, "discriminator": {}, "g_optimizer": {}, "d_optimizer": {}}
    config, tensors = checkpoint.get("stylegan-rosinality").convert(
        ckpt, resolution=RESOLUTION, seed=SEED, provenance=f"fixture: scripts/make_rosinality_fixtures.py (random weights, seed {SEED})")
    t = {k: torch.from_numpy(v) for k, v in tensors.items()}
    write_checkpoint(os.path.join(args.out, NAME + ".safetensors"), t, config)

    step = int(np.log2(RESOLUTION)) - 2
    noise = [t[f"synthesis/noise{2 * i}"] for i in range(step + 1)]
    assert all(torch.equal(t[f"synthesis/noise{2 * i}"], t[f"synthesis/noise{2 * i + 1}"]) for i in range(step + 1))
    mean = rref.mean_style(sd, torch.from_numpy(np.random.RandomState(SEED + 1).randn(10_000, Z_DIM)).float())
    assert max_diff(mean[0], t["dlatent_avg"]) < 1e-5, max_diff(mean[0], t["dlatent_avg"])
    z = torch.randn(1, Z_DIM, generator=g)
    io = {"z": z,
          "out_psi1": rref.forward(sd, z, step, noise),
          "out_psi07": rref.forward(sd, z, step, noise, mean_style=mean, style_weight=0.7)}
    write_tensors_sorted(os.path.join(args.out, NAME + "-io.safetensors"), io)

    ours = sref.forward(config, t, z, psi=0.7, cutoff=config["truncation_cutoff"])
    err = max_diff(ours, io["out_psi07"])
    assert err < 1e-4, f"converted checkpoint under stylegan_ref differs from the rosinality reference by {err}"
    assert max_diff(sref.forward(config, t, z), io["out_psi1"]) < 1e-4
    sens = {"bias_before_blur false": max_diff(sref.forward(dict(config, bias_before_blur=False), t, z), io["out_psi1"]),
            "instance_norm_eps 1e-8": max_diff(sref.forward(dict(config, instance_norm_eps=1e-8), t, z), io["out_psi1"])}
    fused = f"synthesis/{RESOLUTION}x{RESOLUTION}/Conv0_up/weight"
    sens["fused kernel without 1/4"] = max_diff(sref.forward(config, dict(t, **{fused: t[fused] * 4}), z), io["out_psi1"])
    for k, v in sens.items():
        assert v > 1e-2, f"the fixture does not see {k} ({v})"
    o = io["out_psi1"]
    print(f"{NAME}: out {tuple(o.shape)}, std {o.std():.3f}, |max| {o.abs().max():.3f}; stylegan_ref on the converted "
          f"checkpoint within {err:.1e}; without the rescaling: " + ", ".join(f"{k} {v:.2f}" for k, v in sens.items()))


if __name__ == "__main__":
    main()
