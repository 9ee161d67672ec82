"""Family "stylegan": an NVlabs StyleGAN (v1) pickle (`karras2019stylegan-*.pkl`) to our checkpoint
format (architecture "stylegan", docs/CHECKPOINT_FORMAT.md), **without TensorFlow**.

The pickle is a tuple `(G, D, Gs)` of `dnnlib.tflib.network.Network` objects; only `Gs` (the EMA
generator) is read. A restricted unpickler maps `Network` to a plain record of its state (`variables`,
`components`, `static_kwargs`, ...) and allows nothing else but NumPy's array reconstruction helpers
(under their NumPy 1 or 2 names): the embedded `build_module_src` is never executed, and a pickle
that asks for any other class is refused.

Layouts (../shared/reference/stylegan-bigbigan-serving.md, 1.6-1.7): dense `[in, out]` -> `[out, in]`,
convolutions `[kh, kw, in, out]` -> `[out, in, kh, kw]`, StyleMod `[w, 2C]` -> `[2C, w]`, ToRGB
`[1, 1, C, out]` -> `[out, C, 1, 1]`; the constant, noise weights, biases, noise maps,
`LabelConcat/weight` and `dlatent_avg` as they are. Values stay raw: the engine applies the
equalised-learning-rate multipliers. Only `ToRGB_lod0` is kept (a finished net, `lod` = 0).

Class centroids: for a conditional net (`label_size > 0`) the converter also stores
`dlatent_class_avg` `[label_size, w_dim]` (config `class_centroids: true`): per class, the mean W
of `CENTROID_SAMPLES` (10,000) z drawn by `np.random.RandomState(CENTROID_SEED + class)` (seed 0 +
class), mapped by `mapping_w` (NumPy, float32, the operation order of `scripts/stylegan_ref.py`),
averaged in float64. ψ then pulls each image towards its own class's centroid by default
(`truncation_target=class`); the global `dlatent_avg` stays available (`average`).

API:
    convert(src, class_names=None, provenance=None, tool=...) -> (config, tensors)
    read_pickle(path) -> (G, D, Gs) records
    mapping_w(config, tensors, z, labels) -> W [N, w_dim]
    class_centroids(config, tensors) -> [label_size, w_dim]
"""
import io
import math
import pickle
import re

import numpy as np

from .format import add_names_and_provenance, names_and_provenance_options
from .registry import Converter, register

FAMILY = "stylegan"


class NetworkRecord:
    """What `dnnlib.tflib.network.Network.__getstate__` wrote: `version`, `name`, `static_kwargs`,
    `components` (name -> NetworkRecord), `build_module_src` (kept as text, never run),
    `build_func_name`, `variables` [(name, ndarray)]."""

    def __setstate__(self, state):
        if not isinstance(state, dict) or "variables" not in state:
            raise pickle.UnpicklingError("dnnlib Network state without variables")
        self.__dict__.update(state)

    def vars(self):
        return {k: np.asarray(v) for k, v in self.variables}


def _numpy_helpers():
    try:
        from numpy._core import multiarray as ma  # NumPy 2
    except ImportError:  # pragma: no cover
        from numpy.core import multiarray as ma
    return {"_reconstruct": ma._reconstruct, "scalar": ma.scalar}


class _RestrictedUnpickler(pickle.Unpickler):
    ALLOWED_NUMPY_MODULES = {"numpy.core.multiarray", "numpy._core.multiarray"}

    def find_class(self, module, name):
        if (module, name) == ("dnnlib.tflib.network", "Network"):
            return NetworkRecord
        if module in self.ALLOWED_NUMPY_MODULES and name in ("_reconstruct", "scalar"):
            return _numpy_helpers()[name]
        if (module, name) in (("numpy", "ndarray"), ("numpy", "dtype")):
            return getattr(np, name)
        if (module, name) == ("_codecs", "encode"):
            import codecs
            return codecs.encode
        raise pickle.UnpicklingError(f"refusing {module}.{name}: not part of an NVlabs StyleGAN pickle")


def read_pickle(path):
    with open(path, "rb") as f:
        data = f.read()
    obj = _RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
    if not (isinstance(obj, tuple) and len(obj) == 3 and all(isinstance(n, NetworkRecord) for n in obj)):
        raise ValueError(f"{path}: not an NVlabs (G, D, Gs) pickle")
    return obj


CENTROID_SAMPLES = 10_000
CENTROID_SEED = 0
CENTROID_BATCH = 1_000


def mapping_w(cfg, t, z, labels=None):
    """W [N, w_dim] of z [N, z_dim] (and one-hot or mixed labels [N, label_size]): the mapping
    network in float32 with the operations of stylegan_ref.mapping (label embedding concatenated,
    pixel norm eps 1e-8, dense layers with gain sqrt(2)/sqrt(fan_in) * lrmul on weights and lrmul
    on biases, LeakyReLU 0.2 after each)."""
    f = np.float32
    x = np.asarray(z, f)
    if cfg.get("label_size", 0) > 0:
        x = np.concatenate([x, np.asarray(labels, f) @ np.asarray(t["mapping/LabelConcat/weight"], f)], axis=1)
    x = x / np.sqrt(np.mean(x * x, axis=1, keepdims=True) + f(1e-8))
    lrmul, wscale = f(cfg["mapping_lrmul"]), cfg.get("use_wscale", True)
    for i in range(cfg["mapping_layers"]):
        w, b = np.asarray(t[f"mapping/Dense{i}/weight"], f), np.asarray(t[f"mapping/Dense{i}/bias"], f)
        mul = f(math.sqrt(2) / math.sqrt(w.shape[1])) * lrmul if wscale else lrmul
        x = x @ (w * mul).T + b * lrmul
        x = np.where(x < 0, f(0.2) * x, x)
    return x.astype(f)


def class_centroids(cfg, t, samples=CENTROID_SAMPLES, seed=CENTROID_SEED):
    """[label_size, w_dim] float32: per class c, the mean W of `samples` z drawn by
    np.random.RandomState(seed + c).randn(samples, z_dim), in batches of CENTROID_BATCH."""
    n, zd = cfg["label_size"], cfg["z_dim"]
    out = np.zeros((n, cfg["w_dim"]), np.float64)
    for c in range(n):
        rng = np.random.RandomState(seed + c)
        z = rng.randn(samples, zd)
        labels = np.zeros((CENTROID_BATCH, n), np.float32)
        labels[:, c] = 1
        for start in range(0, samples, CENTROID_BATCH):
            chunk = z[start:start + CENTROID_BATCH]
            out[c] += mapping_w(cfg, t, chunk, labels[:len(chunk)]).astype(np.float64).sum(axis=0)
        out[c] /= samples
    return out.astype(np.float32)


def convert(src, class_names=None, provenance=None, tool="scripts/convert.py stylegan"):
    _, _, gs = read_pickle(src) if isinstance(src, str) else src
    if getattr(gs, "version", 0) < 2:
        raise ValueError("unsupported dnnlib Network version")
    top = gs.vars()
    mapping, synthesis = gs.components["mapping"], gs.components["synthesis"]
    mv, sv = mapping.vars(), synthesis.vars()
    lod = float(sv.get("lod", top.get("lod", 0.0)))
    if lod != 0:
        raise ValueError(f"lod is {lod}: a net still growing progressively (only lod 0 is served)")
    t = {}
    layers = sorted(int(m.group(1)) for k in mv for m in [re.fullmatch(r"Dense(\d+)/weight", k)] if m)
    if layers != list(range(len(layers))) or not layers:
        raise ValueError("mapping Dense layers are not numbered 0..N-1")
    label_size = 0
    if "LabelConcat/weight" in mv:
        t["mapping/LabelConcat/weight"] = mv["LabelConcat/weight"]
        label_size = mv["LabelConcat/weight"].shape[0]
    for i in layers:
        t[f"mapping/Dense{i}/weight"] = mv[f"Dense{i}/weight"].T
        t[f"mapping/Dense{i}/bias"] = mv[f"Dense{i}/bias"]
    w0 = mv["Dense0/weight"]
    z_dim = w0.shape[0] // 2 if label_size else w0.shape[0]
    w_dim = mv[f"Dense{layers[-1]}/weight"].shape[1]
    t["dlatent_avg"] = top["dlatent_avg"]
    sizes = sorted(int(m.group(1)) for k in sv for m in [re.fullmatch(r"(\d+)x\1/Conv1/weight", k)] if m)
    resolution = max([4] + sizes)
    channels = []
    for r in [4] + sizes:
        name = "4x4/Conv/weight" if r == 4 else f"{r}x{r}/Conv1/weight"
        channels.append(int(sv[name].shape[3]))

    def layer(prefix):
        t[f"synthesis/{prefix}/Noise/weight"] = sv[prefix + "/Noise/weight"]
        t[f"synthesis/{prefix}/bias"] = sv[prefix + "/bias"]
        t[f"synthesis/{prefix}/StyleMod/weight"] = sv[prefix + "/StyleMod/weight"].T
        t[f"synthesis/{prefix}/StyleMod/bias"] = sv[prefix + "/StyleMod/bias"]

    conv = lambda k: sv[k].transpose(3, 2, 0, 1)  # noqa: E731  [kh,kw,in,out] -> [out,in,kh,kw]
    t["synthesis/4x4/Const/const"] = sv["4x4/Const/const"]
    layer("4x4/Const")
    t["synthesis/4x4/Conv/weight"] = conv("4x4/Conv/weight")
    layer("4x4/Conv")
    for r in sizes:
        p = f"{r}x{r}"
        t[f"synthesis/{p}/Conv0_up/weight"] = conv(p + "/Conv0_up/weight")
        layer(p + "/Conv0_up")
        t[f"synthesis/{p}/Conv1/weight"] = conv(p + "/Conv1/weight")
        layer(p + "/Conv1")
    t["synthesis/ToRGB_lod0/weight"] = sv["ToRGB_lod0/weight"].transpose(3, 2, 0, 1)
    t["synthesis/ToRGB_lod0/bias"] = sv["ToRGB_lod0/bias"]
    n_layers = 2 * int(math.log2(resolution)) - 2
    stored_noise = all(f"noise{i}" in sv for i in range(n_layers))
    if stored_noise:
        for i in range(n_layers):
            t[f"synthesis/noise{i}"] = sv[f"noise{i}"]
    skw, mkw, gkw = synthesis.static_kwargs or {}, mapping.static_kwargs or {}, gs.static_kwargs or {}
    fused = skw.get("fused_scale", "auto")
    blur = skw.get("blur_filter", [1, 2, 1])
    if blur not in (None, [1, 2, 1]):
        raise ValueError(f"blur_filter {blur} is not supported (only [1, 2, 1] or None)")
    config = {
        "format_version": 1, "architecture": "stylegan", "resolution": resolution, "z_dim": int(z_dim), "w_dim": int(w_dim),
        "mapping_layers": len(layers), "mapping_lrmul": float(mkw.get("mapping_lrmul", 0.01)), "label_size": int(label_size),
        "channels": channels, "fused_scale_from": 128 if fused == "auto" else (8 if fused else 4096), "blur": blur is not None,
        "out_channels": int(t["synthesis/ToRGB_lod0/weight"].shape[0]), "use_wscale": bool(skw.get("use_wscale", True)),
        "truncation_cutoff": int(gkw.get("truncation_cutoff", 8) or 0), "stored_noise": stored_noise,
        "provenance": provenance or f"converted from {src if isinstance(src, str) else 'an NVlabs pickle'} by {tool}",
    }
    if class_names:
        config["class_names"] = class_names
    tensors = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in t.items()}
    if label_size:
        config["class_centroids"] = True
        tensors["dlatent_class_avg"] = class_centroids(config, tensors)
    return config, tensors


def add_arguments(ap):
    add_names_and_provenance(ap, "one name per line (conditional models)")


options_from_args = names_and_provenance_options


CONVERTER = register(Converter(
    family=FAMILY,
    help="NVlabs StyleGAN (v1) pickle, read without TensorFlow -> architecture \"stylegan\"",
    src_help="karras2019stylegan-*.pkl (the (G, D, Gs) tuple; Gs is converted)",
    convert=convert, add_arguments=add_arguments, options_from_args=options_from_args))
