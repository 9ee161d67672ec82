#!/usr/bin/env python3
"""Convert a public PyTorch checkpoint to our format (docs/CHECKPOINT_FORMAT.md).

    python3 scripts/convert.py FAMILY SRC DST [options]
    python3 scripts/convert.py biggan G_ema.pth out.safetensors --resolution 128 --ch 96 \\
        --dim-z 120 --shared-dim 128 --hier --attention 64 --bn-eps 1e-5 --sn-eps 1e-6
    python3 scripts/convert.py biggan-deep biggan-deep-128 out.safetensors
    python3 scripts/convert.py FAMILY --help        (the family's options)

Families are the converter modules of scripts/checkpoint/ (convert_<family>.py), each of which
registers itself; scripts/convert_ajbrock.py and scripts/convert_hf_deep.py are the same
conversions under their older names and command lines.
"""
import argparse
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import checkpoint  # noqa: E402


def add_io_arguments(ap, converter, src="src", dst="dst"):
    ap.add_argument("src", metavar=src, help=converter.src_help)
    ap.add_argument("dst", metavar=dst, help="output .safetensors")
    converter.add_arguments(ap)


def run(converter, args, tool):
    """Convert args.src with the family's options and write args.dst; prints one summary line."""
    config, tensors = converter.convert(args.src, **converter.options_from_args(args, tool))
    checkpoint.write_checkpoint(args.dst, tensors, config)
    n = sum(math.prod(v.shape) for v in tensors.values())     # torch tensors or NumPy arrays
    shape = (f"blocks {len(config['blocks'])}, attention {config['attention']}" if "blocks" in config
             else f"channels {config.get('channels')}")
    print(f"wrote {args.dst}: {len(tensors)} tensors, {n} floats, resolution {config['resolution']}, {shape}")
    return config, tensors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="family", metavar="FAMILY", required=True)
    for family in checkpoint.families():
        c = checkpoint.get(family)
        add_io_arguments(sub.add_parser(family, help=c.help, description=c.help), c, "SRC", "DST")
    args = ap.parse_args(argv)
    run(checkpoint.get(args.family), args, tool=f"scripts/convert.py {args.family}")


if __name__ == "__main__":
    main()
