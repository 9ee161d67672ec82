"""PyTorch reference of the BigBiGAN encoder as this project specifies it (docs/CHECKPOINT_FORMAT.md,
"bigbigan"; Sources/BigGANEngine/Families/BigBiGAN/). Written from that spec, not from any other
implementation; used by scripts/make_bigbigan_fixtures.py for the Swift parity tests.

    x [B, C, R, R] in [-1, 1]
    h = stem(x)                                  3x3 conv, stride 1, padding 1
    for each block (pre-activation ResNet v2):
        a = relu(bn1(h))
        r = conv2(relu(bn2(conv1(a))))           conv1 3x3 (stride 2 when down and downsample == "stride")
        s = conv_sc(a) if in != out or down else h   (1x1, same stride as conv1)
        h = r + s; avg_pool2d(h, 2) when down and downsample == "avgpool"
    features = mean over H, W of relu(bn(h))     [B, feature_width]  (avepool_feat)
    y = head(relu(mlp[-1](... relu(mlp[0](features)))))   [B, 2 z_dim]
    z_mean = y[:, :z_dim]; sigma = softplus(y[:, z_dim:]) or exp(y[:, z_dim:] / 2) ("logvar")

Every BatchNorm is in eval mode (stored running statistics). Checkpoint names: this module's
state_dict under `encoder.`, with `running_mean`/`running_var` stored as `mean`/`var`.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class PreActBlock(nn.Module):
    def __init__(self, cin, cout, down, downsample, eps):
        super().__init__()
        stride = 2 if down and downsample == "stride" else 1
        self.down = down
        self.pool = down and downsample == "avgpool"
        self.bn1 = nn.BatchNorm2d(cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1)
        self.bn2 = nn.BatchNorm2d(cout, eps=eps)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1)
        self.conv_sc = nn.Conv2d(cin, cout, 1, stride=stride, padding=0) if (cin != cout or down) else None

    def forward(self, x):
        a = F.relu(self.bn1(x))
        r = self.conv2(F.relu(self.bn2(self.conv1(a))))
        s = self.conv_sc(a) if self.conv_sc is not None else x
        out = r + s
        return F.avg_pool2d(out, 2) if self.pool else out


class Encoder(nn.Module):
    """forward(x) -> (z_mean, sigma, features)."""

    def __init__(self, resolution, in_channels, stem_channels, blocks, mlp, z_dim, bn_eps=1e-5,
                 sigma="softplus", downsample="avgpool"):
        super().__init__()
        assert sigma in ("softplus", "logvar") and downsample in ("avgpool", "stride")
        self.cfg = {"resolution": resolution, "in_channels": in_channels, "stem_channels": stem_channels,
                    "blocks": [{"in": b[0], "out": b[1], "down": bool(b[2])} for b in blocks],
                    "downsample": downsample, "mlp": list(mlp), "z_dim": z_dim, "bn_eps": bn_eps, "sigma": sigma}
        self.z_dim = z_dim
        self.sigma_kind = sigma
        self.stem = nn.Conv2d(in_channels, stem_channels, 3, padding=1)
        self.blocks = nn.ModuleList([PreActBlock(i, o, d, downsample, bn_eps) for i, o, d in blocks])
        width = blocks[-1][1] if blocks else stem_channels
        self.bn = nn.BatchNorm2d(width, eps=bn_eps)
        layers = []
        for m in mlp:
            layers.append(nn.Linear(width, m))
            width = m
        self.mlp = nn.ModuleList(layers)
        self.head = nn.Linear(width, 2 * z_dim)

    def features(self, x):
        h = self.stem(x)
        for b in self.blocks:
            h = b(h)
        return F.relu(self.bn(h)).mean(dim=(2, 3))

    def forward(self, x):
        f = self.features(x)
        h = f
        for layer in self.mlp:
            h = F.relu(layer(h))
        y = self.head(h)
        mean, raw = y[:, :self.z_dim], y[:, self.z_dim:]
        sigma = F.softplus(raw) if self.sigma_kind == "softplus" else torch.exp(raw / 2)
        return mean, sigma, f

    def config_dict(self):
        return dict(self.cfg)

    def checkpoint_tensors(self):
        """name -> tensor in the checkpoint's names (`encoder.` prefix, BN `mean`/`var`)."""
        out = {}
        for k, v in self.state_dict().items():
            if k.endswith("num_batches_tracked"):
                continue
            k = k.replace("running_mean", "mean").replace("running_var", "var")
            out["encoder." + k] = v.detach().float().contiguous()
        return out
