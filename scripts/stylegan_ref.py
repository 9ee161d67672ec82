#!/usr/bin/env python3
"""A PyTorch reference for StyleGAN v1 (NVlabs `networks_stylegan.py` operation order), written
from ../shared/reference/stylegan-bigbigan-serving.md section 1, for parity fixtures.

It reads this project's StyleGAN checkpoint layout (docs/CHECKPOINT_FORMAT.md, "stylegan"): NVlabs
variable names flattened as stylegan2-ada does (`mapping/Dense0/weight`, `synthesis/4x4/Const/const`,
`dlatent_avg`, `synthesis/noise0`), raw values (equalised-learning-rate multipliers NOT applied),
in PyTorch layouts: dense `[out, in]`, convolutions `[out, in, kh, kw]`, StyleMod `[2C, w_dim]`,
`mapping/LabelConcat/weight` `[label_size, z_dim]` (as stored by NVlabs).

    forward(cfg, tensors, z, labels=None, psi=None, cutoff=None, noise="const", avg=None) -> NCHW images

`avg` is what psi pulls W towards: the stored `dlatent_avg` (default, NVlabs), or per image
[N, w_dim] (the class centroids `labels @ dlatent_class_avg`).

Two optional config fields describe converted nets that compute differently from NVlabs (rosinality,
scripts/checkpoint/convert_rosinality.py): `bias_before_blur` (default false: the up layers' bias is
added to the convolution's output before the blur, computed here literally so the fixtures check
the engine's border-mask rewrite) and `instance_norm_eps` (default 1e-8).

The fused up-convolution (output >= `fused_scale_from`) is computed as NVlabs does it — transpose
the 3x3 kernel, pad to 5x5, sum its four shifts into 4x4, conv_transpose2d stride 2 padding 1 —
not by the engine's rewrite, so the fixture checks that rewrite.
"""
import math

import torch
import torch.nn.functional as F


def layer_count(resolution):
    return 2 * int(math.log2(resolution)) - 2


def wmul(shape_in_fan, gain, lrmul=1.0, use_wscale=True):
    """Runtime weight multiplier of NVlabs' get_weight: gain/sqrt(fan_in) * lrmul with wscale."""
    return gain / math.sqrt(shape_in_fan) * lrmul if use_wscale else lrmul


def lrelu(x):
    return F.leaky_relu(x, 0.2)


def mapping(cfg, t, z, labels):
    gain, lrmul, ws = math.sqrt(2), cfg["mapping_lrmul"], cfg.get("use_wscale", True)
    x = z
    if cfg.get("label_size", 0) > 0:
        # Labels embedded with no scaling and no bias, concatenated before pixel norm (1.1a).
        x = torch.cat([x, labels @ t["mapping/LabelConcat/weight"]], dim=1)
    x = x * torch.rsqrt(torch.mean(x * x, dim=1, keepdim=True) + 1e-8)
    for i in range(cfg["mapping_layers"]):
        w, b = t[f"mapping/Dense{i}/weight"], t[f"mapping/Dense{i}/bias"]
        x = lrelu(x @ (w * wmul(w.shape[1], gain, lrmul, ws)).T + b * lrmul)
    return x


def epilogue(cfg, t, x, prefix, layer, w_layer, noise, bias=True):
    c = x.shape[1]
    if noise == "const":
        n = t[f"synthesis/noise{layer}"]
        x = x + n * t[prefix + "/Noise/weight"].view(1, c, 1, 1)
    elif noise != "none":
        raise ValueError(noise)
    if bias:
        x = x + t[prefix + "/bias"].view(1, c, 1, 1)
    x = lrelu(x)
    x = x - x.mean(dim=(2, 3), keepdim=True)
    x = x * torch.rsqrt(torch.mean(x * x, dim=(2, 3), keepdim=True) + cfg.get("instance_norm_eps", 1e-8))
    sw, sb = t[prefix + "/StyleMod/weight"], t[prefix + "/StyleMod/bias"]
    style = w_layer @ (sw * wmul(sw.shape[1], 1.0, 1.0, cfg.get("use_wscale", True))).T + sb
    return x * (style[:, :c].view(-1, c, 1, 1) + 1) + style[:, c:].view(-1, c, 1, 1)


def blur(x):
    c = int(x.shape[1])   # a Python int, so that an ONNX trace sees a constant kernel shape
    k = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]], dtype=x.dtype) / 16
    return F.conv2d(x, k.repeat(c, 1, 1, 1).view(c, 1, 3, 3), padding=1, groups=c)


def conv3x3(cfg, w, x):
    return F.conv2d(x, w * wmul(w[0].numel(), math.sqrt(2), 1.0, cfg.get("use_wscale", True)), padding=1)


def up_conv(cfg, w, x, out_res):
    w = w * wmul(w[0].numel(), math.sqrt(2), 1.0, cfg.get("use_wscale", True))
    if out_res >= cfg["fused_scale_from"]:
        # NVlabs upscale2d_conv2d: HWIO kernel, transposed to [3,3,out,in], padded to 5x5, the four
        # shifts summed into 4x4, then a stride-2 transposed convolution ("SAME": padding 1).
        # Kept in OIHW; zero borders by concatenation (not F.pad), so that an ONNX trace knows the
        # kernel's shape.
        o, i = int(w.shape[0]), int(w.shape[1])
        k = torch.cat([w.new_zeros(o, i, 1, 3), w, w.new_zeros(o, i, 1, 3)], dim=2)
        k = torch.cat([w.new_zeros(o, i, 5, 1), k, w.new_zeros(o, i, 5, 1)], dim=3)       # [out,in,5,5]
        k = k[:, :, 1:, 1:] + k[:, :, :-1, 1:] + k[:, :, 1:, :-1] + k[:, :, :-1, :-1]     # [out,in,4,4]
        # TF conv2d_transpose filter [h,w,out,in] is PyTorch conv_transpose2d's weight [in,out,h,w].
        return F.conv_transpose2d(x, k.permute(1, 0, 2, 3).contiguous(), stride=2, padding=1)
    x = x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    return F.conv2d(x, w, padding=1)


def synthesis(cfg, t, ws, noise="const"):
    res_log2 = int(math.log2(cfg["resolution"]))
    n = ws.shape[0]
    x = t["synthesis/4x4/Const/const"].expand(n, -1, -1, -1)
    x = epilogue(cfg, t, x, "synthesis/4x4/Const", 0, ws[:, 0], noise)
    x = conv3x3(cfg, t["synthesis/4x4/Conv/weight"], x)
    x = epilogue(cfg, t, x, "synthesis/4x4/Conv", 1, ws[:, 1], noise)
    for r in range(3, res_log2 + 1):
        res = 2 ** r
        p = f"synthesis/{res}x{res}"
        x = up_conv(cfg, t[p + "/Conv0_up/weight"], x, res)
        early = cfg.get("blur", True) and cfg.get("bias_before_blur", False)
        if early:
            x = x + t[p + "/Conv0_up/bias"].view(1, -1, 1, 1)
        if cfg.get("blur", True):
            x = blur(x)
        x = epilogue(cfg, t, x, p + "/Conv0_up", 2 * r - 4, ws[:, 2 * r - 4], noise, bias=not early)
        x = conv3x3(cfg, t[p + "/Conv1/weight"], x)
        x = epilogue(cfg, t, x, p + "/Conv1", 2 * r - 3, ws[:, 2 * r - 3], noise)
    w, b = t["synthesis/ToRGB_lod0/weight"], t["synthesis/ToRGB_lod0/bias"]
    return F.conv2d(x, w * wmul(w[0].numel(), 1.0, 1.0, cfg.get("use_wscale", True))) + b.view(1, -1, 1, 1)


def forward(cfg, t, z, labels=None, psi=None, cutoff=None, noise="const", avg=None):
    w = mapping(cfg, t, z, labels)
    layers = layer_count(cfg["resolution"])
    ws = w[:, None, :].expand(-1, layers, -1)
    if psi is not None and cutoff is not None and psi != 1:
        coef = torch.tensor([psi if i < cutoff else 1.0 for i in range(layers)], dtype=w.dtype).view(1, layers, 1)
        target = t["dlatent_avg"].view(1, 1, -1) if avg is None else avg.view(avg.shape[0], 1, -1)
        ws = target + (ws - target) * coef
    return synthesis(cfg, t, ws, noise)
