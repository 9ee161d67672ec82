"""Family "biggan-deep": a huggingface pytorch-pretrained-BigGAN (BigGAN-deep) model to our checkpoint
format (architecture "biggan-deep", truncation "truncnorm-scaled").

The source is anything `BigGAN.from_pretrained` accepts: a model name (biggan-deep-128/256/512,
downloaded to the package cache) or a local directory holding config.json + pytorch_model.bin;
or an already built `pytorch_pretrained_biggan.BigGAN`.

Spectral norm: the HF model wraps its convs/linears in torch.nn.utils.spectral_norm, which keeps
`weight_orig`, `weight_u`, `weight_v`. In eval mode (`model.eval()`) torch does NOT iterate; it
uses sigma = u . (W_orig v) with W_orig viewed as [out, -1] and the stored u, v. The converter
bakes exactly that: W = W_orig / sigma. The converted file therefore reproduces `model.eval()`
outputs. (In train mode, the mode `from_pretrained` leaves the model in, every forward performs
and stores one more power-iteration step, so outputs drift slightly from call to call; the
first such forward differs from eval by that one step.)

Layer renumbering: HF `generator.layers` has the attention module at index
`attention_layer_position` (8 for the public models). Our blocks are numbered without that slot;
the attention tensors become `blocks.{k}.attention.*` where k is the block right before it
(HF 0..7 -> blocks 0..7, HF 8 -> blocks.7.attention, HF 9.. -> blocks 8..).

Class names: the 1000 ImageNet names from scripts/imagenet_classes.txt (generated once from
torchvision's `_IMAGENET_CATEGORIES` by scripts/gen_imagenet_classes.py) when the model has
1000 classes and no other names are given.

API:
    convert(src, class_names=None, provenance=None) -> (config, tensors)
    convert_model(model, class_names=None, provenance=None) -> (tensors, config)
"""
import os

import torch

from .format import IMAGENET_CLASSES, add_names_and_provenance, config_head, names_and_provenance_options, read_class_names
from .registry import Converter, register

FAMILY = "biggan-deep"


def bake_torch_sn(module, name="weight"):
    """Eval-mode weight of a torch.nn.utils.spectral_norm module: W_orig / (u . W_orig v)."""
    w = getattr(module, name + "_orig").detach().to("cpu", torch.float32)
    u = getattr(module, name + "_u").detach().to("cpu", torch.float32)
    v = getattr(module, name + "_v").detach().to("cpu", torch.float32)
    w_mat = w.reshape(w.shape[0], -1)
    sigma = torch.dot(u, torch.mv(w_mat, v))
    return w / sigma


def _plain(t):
    return t.detach().to("cpu", torch.float32).contiguous()


def convert_model(model, class_names=None, provenance=None):
    """Convert a `pytorch_pretrained_biggan.BigGAN` to (tensors, config) for write_checkpoint."""
    from pytorch_pretrained_biggan.model import GenBlock, SelfAttn

    cfg = model.config
    gen = model.generator
    ch = int(cfg.channel_width)
    n_classes = int(model.embeddings.in_features)
    shared_dim = int(model.embeddings.out_features)
    dim_z = int(cfg.z_dim)
    cond = gen.gen_z.in_features if hasattr(gen.gen_z, "in_features") else None
    if cond is not None and cond != dim_z + shared_dim:
        raise ValueError(f"gen_z input {cond} != z_dim + embedding dim {dim_z + shared_dim}")

    t = {"embeddings.weight": _plain(model.embeddings.weight)}          # [shared_dim, n_classes]
    t["gen_z.weight"] = bake_torch_sn(gen.gen_z)
    t["gen_z.bias"] = _plain(gen.gen_z.bias)

    blocks = []
    res = 4
    attention = []
    k = -1
    for j, layer in enumerate(gen.layers):
        if isinstance(layer, SelfAttn):
            if k < 0:
                raise ValueError("attention before the first block cannot be expressed in the format")
            if any(b["res"] == res for b in blocks[:k]):
                raise ValueError(f"attention after block {k} is not after the first block with "
                                 f"output resolution {res}; the format cannot express it")
            p = f"blocks.{k}.attention"
            t[f"{p}.theta.weight"] = bake_torch_sn(layer.snconv1x1_theta)
            t[f"{p}.phi.weight"] = bake_torch_sn(layer.snconv1x1_phi)
            t[f"{p}.g.weight"] = bake_torch_sn(layer.snconv1x1_g)
            t[f"{p}.o.weight"] = bake_torch_sn(layer.snconv1x1_o_conv)
            t[f"{p}.gamma"] = _plain(layer.gamma).reshape(1)
            attention.append(res)
            continue
        if not isinstance(layer, GenBlock):
            raise TypeError(f"unexpected module at generator.layers.{j}: {type(layer).__name__}")
        k += 1
        a = layer.conv_0.weight_orig.shape[1]
        b = layer.conv_3.weight_orig.shape[0]
        if a != b and b * 2 != a:
            raise ValueError(f"block {k}: {a}->{b} channels; the reference keeps the first half")
        if layer.up_sample:
            res *= 2
        blocks.append({"in": int(a), "out": int(b), "up": bool(layer.up_sample), "res": res})
        p = f"blocks.{k}"
        for n in range(4):
            bn = getattr(layer, f"bn_{n}")
            t[f"{p}.bn_{n}.gain.weight"] = bake_torch_sn(bn.scale)
            t[f"{p}.bn_{n}.bias.weight"] = bake_torch_sn(bn.offset)
            t[f"{p}.bn_{n}.mean"] = _plain(bn.running_means)
            t[f"{p}.bn_{n}.var"] = _plain(bn.running_vars)
            conv = getattr(layer, f"conv_{n}")
            t[f"{p}.conv_{n}.weight"] = bake_torch_sn(conv)
            t[f"{p}.conv_{n}.bias"] = _plain(conv.bias)

    if res != int(cfg.output_dim):
        raise ValueError(f"blocks end at {res}x{res}, config.output_dim is {cfg.output_dim}")
    if blocks[0]["in"] != 16 * ch:
        raise ValueError("the reference reshapes gen_z to 16*channel_width channels")

    out_channels = 3
    if gen.conv_to_rgb.weight_orig.shape[0] < out_channels:
        raise ValueError("conv_to_rgb has fewer than 3 output channels (channel_width < 3)")
    t["output.bn.weight"] = _plain(gen.bn.weight)
    t["output.bn.bias"] = _plain(gen.bn.bias)
    t["output.bn.mean"] = _plain(gen.bn.running_means)
    t["output.bn.var"] = _plain(gen.bn.running_vars)
    rgb = bake_torch_sn(gen.conv_to_rgb)                          # sigma of the full matrix
    t["output.conv.weight"] = rgb[:out_channels].contiguous()
    t["output.conv.bias"] = _plain(gen.conv_to_rgb.bias)[:out_channels].contiguous()
    t = {k_: v.contiguous() for k_, v in t.items()}

    config = config_head("biggan-deep", int(cfg.output_dim), dim_z, shared_dim, n_classes, class_names)
    config.update({
        "ch": ch,
        "bottom_width": 4,
        "blocks": [{"in": b_["in"], "out": b_["out"], "up": b_["up"]} for b_ in blocks],
        "attention": attention,
        "hier": False,
        "bn_eps": float(cfg.eps),
        "output_bn_eps": float(cfg.eps),
        "out_channels": out_channels,
        "n_stats": int(cfg.n_stats),
        "truncation": "truncnorm-scaled",
        "provenance": provenance or "huggingface pytorch-pretrained-BigGAN, converted by "
                                    "scripts/convert_hf_deep.py (eval-mode spectral norm)",
    })
    return t, config


def load_model(name_or_dir):
    """`BigGAN.from_pretrained(name_or_dir)` in eval mode."""
    from pytorch_pretrained_biggan import BigGAN

    model = BigGAN.from_pretrained(name_or_dir)
    model.eval()
    return model


def convert(src, *, class_names=None, provenance=None, tool="scripts/convert.py biggan-deep"):
    """src: a model name, a local directory, or a `pytorch_pretrained_biggan.BigGAN` (converted in
    eval mode). class_names: a list, or None for the ImageNet names when the model has 1000
    classes. Returns (config, tensors)."""
    if isinstance(src, (str, os.PathLike)):
        model = load_model(src)
        label = f"'{os.path.basename(os.path.normpath(src))}'"
    else:
        model = src
        label = "model"
    if class_names is None and model.embeddings.in_features == 1000:
        class_names = read_class_names(IMAGENET_CLASSES)
    prov = provenance or (f"huggingface pytorch-pretrained-BigGAN {label}, "
                          f"converted by {tool} (eval-mode spectral norm)")
    tensors, config = convert_model(model, class_names, provenance=prov)
    return config, tensors


def add_arguments(ap):
    add_names_and_provenance(ap, f"one name per line (default for 1000 classes: {os.path.relpath(IMAGENET_CLASSES)})")


options_from_args = names_and_provenance_options


CONVERTER = register(Converter(
    family=FAMILY,
    help="huggingface pytorch-pretrained-BigGAN (BigGAN-deep) -> architecture \"biggan-deep\"",
    src_help="biggan-deep-128/256/512 or a directory with config.json + pytorch_model.bin",
    convert=convert, add_arguments=add_arguments, options_from_args=options_from_args))
