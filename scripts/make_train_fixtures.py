#!/usr/bin/env python3
"""Write the PyTorch parity fixture of the training library: Tests/Fixtures/train/parity.safetensors.

    python3 scripts/make_train_fixtures.py [--out Tests/Fixtures/train]

It builds a tiny class-conditional BigGAN pair in PyTorch, mirroring ajbrock/BigGAN-PyTorch:

* G: the ajbrock generator from `biggan_ref.py` (its SNLinear, SNConv2d, CCBN, PlainBN, GBlock and
  Attention modules), assembled here with a custom block list: bottom width 4, blocks
  16→16 (up, 8×8, attention after it) and 16→8 (up, 16×16), hierarchical z (9 = 3 chunks of 3),
  shared embedding 3×4, grey output.
* D: ajbrock's projection discriminator (`BigGAN.Discriminator` with `layers.DBlock`, wide,
  `layers.SNEmbedding`), written here from its documented behaviour: blocks 1→16 (down,
  no pre-activation, attention after it at 8×8), 16→16 (down), 16→16 (identity shortcut), then
  ReLU, global sum pooling, SNLinear(16→1) + Σ embed(y)·h.

Every weight is random (N(0, 1/fan_in); biases N(0, 0.01); attention gammas 0.5 and -0.4;
output-BN gain/bias random; SN `u0` N(0, 1)); D's linear bias is then shifted so that its scores on
the batch are centred (some hinge terms active, some not). One training iteration runs exactly as ajbrock's
`train_fns.GAN_training_function` with num_D_steps=1, G in train mode throughout:

1. D step: with no grad, G_z = G(z1, G.shared(fy1)); D(cat[G_z, x], cat[fy1, y]) in one pass;
   hinge loss; backward; Adam(D) (lr 2e-4, betas (0, 0.999), eps 1e-8).
2. G step: D(G(z2, G.shared(fy2)), fy2); loss -mean; backward through D into G; ajbrock's
   `utils.ortho(G, ORTHO, blacklist=G.shared)` added to the gradients; Adam(G) (lr 5e-5); EMA
   update (decay 0.9999, itr 1 >= ema_start 0).

Names in the file use the Swift training library's names (docs/CHECKPOINT_FORMAT.md for G;
`<layer>.u` for SN vectors, `blocks.{i}.attention.*`, `output.bn.*`, `output.conv.*`):

  init.G.<name>, init.D.<name>           the state before the iteration (parameters and buffers)
  input.real [B,16,16,1] (NHWC), input.real_labels [B], input.z1 [B,9], input.fake_labels1 [B],
  input.z2 [B,9], input.fake_labels2 [B]  (labels stored as float32)
  expect.fake1 [B,16,16,1]               G's images in the D step (NHWC)
  expect.d_scores [2B]                   D(cat[fakes, reals]) in the D step
  expect.loss_real, expect.loss_fake, expect.g_loss   [1] each
  expect.dgrad.<name>                    D gradients of the D step
  expect.ggrad.<name>                    G gradients of the G step (orthogonal term included)
  expect.after.G.<name>, expect.after.D.<name>, expect.after.G_ema.<name>
                                         selected parameters/buffers after the iteration
Metadata: the hyperparameters (g_lr, d_lr, ortho, sn_eps, bn_eps) as strings.
"""
import argparse
import os
import re
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import biggan_ref  # noqa: E402
from checkpoint import write_tensors_sorted  # noqa: E402

B = 4
N_CLASSES = 3
SHARED = 4
DIM_Z = 9
BN_EPS = 1e-5
SN_EPS = 1e-6
G_LR, D_LR = 5e-5, 2e-4
ORTHO = 1e-2   # larger than the paper's 1e-4 so the regulariser is visible in the gradients
EMA_DECAY = 0.9999


# --------------------------------------------------------------------------------------
# G: biggan_ref modules, custom block list
# --------------------------------------------------------------------------------------

class TinyG(nn.Module):
    """ajbrock G (G_shared, hier) with blocks [(16,16,up,attention), (16,8,up)], bottom width 4."""

    def __init__(self):
        super().__init__()
        self.bottom_width = 4
        specs = [(16, 16, True), (16, 8, False)]   # (in, out, attention after)
        self.num_slots = len(specs) + 1
        self.z_chunk_size = DIM_Z // self.num_slots
        cond = SHARED + self.z_chunk_size
        self.shared = nn.Embedding(N_CLASSES, SHARED)
        self.linear = biggan_ref.SNLinear(self.z_chunk_size, specs[0][0] * 16, sn_eps=SN_EPS)
        blocks = []
        for cin, cout, att in specs:
            inner = [biggan_ref.GBlock(cin, cout, cond, upsample=True, bn_eps=BN_EPS, sn_eps=SN_EPS)]
            if att:
                inner.append(biggan_ref.Attention(cout, sn_eps=SN_EPS))
            blocks.append(nn.ModuleList(inner))
        self.blocks = nn.ModuleList(blocks)
        self.output_layer = nn.Sequential(biggan_ref.PlainBN(specs[-1][1], eps=1e-5), nn.ReLU(),
                                          biggan_ref.SNConv2d(specs[-1][1], 1, 3, 1, sn_eps=SN_EPS))

    def forward(self, z, y):
        zs = torch.split(z, self.z_chunk_size, dim=1)
        ys = [torch.cat([y, c], dim=1) for c in zs[1:]]
        h = self.linear(zs[0]).reshape(z.shape[0], -1, self.bottom_width, self.bottom_width)
        for i, inner in enumerate(self.blocks):
            for block in inner:
                h = block(h, ys[i])
        bn, act, conv = self.output_layer
        return torch.tanh(conv(act(bn(h))))


# --------------------------------------------------------------------------------------
# D: ajbrock DBlock / Discriminator / SNEmbedding
# --------------------------------------------------------------------------------------

class SNEmbedding(nn.Embedding):
    """nn.Embedding with ajbrock SN over the [num_embeddings, dim] table (u0 [1, num_embeddings])."""

    def __init__(self, num_embeddings, embedding_dim, sn_eps=1e-12):
        super().__init__(num_embeddings, embedding_dim)
        self.sn_eps = sn_eps
        self.register_buffer("u0", torch.randn(1, num_embeddings))
        self.register_buffer("sv0", torch.ones(1))

    def forward(self, x):
        return F.embedding(x, biggan_ref._sn_weight(self))


class DBlock(nn.Module):
    """ajbrock layers.DBlock (wide): [relu] conv1 relu conv2 [avgpool] + shortcut."""

    def __init__(self, cin, cout, preactivation, downsample, sn_eps=SN_EPS):
        super().__init__()
        self.preactivation = preactivation
        self.downsample = nn.AvgPool2d(2) if downsample else None
        self.conv1 = biggan_ref.SNConv2d(cin, cout, 3, 1, sn_eps=sn_eps)
        self.conv2 = biggan_ref.SNConv2d(cout, cout, 3, 1, sn_eps=sn_eps)
        self.learnable_sc = (cin != cout) or downsample
        if self.learnable_sc:
            self.conv_sc = biggan_ref.SNConv2d(cin, cout, 1, 0, sn_eps=sn_eps)

    def shortcut(self, x):
        if self.preactivation:
            if self.learnable_sc:
                x = self.conv_sc(x)
            if self.downsample:
                x = self.downsample(x)
        else:
            if self.downsample:
                x = self.downsample(x)
            if self.learnable_sc:
                x = self.conv_sc(x)
        return x

    def forward(self, x):
        h = F.relu(x) if self.preactivation else x
        h = self.conv1(h)
        h = self.conv2(F.relu(h))
        if self.downsample:
            h = self.downsample(h)
        return h + self.shortcut(x)


class Discriminator(nn.Module):
    """ajbrock projection D. specs: [(in, out, downsample, attention after)], block 0 not pre-activated."""

    def __init__(self, specs, n_classes, sn_eps=SN_EPS):
        super().__init__()
        blocks = []
        for i, (cin, cout, down, att) in enumerate(specs):
            inner = [DBlock(cin, cout, preactivation=i > 0, downsample=down, sn_eps=sn_eps)]
            if att:
                inner.append(biggan_ref.Attention(cout, sn_eps=sn_eps))
            blocks.append(nn.ModuleList(inner))
        self.blocks = nn.ModuleList(blocks)
        c = specs[-1][1]
        self.linear = biggan_ref.SNLinear(c, 1, sn_eps=sn_eps)
        self.embed = SNEmbedding(n_classes, c, sn_eps=sn_eps)

    def forward(self, x, y):
        h = x
        for inner in self.blocks:
            for block in inner:
                h = block(h)
        h = torch.sum(F.relu(h), [2, 3])
        out = self.linear(h)
        out = out + torch.sum(self.embed(y) * h, 1, keepdim=True)
        return out


def TinyD():
    """Blocks 1→16 (down, attention after), 16→16 (down), 16→16 (identity shortcut)."""
    return Discriminator([(1, 16, True, True), (16, 16, True, False), (16, 16, False, False)], N_CLASSES)


# --------------------------------------------------------------------------------------
# naming, randomisation, ajbrock utilities
# --------------------------------------------------------------------------------------

def swift_name(key):
    k = re.sub(r"^blocks\.(\d+)\.0\.", r"blocks.\1.", key)
    k = re.sub(r"^blocks\.(\d+)\.1\.", r"blocks.\1.attention.", k)
    k = k.replace("output_layer.0.gain", "output.bn.weight").replace("output_layer.0.", "output.bn.")
    k = k.replace("output_layer.2.", "output.conv.")
    k = re.sub(r"\.u0$", ".u", k)
    k = re.sub(r"\.stored_mean$", ".mean", k)
    k = re.sub(r"\.stored_var$", ".var", k)
    return k


def state(module):
    """state_dict in Swift names and shapes (u0 [1,out] -> [out], 0-dim gamma -> [1]; no sv0)."""
    out = {}
    for k, v in module.state_dict().items():
        if k.endswith(".sv0"):
            continue
        t = v.detach().clone().float()
        if k.endswith(".u0"):
            t = t.reshape(-1)
        if t.dim() == 0:
            t = t.reshape(1)
        out[swift_name(k)] = t.contiguous()
    return out


def grads(module):
    out = {}
    for k, p in module.named_parameters():
        if p.grad is not None:
            g = p.grad.detach().clone().float()
            out[swift_name(k)] = (g.reshape(1) if g.dim() == 0 else g).contiguous()
    return out


def randomise(module, gammas):
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("gamma"):
                p.fill_(gammas.pop(0))
            elif p.dim() >= 2:
                fan = p[0].numel()
                p.normal_(0.0, 1.0 / fan ** 0.5)
            elif name.endswith("output_layer.0.gain"):
                p.uniform_(0.7, 1.3)
            else:
                p.normal_(0.0, 0.1)
        for name, b in module.named_buffers():
            if name.endswith("u0"):
                b.normal_()


def ortho(model, strength, blacklist):
    """ajbrock utils.ortho: grad += strength * 2 * ((W W^T) * (1 - I)) W for >=2-D params."""
    with torch.no_grad():
        for param in model.parameters():
            if len(param.shape) < 2 or any(param is item for item in blacklist):
                continue
            w = param.view(param.shape[0], -1)
            grad = 2 * torch.mm(torch.mm(w, w.t()) * (1. - torch.eye(w.shape[0])), w)
            param.grad.data += strength * grad.view(param.shape)


def nhwc(x):
    return x.permute(0, 2, 3, 1).contiguous()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "train"))
    args = ap.parse_args()
    torch.manual_seed(1234)
    torch.set_num_threads(1)

    G, D = TinyG(), TinyD()
    randomise(G, [0.5])
    randomise(D, [-0.4])
    x = torch.rand(B, 1, 16, 16) * 2 - 1
    y = torch.tensor([1, 2, 0, 2])
    z1, fy1 = torch.randn(B, DIM_Z), torch.tensor([0, 1, 2, 1])
    z2, fy2 = torch.randn(B, DIM_Z), torch.tensor([2, 0, 1, 2])
    # Centre D's scores on this batch (eval mode: no u or running-stat updates) so that some hinge
    # terms are active and some are not.
    G.eval(); D.eval()
    with torch.no_grad():
        scores = D(torch.cat([G(z1, G.shared(fy1)), x], 0), torch.cat([fy1, y], 0))
        D.linear.bias -= scores.median()
    G_ema = TinyG()
    G_ema.load_state_dict(G.state_dict())
    G.train(); D.train()
    out = {}
    for k, v in state(G).items():
        out["init.G." + k] = v
    for k, v in state(D).items():
        out["init.D." + k] = v

    out["input.real"] = nhwc(x)
    out["input.real_labels"] = y.float()
    out["input.z1"], out["input.fake_labels1"] = z1, fy1.float()
    out["input.z2"], out["input.fake_labels2"] = z2, fy2.float()

    g_opt = torch.optim.Adam(G.parameters(), lr=G_LR, betas=(0.0, 0.999), eps=1e-8)
    d_opt = torch.optim.Adam(D.parameters(), lr=D_LR, betas=(0.0, 0.999), eps=1e-8)

    # D step
    d_opt.zero_grad()
    with torch.no_grad():
        g_z = G(z1, G.shared(fy1))
    d_out = D(torch.cat([g_z, x], 0), torch.cat([fy1, y], 0))
    d_fake, d_real = torch.split(d_out, [B, B])
    loss_real = torch.mean(F.relu(1. - d_real))
    loss_fake = torch.mean(F.relu(1. + d_fake))
    (loss_real + loss_fake).backward()
    out["expect.fake1"] = nhwc(g_z)
    out["expect.d_scores"] = d_out.detach().reshape(-1)
    out["expect.loss_real"] = loss_real.detach().reshape(1)
    out["expect.loss_fake"] = loss_fake.detach().reshape(1)
    for k, v in grads(D).items():
        out["expect.dgrad." + k] = v
    d_opt.step()

    # G step
    for p in D.parameters():
        p.requires_grad_(False)
    g_opt.zero_grad()
    d_fake = D(G(z2, G.shared(fy2)), fy2)
    g_loss = -torch.mean(d_fake)
    g_loss.backward()
    ortho(G, ORTHO, blacklist=list(G.shared.parameters()))
    out["expect.g_loss"] = g_loss.detach().reshape(1)
    for k, v in grads(G).items():
        out["expect.ggrad." + k] = v
    g_opt.step()
    with torch.no_grad():
        sd, ed = G.state_dict(), G_ema.state_dict()
        for k in sd:
            ed[k].copy_(ed[k] * EMA_DECAY + sd[k] * (1 - EMA_DECAY))

    after_g = state(G)
    after_d = state(D)
    after_e = state(G_ema)
    for k in ["linear.weight", "linear.u", "blocks.0.conv1.weight", "blocks.0.bn1.mean", "blocks.0.bn1.var",
              "blocks.1.bn2.gain.u", "output.bn.var", "blocks.0.attention.gamma", "shared.weight"]:
        out["expect.after.G." + k] = after_g[k]
    for k in ["linear.weight", "linear.u", "embed.weight", "embed.u", "blocks.0.conv1.weight", "blocks.0.attention.gamma"]:
        out["expect.after.D." + k] = after_d[k]
    for k in ["linear.weight", "blocks.0.bn1.mean", "linear.u"]:
        out["expect.after.G_ema." + k] = after_e[k]

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "parity.safetensors")
    meta = {"g_lr": repr(G_LR), "d_lr": repr(D_LR), "ortho": repr(ORTHO), "sn_eps": repr(SN_EPS),
            "bn_eps": repr(BN_EPS), "ema_decay": repr(EMA_DECAY), "batch": str(B)}
    # sorted names and metadata keys: byte-stable (safetensors' own writer orders metadata randomly)
    write_tensors_sorted(path, {k: v.float().contiguous() for k, v in out.items()}, meta)
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(out)} tensors); "
          f"loss_real {loss_real.item():.6f} loss_fake {loss_fake.item():.6f} g_loss {g_loss.item():.6f}")


if __name__ == "__main__":
    main()
