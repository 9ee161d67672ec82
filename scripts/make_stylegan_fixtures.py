#!/usr/bin/env python3
"""Write StyleGAN v1 parity fixtures into Tests/Fixtures/ with random weights, using the PyTorch
reference of scripts/stylegan_ref.py (NVlabs operation order).

    python3 scripts/make_stylegan_fixtures.py [--out Tests/Fixtures]

Cases (small, so the files stay small; every other setting as NVlabs' defaults):
  stylegan-32-cond   32 px, 8 layers, z = w = 32, 4 mapping layers, 5 classes, channels 32/32/16/16,
                     every up-convolution fused (NVlabs' fused_scale=True), blur on,
                     stored noise maps, truncation cutoff 4, per-class W centroids
                     (dlatent_class_avg, by the converter's class_centroids: 10,000 z per class)
  stylegan-32        unconditional, the same sizes, fused from 128 (never: nearest x2 + conv), blur off, no stored
                     noise (layers add none), cutoff 2

Weights are raw (equalised-learning-rate multipliers not applied) and random with the scales a
trained net has after the multipliers: mapping weights ~N(0, 1/lrmul) as NVlabs initialises them,
biases, noise weights, StyleMod biases and the constant random and nonzero so every term shows.

The conditional case is also written as an NVlabs pickle (TF layouts, dnnlib Network records,
`lod` and the progressive-growing ToRGB_lod1.. leftovers included) to a temporary file and
converted back with scripts/checkpoint/convert_stylegan.py (`stylegan-32-cond-from-pickle`): every
converted tensor must equal the original, and the unpickler must refuse a pickle that asks for any
other class.

Each {case}-io.safetensors holds z [B, z_dim], labels [B, label_size] (one-hot; the conditional
case only), and outputs out_psi1 (no truncation) and out_psi07 (psi 0.7 on the config's cutoff,
towards the global dlatent_avg as NVlabs does), NCHW, with the stored noise maps where the case
has them. The conditional case also holds out_psi07_class: psi 0.7 towards each image's class
centroid (dlatent_class_avg[label]).
"""
import argparse
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import stylegan_ref as ref  # noqa: E402
from checkpoint.format import write_checkpoint, write_tensors_sorted  # noqa: E402

CASES = {
    "stylegan-32-cond": dict(resolution=32, z_dim=32, w_dim=32, mapping_layers=4, mapping_lrmul=0.01, label_size=5,
                             channels=[32, 32, 16, 16], fused_scale_from=8, blur=True, out_channels=3,
                             truncation_cutoff=4, stored_noise=True, class_centroids=True),
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


def write_nvlabs_pickle(path, cfg, t):
    """`t` (our layouts) as NVlabs' (G, D, Gs) pickle of dnnlib Network records, TF layouts."""
    import pickle
    import types
    import numpy as np
    mod = types.ModuleType("dnnlib.tflib.network")

    class Network:
        def __init__(self, state):
            self.state = state

        def __getstate__(self):
            return self.state

        def __setstate__(self, state):
            self.state = state
    Network.__module__ = "dnnlib.tflib.network"
    Network.__qualname__ = "Network"
    mod.Network = Network
    sys.modules.setdefault("dnnlib", types.ModuleType("dnnlib"))
    sys.modules.setdefault("dnnlib.tflib", types.ModuleType("dnnlib.tflib"))
    sys.modules["dnnlib.tflib.network"] = mod
    a = lambda x: x.numpy().astype(np.float32)  # noqa: E731
    mapping, synthesis = [], [("lod", np.float32(0))]
    for k, v in t.items():
        if k.startswith("mapping/"):
            name = k[len("mapping/"):]
            mapping.append((name, a(v.T) if name.startswith("Dense") and name.endswith("/weight") else a(v)))
        elif k.startswith("synthesis/"):
            name = k[len("synthesis/"):]
            if v.dim() == 4 and not name.startswith("noise") and "Const/const" not in name:
                v = v.permute(2, 3, 1, 0)                      # [out,in,kh,kw] -> [kh,kw,in,out]
            elif name.endswith("StyleMod/weight"):
                v = v.T
            synthesis.append((name, a(v)))
    c_last = cfg["channels"][-1]
    synthesis.append(("ToRGB_lod1/weight", np.ones((1, 1, c_last, cfg["out_channels"]), np.float32)))
    synthesis.append(("ToRGB_lod1/bias", np.zeros(cfg["out_channels"], np.float32)))
    def net(name, variables, components=None, **kw):
        return Network({"version": 3, "name": name, "static_kwargs": kw, "components": components or {},
                        "build_module_src": "raise RuntimeError('never executed')", "build_func_name": "G_style",
                        "variables": variables})
    comps = {"mapping": net("G_mapping", mapping, mapping_lrmul=cfg["mapping_lrmul"]),
             "synthesis": net("G_synthesis", synthesis, fused_scale={8: True, 128: "auto"}.get(cfg["fused_scale_from"], False),
                              blur_filter=[1, 2, 1] if cfg["blur"] else None)}
    gs = net("G", [("lod", np.float32(0)), ("dlatent_avg", a(t["dlatent_avg"]))], comps, truncation_cutoff=cfg["truncation_cutoff"])
    with open(path, "wb") as f:
        pickle.dump((gs, gs, gs), f, protocol=2)


def converter():
    """The stylegan converter module (scripts/checkpoint/convert_stylegan.py), through the registry."""
    import checkpoint
    return sys.modules[checkpoint.get("stylegan").convert.__module__]


def check_pickle_conversion(cfg, t, out_dir):
    import pickle
    import tempfile
    import checkpoint
    converter = checkpoint.get("stylegan")
    with tempfile.TemporaryDirectory() as d:
        pkl = os.path.join(d, "karras2019stylegan-fixture.pkl")
        write_nvlabs_pickle(pkl, cfg, t)
        config, tensors = converter.convert(pkl, provenance="fixture: scripts/make_stylegan_fixtures.py (NVlabs pickle round trip)")
        assert set(tensors) == set(t), sorted(set(tensors) ^ set(t))
        for k, v in t.items():
            assert np.array_equal(tensors[k], v.numpy()), k
        for key in ("resolution", "z_dim", "w_dim", "mapping_layers", "label_size", "channels", "fused_scale_from", "blur",
                    "out_channels", "truncation_cutoff", "stored_noise", "class_centroids"):
            assert config[key] == cfg[key], (key, config[key], cfg[key])
        write_checkpoint(os.path.join(out_dir, "stylegan-32-cond-from-pickle.safetensors"), {k: torch.from_numpy(v) for k, v in tensors.items()}, config)
        evil = os.path.join(d, "evil.pkl")
        with open(evil, "wb") as f:
            f.write(b"cos\nsystem\n(S'echo pwned'\ntR.")
        try:
            converter.convert(evil)
            raise AssertionError("a pickle calling os.system was accepted")
        except pickle.UnpicklingError as e:
            assert "refusing" in str(e)
    print("NVlabs pickle round trip: all tensors equal; hostile pickle refused")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(HERE), "Tests", "Fixtures"))
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    for k, (name, c) in enumerate(CASES.items()):
        cfg = dict(format_version=1, architecture="stylegan", **c)
        g = torch.Generator().manual_seed(100 + k)
        t = random_tensors(cfg, g)
        if cfg.get("class_centroids"):
            t["dlatent_class_avg"] = torch.from_numpy(converter().class_centroids(cfg, {k: v.numpy() for k, v in t.items()}))
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
        if cfg.get("class_centroids"):
            io["out_psi07_class"] = ref.forward(cfg, t, io["z"], labels, psi=0.7, cutoff=cfg["truncation_cutoff"], noise=noise,
                                                avg=labels @ t["dlatent_class_avg"])
        write_tensors_sorted(os.path.join(args.out, name + "-io.safetensors"), io)
        if cfg["label_size"]:
            check_pickle_conversion(cfg, t, args.out)
        o = io["out_psi1"]
        print(f"{name}: out {tuple(o.shape)}, std {o.std():.3f}, |max| {o.abs().max():.3f}; "
              f"psi 0.7 changes it by {(io['out_psi07'] - o).abs().max():.3f}")


if __name__ == "__main__":
    main()
