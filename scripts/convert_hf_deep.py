#!/usr/bin/env python3
"""Convert a huggingface pytorch-pretrained-BigGAN (BigGAN-deep) model to our checkpoint format
(docs/CHECKPOINT_FORMAT.md, architecture "biggan-deep", truncation "truncnorm-scaled").

    python3 scripts/convert_hf_deep.py biggan-deep-128 out.safetensors [--class-names FILE] [--provenance TEXT]

The first argument is anything `BigGAN.from_pretrained` accepts: a model name
(biggan-deep-128/256/512, downloaded to the package cache) or a local directory holding
config.json + pytorch_model.bin.

The same as `python3 scripts/convert.py biggan-deep ...`: the conversion lives in
scripts/checkpoint/convert_biggan_deep.py (eval-mode spectral norm, attention slot folded into
the preceding block, conv_to_rgb cut to 3 channels, ImageNet class names for 1000 classes), the
file writer in scripts/checkpoint/format.py.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import checkpoint  # noqa: E402
import convert  # noqa: E402


def main(argv=None):
    converter = checkpoint.get("biggan-deep")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    convert.add_io_arguments(ap, converter, "model", "output")
    convert.run(converter, ap.parse_args(argv), tool="scripts/convert_hf_deep.py")


if __name__ == "__main__":
    main()
