#!/usr/bin/env python3
"""Convert an ajbrock/BigGAN-PyTorch generator state_dict (G.pth / G_ema.pth) to our checkpoint
format (docs/CHECKPOINT_FORMAT.md, architecture "biggan", truncation "resample").

    python3 scripts/convert_ajbrock.py G_ema.pth out.safetensors --resolution 128 --ch 96 \\
        --dim-z 120 --shared-dim 128 --hier --attention 64 --bn-eps 1e-5 --sn-eps 1e-6 \\
        [--class-names scripts/imagenet_classes.txt] [--provenance TEXT]

The same as `python3 scripts/convert.py biggan ...`: the conversion lives in
scripts/checkpoint/convert_biggan.py (spectral norm baked as ajbrock's eval-mode forward computes
it: one power step from the stored u0), the file writer in scripts/checkpoint/format.py.
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
    converter = checkpoint.get("biggan")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    convert.add_io_arguments(ap, converter, "input", "output")
    convert.run(converter, ap.parse_args(argv), tool="scripts/convert_ajbrock.py")


if __name__ == "__main__":
    main()
