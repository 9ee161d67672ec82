"""Family "biggan": an ajbrock/BigGAN-PyTorch generator state_dict (G.pth / G_ema.pth) to our
checkpoint format (architecture "biggan", truncation "resample").

Spectral norm is baked exactly as the reference forward computes it in eval mode: one
power-iteration step from the stored `u0` on W viewed as [out, -1],
    v = normalize(u0 W), u = normalize(v W^T), sigma = (v W^T) u^T,  W_baked = W / sigma
with normalize(x) = x / max(||x||, sn_eps). `sv0` (a training-time log) is ignored and dropped.
Every key and shape is checked against the configuration before anything is returned.

API:
    convert(src, resolution=..., ch=..., dim_z=..., ...) -> (config, tensors)
        src: a path of a .pth state_dict, or a state_dict
    convert_state_dict(state_dict, config_dict) -> (tensors, config)
"""
import os

import torch

import biggan_ref

from .format import config_head, read_class_names
from .registry import Converter, register

FAMILY = "biggan"

_ALIASES = {
    "G_ch": "ch", "G_attn": "attention", "BN_eps": "bn_eps", "SN_eps": "sn_eps",
    "dim-z": "dim_z", "shared-dim": "shared_dim", "bn-eps": "bn_eps", "sn-eps": "sn_eps",
    "G_shared_dim": "shared_dim",
}


def _normalise_config(config_dict):
    cfg = {}
    for k, v in config_dict.items():
        cfg[_ALIASES.get(k, k)] = v
    return cfg


def bake_sn(weight, u0, sn_eps):
    """W / sigma with sigma from one power step from u0 (ajbrock eval-mode forward)."""
    sigma, _ = biggan_ref.sn_sigma(weight, u0, sn_eps)
    return weight / sigma


def convert_state_dict(state_dict, config_dict):
    """Convert an ajbrock G state_dict.

    config_dict keys (ajbrock spellings G_ch/G_attn/BN_eps/SN_eps also accepted):
      resolution, ch, dim_z, shared_dim, hier, attention (list of ints or '64'/'32_64'),
      bn_eps, sn_eps; optional: n_classes, out_channels (inferred from the weights),
      class_names (list of str), provenance (str).
    Returns (tensors: dict[str, torch.Tensor] float32, config: dict) for write_checkpoint.
    """
    cfg = _normalise_config(config_dict)
    sd = {k: v for k, v in state_dict.items()}
    if "shared.weight" not in sd:
        raise ValueError("no 'shared.weight': only G_shared generators are supported")
    n_classes, shared_dim = sd["shared.weight"].shape
    out_channels = sd["output_layer.2.weight"].shape[0]
    if cfg.get("n_classes") not in (None, n_classes):
        raise ValueError(f"n_classes {cfg['n_classes']} != shared.weight rows {n_classes}")
    if cfg.get("shared_dim") not in (None, 0, shared_dim):
        raise ValueError(f"shared_dim {cfg['shared_dim']} != shared.weight cols {shared_dim}")
    if cfg.get("out_channels") not in (None, out_channels):
        raise ValueError(f"out_channels {cfg['out_channels']} != output conv rows {out_channels}")

    resolution = int(cfg["resolution"])
    ch = int(cfg["ch"])
    hier = bool(cfg.get("hier", False))
    attention = biggan_ref.parse_attention(cfg.get("attention", [64]))
    bn_eps = float(cfg.get("bn_eps", 1e-5))
    sn_eps = float(cfg.get("sn_eps", 1e-6))
    if "dim_z" not in cfg:
        raise ValueError("dim_z is required")

    # Build the reference module on the meta device to check every key and shape.
    with torch.device("meta"):
        ref = biggan_ref.Generator(resolution=resolution, ch=ch, dim_z=int(cfg["dim_z"]),
                                   shared_dim=shared_dim, n_classes=n_classes, hier=hier,
                                   attention=attention, bn_eps=bn_eps, sn_eps=sn_eps,
                                   out_channels=out_channels)
    expected = {k: tuple(v.shape) for k, v in ref.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in sd.items()}
    missing = [k for k in expected if k not in got and not k.endswith(".sv0")]
    unexpected = [k for k in got if k not in expected]
    wrong = [(k, got[k], expected[k]) for k in expected if k in got and got[k] != expected[k]
             and not k.endswith(".gamma")]
    if missing or unexpected or wrong:
        raise ValueError("state_dict does not match the configuration:\n"
                         f"  missing: {missing[:10]}{' ...' if len(missing) > 10 else ''}\n"
                         f"  unexpected: {unexpected[:10]}{' ...' if len(unexpected) > 10 else ''}\n"
                         f"  wrong shapes: {wrong[:10]}")
    for a in attention:
        if not any(b["resolution"] == a for b in ref.arch):
            raise ValueError(f"attention resolution {a} matches no block output resolution")

    f32 = {k: v.detach().to("cpu", torch.float32) for k, v in sd.items()}

    def sn(prefix):
        return bake_sn(f32[prefix + ".weight"], f32[prefix + ".u0"], sn_eps)

    t = {}
    t["shared.weight"] = f32["shared.weight"]
    t["linear.weight"] = sn("linear")
    t["linear.bias"] = f32["linear.bias"]
    for i, spec in enumerate(ref.arch):
        src = f"blocks.{i}.0"
        dst = f"blocks.{i}"
        for bn in ("bn1", "bn2"):
            t[f"{dst}.{bn}.gain.weight"] = sn(f"{src}.{bn}.gain")
            t[f"{dst}.{bn}.bias.weight"] = sn(f"{src}.{bn}.bias")
            t[f"{dst}.{bn}.mean"] = f32[f"{src}.{bn}.stored_mean"]
            t[f"{dst}.{bn}.var"] = f32[f"{src}.{bn}.stored_var"]
        for conv in ("conv1", "conv2", "conv_sc"):
            t[f"{dst}.{conv}.weight"] = sn(f"{src}.{conv}")
            t[f"{dst}.{conv}.bias"] = f32[f"{src}.{conv}.bias"]
        if spec["attention"]:
            a = f"blocks.{i}.1"
            for name in ("theta", "phi", "g", "o"):
                t[f"{dst}.attention.{name}.weight"] = sn(f"{a}.{name}")
            t[f"{dst}.attention.gamma"] = f32[f"{a}.gamma"].reshape(1)
    t["output.bn.weight"] = f32["output_layer.0.gain"]
    t["output.bn.bias"] = f32["output_layer.0.bias"]
    t["output.bn.mean"] = f32["output_layer.0.stored_mean"]
    t["output.bn.var"] = f32["output_layer.0.stored_var"]
    t["output.conv.weight"] = sn("output_layer.2")
    t["output.conv.bias"] = f32["output_layer.2.bias"]
    t = {k: v.contiguous() for k, v in t.items()}

    config = config_head("biggan", resolution, ref.dim_z, int(shared_dim), int(n_classes), cfg.get("class_names"))
    config.update({
        "ch": ch,
        "bottom_width": ref.bottom_width,
        "blocks": [{"in": b["in"], "out": b["out"], "up": bool(b["up"])} for b in ref.arch],
        "attention": [int(a) for a in attention],
        "hier": hier,
        "bn_eps": bn_eps,
        "output_bn_eps": 1e-5,
        "out_channels": int(out_channels),
        "truncation": "resample",
        "provenance": str(cfg.get("provenance",
                                  "ajbrock/BigGAN-PyTorch generator state_dict, converted by "
                                  "scripts/convert_ajbrock.py")),
    })
    return t, config


def load_state_dict(path):
    """A generator state_dict from a .pth file (a bare state_dict, {"state_dict": ...} or a module)."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # older pickles with non-tensor objects
        obj = torch.load(path, map_location="cpu", weights_only=False)
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if hasattr(obj, "state_dict") and not isinstance(obj, dict):
        obj = obj.state_dict()
    return obj


def convert(src, *, resolution, ch=96, dim_z=120, shared_dim=128, hier=False, attention="64",
            bn_eps=1e-5, sn_eps=1e-6, class_names=None, provenance=None, tool="scripts/convert.py biggan"):
    """src: a .pth path or a state_dict. Returns (config, tensors)."""
    if isinstance(src, (str, os.PathLike)):
        sd = load_state_dict(src)
        prov = provenance or f"ajbrock/BigGAN-PyTorch {os.path.basename(src)}, converted by {tool}"
    else:
        sd = src
        prov = provenance or f"ajbrock/BigGAN-PyTorch generator state_dict, converted by {tool}"
    cfg = {
        "resolution": resolution, "ch": ch, "dim_z": dim_z, "shared_dim": shared_dim, "hier": hier,
        "attention": biggan_ref.parse_attention(attention), "bn_eps": bn_eps, "sn_eps": sn_eps,
        "provenance": prov,
    }
    if class_names is not None:
        cfg["class_names"] = list(class_names)
    tensors, config = convert_state_dict(sd, cfg)
    return config, tensors


def add_arguments(ap):
    ap.add_argument("--resolution", type=int, required=True, choices=sorted(biggan_ref._ARCH))
    ap.add_argument("--ch", type=int, default=96)
    ap.add_argument("--dim-z", type=int, default=120)
    ap.add_argument("--shared-dim", type=int, default=128)
    ap.add_argument("--hier", action="store_true")
    ap.add_argument("--attention", default="64", help="resolutions, e.g. 64 or 32_64 ('' for none)")
    ap.add_argument("--bn-eps", type=float, default=1e-5)
    ap.add_argument("--sn-eps", type=float, default=1e-6)
    ap.add_argument("--class-names", help="text file, one class name per line in index order")
    ap.add_argument("--provenance", help="free text stored in the config")


def options_from_args(args, tool):
    return {
        "resolution": args.resolution, "ch": args.ch, "dim_z": args.dim_z,
        "shared_dim": args.shared_dim, "hier": args.hier, "attention": args.attention,
        "bn_eps": args.bn_eps, "sn_eps": args.sn_eps,
        "class_names": read_class_names(args.class_names) if args.class_names else None,
        "provenance": args.provenance, "tool": tool,
    }


CONVERTER = register(Converter(
    family=FAMILY,
    help="ajbrock/BigGAN-PyTorch generator state_dict (G.pth / G_ema.pth) -> architecture \"biggan\"",
    src_help="ajbrock G.pth / G_ema.pth (a state_dict)",
    convert=convert, add_arguments=add_arguments, options_from_args=options_from_args))
