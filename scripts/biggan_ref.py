#!/usr/bin/env python3
"""Reference PyTorch re-implementation of the ajbrock/BigGAN-PyTorch generator (inference only).

There is no pip package for ajbrock's BigGAN.py/layers.py, so this module re-creates the
generator from its documented behaviour (see shared/reference/biggan-anchors.md, sections A
and B) such that:

* `Generator(...).state_dict()` has exactly the keys and shapes of ajbrock's `G` / `G_ema`
  checkpoints built with `G_shared` (e.g. `shared.weight`, `linear.{weight,bias,u0,sv0}`,
  `blocks.{i}.0.conv1.*`, `blocks.{i}.0.bn1.gain.weight`, `blocks.{i}.0.bn1.stored_mean`,
  `blocks.{i}.1.theta.weight`, `blocks.{i}.1.gamma` (0-dim), `output_layer.0.{gain,bias,
  stored_mean,stored_var}`, `output_layer.2.*`), so a `G_ema.pth` loads with `strict=True`
  (TF-Hub-converted files lack `sv0`; use `strict=False` for those).
* the forward pass `G(z, y_embedded)` computes what ajbrock's does in eval mode.

Spectral norm, as ajbrock does it: the raw weight is the parameter `weight`; buffers `u0`
[1, out] and `sv0` [1]. Every forward (train and eval) does one power-iteration step from the
stored `u0` on W viewed as [out, -1]:
    v = normalize(u0 @ W), u = normalize(v @ W.T), sigma = (v @ W.T) @ u.T
(`normalize(x) = x / max(||x||, sn_eps)`) and uses W / sigma. In train mode u0 and sv0 are
updated in place; in eval mode nothing is written.

Only the configuration used by the released checkpoints is implemented: shared class
embedding (`G_shared`), plain BN with stored running statistics (no `--mybn`, no cross-replica
BN), ReLU, one singular value and one power iteration.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

# Channel multipliers of `ch` per resolution: (in_channels, out_channels). Every block
# upsamples x2 (nearest) from bottom_width 4, so block i outputs 8 * 2**i pixels.
_ARCH = {
    32: ([4, 4, 4], [4, 4, 4]),
    64: ([16, 16, 8, 4], [16, 8, 4, 2]),
    128: ([16, 16, 8, 4, 2], [16, 8, 4, 2, 1]),
    256: ([16, 16, 8, 8, 4, 2], [16, 8, 8, 4, 2, 1]),
    512: ([16, 16, 8, 8, 4, 2, 1], [16, 8, 8, 4, 2, 1, 1]),
}


def g_arch(resolution, ch, attention=(64,)):
    """Return the block table: list of dicts {in, out, up, resolution, attention}."""
    if resolution not in _ARCH:
        raise ValueError(f"unsupported resolution {resolution}; choose from {sorted(_ARCH)}")
    ins, outs = _ARCH[resolution]
    attention = set(int(a) for a in attention)
    blocks = []
    for i, (a, b) in enumerate(zip(ins, outs)):
        res = 8 * 2 ** i
        blocks.append({"in": a * ch, "out": b * ch, "up": True, "resolution": res,
                       "attention": res in attention})
    return blocks


def tapered_arch(w=32, attention=(16,)):
    """The shipped Fashion-MNIST G's block table: 8w→4w→2w→w at 8, 16, 32 pixels."""
    return [{"in": a * w, "out": b * w, "up": True, "resolution": r, "attention": r in set(attention)}
            for a, b, r in ((8, 4, 8), (4, 2, 16), (2, 1, 32))]


def parse_attention(value):
    """'64' / '32_64' / [64] / '' -> sorted list of ints."""
    if value is None:
        return []
    if isinstance(value, str):
        return sorted(int(p) for p in value.replace(",", "_").split("_") if p.strip())
    return sorted(int(v) for v in value)


# --------------------------------------------------------------------------------------
# Spectral norm (ajbrock style)
# --------------------------------------------------------------------------------------

def sn_sigma(weight, u, eps):
    """Sigma from one power-iteration step starting at u ([1, out]); returns (sigma, u_new).

    W is viewed as [out, -1]. sigma is a 0-dim tensor.
    """
    w = weight.reshape(weight.shape[0], -1)
    v = F.normalize(u @ w, dim=1, eps=eps)          # [1, in]
    u_new = F.normalize(v @ w.t(), dim=1, eps=eps)  # [1, out]
    sigma = ((v @ w.t()) @ u_new.t()).squeeze()
    return sigma, u_new


def _sn_weight(module):
    """W / sigma for an SN module (one power step from the stored u0, as the reference).

    u and v are computed without gradient from the u0 stored *before* this call; sigma =
    (v W^T) u^T keeps the gradient w.r.t. W. In train mode u0 <- u and sv0 <- sigma.
    """
    w = module.weight.reshape(module.weight.shape[0], -1)
    with torch.no_grad():
        v = F.normalize(module.u0 @ w, dim=1, eps=module.sn_eps)
        u = F.normalize(v @ w.t(), dim=1, eps=module.sn_eps)
        if module.training:
            module.u0.copy_(u)
    sigma = ((v @ w.t()) @ u.t()).squeeze()
    if module.training:
        with torch.no_grad():
            module.sv0.copy_(sigma.detach().reshape(1))
    return module.weight / sigma


class SNLinear(nn.Linear):
    """nn.Linear with ajbrock spectral norm (keys: weight, [bias], u0, sv0)."""

    def __init__(self, in_features, out_features, bias=True, sn_eps=1e-12):
        super().__init__(in_features, out_features, bias=bias)
        self.sn_eps = sn_eps
        self.register_buffer("u0", torch.randn(1, out_features))
        self.register_buffer("sv0", torch.ones(1))

    def forward(self, x):
        return F.linear(x, _sn_weight(self), self.bias)


class SNConv2d(nn.Conv2d):
    """nn.Conv2d with ajbrock spectral norm (keys: weight, [bias], u0, sv0)."""

    def __init__(self, in_channels, out_channels, kernel_size=3, padding=1, bias=True, sn_eps=1e-12):
        super().__init__(in_channels, out_channels, kernel_size, padding=padding, bias=bias)
        self.sn_eps = sn_eps
        self.register_buffer("u0", torch.randn(1, out_channels))
        self.register_buffer("sv0", torch.ones(1))

    def forward(self, x):
        return F.conv2d(x, _sn_weight(self), self.bias, self.stride, self.padding)


# --------------------------------------------------------------------------------------
# Batch norms
# --------------------------------------------------------------------------------------

class CCBN(nn.Module):
    """Class-conditional BN (ajbrock `layers.ccbn` with G_shared).

    gain = 1 + SNLinear(y), bias = SNLinear(y) (no linear bias); normalisation with
    stored_mean / stored_var (eval) or batch statistics with momentum 0.1 (train).
    """

    def __init__(self, num_features, input_size, eps=1e-5, sn_eps=1e-12):
        super().__init__()
        self.eps = eps
        self.gain = SNLinear(input_size, num_features, bias=False, sn_eps=sn_eps)
        self.bias = SNLinear(input_size, num_features, bias=False, sn_eps=sn_eps)
        self.register_buffer("stored_mean", torch.zeros(num_features))
        self.register_buffer("stored_var", torch.ones(num_features))

    def forward(self, x, y):
        gain = (1 + self.gain(y)).reshape(y.shape[0], -1, 1, 1)
        bias = self.bias(y).reshape(y.shape[0], -1, 1, 1)
        out = F.batch_norm(x, self.stored_mean, self.stored_var, None, None,
                           self.training, 0.1, self.eps)
        return out * gain + bias


class PlainBN(nn.Module):
    """Unconditional BN (ajbrock `layers.bn`): params gain/bias, buffers stored_mean/var."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        self.gain = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("stored_mean", torch.zeros(num_features))
        self.register_buffer("stored_var", torch.ones(num_features))

    def forward(self, x, y=None):
        return F.batch_norm(x, self.stored_mean, self.stored_var, self.gain, self.bias,
                            self.training, self.momentum, self.eps)


# --------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------

class GBlock(nn.Module):
    """bn1 -> ReLU -> up -> conv1 -> bn2 -> ReLU -> conv2, plus conv_sc(up(x))."""

    def __init__(self, in_ch, out_ch, cond_dim, upsample=True, bn_eps=1e-5, sn_eps=1e-12):
        super().__init__()
        self.upsample = upsample
        # registration order mirrors the reference: conv1, conv2, conv_sc, bn1, bn2
        self.conv1 = SNConv2d(in_ch, out_ch, 3, 1, sn_eps=sn_eps)
        self.conv2 = SNConv2d(out_ch, out_ch, 3, 1, sn_eps=sn_eps)
        self.learnable_sc = (in_ch != out_ch) or upsample
        if self.learnable_sc:
            self.conv_sc = SNConv2d(in_ch, out_ch, 1, 0, sn_eps=sn_eps)
        self.bn1 = CCBN(in_ch, cond_dim, eps=bn_eps, sn_eps=sn_eps)
        self.bn2 = CCBN(out_ch, cond_dim, eps=bn_eps, sn_eps=sn_eps)

    def forward(self, x, y):
        h = F.relu(self.bn1(x, y))
        if self.upsample:
            h = F.interpolate(h, scale_factor=2, mode="nearest")
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        h = self.conv1(h)
        h = F.relu(self.bn2(h, y))
        h = self.conv2(h)
        if self.learnable_sc:
            x = self.conv_sc(x)
        return h + x


class Attention(nn.Module):
    """SAGAN-style self-attention (ajbrock `layers.Attention`), all convs SN and bias-free.

    theta, phi: C -> C/8; g: C -> C/2; o: C/2 -> C; phi and g 2x2 max-pooled;
    beta = softmax over keys of theta^T phi; out = x + gamma * o(g beta^T).
    gamma is a 0-dim parameter (initialised to 0 as in the reference).
    """

    def __init__(self, ch, sn_eps=1e-12):
        super().__init__()
        self.ch = ch
        self.theta = SNConv2d(ch, ch // 8, 1, 0, bias=False, sn_eps=sn_eps)
        self.phi = SNConv2d(ch, ch // 8, 1, 0, bias=False, sn_eps=sn_eps)
        self.g = SNConv2d(ch, ch // 2, 1, 0, bias=False, sn_eps=sn_eps)
        self.o = SNConv2d(ch // 2, ch, 1, 0, bias=False, sn_eps=sn_eps)
        self.gamma = nn.Parameter(torch.tensor(0.0))

    def forward(self, x, y=None):
        b, c, h, w = x.shape
        n = h * w
        theta = self.theta(x).reshape(b, c // 8, n)
        phi = F.max_pool2d(self.phi(x), [2, 2]).reshape(b, c // 8, n // 4)
        g = F.max_pool2d(self.g(x), [2, 2]).reshape(b, c // 2, n // 4)
        beta = F.softmax(torch.bmm(theta.transpose(1, 2), phi), dim=-1)       # [b, n, n/4]
        o = self.o(torch.bmm(g, beta.transpose(1, 2)).reshape(b, c // 2, h, w))
        return self.gamma * o + x


# --------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------

class Generator(nn.Module):
    """ajbrock BigGAN generator (G_shared), forward(z, y_embedded) -> [B, out_channels, R, R]."""

    def __init__(self, resolution=128, ch=96, dim_z=120, shared_dim=128, n_classes=1000,
                 hier=True, attention=(64,), bn_eps=1e-5, sn_eps=1e-6, out_channels=3,
                 bottom_width=4, arch=None):
        super().__init__()
        self.resolution = resolution
        self.ch = ch
        self.shared_dim = shared_dim if shared_dim > 0 else dim_z
        self.n_classes = n_classes
        self.hier = hier
        self.attention = parse_attention(attention)
        self.bn_eps = bn_eps
        self.sn_eps = sn_eps
        self.out_channels = out_channels
        self.bottom_width = bottom_width
        # `arch`: an explicit block table in g_arch's format (e.g. the tapered 256→128→64→32 G).
        self.arch = arch if arch is not None else g_arch(resolution, ch, self.attention)
        n_blocks = len(self.arch)
        if hier:
            self.num_slots = n_blocks + 1
            self.z_chunk_size = dim_z // self.num_slots
            self.dim_z = self.z_chunk_size * self.num_slots
        else:
            self.num_slots = 1
            self.z_chunk_size = 0
            self.dim_z = dim_z
        cond_dim = self.shared_dim + self.z_chunk_size

        self.shared = nn.Embedding(n_classes, self.shared_dim)
        self.linear = SNLinear(self.dim_z // self.num_slots,
                               self.arch[0]["in"] * bottom_width ** 2, sn_eps=sn_eps)
        blocks = []
        for spec in self.arch:
            inner = [GBlock(spec["in"], spec["out"], cond_dim, upsample=spec["up"],
                            bn_eps=bn_eps, sn_eps=sn_eps)]
            if spec["attention"]:
                inner.append(Attention(spec["out"], sn_eps=sn_eps))
            blocks.append(nn.ModuleList(inner))
        self.blocks = nn.ModuleList(blocks)
        c_last = self.arch[-1]["out"]
        # output BN eps is always 1e-5 in the reference (BN_eps is not passed to it)
        self.output_layer = nn.Sequential(
            PlainBN(c_last, eps=1e-5),
            nn.ReLU(),
            SNConv2d(c_last, out_channels, 3, 1, sn_eps=sn_eps),
        )

    def forward(self, z, y):
        if self.hier:
            zs = torch.split(z, self.z_chunk_size, dim=1)
            z = zs[0]
            ys = [torch.cat([y, chunk], dim=1) for chunk in zs[1:]]
        else:
            ys = [y] * len(self.blocks)
        h = self.linear(z)
        h = h.reshape(h.shape[0], -1, self.bottom_width, self.bottom_width)
        for i, inner in enumerate(self.blocks):
            for block in inner:
                h = block(h, ys[i])
        bn, act, conv = self.output_layer
        return torch.tanh(conv(act(bn(h))))

    def config_dict(self):
        """The constructor arguments (as accepted by `Generator(**d)`)."""
        return {
            "resolution": self.resolution, "ch": self.ch, "dim_z": self.dim_z,
            "shared_dim": self.shared_dim, "n_classes": self.n_classes, "hier": self.hier,
            "attention": list(self.attention), "bn_eps": self.bn_eps, "sn_eps": self.sn_eps,
            "out_channels": self.out_channels, "bottom_width": self.bottom_width,
        }


def init_ortho(module, gain=1.0):
    """ajbrock's default 'ortho' init of every conv/linear/embedding weight."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
            nn.init.orthogonal_(m.weight, gain=gain)


if __name__ == "__main__":
    g = Generator()
    sd = g.state_dict()
    n_param = sum(p.numel() for p in g.parameters())
    print(f"{len(sd)} keys, {n_param} parameters")
