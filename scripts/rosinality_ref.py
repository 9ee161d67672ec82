#!/usr/bin/env python3
"""A PyTorch reference of rosinality's `style-based-gan-pytorch` generator (`StyledGenerator`),
written from ../shared/reference/stylegan-bigbigan-serving.md section 1.7 (checked against that
repository's `model.py` at 07fa60b; no code taken from it), for the rosinality converter's fixtures.

It reads rosinality's own state-dict layout (`g_running` of a training checkpoint), functionally:

    style.{1,3,...,2n-1}.linear.{weight_orig [w, in], bias [w]}                 mapping (n dense layers)
    generator.progression.0.conv1.input                 [1, C0, 4, 4]           the constant (no bias)
    generator.progression.{i}.conv1.1.conv.{weight_orig [C, Cin, 3, 3], bias}  nearest x2 + conv (i >= 1)
    generator.progression.{i}.conv1.0.{weight [Cin, C, 3, 3], bias [C]}        fused (rosinality: i >= 5)
    generator.progression.{i}.conv2.conv.{weight_orig [C, C, 3, 3], bias [C]}
    generator.progression.{i}.noise{1,2}.weight_orig    [1, C, 1, 1]
    generator.progression.{i}.adain{1,2}.style.linear.{weight_orig [2C, w], bias [2C]}   (gamma, then beta)
    generator.to_rgb.{i}.conv.{weight_orig [3, C, 1, 1], bias [3]}

Semantics (where they differ from NVlabs, 1.7):
  - equalised lr: every `weight_orig` is multiplied by sqrt(2 / fan_in), fan_in = size(1) times the
    kernel's spatial size, on every layer (mapping, convolutions, style affine, ToRGB, and the
    noise weights with fan_in = C); no lrmul at run time (the mapping's x0.01 is in the optimiser);
  - a layer: conv (+ bias) -> [blur, up layers] -> + noise * weight -> LeakyReLU(0.2) ->
    InstanceNorm2d (eps 1e-5, biased variance, no affine) -> gamma * x + beta with [gamma, beta] =
    style(w) (gamma's bias starts at 1: no +1 at run time). The bias is added before the blur;
  - up layers: nearest x2 then a 3x3 conv, or the fused transposed convolution: the kernel
    [Cin, C, 3, 3] times its multiplier, zero-padded to 5x5, its four 4x4 shifts summed and divided
    by 4, conv_transpose2d stride 2 padding 1; then the [1,2,1] x [1,2,1] / 16 blur (zero padding);
  - one noise map [N, 1, r, r] per block, used by both of its layers;
  - run at `step`: blocks 0..step, then `to_rgb[step]` (alpha = 1: no fade-in), 4 * 2^step px;
  - truncation: `mean_style + style_weight * (w - mean_style)` on every layer.

    mapping(sd, z) -> W [N, w]
    mean_style(sd, z) -> [1, w]                      (the mean of mapping(sd, z))
    forward(sd, z, step, noise, mean_style=None, style_weight=1.0) -> NCHW images
    state_dict_shapes(channels, z_dim, n_mlp, fused_from) -> [(key, shape)]   (the layout)
    random_state_dict(channels, z_dim, n_mlp, fused_from, generator) -> {key: tensor}
"""
import math

import torch
import torch.nn.functional as F

BLUR_KERNEL = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16
INSTANCE_NORM_EPS = 1e-5
# rosinality's Generator: channels of blocks 0..8 (4..1024 px); blocks from 128 px (5) are fused.
ROSINALITY_CHANNELS = [512, 512, 512, 512, 256, 128, 64, 32, 16]
ROSINALITY_FUSED_FROM = 5


def equal_lr(weight):
    """`weight_orig` times sqrt(2 / fan_in), fan_in = size(1) * numel of one [kh, kw] slice."""
    return weight * math.sqrt(2 / (weight.shape[1] * weight[0][0].numel()))


def lrelu(x):
    return F.leaky_relu(x, 0.2)


def mapping(sd, z):
    x = z / torch.sqrt(torch.mean(z * z, dim=1, keepdim=True) + 1e-8)
    i = 1
    while f"style.{i}.linear.weight_orig" in sd:
        x = lrelu(F.linear(x, equal_lr(sd[f"style.{i}.linear.weight_orig"]), sd[f"style.{i}.linear.bias"]))
        i += 2
    return x


def mean_style(sd, z):
    return mapping(sd, z).mean(0, keepdim=True)


def blur(x):
    c = x.shape[1]
    return F.conv2d(x, BLUR_KERNEL.to(x.dtype).repeat(c, 1, 1, 1), padding=1, groups=c)


def fused_upsample(weight, bias, x):
    """rosinality's fused up-convolution: weight [Cin, C, 3, 3]."""
    w = F.pad(weight * math.sqrt(2 / (weight.shape[0] * 9)), [1, 1, 1, 1])
    w = (w[:, :, 1:, 1:] + w[:, :, :-1, 1:] + w[:, :, 1:, :-1] + w[:, :, :-1, :-1]) / 4
    return F.conv_transpose2d(x, w, bias, stride=2, padding=1)


def adain(sd, prefix, x, w):
    c = x.shape[1]
    style = F.linear(w, equal_lr(sd[prefix + ".style.linear.weight_orig"]), sd[prefix + ".style.linear.bias"])
    gamma, beta = style[:, :c, None, None], style[:, c:, None, None]
    return gamma * F.instance_norm(x, eps=INSTANCE_NORM_EPS) + beta


def block(sd, i, x, w, noise):
    p = f"generator.progression.{i}"
    if i == 0:
        x = sd[p + ".conv1.input"].repeat(w.shape[0], 1, 1, 1)
    elif p + ".conv1.0.weight" in sd:
        x = blur(fused_upsample(sd[p + ".conv1.0.weight"], sd[p + ".conv1.0.bias"], x))
    else:
        x = x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
        x = blur(F.conv2d(x, equal_lr(sd[p + ".conv1.1.conv.weight_orig"]), sd[p + ".conv1.1.conv.bias"], padding=1))
    x = adain(sd, p + ".adain1", lrelu(x + equal_lr(sd[p + ".noise1.weight_orig"]) * noise), w)
    x = F.conv2d(x, equal_lr(sd[p + ".conv2.conv.weight_orig"]), sd[p + ".conv2.conv.bias"], padding=1)
    return adain(sd, p + ".adain2", lrelu(x + equal_lr(sd[p + ".noise2.weight_orig"]) * noise), w)


def forward(sd, z, step, noise, mean_style=None, style_weight=1.0):
    """Images [N, 3, 4 * 2^step, 4 * 2^step]; `noise[i]` [N or 1, 1, r, r] for blocks 0..step."""
    w = mapping(sd, z)
    if mean_style is not None:
        w = mean_style + style_weight * (w - mean_style)
    x = None
    for i in range(step + 1):
        x = block(sd, i, x, w, noise[i])
    rgb = f"generator.to_rgb.{step}.conv"
    return F.conv2d(x, equal_lr(sd[rgb + ".weight_orig"]), sd[rgb + ".bias"])


def state_dict_shapes(channels, z_dim=512, n_mlp=8, fused_from=ROSINALITY_FUSED_FROM):
    """Keys and shapes of a rosinality generator state dict whose blocks have `channels`
    (rosinality's own: ROSINALITY_CHANNELS, z_dim 512, 8 mapping layers, fused from block 5;
    other values describe a reduced model with the same key names), buffers included."""
    out = []
    for k in range(n_mlp):
        out += [(f"style.{2 * k + 1}.linear.weight_orig", [z_dim, z_dim]), (f"style.{2 * k + 1}.linear.bias", [z_dim])]
    for i, c in enumerate(channels):
        p = f"generator.progression.{i}"
        if i == 0:
            out.append((p + ".conv1.input", [1, c, 4, 4]))
        elif i >= fused_from:
            out += [(p + ".conv1.0.weight", [channels[i - 1], c, 3, 3]), (p + ".conv1.0.bias", [c]),
                    (p + ".conv1.1.weight", [c, 1, 3, 3]), (p + ".conv1.1.weight_flip", [c, 1, 3, 3])]
        else:
            out += [(p + ".conv1.1.conv.weight_orig", [c, channels[i - 1], 3, 3]), (p + ".conv1.1.conv.bias", [c]),
                    (p + ".conv1.2.weight", [c, 1, 3, 3]), (p + ".conv1.2.weight_flip", [c, 1, 3, 3])]
        for j in (1, 2):
            out += [(f"{p}.noise{j}.weight_orig", [1, c, 1, 1]),
                    (f"{p}.adain{j}.style.linear.weight_orig", [2 * c, z_dim]), (f"{p}.adain{j}.style.linear.bias", [2 * c])]
            if j == 2:
                out += [(p + ".conv2.conv.weight_orig", [c, c, 3, 3]), (p + ".conv2.conv.bias", [c])]
    for i, c in enumerate(channels):
        out += [(f"generator.to_rgb.{i}.conv.weight_orig", [3, c, 1, 1]), (f"generator.to_rgb.{i}.conv.bias", [3])]
    return out


def random_state_dict(channels, z_dim, n_mlp, fused_from, generator):
    """A state dict of `state_dict_shapes` with random values at the scales of a trained net (every
    `weight_orig` and fused weight N(0, 1) as rosinality initialises them; the biases, noise
    weights and style biases random and nonzero so every term shows; gamma's bias around 1)."""
    def n(shape, std=1.0):
        return torch.randn(*shape, generator=generator) * std
    sd = {}
    for key, shape in state_dict_shapes(channels, z_dim, n_mlp, fused_from):
        if key.endswith("weight_flip"):
            continue
        if key.endswith((".1.weight", ".2.weight")) and shape[1] == 1:          # blur buffers
            sd[key] = BLUR_KERNEL.view(1, 1, 3, 3).repeat(shape[0], 1, 1, 1)
            sd[key + "_flip"] = torch.flip(sd[key], [2, 3])
        elif key.endswith("style.linear.bias"):
            c = shape[0] // 2
            sd[key] = torch.cat([1 + n([c], 0.2), n([c], 0.2)])
        elif key.startswith("style.") and key.endswith("bias"):
            sd[key] = n(shape, 0.1)
        elif key.endswith(("conv.bias", "conv1.0.bias")):
            sd[key] = n(shape, 0.5)                 # large, so that the bias-before-blur border shows
        elif key.endswith("noise1.weight_orig") or key.endswith("noise2.weight_orig"):
            sd[key] = n(shape, 0.3)
        else:
            sd[key] = n(shape)
    return sd
