"""The one reader/writer of the project's checkpoint format (docs/CHECKPOINT_FORMAT.md).

A checkpoint is safetensors: F32, C-contiguous tensors and `__metadata__ = {"config": <JSON>}`.
`write_checkpoint` uses safetensors' own writer (tensors ordered by name, header padded with
spaces to a multiple of 8); with the single metadata key its output is byte-stable.

`write_tensors_sorted` writes the fixtures' io files (and other files with several metadata keys)
with a layout of its own that is byte-stable too: names and metadata keys sorted, compact JSON.
safetensors' writer orders several metadata keys differently from run to run.

`patch_config` rewrites the config of an existing file in place (standard library only).

torch and safetensors are imported only inside the functions that need them, so scripts that run
with the standard library alone can use `patch_config` and `read_class_names`.
"""
import json
import os
import struct

FORMAT_VERSION = 1

SCRIPTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGENET_CLASSES = os.path.join(SCRIPTS_DIR, "imagenet_classes.txt")


def config_head(architecture, resolution, dim_z, shared_dim, n_classes, class_names=None):
    """The leading fields of a generator config, in the order every converter writes them;
    `class_names` (optional) must hold one name per class. Converters add their own fields after."""
    config = {
        "format_version": FORMAT_VERSION,
        "architecture": architecture,
        "resolution": resolution,
        "dim_z": dim_z,
        "shared_dim": shared_dim,
        "n_classes": n_classes,
    }
    if class_names is not None:
        class_names = list(class_names)
        if len(class_names) != n_classes:
            raise ValueError(f"{len(class_names)} class names for {n_classes} classes")
        config["class_names"] = class_names
    return config


def write_checkpoint(path, tensors, config):
    """Write `tensors` (name -> tensor) as float32 contiguous safetensors with
    `__metadata__ = {"config": json.dumps(config)}`."""
    import torch
    from safetensors.torch import save_file

    out = {}
    for name, t in tensors.items():
        if not isinstance(t, torch.Tensor):
            t = torch.as_tensor(t)
        out[name] = t.detach().to(device="cpu", dtype=torch.float32).contiguous().clone()
    meta = {"config": json.dumps(config, allow_nan=False, ensure_ascii=False)}
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    save_file(out, path, metadata=meta)


def read_checkpoint(path):
    """Return (tensors, config) of a file written by `write_checkpoint` (config None if absent)."""
    from safetensors import safe_open

    tensors = {}
    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
        for k in f.keys():
            tensors[k] = f.get_tensor(k)
    config = json.loads(meta["config"]) if "config" in meta else None
    return tensors, config


def read_metadata(path):
    """The `__metadata__` dict of a safetensors file (standard library only)."""
    header, _ = _read_header(path)
    return dict(header.get("__metadata__") or {})


def read_class_names(path):
    """Class names, one per line in index order; trailing empty lines dropped."""
    with open(path, "r", encoding="utf-8") as f:
        names = [line.rstrip("\r\n") for line in f]
    while names and names[-1] == "":
        names.pop()
    return names


def write_tensors_sorted(path, tensors, meta=None):
    """Write float32 tensors as safetensors with a byte-stable layout: names and metadata keys
    sorted, compact JSON, header padded with spaces to a multiple of 8. Reads the file back and
    checks every tensor."""
    import torch
    from safetensors import safe_open

    arrays = {k: v.detach().to(torch.float32).contiguous().numpy().astype("<f4")
              for k, v in sorted(tensors.items())}
    header, offset = {}, 0
    for k, a in arrays.items():
        header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    if meta:
        header["__metadata__"] = {str(k): str(v) for k, v in sorted(meta.items())}
    hb = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    hb += b" " * (-len(hb) % 8)
    with open(path, "wb") as f:
        f.write(len(hb).to_bytes(8, "little"))
        f.write(hb)
        for a in arrays.values():
            f.write(a.tobytes())
    with safe_open(path, framework="pt") as f:             # round-trip check
        for k in arrays:
            assert torch.equal(f.get_tensor(k), tensors[k].detach().to(torch.float32)), k


def _read_header(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), data[8 + n:]


def patch_config(path, update):
    """Rewrite the `__metadata__["config"]` of an existing checkpoint in place: `update(config)`
    changes the dict; the tensor bytes are kept. Standard library only."""
    header, body = _read_header(path)
    config = json.loads(header["__metadata__"]["config"])
    update(config)
    header["__metadata__"]["config"] = json.dumps(config)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + body)
    return config


def add_names_and_provenance(ap, class_names_help="one name per line"):
    """The `--class-names` and `--provenance` options most converters take."""
    ap.add_argument("--class-names", default=None, help=class_names_help)
    ap.add_argument("--provenance", default=None)


def names_and_provenance_options(args, tool):
    """`convert` keyword options from `add_names_and_provenance`'s arguments."""
    return {"class_names": read_class_names(args.class_names) if args.class_names else None,
            "provenance": args.provenance, "tool": tool}
