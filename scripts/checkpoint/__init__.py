"""Checkpoint format, converter registry and one converter module per model family.

    checkpoint/format.py               the one reader/writer (docs/CHECKPOINT_FORMAT.md)
    checkpoint/registry.py             family name -> Converter
    checkpoint/convert_biggan.py       family "biggan": ajbrock/BigGAN-PyTorch G.pth / G_ema.pth
    checkpoint/convert_biggan_deep.py  family "biggan-deep": pytorch-pretrained-BigGAN (HF)
    checkpoint/convert_stylegan.py     family "stylegan": NVlabs StyleGAN (v1) pickles, without TF
    checkpoint/convert_rosinality.py   family "stylegan-rosinality": rosinality style-based-gan-pytorch

Importing this package pulls in neither torch nor the converters; `scripts/` must be on sys.path
(every script inserts its own folder).
"""
from .format import (FORMAT_VERSION, IMAGENET_CLASSES, patch_config, read_checkpoint,  # noqa: F401
                     read_class_names, read_metadata, write_checkpoint, write_tensors_sorted)
from .registry import Converter, families, get, register  # noqa: F401
