"""Family "stylegan-rosinality": a rosinality `style-based-gan-pytorch` training checkpoint (the
`g_running` generator, or `generator`) to our checkpoint format, architecture "stylegan"
(docs/CHECKPOINT_FORMAT.md), with the rescaling its conventions need
(../shared/reference/stylegan-bigbigan-serving.md 1.7; `scripts/rosinality_ref.py` is a PyTorch
reference of those semantics).

The file is read with `torch.load(..., weights_only=True)` (no code runs): a training checkpoint
(`train_step-{step}.model`: `generator`, `discriminator`, `g_running`, optimisers) or the bare
`g_running` state dict that rosinality's train.py also saves (`{iteration}.model`, taken as
`g_running`). Anything else (a pickle of other objects, a dict without the generator key, a state
dict of another model) is refused.
A rosinality checkpoint holds every block (4 to 1024 px) whatever it was trained to; it is run at a
`step`: `--resolution R` takes blocks 0..log2(R)-2 and `to_rgb[log2(R)-2]` (alpha = 1).

Rescaling into NVlabs' raw convention (the engine multiplies by gain/sqrt(fan_in) * lrmul at load,
gain sqrt(2) for the mapping and convolutions, 1 for StyleMod and ToRGB, lrmul 0.01 in the
mapping), so that the loaded weights equal rosinality's effective ones (sqrt(2/fan_in) on every
`weight_orig`, no lrmul):

    mapping  style.{2k+1}.linear.weight_orig, .bias   -> mapping/Dense{k}/weight, /bias  x 1/0.01
    constant progression.0.conv1.input                -> 4x4/Const/const as is; 4x4/Const/bias = 0
    convs    conv1.1.conv.weight_orig, conv2.conv.*   -> Conv0_up, Conv1 (4x4/Conv) weights and biases as is
    fused    conv1.0.weight [Cin, C, 3, 3], bias      -> Conv0_up/weight [C, Cin, 3, 3] = weight^T / 4
             (rosinality divides the summed 4x4 kernel by 4, NVlabs does not; same multiplier)
    noise    noise{j}.weight_orig [1, C, 1, 1]        -> <layer>/Noise/weight [C] x sqrt(2/C)
    style    adain{j}.style.linear.weight_orig, bias  -> <layer>/StyleMod/weight x sqrt(2),
                                                         /bias with the first C (gamma) minus 1
    ToRGB    to_rgb.{step}.conv.weight_orig, bias     -> ToRGB_lod0/weight x sqrt(2), /bias as is

and config fields for what rosinality computes differently: `bias_before_blur: true` (the up
layers' conv bias is added before the blur), `instance_norm_eps: 1e-5` (PyTorch's InstanceNorm2d),
`truncation_cutoff` = the number of layers (rosinality truncates every layer), `mapping_lrmul` 0.01,
`fused_scale_from` from the blocks that hold a fused kernel (rosinality: 128).

What rosinality does not store is made here, seeded and documented:
  - noise maps: one N(0, 1) map [1, 1, r, r] per block from `np.random.RandomState(seed)`
    (block after block, 4 px first), stored as `synthesis/noise{2i}` and `noise{2i+1}`: the SAME
    map for both layers of block i, as rosinality shares one map per block;
  - `dlatent_avg` (rosinality's `mean_style`, which its generate.py estimates from random z at
    every run): the mean W of DLATENT_AVG_SAMPLES (10,000) z drawn by
    `np.random.RandomState(seed + 1).randn(10000, z_dim)`, mapped in batches of 1,000 by
    `mapping_w` (NumPy float32, rosinality's operations), averaged in float64, stored float32.

API:
    convert(src, key="g_running", resolution=..., label_size=0, seed=0, provenance=None, tool=...)
        -> (config, tensors); `src` a path, or a loaded checkpoint dict
    generator_state_dict(src, key) -> {name: tensor}
    mapping_w(state_dict, z) -> W [N, w_dim]
"""
import math
import re

import numpy as np

from .registry import Converter, register

FAMILY = "stylegan-rosinality"
KEYS = ("g_running", "generator")
MAPPING_LRMUL = 0.01
INSTANCE_NORM_EPS = 1e-5
DLATENT_AVG_SAMPLES = 10_000
DLATENT_AVG_BATCH = 1_000
BLUR_121 = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 16


def _load(path):
    import pickle
    import torch
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as e:
        raise ValueError(f"{path}: not a rosinality training checkpoint: torch.load(weights_only=True) "
                         f"refused it ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None


def generator_state_dict(src, key="g_running"):
    """The generator's state dict {name: float32 ndarray} under `key` of a rosinality training
    checkpoint (a path or the loaded dict); refuses anything else."""
    if key not in KEYS:
        raise ValueError(f"key must be one of {', '.join(KEYS)}, got {key!r}")
    ckpt = _load(src) if isinstance(src, str) else src
    name = src if isinstance(src, str) else "checkpoint"
    if not isinstance(ckpt, dict):
        raise ValueError(f"{name}: not a rosinality training checkpoint (a {type(ckpt).__name__}, not a dict)")
    if "generator.progression.0.conv1.input" in ckpt:
        # train.py also saves g_running's state dict alone (checkpoint/{iteration}.model).
        if key != "g_running":
            raise ValueError(f"{name}: a bare generator state dict (train.py saves g_running so), not a training "
                             f"checkpoint with {key!r}: use --key g_running")
        sd = ckpt
    elif key not in ckpt:
        raise ValueError(f"{name}: not a rosinality training checkpoint: no {key!r} entry "
                         f"(keys: {', '.join(sorted(map(str, ckpt))[:8])})")
    else:
        sd = ckpt[key]
    if not isinstance(sd, dict) or "generator.progression.0.conv1.input" not in sd or "style.1.linear.weight_orig" not in sd:
        raise ValueError(f"{name}: {key!r} is not a rosinality StyledGenerator state dict "
                         "(no generator.progression.0.conv1.input / style.1.linear.weight_orig)")
    return {k: _array(v) for k, v in sd.items()}


def _array(v):
    if hasattr(v, "detach"):
        v = v.detach().cpu().float().numpy()
    return np.asarray(v, np.float32)


def _equal_lr(w):
    """rosinality's multiplier sqrt(2 / fan_in), fan_in = shape[1] * kernel size."""
    return math.sqrt(2 / (w.shape[1] * int(np.prod(w.shape[2:], dtype=np.int64))))


def mapping_w(sd, z):
    """W [N, w_dim] float32 of z [N, z_dim]: pixel norm (eps 1e-8), then each `style.{2k+1}`
    EqualLinear (weight_orig * sqrt(2/fan_in), bias) and LeakyReLU(0.2), in NumPy float32."""
    f = np.float32
    x = np.asarray(z, f)
    x = x / np.sqrt(np.mean(x * x, axis=1, keepdims=True) + f(1e-8))
    i = 1
    while f"style.{i}.linear.weight_orig" in sd:
        w = sd[f"style.{i}.linear.weight_orig"]
        x = x @ (w * f(_equal_lr(w))).T + sd[f"style.{i}.linear.bias"]
        x = np.where(x < 0, f(0.2) * x, x)
        i += 2
    return x.astype(f)


def dlatent_avg(sd, z_dim, seed, samples=DLATENT_AVG_SAMPLES):
    """[w_dim] float32: the mean W of `samples` z from np.random.RandomState(seed)."""
    z = np.random.RandomState(seed).randn(samples, z_dim)
    total = None
    for start in range(0, samples, DLATENT_AVG_BATCH):
        s = mapping_w(sd, z[start:start + DLATENT_AVG_BATCH]).astype(np.float64).sum(axis=0)
        total = s if total is None else total + s
    return (total / samples).astype(np.float32)


def noise_maps(step, seed):
    """One N(0, 1) map [1, 1, r, r] per block 0..step (r = 4 * 2^i) from np.random.RandomState(seed)."""
    rng = np.random.RandomState(seed)
    return [rng.randn(1, 1, 4 << i, 4 << i).astype(np.float32) for i in range(step + 1)]


class _Reader:
    """Checked access to the state dict: a missing key or a wrong shape is an error naming it."""

    def __init__(self, sd):
        self.sd = sd

    def __call__(self, key, shape):
        if key not in self.sd:
            raise ValueError(f"missing tensor {key}" + (f" (expected shape {list(shape)})" if shape is not None else ""))
        v = self.sd[key]
        if shape is not None and list(v.shape) != list(shape):
            raise ValueError(f"tensor {key} has shape {list(v.shape)}, expected {list(shape)}")
        return v


def convert(src, key="g_running", resolution=None, label_size=0, seed=0, provenance=None,
            tool="scripts/convert.py stylegan-rosinality"):
    if label_size:
        raise ValueError(f"label_size {label_size}: rosinality's StyledGenerator is unconditional (use 0)")
    sd = generator_state_dict(src, key)
    if not isinstance(resolution, int) or resolution < 8 or resolution > 1024 or resolution & (resolution - 1):
        raise ValueError(f"resolution must be a power of two from 8 to 1024 (the step the net is run at), got {resolution}")
    step = int(math.log2(resolution)) - 2
    if f"generator.progression.{step}.conv2.conv.weight_orig" not in sd or f"generator.to_rgb.{step}.conv.weight_orig" not in sd:
        blocks = sum(1 for k in sd if re.fullmatch(r"generator\.progression\.\d+\.conv2\.conv\.weight_orig", k))
        raise ValueError(f"resolution {resolution} needs block {step} and to_rgb.{step}; "
                         f"the checkpoint has {blocks} blocks (up to {4 << (blocks - 1) if blocks else 0} px)")
    get = _Reader(sd)
    n_mlp = 0
    while f"style.{2 * n_mlp + 1}.linear.weight_orig" in sd:
        n_mlp += 1
    w_dim, z_dim = sd["style.1.linear.weight_orig"].shape
    channels = [int(get(f"generator.progression.{i}.conv2.conv.weight_orig", None).shape[0]) for i in range(step + 1)]
    f = np.float32
    t = {}
    for k in range(n_mlp):
        p = f"style.{2 * k + 1}.linear"
        t[f"mapping/Dense{k}/weight"] = get(p + ".weight_orig", [w_dim, z_dim if k == 0 else w_dim]).astype(np.float64) / MAPPING_LRMUL
        t[f"mapping/Dense{k}/bias"] = get(p + ".bias", [w_dim]).astype(np.float64) / MAPPING_LRMUL

    def layer(ours, theirs, j, c, bias):
        t[ours + "/Noise/weight"] = get(f"{theirs}.noise{j}.weight_orig", [1, c, 1, 1]).reshape(c).astype(np.float64) * math.sqrt(2 / c)
        t[ours + "/bias"] = bias
        t[ours + "/StyleMod/weight"] = get(f"{theirs}.adain{j}.style.linear.weight_orig", [2 * c, w_dim]).astype(np.float64) * math.sqrt(2)
        sb = get(f"{theirs}.adain{j}.style.linear.bias", [2 * c]).astype(np.float64)
        sb[:c] -= 1                                   # rosinality's gamma = NVlabs' 1 + y_s
        t[ours + "/StyleMod/bias"] = sb

    def check_blur(key):
        if key in sd and not np.array_equal(sd[key], np.broadcast_to(BLUR_121, sd[key].shape)):
            raise ValueError(f"{key} is not the [1,2,1] x [1,2,1] / 16 blur")

    fused = []
    for i in range(step + 1):
        c, theirs = channels[i], f"generator.progression.{i}"
        if i == 0:
            ours = "synthesis/4x4"
            t[ours + "/Const/const"] = get(theirs + ".conv1.input", [1, c, 4, 4])
            layer(ours + "/Const", theirs, 1, c, np.zeros(c, f))
            t[ours + "/Conv/weight"] = get(theirs + ".conv2.conv.weight_orig", [c, c, 3, 3])
            layer(ours + "/Conv", theirs, 2, c, get(theirs + ".conv2.conv.bias", [c]))
            continue
        r, cin = 4 << i, channels[i - 1]
        ours = f"synthesis/{r}x{r}"
        if theirs + ".conv1.0.weight" in sd:
            fused.append(r)
            t[ours + "/Conv0_up/weight"] = get(theirs + ".conv1.0.weight", [cin, c, 3, 3]).transpose(1, 0, 2, 3).astype(np.float64) / 4
            up_bias = get(theirs + ".conv1.0.bias", [c])
            check_blur(theirs + ".conv1.1.weight")
        else:
            t[ours + "/Conv0_up/weight"] = get(theirs + ".conv1.1.conv.weight_orig", [c, cin, 3, 3])
            up_bias = get(theirs + ".conv1.1.conv.bias", [c])
            check_blur(theirs + ".conv1.2.weight")
        layer(ours + "/Conv0_up", theirs, 1, c, up_bias)
        t[ours + "/Conv1/weight"] = get(theirs + ".conv2.conv.weight_orig", [c, c, 3, 3])
        layer(ours + "/Conv1", theirs, 2, c, get(theirs + ".conv2.conv.bias", [c]))
    if fused and fused != [4 << i for i in range(step + 1 - len(fused), step + 1)]:
        raise ValueError(f"fused up-convolutions at {fused} px are not the last blocks (fused_scale_from cannot say so)")
    rgb = f"generator.to_rgb.{step}.conv"
    out_channels = int(sd[rgb + ".weight_orig"].shape[0])
    t["synthesis/ToRGB_lod0/weight"] = get(rgb + ".weight_orig", [out_channels, channels[-1], 1, 1]).astype(np.float64) * math.sqrt(2)
    t["synthesis/ToRGB_lod0/bias"] = get(rgb + ".bias", [out_channels])
    for i, m in enumerate(noise_maps(step, seed)):
        t[f"synthesis/noise{2 * i}"] = m
        t[f"synthesis/noise{2 * i + 1}"] = m
    t["dlatent_avg"] = dlatent_avg(sd, z_dim, seed + 1)
    layers = 2 * step + 2
    config = {
        "format_version": 1, "architecture": "stylegan", "resolution": resolution, "z_dim": int(z_dim), "w_dim": int(w_dim),
        "mapping_layers": n_mlp, "mapping_lrmul": MAPPING_LRMUL, "label_size": 0, "channels": channels,
        "fused_scale_from": fused[0] if fused else 4096, "blur": True, "out_channels": out_channels, "use_wscale": True,
        "truncation_cutoff": layers, "stored_noise": True, "bias_before_blur": True, "instance_norm_eps": INSTANCE_NORM_EPS,
        "provenance": provenance or (f"converted from {src if isinstance(src, str) else 'a rosinality checkpoint'} "
                                     f"({key}, step {step}) by {tool}; noise maps and dlatent_avg (10,000 z) seed {seed}"),
    }
    tensors = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in t.items()}
    return config, tensors


def add_arguments(ap):
    ap.add_argument("--resolution", type=int, required=True,
                    help="output side in px; the net runs at step log2(R)-2 (rosinality's 256 px model: 256, step 6)")
    ap.add_argument("--key", default="g_running", choices=KEYS, help="which generator of the training checkpoint (default g_running, the EMA)")
    ap.add_argument("--label-size", type=int, default=0, help="0 (rosinality's generator is unconditional)")
    ap.add_argument("--seed", type=int, default=0,
                    help="noise maps from np.random.RandomState(seed), dlatent_avg's 10,000 z from RandomState(seed+1)")
    ap.add_argument("--provenance", default=None)


def options_from_args(args, tool):
    return {"key": args.key, "resolution": args.resolution, "label_size": args.label_size, "seed": args.seed,
            "provenance": args.provenance, "tool": tool}


CONVERTER = register(Converter(
    family=FAMILY,
    help="rosinality style-based-gan-pytorch checkpoint (g_running) -> architecture \"stylegan\", rescaled",
    src_help="a rosinality training checkpoint (torch.save dict with 'g_running'), read with weights_only=True",
    convert=convert, add_arguments=add_arguments, options_from_args=options_from_args))
