#!/usr/bin/env python3
"""Write scripts/imagenet_classes.txt: the 1000 ImageNet class names in index order.

The names come from torchvision's bundled list `_IMAGENET_CATEGORIES`
(torchvision/models/_meta.py). Either torchvision is importable, or pass the path of
that _meta.py (e.g. extracted from a downloaded wheel) with --meta; the file is parsed
with `ast`, never executed.

    python3 scripts/gen_imagenet_classes.py [--meta path/to/_meta.py] [--out scripts/imagenet_classes.txt]
"""
import argparse
import ast
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def categories_from_meta_file(path):
    with open(path, "r", encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=path)
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == "_IMAGENET_CATEGORIES":
                    return list(ast.literal_eval(node.value))
    raise SystemExit(f"_IMAGENET_CATEGORIES not found in {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--meta", help="path of torchvision/models/_meta.py (default: import torchvision)")
    ap.add_argument("--out", default=os.path.join(HERE, "imagenet_classes.txt"))
    args = ap.parse_args()
    if args.meta:
        names = categories_from_meta_file(args.meta)
    else:
        from torchvision.models._meta import _IMAGENET_CATEGORIES as names  # noqa: N811
        names = list(names)
    if len(names) != 1000:
        raise SystemExit(f"expected 1000 names, got {len(names)}")
    for n in names:
        if "\n" in n or not n.strip():
            raise SystemExit(f"bad class name {n!r}")
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(names) + "\n")
    print(f"wrote {len(names)} names to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
