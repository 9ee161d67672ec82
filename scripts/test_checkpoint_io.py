#!/usr/bin/env python3
"""Tests of scripts/checkpoint/: the reader/writer, the converter registry and the import rule.

    python3 scripts/test_checkpoint_io.py [-v]

Needs torch and safetensors; the BigGAN-deep conversion test also pytorch-pretrained-biggan
(skipped without it). A few seconds on 2 cores.
"""
import ast
import json
import os
import struct
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import torch  # noqa: E402

import checkpoint  # noqa: E402


def raw_header(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    return n, data[8:8 + n], data[8 + n:]


class WriterReaderTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        g = torch.Generator().manual_seed(0)
        self.tensors = {
            "b.weight": torch.randn(3, 5, generator=g, dtype=torch.float64),  # written as F32
            "a.bias": torch.randn(7, generator=g),
            "c.gamma": torch.tensor([0.7]),
            "d.conv": torch.randn(2, 3, 3, 3, generator=g).transpose(0, 1),    # not contiguous
        }
        self.config = {"format_version": checkpoint.FORMAT_VERSION, "architecture": "biggan",
                       "resolution": 32, "class_names": ["alpha", "béta", "ガンマ"],
                       "blocks": [{"in": 16, "out": 8, "up": True}], "bn_eps": 1e-5, "hier": True}

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def test_round_trip(self):
        p = self.path("sub/dir/m.safetensors")                  # folders are created
        checkpoint.write_checkpoint(p, self.tensors, self.config)
        tensors, config = checkpoint.read_checkpoint(p)
        self.assertEqual(config, self.config)
        self.assertEqual(sorted(tensors), sorted(self.tensors))
        for k, v in self.tensors.items():
            self.assertEqual(tensors[k].dtype, torch.float32, k)
            self.assertTrue(torch.equal(tensors[k], v.to(torch.float32)), k)

    def test_layout(self):
        """docs/CHECKPOINT_FORMAT.md: F32 only, one metadata key "config" (a JSON string),
        names in order, data contiguous, header padded to 8 bytes."""
        p = self.path("m.safetensors")
        checkpoint.write_checkpoint(p, self.tensors, self.config)
        n, head, body = raw_header(p)
        self.assertEqual(n % 8, 0)
        header = json.loads(head)
        self.assertEqual(list(header)[0], "__metadata__")
        self.assertEqual(list(header["__metadata__"]), ["config"])
        self.assertEqual(json.loads(header["__metadata__"]["config"]), self.config)
        names = [k for k in header if k != "__metadata__"]
        self.assertEqual(names, sorted(self.tensors))
        end = 0
        for k in names:
            info = header[k]
            self.assertEqual(info["dtype"], "F32")
            self.assertEqual(info["shape"], list(self.tensors[k].shape))
            self.assertEqual(info["data_offsets"][0], end)
            end = info["data_offsets"][1]
        self.assertEqual(end, len(body))

    def test_byte_stable(self):
        a, b = self.path("a.safetensors"), self.path("b.safetensors")
        checkpoint.write_checkpoint(a, self.tensors, self.config)
        checkpoint.write_checkpoint(b, dict(reversed(list(self.tensors.items()))), self.config)
        with open(a, "rb") as fa, open(b, "rb") as fb:
            self.assertEqual(fa.read(), fb.read())

    def test_sorted_writer(self):
        p = self.path("io.safetensors")
        meta = {"truncation": "0.4", "case": "x", "f32_noise": "1e-06", "b": 2}
        checkpoint.write_tensors_sorted(p, {k: v.float() for k, v in self.tensors.items()}, meta)
        n, head, body = raw_header(p)
        self.assertEqual(n % 8, 0)
        header = json.loads(head)
        self.assertEqual(list(header), sorted(header))
        self.assertEqual(list(header["__metadata__"]), sorted(meta))
        self.assertEqual(checkpoint.read_metadata(p), {k: str(v) for k, v in meta.items()})
        tensors, config = checkpoint.read_checkpoint(p)
        self.assertIsNone(config)
        for k, v in self.tensors.items():
            self.assertTrue(torch.equal(tensors[k], v.to(torch.float32)), k)

    def test_patch_config(self):
        p = self.path("m.safetensors")
        checkpoint.write_checkpoint(p, self.tensors, self.config)
        _, _, body = raw_header(p)
        checkpoint.patch_config(p, lambda c: c.update(class_names=["x", "y", "z"], truncation="resample"))
        _, _, body2 = raw_header(p)
        self.assertEqual(body, body2)
        tensors, config = checkpoint.read_checkpoint(p)
        self.assertEqual(config, dict(self.config, class_names=["x", "y", "z"], truncation="resample"))
        self.assertTrue(torch.equal(tensors["a.bias"], self.tensors["a.bias"]))

    def test_class_names(self):
        p = self.path("names.txt")
        with open(p, "w", encoding="utf-8") as f:
            f.write("tench\r\ngreat white shark\n\nkite \n\n\n")
        self.assertEqual(checkpoint.read_class_names(p), ["tench", "great white shark", "", "kite "])
        self.assertEqual(len(checkpoint.read_class_names(checkpoint.IMAGENET_CLASSES)), 1000)


class RegistryTest(unittest.TestCase):
    def test_families(self):
        self.assertEqual(checkpoint.families(), ["biggan", "biggan-deep", "stylegan"])
        for family in checkpoint.families():
            c = checkpoint.get(family)
            self.assertEqual(c.family, family)
            self.assertTrue(callable(c.convert) and callable(c.add_arguments))
        with self.assertRaises(KeyError):
            checkpoint.get("stylegan2")

    def test_biggan_convert(self):
        import biggan_ref
        torch.manual_seed(0)
        G = biggan_ref.Generator(resolution=32, ch=4, dim_z=20, shared_dim=8, n_classes=5, hier=True,
                                 attention=[16], bn_eps=1e-5, sn_eps=1e-6)
        config, tensors = checkpoint.get("biggan").convert(
            G.state_dict(), resolution=32, ch=4, dim_z=20, shared_dim=8, hier=True, attention="16",
            class_names=list("abcde"), provenance="test")
        self.assertEqual((config["architecture"], config["n_classes"], config["attention"]), ("biggan", 5, [16]))
        self.assertEqual(config["class_names"], list("abcde"))
        self.assertEqual([k for k in tensors if "attention" in k],
                         [f"blocks.1.attention.{n}" for n in ("theta.weight", "phi.weight", "g.weight",
                                                              "o.weight", "gamma")])
        self.assertFalse(any(k.endswith((".u0", ".sv0")) for k in tensors))
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "g.safetensors")
            checkpoint.write_checkpoint(p, tensors, config)
            back, cfg = checkpoint.read_checkpoint(p)
        self.assertEqual(cfg, config)
        self.assertTrue(torch.equal(back["linear.weight"], tensors["linear.weight"]))
        with self.assertRaises(ValueError):                   # a wrong configuration is refused
            checkpoint.get("biggan").convert(G.state_dict(), resolution=32, ch=8, dim_z=20, hier=True,
                                             attention="16")

    def test_biggan_deep_convert(self):
        try:
            from pytorch_pretrained_biggan import BigGAN, BigGANConfig
        except ImportError:
            self.skipTest("pytorch-pretrained-biggan is not installed")
        torch.manual_seed(0)
        model = BigGAN(BigGANConfig(output_dim=128, z_dim=16, class_embed_dim=16, channel_width=4,
                                    num_classes=7, attention_layer_position=8)).eval()
        config, tensors = checkpoint.get("biggan-deep").convert(model, provenance="test")
        self.assertEqual((config["architecture"], config["n_classes"], config["n_stats"]), ("biggan-deep", 7, 51))
        self.assertNotIn("class_names", config)                # ImageNet names only for 1000 classes
        self.assertEqual(tuple(tensors["output.conv.weight"].shape)[:2], (3, 4))
        self.assertIn("blocks.7.attention.gamma", list(tensors))


class ImportRuleTest(unittest.TestCase):
    """No script imports a converter module or entry point: scripts use the registry
    (checkpoint.get) and the shared reader/writer; converters import only format and registry."""

    ENTRY_POINTS = {"convert_ajbrock", "convert_hf_deep"}

    def imports(self, path):
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    yield a.name
            elif isinstance(node, ast.ImportFrom):
                mod = ("." * node.level) + (node.module or "")
                yield mod
                for a in node.names:
                    yield f"{mod}.{a.name}" if node.module else f"{mod}{a.name}"

    def test_no_converter_internals(self):
        pkg = os.path.join(HERE, "checkpoint")
        files = [os.path.join(HERE, f) for f in os.listdir(HERE) if f.endswith(".py")]
        files += [os.path.join(pkg, f) for f in os.listdir(pkg) if f.endswith(".py")]
        bad = []
        for path in files:
            own = os.path.splitext(os.path.basename(path))[0]
            for mod in self.imports(path):
                last = mod.split(".")[-1]
                if last in self.ENTRY_POINTS or (last.startswith("convert_") and last != own):
                    bad.append(f"{os.path.relpath(path, HERE)} imports {mod}")
        self.assertEqual(bad, [])


if __name__ == "__main__":
    unittest.main()
