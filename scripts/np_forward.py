#!/usr/bin/env python3
"""Independent float64 numpy forward pass of a converted checkpoint, written only from
docs/CHECKPOINT_FORMAT.md (it imports nothing from the reference models or converters).

It is the "does the format doc say enough?" check: make_fixtures.py runs it on each converted
fixture and compares with the PyTorch reference output.

    python3 scripts/np_forward.py Tests/Fixtures/biggan-32.safetensors Tests/Fixtures/biggan-32-io.safetensors
prints the max |numpy - io.out|.
"""
import json
import math
import sys

import numpy as np


def load(path):
    """Read a safetensors file with numpy only: (tensors float64, metadata dict)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n).decode("utf-8"))
        data = f.read()
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError(f"{name}: dtype {info['dtype']} (only F32 allowed)")
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype="<f4").reshape(info["shape"])
        out[name] = arr.astype(np.float64)
    return out, meta


def conv2d(x, w, b=None):
    """x [B,C,H,W], w [O,C,k,k] ('same' padding, stride 1)."""
    k = w.shape[2]
    p = (k - 1) // 2
    B, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
    out = np.zeros((B, w.shape[0], H, W))
    for dy in range(k):
        for dx in range(k):
            out += np.einsum("bchw,oc->bohw", xp[:, :, dy:dy + H, dx:dx + W], w[:, :, dy, dx],
                             optimize=True)
    if b is not None:
        out += b[None, :, None, None]
    return out


def up2(x):
    return x.repeat(2, axis=2).repeat(2, axis=3)


def relu(x):
    return np.maximum(x, 0.0)


def maxpool2(x):
    B, C, H, W = x.shape
    return x.reshape(B, C, H // 2, 2, W // 2, 2).max(axis=(3, 5))


def cbn(x, cond, T, p, mean, var, eps):
    gain = 1.0 + cond @ T[p + ".gain.weight"].T
    bias = cond @ T[p + ".bias.weight"].T
    xn = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + eps)
    return xn * gain[:, :, None, None] + bias[:, :, None, None]


def attention(x, T, p):
    B, C, H, W = x.shape
    N = H * W
    theta = conv2d(x, T[p + ".theta.weight"]).reshape(B, C // 8, N)
    phi = maxpool2(conv2d(x, T[p + ".phi.weight"])).reshape(B, C // 8, N // 4)
    g = maxpool2(conv2d(x, T[p + ".g.weight"])).reshape(B, C // 2, N // 4)
    logits = np.einsum("bkn,bkm->bnm", theta, phi)                       # [B, N, N/4]
    logits -= logits.max(axis=-1, keepdims=True)
    beta = np.exp(logits)
    beta /= beta.sum(axis=-1, keepdims=True)
    o = np.einsum("bcm,bnm->bcn", g, beta).reshape(B, C // 2, H, W)
    return x + T[p + ".gamma"][0] * conv2d(o, T[p + ".o.weight"])


def attention_after(cfg):
    """Block indices followed by attention: the first block whose output resolution matches."""
    res = cfg["bottom_width"]
    first = {}
    for i, b in enumerate(cfg["blocks"]):
        if b["up"]:
            res *= 2
        first.setdefault(res, i)
    return {first[a] for a in cfg["attention"]}


def forward_biggan(T, cfg, z, y):
    blocks = cfg["blocks"]
    bw = cfg["bottom_width"]
    B = z.shape[0]
    if cfg["hier"]:
        n = cfg["dim_z"] // (len(blocks) + 1)
        z0 = z[:, :n]
        conds = [np.concatenate([y, z[:, (i + 1) * n:(i + 2) * n]], axis=1) for i in range(len(blocks))]
    else:
        z0 = z
        conds = [y] * len(blocks)
    h = z0 @ T["linear.weight"].T + T["linear.bias"]
    h = h.reshape(B, blocks[0]["in"], bw, bw)
    att = attention_after(cfg)
    eps = cfg["bn_eps"]
    for i, b in enumerate(blocks):
        p = f"blocks.{i}"
        c = conds[i]
        x = h
        h = relu(cbn(x, c, T, p + ".bn1", T[p + ".bn1.mean"], T[p + ".bn1.var"], eps))
        if b["up"]:
            h = up2(h)
            x = up2(x)
        h = conv2d(h, T[p + ".conv1.weight"], T[p + ".conv1.bias"])
        h = relu(cbn(h, c, T, p + ".bn2", T[p + ".bn2.mean"], T[p + ".bn2.var"], eps))
        h = conv2d(h, T[p + ".conv2.weight"], T[p + ".conv2.bias"])
        h = h + conv2d(x, T[p + ".conv_sc.weight"], T[p + ".conv_sc.bias"])
        if i in att:
            h = attention(h, T, p + ".attention")
        else:
            assert p + ".attention.gamma" not in T, f"unexpected attention tensors at block {i}"
    e = cfg["output_bn_eps"]
    m, v = T["output.bn.mean"], T["output.bn.var"]
    h = (h - m[None, :, None, None]) / np.sqrt(v[None, :, None, None] + e)
    h = h * T["output.bn.weight"][None, :, None, None] + T["output.bn.bias"][None, :, None, None]
    h = conv2d(relu(h), T["output.conv.weight"], T["output.conv.bias"])
    return np.tanh(h)


def stats_row(stats, t, n_stats):
    step = 1.0 / (n_stats - 1)
    coef, idx = math.modf(t / step)
    idx = int(idx)
    if coef == 0.0:
        return stats[idx]
    return stats[idx] * coef + stats[idx + 1] * (1.0 - coef)


def forward_deep(T, cfg, z, y, t):
    blocks = cfg["blocks"]
    bw = cfg["bottom_width"]
    ns = cfg["n_stats"]
    B = z.shape[0]
    emb = y @ T["embeddings.weight"].T
    cond = np.concatenate([z, emb], axis=1)
    h = cond @ T["gen_z.weight"].T + T["gen_z.bias"]
    h = h.reshape(B, bw, bw, blocks[0]["in"]).transpose(0, 3, 1, 2)
    att = attention_after(cfg)
    eps = cfg["bn_eps"]
    for i, b in enumerate(blocks):
        p = f"blocks.{i}"
        x = h
        for k in range(4):
            q = f"{p}.bn_{k}"
            h = relu(cbn(h, cond, T, q, stats_row(T[q + ".mean"], t, ns), stats_row(T[q + ".var"], t, ns), eps))
            if k == 1 and b["up"]:
                h = up2(h)
            h = conv2d(h, T[f"{p}.conv_{k}.weight"], T[f"{p}.conv_{k}.bias"])
        if b["in"] != b["out"]:
            x = x[:, :b["out"]]
        if b["up"]:
            x = up2(x)
        h = h + x
        if i in att:
            h = attention(h, T, p + ".attention")
        else:
            assert p + ".attention.gamma" not in T, f"unexpected attention tensors at block {i}"
    e = cfg["output_bn_eps"]
    m = stats_row(T["output.bn.mean"], t, ns)
    v = stats_row(T["output.bn.var"], t, ns)
    h = (h - m[None, :, None, None]) / np.sqrt(v[None, :, None, None] + e)
    h = h * T["output.bn.weight"][None, :, None, None] + T["output.bn.bias"][None, :, None, None]
    h = conv2d(relu(h), T["output.conv.weight"], T["output.conv.bias"])
    return np.tanh(h)


def run(model_path, io_path, truncation=None):
    """Forward the io file's inputs through the converted model; return (numpy_out, io_out)."""
    T, meta = load(model_path)
    cfg = json.loads(meta["config"])
    io, _ = load(io_path)
    if cfg["architecture"] == "biggan":
        out = forward_biggan(T, cfg, io["z"], io["y"])
    elif cfg["architecture"] == "biggan-deep":
        t = truncation if truncation is not None else float(np.float32(io["truncation"][0]))
        out = forward_deep(T, cfg, io["z"], io["y"], t)
    else:
        raise ValueError(cfg["architecture"])
    return out, io["out"]


if __name__ == "__main__":
    trunc = float(sys.argv[3]) if len(sys.argv) > 3 else None
    a, b = run(sys.argv[1], sys.argv[2], trunc)
    print(f"max |numpy - reference| = {np.abs(a - b).max():.3e}")
