"""Converter registry: family name -> Converter.

Each `checkpoint/convert_<family>.py` module registers itself when imported:

    register(Converter(family="biggan", help=..., convert=convert,
                       add_arguments=add_arguments, options_from_args=options_from_args))

`convert(src, **options)` returns (config, tensors) for `write_checkpoint(dst, tensors, config)`;
`add_arguments(parser)` adds the family's command-line options; `options_from_args(args, tool)`
turns parsed arguments into `convert` keyword options (`tool` names the entry point for the
default provenance text). `families()` and `get()` import every `convert_*` module of this
package first, so a new family is one new file.
"""
import importlib
import os
import pkgutil
from dataclasses import dataclass
from typing import Callable

_REGISTRY = {}
_LOADED = False


@dataclass(frozen=True)
class Converter:
    family: str
    help: str
    src_help: str
    convert: Callable
    add_arguments: Callable
    options_from_args: Callable


def register(converter):
    if converter.family in _REGISTRY and _REGISTRY[converter.family] is not converter:
        raise ValueError(f"converter family {converter.family!r} registered twice")
    _REGISTRY[converter.family] = converter
    return converter


def _load_all():
    global _LOADED
    if _LOADED:
        return
    here = os.path.dirname(os.path.abspath(__file__))
    for m in sorted(pkgutil.iter_modules([here]), key=lambda m: m.name):
        if m.name.startswith("convert_"):
            importlib.import_module(f"{__package__}.{m.name}")
    _LOADED = True


def families():
    """Registered family names, sorted."""
    _load_all()
    return sorted(_REGISTRY)


def get(family):
    _load_all()
    try:
        return _REGISTRY[family]
    except KeyError:
        raise KeyError(f"unknown model family {family!r} (known: {', '.join(sorted(_REGISTRY))})") from None
