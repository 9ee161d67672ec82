#!/usr/bin/env python3
"""Write StyleGAN v1 parity fixtures into Tests/Fixtures/ with random weights, using the PyTorch
reference of scripts/stylegan_ref.py (NVlabs operation order).

    python3 scripts/make_stylegan_fixtures.py [--out Tests/Fixtures]

Cases (small, so the files stay small; every other setting as NVlabs' defaults):
  stylegan-32-cond   32 px, 8 layers, z = w = 32, 4 mapping layers, 5 classes, channels 32/32/16/16,
                     fused up-convolution from 16 px (so both up paths are checked), blur on,
                     stored noise maps, truncation cutoff 4
  stylegan-32        unconditional, the same sizes, fused from 128 (never), blur off, no stored
                     noise (layers add none), cutoff 2

Weights are raw (equalised-learning-rate multipliers not applied) and random with the scales a
trained net has after the multipliers: mapping weights ~N(0, 1/lrmul) as NVlabs initialises them,
biases, noise weights, StyleMod biases and the constant random and nonzero so every term shows.

Each {case}-io.safetensors holds z [B, z_dim], labels [B, label_size] (one-hot; the conditional
case only), and outputs out_psi1 (no truncation) and out_psi07 (psi 0.7 on the config's cutoff),
NCHW, with the stored noise maps where the case has them.
"""
import argparse
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import stylegan_ref as ref  # noqa: E402
from checkpoint.format import write_checkpoint, write_tensors_sorted  # noqa: E402

CASES = {
    "stylegan-32-cond": dict(resolution=32, z_dim=32, w_dim=32, mapping_layers=4, mapping_lrmul=0.01, label_size=5,
                             channels=[32, 32, 16, 16], fused_scale_from=16, blur=True, out_channels=3,
                             truncation_cutoff=4, stored_noise=True),
    "stylegan-32": dict(resolution=32, z_dim=32, w_dim=32, mapping_layers=4, mapping_lrmul=0.01, label_size=0,
                        channels=[32, 32, 16, 16], fused_scale_from=128, blur=False, out_channels=3,
                        truncation_cutoff=2, stored_noise=False),
}


def random_tensors(cfg, g):
    def n(*shape, std=1.0):
        return torch.randn(*shape, generator=g) * std
    t = {}
    zin = cfg["z_dim"] * (2 if cfg["label_size"] else 1)
    if cfg["label_size"]:
        t["mapping/LabelConcat/weight"] = n(cfg["label_size"], cfg["z_dim"])
    for i in range(cfg["mapping_layers"]):
        fin = zin if i == 0 else cfg["w_dim"]
        t[f"mapping/Dense{i}/weight"] = n(cfg["w_dim"], fin, std=1 / cfg["mapping_lrmul"])
        t[f"mapping/Dense{i}/bias"] = n(cfg["w_dim"], std=5.0)   # x0.01 at run time
    t["dlatent_avg"] = n(cfg["w_dim"], std=0.3)
    ch = cfg["channels"]

    def layer(prefix, c):
        t[prefix + "/Noise/weight"] = n(c, std=0.3)
        t[prefix + "/bias"] = n(c, std=0.2)
        t[prefix + "/StyleMod/weight"] = n(2 * c, cfg["w_dim"])
        t[prefix + "/StyleMod/bias"] = n(2 * c, std=0.2)
    t["synthesis/4x4/Const/const"] = 1 + n(1, ch[0], 4, 4, std=0.3)
    layer("synthesis/4x4/Const", ch[0])
    t["synthesis/4x4/Conv/weight"] = n(ch[0], ch[0], 3, 3)
    layer("synthesis/4x4/Conv", ch[0])
    res_log2 = int(math.log2(cfg["resolution"]))
    for r in range(3, res_log2 + 1):
        res, cin, cout = 2 ** r, ch[r - 3], ch[r - 2]
        t[f"synthesis/{res}x{res}/Conv0_up/weight"] = n(cout, cin, 3, 3)
        layer(f"synthesis/{res}x{res}/Conv0_up", cout)
        t[f"synthesis/{res}x{res}/Conv1/weight"] = n(cout, cout, 3, 3)
        layer(f"synthesis/{res}x{res}/Conv1", cout)
    t["synthesis/ToRGB_lod0/weight"] = n(cfg["out_channels"], ch[-1], 1, 1)
    t["synthesis/ToRGB_lod0/bias"] = n(cfg["out_channels"], std=0.1)
    if cfg["stored_noise"]:
        for i in range(ref.layer_count(cfg["resolution"])):
            res = 2 ** (i // 2 + 2)
            t[f"synthesis/noise{i}"] = n(1, 1, res, res)
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(HERE), "Tests", "Fixtures"))
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    for k, (name, c) in enumerate(CASES.items()):
        cfg = dict(format_version=1, architecture="stylegan", **c)
        g = torch.Generator().manual_seed(100 + k)
        t = random_tensors(cfg, g)
        write_checkpoint(os.path.join(args.out, name + ".safetensors"), t, cfg)
        b = 3
        io = {"z": torch.randn(b, cfg["z_dim"], generator=g)}
        labels = None
        if cfg["label_size"]:
            labels = torch.nn.functional.one_hot(torch.tensor([0, 3, 4]), cfg["label_size"]).float()
            io["labels"] = labels
        noise = "const" if cfg["stored_noise"] else "none"
        io["out_psi1"] = ref.forward(cfg, t, io["z"], labels, noise=noise)
        io["out_psi07"] = ref.forward(cfg, t, io["z"], labels, psi=0.7, cutoff=cfg["truncation_cutoff"], noise=noise)
        write_tensors_sorted(os.path.join(args.out, name + "-io.safetensors"), io)
        o = io["out_psi1"]
        print(f"{name}: out {tuple(o.shape)}, std {o.std():.3f}, |max| {o.abs().max():.3f}; "
              f"psi 0.7 changes it by {(io['out_psi07'] - o).abs().max():.3f}")


if __name__ == "__main__":
    main()
