#!/usr/bin/env python3
"""Write small parity fixtures into Tests/Fixtures/ (seeded, deterministic up to BLAS rounding).

    python3 scripts/make_fixtures.py [--out Tests/Fixtures] [--skip-numpy-check]

For each case it builds a tiny reference model with non-trivial random weights (random BN
running statistics, nonzero attention gamma, random SN vectors, random output-BN affine), puts
it in eval() mode, converts it with the registered converters (scripts/checkpoint/) and writes

  {case}.safetensors         the converted model (docs/CHECKPOINT_FORMAT.md)
  {case}-io.safetensors      z [B, dim_z], y, classes [B], out [B, C, R, R] (NCHW, reference output)
  {case}-io-t1.safetensors   (biggan-deep only) the same at truncation 1.0

B = 3 rows everywhere except deep-256, whose io files hold one row each (the 0.3/0.7 mixed-class
row at t=0.4, a one-hot row at t=1.0) to keep Tests/Fixtures small; --full writes B=3 there too.

biggan cases: y = the already-embedded class vectors [B, shared_dim] (G.shared(idx)); the last
row is a 50/50 mix of two class embeddings (classes = -1 there); z ~ N(0, 1).
biggan-deep cases: y = class vectors [B, n_classes] (one-hot; last row 0.3/0.7 mix);
z = truncated_noise_sample(...) (truncnorm on [-2, 2] times the truncation), plus
`truncation` [1] (float32). Because the statistics row is chosen with modf(t / 0.02) in double
precision, float32(0.4) != 0.4 matters (it selects a different row); the exact decimal value
is therefore also stored as a string in the io file's __metadata__["truncation"] (e.g. "0.4").
The reference outputs were produced with the Python float given there.

After writing, every case is re-run through scripts/np_forward.py (an independent numpy
forward written from the format doc only) and must match the reference output to 1e-5.
"""
import argparse
import copy
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import biggan_ref  # noqa: E402
import checkpoint  # noqa: E402
from checkpoint import write_checkpoint, write_tensors_sorted  # noqa: E402
import np_forward  # noqa: E402

B = 3
# numpy (float64, from the converted file) vs the float32 PyTorch reference. BigGAN-deep's 40
# conditional BNs on a growing residual stream make its float32 result itself differ from a
# float64 run of the same model by ~1e-5..4e-5 (printed as "f32 noise"), so it gets a looser
# bound; Swift parity tests need a tolerance of that order too.
TOL = {"biggan": 1e-5, "biggan-deep": 1e-4}

DEEP_256_LAYERS = [(False, 16, 16), (True, 16, 16), (False, 16, 16), (True, 16, 8), (False, 8, 8),
                   (True, 8, 8), (False, 8, 8), (True, 8, 4), (False, 4, 4), (True, 4, 2),
                   (False, 2, 2), (True, 2, 1)]


# --------------------------------------------------------------------------------------
# randomisation
# --------------------------------------------------------------------------------------

# Running statistics are calibrated to the activations a calibration batch actually produces
# (as in a trained model) and then perturbed: mean += 0.5 * std * N(0, 1), var *= U(0.5, 2),
# independently per channel (and per truncation row for biggan-deep). Uncalibrated random stats
# make the activations grow by ~10x per block and saturate the tanh. Finally the output BN's
# gain/bias are rescaled so the pre-tanh values have a std of about PRE_TANH_STD.
PRE_TANH_STD = 0.8


def _perturbed_stats(x, rows=None):
    xd = x.detach().double()
    mu = xd.mean(dim=(0, 2, 3))
    var = xd.var(dim=(0, 2, 3), unbiased=False).clamp_min(1e-6)
    shape = (rows, mu.numel()) if rows else (mu.numel(),)
    mean = mu + 0.5 * var.sqrt() * torch.randn(shape, dtype=torch.float64)
    var = var * (torch.rand(shape, dtype=torch.float64) * 1.5 + 0.5)
    return mean.float(), var.float()


def _calibrate(bn_modules, set_stats, run_forward):
    """Set each BN's stats from its input during one forward (pre-hooks fire in order)."""
    handles = []
    for m in bn_modules:
        def pre_hook(mod, args):
            set_stats(mod, args[0])
        handles.append(m.register_forward_pre_hook(pre_hook))
    try:
        with torch.no_grad():
            run_forward()
    finally:
        for h in handles:
            h.remove()


def _scale_output(out_bn_gain, out_bn_bias, conv, conv_bias_slice, run_forward):
    """Rescale the output BN affine so std(pre-tanh - conv bias) ~= PRE_TANH_STD."""
    seen = {}

    def hook(mod, args, out):
        seen["pre"] = out[:, conv_bias_slice]
    h = conv.register_forward_hook(hook)
    try:
        with torch.no_grad():
            run_forward()
    finally:
        h.remove()
    bias = conv.bias[conv_bias_slice].reshape(1, -1, 1, 1)
    sd = (seen["pre"] - bias).std().item()
    with torch.no_grad():
        out_bn_gain.mul_(PRE_TANH_STD / sd)
        out_bn_bias.mul_(PRE_TANH_STD / sd)


def randomise_ajbrock(G, gamma=0.7, calib_batch=8):
    biggan_ref.init_ortho(G)
    with torch.no_grad():
        G.shared.weight.normal_(0.0, 1.0)
        for name, m in G.named_modules():
            if isinstance(m, (biggan_ref.SNConv2d, biggan_ref.SNLinear)):
                m.u0.normal_()
                m.sv0.fill_(1.0)
                if m.bias is not None:
                    m.bias.normal_(0.0, 0.1)
            if isinstance(m, biggan_ref.PlainBN):
                m.gain.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.3)
            if isinstance(m, biggan_ref.Attention):
                m.gamma.fill_(gamma)
    G.eval()
    z = torch.randn(calib_batch, G.dim_z)
    y = G.shared(torch.randint(0, G.n_classes, (calib_batch,))).detach()

    def set_stats(mod, x):
        mean, var = _perturbed_stats(x)
        mod.stored_mean.copy_(mean)
        mod.stored_var.copy_(var)
    bns = [m for m in G.modules() if isinstance(m, (biggan_ref.CCBN, biggan_ref.PlainBN))]
    _calibrate(bns, set_stats, lambda: G(z, y))
    bn_out, _, conv_out = G.output_layer
    _scale_output(bn_out.gain, bn_out.bias, conv_out, slice(None), lambda: G(z, y))
    return G


def _set_sn_vectors(module, n_iter=2, noise=0.1):
    """Random but realistic u/v for a torch spectral_norm module.

    Trained checkpoints hold (nearly) converged power-iteration vectors, so sigma = u.(W v) is
    close to the top singular value. Fully random u/v would make sigma arbitrarily small (W/sigma
    huge) for thin matrices and the fixtures ill-conditioned. So: v from `n_iter` power steps
    from a random start, u = normalize(W v + noise), hence u != normalize(W v) and
    0 < sigma < sigma_max.
    """
    F = torch.nn.functional
    w = module.weight_orig.reshape(module.weight_orig.shape[0], -1)
    v = F.normalize(torch.randn(w.shape[1]), dim=0)
    for _ in range(n_iter):
        v = F.normalize(w.t() @ F.normalize(w @ v, dim=0), dim=0)
    wv = w @ v
    u = F.normalize(wv + noise * wv.norm() * F.normalize(torch.randn(w.shape[0]), dim=0), dim=0)
    module.weight_u.copy_(u)
    module.weight_v.copy_(v)


def randomise_hf(model, gamma=0.7, calib_batch=8):
    from pytorch_pretrained_biggan.model import BigGANBatchNorm, SelfAttn
    from pytorch_pretrained_biggan.utils import truncated_noise_sample

    with torch.no_grad():
        model.embeddings.weight.normal_(0.0, 0.5)
        for name, m in model.named_modules():
            if hasattr(m, "weight_orig"):
                torch.nn.init.orthogonal_(m.weight_orig)
                _set_sn_vectors(m)
                if getattr(m, "bias", None) is not None:
                    m.bias.normal_(0.0, 0.1)
            if isinstance(m, BigGANBatchNorm) and not m.conditional:
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.3)
            if isinstance(m, SelfAttn):
                m.gamma.fill_(gamma)
    model.eval()
    cfg = model.config
    n_stats = cfg.n_stats
    bns = [m for m in model.modules() if isinstance(m, BigGANBatchNorm)]
    y = torch.nn.functional.one_hot(torch.randint(0, cfg.num_classes, (calib_batch,)),
                                    cfg.num_classes).float()
    # Row r belongs to truncation r / (n_stats - 1): calibrate rows in ascending order, each
    # pass setting rows r.. (later passes overwrite the rows above r).
    for r in range(n_stats):
        t = max(r / (n_stats - 1), 0.005)
        z = torch.from_numpy(truncated_noise_sample(calib_batch, cfg.z_dim, t,
                                                    seed=int(torch.randint(0, 2**31 - 1, (1,))))).float()

        def set_stats(mod, x, r=r):
            mean, var = _perturbed_stats(x, rows=n_stats - r)
            mod.running_means[r:].copy_(mean)
            mod.running_vars[r:].copy_(var)
        _calibrate(bns, set_stats, lambda: model(z, y, t))
    t = 0.5
    z = torch.from_numpy(truncated_noise_sample(calib_batch, cfg.z_dim, t,
                                                seed=int(torch.randint(0, 2**31 - 1, (1,))))).float()
    g = model.generator
    _scale_output(g.bn.weight, g.bn.bias, g.conv_to_rgb, slice(0, 3), lambda: model(z, y, t))
    return model


# --------------------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------------------

def _report(case, out, noise):
    a = out.abs()
    print(f"  {case}: out {tuple(out.shape)} max|out| {a.max().item():.4f}  mean|out| {a.mean().item():.4f}  "
          f"std {out.std().item():.4f}  |out|>0.99: {(a > 0.99).float().mean().item() * 100:.2f}%  "
          f"f32 noise {noise:.1e}")


def make_ajbrock_case(outdir, case, seed, class_names=None, **kw):
    torch.manual_seed(seed)
    G = biggan_ref.Generator(**kw)
    randomise_ajbrock(G)
    cfg = G.config_dict()
    opts = {k: cfg[k] for k in ("resolution", "ch", "dim_z", "shared_dim", "hier", "attention",
                                "bn_eps", "sn_eps")}
    config, tensors = checkpoint.get("biggan").convert(
        G.state_dict(), **opts, class_names=class_names,
        provenance=f"random test fixture '{case}' (scripts/make_fixtures.py, seed {seed})")
    assert config["n_classes"] == G.n_classes and config["out_channels"] == G.out_channels
    write_checkpoint(os.path.join(outdir, f"{case}.safetensors"), tensors, config)

    n = G.n_classes
    idx = torch.tensor([1 % n, 3 % n])
    mix = (2 % n, 4 % n)
    with torch.no_grad():
        e = G.shared(idx)
        emix = 0.5 * G.shared(torch.tensor([mix[0]])) + 0.5 * G.shared(torch.tensor([mix[1]]))
        y = torch.cat([e, emix], 0)
        z = torch.randn(B, G.dim_z)
        out = G(z, y)
        out64 = copy.deepcopy(G).double()(z.double(), y.double())
    noise = (out.double() - out64).abs().max().item()
    classes = torch.tensor([float(idx[0]), float(idx[1]), -1.0])
    io_path = os.path.join(outdir, f"{case}-io.safetensors")
    write_tensors_sorted(io_path, {"z": z, "y": y, "classes": classes, "out": out},
                         {"case": case, "model": f"{case}.safetensors", "mix": f"0.5*{mix[0]} + 0.5*{mix[1]}",
                          "f32_noise": f"{noise:.2e}"})
    _report(case, out, noise)
    return [(f"{case}.safetensors", io_path, None, "biggan")]


def make_deep_case(outdir, case, seed, output_dim, layers, channel_width=4, z_dim=16,
                   num_classes=7, truncations=((0.4, "-io", None), (1.0, "-io-t1", None))):
    """truncations: (t, file suffix, rows) with rows a subset of [0 (class a), 1 (class b),
    2 (0.3/0.7 mix)] or None for all three."""
    from pytorch_pretrained_biggan import BigGAN, BigGANConfig
    from pytorch_pretrained_biggan.utils import truncated_noise_sample

    torch.manual_seed(seed)
    conf = BigGANConfig(output_dim=output_dim, z_dim=z_dim, class_embed_dim=z_dim,
                        channel_width=channel_width, num_classes=num_classes, layers=layers,
                        attention_layer_position=8)
    model = BigGAN(conf)
    randomise_hf(model)
    # attention must have >= 8 channels (C/8 >= 1)
    att_c = channel_width * layers[conf.attention_layer_position][1]
    assert att_c >= 8, f"{case}: attention on {att_c} channels"

    config, tensors = checkpoint.get("biggan-deep").convert(
        model, provenance=f"random test fixture '{case}' (scripts/make_fixtures.py, seed {seed})")
    write_checkpoint(os.path.join(outdir, f"{case}.safetensors"), tensors, config)

    # the SN baking equals the eval-mode weights torch computes
    with torch.no_grad():
        model(torch.zeros(1, z_dim), torch.zeros(1, num_classes), 1.0)
    g = model.generator
    assert torch.equal(tensors["gen_z.weight"], g.gen_z.weight), "gen_z SN baking differs from torch eval"
    assert torch.equal(tensors["output.conv.weight"], g.conv_to_rgb.weight[:3]), "conv_to_rgb SN baking differs"

    a, b2 = 2 % num_classes, 5 % num_classes
    m0, m1 = 3 % num_classes, 6 % num_classes
    y = torch.zeros(B, num_classes)
    y[0, a] = 1.0
    y[1, b2] = 1.0
    y[2, m0] += 0.3
    y[2, m1] += 0.7
    classes = torch.tensor([float(a), float(b2), -1.0])
    model64 = copy.deepcopy(model).double()
    made = []
    for k, (t, suffix, rows) in enumerate(truncations):
        z = torch.from_numpy(truncated_noise_sample(batch_size=B, dim_z=z_dim, truncation=t,
                                                    seed=seed * 100 + k)).float()
        rows = list(range(B)) if rows is None else list(rows)
        z, y_t, classes_t = z[rows], y[rows], classes[rows]
        with torch.no_grad():
            out = model(z, y_t, t)
            out64 = model64(z.double(), y_t.double(), t)
        noise = (out.double() - out64).abs().max().item()
        io_path = os.path.join(outdir, f"{case}{suffix}.safetensors")
        write_tensors_sorted(io_path, {"z": z, "y": y_t, "classes": classes_t, "out": out,
                                       "truncation": torch.tensor([t], dtype=torch.float32)},
                             {"case": case, "model": f"{case}.safetensors", "truncation": repr(float(t)),
                              "mix": f"0.3*{m0} + 0.7*{m1}", "f32_noise": f"{noise:.2e}"})
        _report(f"{case}{suffix} (t={t})", out, noise)
        made.append((f"{case}.safetensors", io_path, t, "biggan-deep"))
    return made


def numpy_check(outdir, made):
    print("numpy check (independent forward from the converted files, float64):")
    worst = 0.0
    for model_name, io_path, t, arch in made:
        got, ref = np_forward.run(os.path.join(outdir, model_name), io_path, t)
        err = float(np.abs(got - ref).max())
        worst = max(worst, err)
        print(f"  {os.path.basename(io_path)}: max |numpy - torch| = {err:.2e}")
        assert err < TOL[arch], f"{io_path}: numpy forward differs from the reference by {err}"
        if t is not None and float(np.float32(t)) / 0.02 != t / 0.02:
            got32, _ = np_forward.run(os.path.join(outdir, model_name), io_path, float(np.float32(t)))
            print(f"    (with t = double(float32({t})) = {float(np.float32(t))!r} instead: "
                  f"max diff {float(np.abs(got32 - ref).max()):.2e} -- use the exact decimal)")
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures"))
    ap.add_argument("--skip-numpy-check", action="store_true")
    ap.add_argument("--full", action="store_true",
                    help="B=3 for deep-256 too (adds ~3 MiB; not what is committed)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))

    made = []
    print("writing fixtures to", args.out)
    made += make_ajbrock_case(args.out, "biggan-32", seed=1, resolution=32, ch=4, dim_z=20,
                              shared_dim=8, n_classes=5, hier=True, attention=[16], bn_eps=1e-5,
                              sn_eps=1e-6, class_names=["alpha", "beta", "gamma", "delta", "epsilon"])
    made += make_ajbrock_case(args.out, "biggan-128", seed=2, resolution=128, ch=4, dim_z=24,
                              shared_dim=8, n_classes=5, hier=True, attention=[64], bn_eps=1e-5,
                              sn_eps=1e-6)
    made += make_ajbrock_case(args.out, "biggan-32-grey", seed=3, resolution=32, ch=4, dim_z=16,
                              shared_dim=8, n_classes=5, hier=False, attention=[], bn_eps=1e-5,
                              sn_eps=1e-6, out_channels=1)
    from pytorch_pretrained_biggan import BigGANConfig
    made += make_deep_case(args.out, "deep-128", seed=4, output_dim=128,
                           layers=list(BigGANConfig().layers))
    # 3 x 3 x 256 x 256 float32 outputs are 2.3 MiB per file: by default deep-256 keeps one row
    # per io file (the mixed-class row at t=0.4, a one-hot row at t=1.0); --full writes B=3.
    rows256 = ((0.4, "-io", None), (1.0, "-io-t1", None)) if args.full else \
        ((0.4, "-io", [2]), (1.0, "-io-t1", [0]))
    made += make_deep_case(args.out, "deep-256", seed=5, output_dim=256, layers=DEEP_256_LAYERS,
                           truncations=rows256)

    if not args.skip_numpy_check:
        numpy_check(args.out, made)

    total = 0
    print("files:")
    for f in sorted(os.listdir(args.out)):
        if f.endswith(".safetensors"):
            s = os.path.getsize(os.path.join(args.out, f))
            total += s
            print(f"  {f:32s} {s / 1024:8.1f} KiB")
    print(f"  total {total / 1024 / 1024:.2f} MiB")


if __name__ == "__main__":
    main()
