#!/usr/bin/env python3
"""One StyleGAN training step in PyTorch, for `StyleGANTrainingParityTests`.

The generator is `stylegan_ref.py` (NVlabs operation order) with per-image noise maps and style
mixing; the discriminator is NVlabs' `D_basic` as `StyleGANDiscriminator` builds it (FromRGB 1x1,
blocks of conv3x3 / blur / conv3x3 + 2x2 average pool, minibatch stddev with strided groups,
conv3x3, dense, dense projected on the one-hot label; equalised learning rate; LeakyReLU 0.2; the
first dense layer reads the 4x4 features in NHWC order). Losses as NVlabs `loss.py`:

    D: mean softplus(D(G(z))) + mean softplus(-D(x)) + gamma/2 * mean ||grad_x D(x)||^2   (exact double backward)
    G: mean softplus(-D(G(z)))

Writes Tests/Fixtures/train/stylegan-step.safetensors: the weights (`G/<checkpoint name>`,
`D/<parameter name>`), the inputs (`z`, `z2`, `labels`, `noise{l}` [N, r*r], `reals` NHWC), the
expected gradients (`dgrad/<D name>` of the D step, `ggrad/<G checkpoint name>` of the G step),
and the losses and mixing cutoff in the metadata.

    python3 scripts/make_stylegan_training_fixtures.py
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stylegan_ref as ref  # noqa: E402

torch.set_default_dtype(torch.float64)   # the reference runs in double precision

CFG = dict(resolution=16, z_dim=6, w_dim=8, mapping_layers=2, mapping_lrmul=0.01, label_size=3, channels=[8, 6, 4],
           fused_scale_from=4096, blur=True, out_channels=1, use_wscale=True)
D_CHANNELS, MBSTD_GROUP, GAMMA, BATCH, CUTOFF = [6, 5, 4], 4, 10.0, 4, 3


def g_shapes():
    c = CFG
    out = [("mapping/LabelConcat/weight", [c["label_size"], c["z_dim"]])]
    for i in range(c["mapping_layers"]):
        out += [(f"mapping/Dense{i}/weight", [c["w_dim"], 2 * c["z_dim"] if i == 0 else c["w_dim"]]), (f"mapping/Dense{i}/bias", [c["w_dim"]])]
    ch = c["channels"]
    out.append(("synthesis/4x4/Const/const", [1, ch[0], 4, 4]))

    def layer(p, n):
        return [(p + "/Noise/weight", [n]), (p + "/bias", [n]), (p + "/StyleMod/weight", [2 * n, c["w_dim"]]), (p + "/StyleMod/bias", [2 * n])]
    out += layer("synthesis/4x4/Const", ch[0])
    out.append(("synthesis/4x4/Conv/weight", [ch[0], ch[0], 3, 3]))
    out += layer("synthesis/4x4/Conv", ch[0])
    for r in range(3, int(math.log2(c["resolution"])) + 1):
        s, cin, cout = 2 ** r, ch[r - 3], ch[r - 2]
        p = f"synthesis/{s}x{s}"
        out.append((p + "/Conv0_up/weight", [cout, cin, 3, 3]))
        out += layer(p + "/Conv0_up", cout)
        out.append((p + "/Conv1/weight", [cout, cout, 3, 3]))
        out += layer(p + "/Conv1", cout)
    out += [("synthesis/ToRGB_lod0/weight", [c["out_channels"], ch[-1], 1, 1]), ("synthesis/ToRGB_lod0/bias", [c["out_channels"]])]
    return out


def d_shapes():
    res_log2 = int(math.log2(CFG["resolution"]))
    ch = D_CHANNELS
    out = [("FromRGB_lod0.weight", [ch[-1], CFG["out_channels"], 1, 1]), ("FromRGB_lod0.bias", [ch[-1]])]
    for r in range(res_log2, 2, -1):
        s, cin, cout = 2 ** r, ch[r - 2], ch[r - 3]
        out += [(f"{s}x{s}/Conv0.weight", [cin, cin, 3, 3]), (f"{s}x{s}/Conv0.bias", [cin]),
                (f"{s}x{s}/Conv1_down.weight", [cout, cin, 3, 3]), (f"{s}x{s}/Conv1_down.bias", [cout])]
    c4 = ch[0]
    out += [("4x4/Conv.weight", [c4, c4 + 1, 3, 3]), ("4x4/Conv.bias", [c4]), ("4x4/Dense0.weight", [c4, 16 * c4]), ("4x4/Dense0.bias", [c4]),
            ("4x4/Dense1.weight", [CFG["label_size"], c4]), ("4x4/Dense1.bias", [CFG["label_size"]])]
    return out


def random_weights(shapes, rng, lrmul_prefix=None):
    t = {}
    for name, shape in shapes:
        if len(shape) == 1:
            v = 0.1 * rng.standard_normal(shape)
        else:
            std = 1 / CFG["mapping_lrmul"] if lrmul_prefix and name.startswith(lrmul_prefix) else 1.0
            v = std * rng.standard_normal(shape)
        t[name] = torch.tensor(v, requires_grad=True)
    return t


def discriminator(t, x_nchw, onehot):
    lrelu = ref.lrelu

    def conv(x, name, pad):
        w = t[name + ".weight"]
        return F.conv2d(x, w * (math.sqrt(2) / math.sqrt(w[0].numel())), padding=pad) + t[name + ".bias"].view(1, -1, 1, 1)

    x = lrelu(conv(x_nchw, "FromRGB_lod0", 0))
    for r in range(int(math.log2(CFG["resolution"])), 2, -1):
        s = 2 ** r
        x = lrelu(conv(x, f"{s}x{s}/Conv0", 1))
        w = t[f"{s}x{s}/Conv1_down.weight"]
        x = F.conv2d(ref.blur(x), w * (math.sqrt(2) / math.sqrt(w[0].numel())), padding=1)
        x = lrelu(F.avg_pool2d(x, 2) + t[f"{s}x{s}/Conv1_down.bias"].view(1, -1, 1, 1))
    n, c, h, w_ = x.shape
    g = min(MBSTD_GROUP, n)
    y = x.reshape(g, n // g, c, h, w_)
    y = y - y.mean(0)
    y = torch.sqrt((y * y).mean(0) + 1e-8).mean(dim=(1, 2, 3))        # [M]
    y = y.repeat(g).view(n, 1, 1, 1).expand(n, 1, h, w_)              # image i gets slot i % M
    x = lrelu(conv(torch.cat([x, y], 1), "4x4/Conv", 1))
    x = x.permute(0, 2, 3, 1).reshape(n, -1)
    w0, w1 = t["4x4/Dense0.weight"], t["4x4/Dense1.weight"]
    x = lrelu(x @ (w0 * (math.sqrt(2) / math.sqrt(w0.shape[1]))).T + t["4x4/Dense0.bias"])
    out = x @ (w1 * (1 / math.sqrt(w1.shape[1]))).T + t["4x4/Dense1.bias"]
    return (out * onehot).sum(1)


def generator(gt, z, z2, onehot, noise):
    layers = ref.layer_count(CFG["resolution"])
    w1, w2 = ref.mapping(CFG, gt, z, onehot), ref.mapping(CFG, gt, z2, onehot)
    ws = torch.stack([w1 if l < CUTOFF else w2 for l in range(layers)], dim=1)
    t = dict(gt)
    for l in range(layers):
        t[f"synthesis/noise{l}"] = noise[l].view(BATCH, 1, int(math.isqrt(noise[l].shape[1])), -1)
    return ref.synthesis(CFG, t, ws, "const")


def main():
    rng = np.random.default_rng(2026)
    gt = random_weights(g_shapes(), rng, lrmul_prefix="mapping/Dense")
    dt = random_weights(d_shapes(), rng)
    layers = ref.layer_count(CFG["resolution"])
    sides = [4, 4] + [2 ** r for r in range(3, int(math.log2(CFG["resolution"])) + 1) for _ in (0, 1)]
    z = torch.tensor(rng.standard_normal((BATCH, CFG["z_dim"])))
    z2 = torch.tensor(rng.standard_normal((BATCH, CFG["z_dim"])))
    labels = torch.tensor([2, 0, 1, 2])
    onehot = F.one_hot(labels, CFG["label_size"]).double()
    noise = [torch.tensor(rng.standard_normal((BATCH, s * s))) for s in sides]
    reals = torch.tensor(np.clip(0.5 * rng.standard_normal((BATCH, 1, 16, 16)), -1, 1))

    # D step: fakes without G gradients, logistic loss, exact R1 by double backward.
    fakes = generator(gt, z, z2, onehot, noise).detach()
    s_fake = discriminator(dt, fakes, onehot)
    x = reals.clone().requires_grad_(True)
    s_real = discriminator(dt, x, onehot)
    loss_fake, loss_real = F.softplus(s_fake).mean(), F.softplus(-s_real).mean()
    (grad_x,) = torch.autograd.grad(s_real.sum(), x, create_graph=True)
    r1 = GAMMA / 2 * (grad_x * grad_x).sum(dim=(1, 2, 3)).mean()
    (loss_fake + loss_real + r1).backward()
    dgrad = {n: p.grad.detach().clone() for n, p in dt.items()}
    for p in list(gt.values()) + list(dt.values()):
        p.grad = None

    # G step: non-saturating loss through D.
    images = generator(gt, z, z2, onehot, noise)
    loss_g = F.softplus(-discriminator(dt, images, onehot)).mean()
    loss_g.backward()

    out = {}
    for n, p in gt.items():
        out["G/" + n] = p.detach()
        out["ggrad/" + n] = p.grad.detach()
    for n, p in dt.items():
        out["D/" + n] = p.detach()
        out["dgrad/" + n] = dgrad[n]
    out["z"], out["z2"], out["labels"] = z, z2, labels.double()
    for l, m in enumerate(noise):
        out[f"noise{l}"] = m
    out["reals"] = reals.permute(0, 2, 3, 1)
    out["fakes"] = images.detach().permute(0, 2, 3, 1)
    out = {k: v.float().contiguous() for k, v in out.items()}
    meta = {"loss_d_real": repr(loss_real.item()), "loss_d_fake": repr(loss_fake.item()), "r1": repr(r1.item()),
            "loss_g": repr(loss_g.item()), "cutoff": str(CUTOFF), "gamma": repr(GAMMA), "layers": str(layers)}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "train", "stylegan-step.safetensors")
    save_file(out, path, metadata=meta)
    print(f"wrote {os.path.normpath(path)}: {len(out)} tensors; losses D real {loss_real.item():.6f} fake {loss_fake.item():.6f}, "
          f"R1 {r1.item():.6f}, G {loss_g.item():.6f}")


if __name__ == "__main__":
    main()
