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

import numpy as np

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
        self.assertEqual(checkpoint.families(), ["biggan", "biggan-deep", "stylegan", "stylegan-rosinality"])
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


class RosinalityConverterTest(unittest.TestCase):
    """scripts/checkpoint/convert_rosinality.py on a reduced random net in rosinality's layout
    (scripts/rosinality_ref.py): the converted file under our format's reference
    (scripts/stylegan_ref.py) equals rosinality's semantics, fused up-layer (128 px) included; bad
    files, resolutions and state dicts are refused with errors that name the problem."""

    CHANNELS, Z, MLP = [8, 8, 8, 8, 4, 4, 2], 8, 2

    @classmethod
    def setUpClass(cls):
        import rosinality_ref
        cls.ref = rosinality_ref
        cls.sd = rosinality_ref.random_state_dict(cls.CHANNELS, cls.Z, cls.MLP, rosinality_ref.ROSINALITY_FUSED_FROM,
                                                  torch.Generator().manual_seed(7))
        cls.tmp = tempfile.TemporaryDirectory()
        cls.path = os.path.join(cls.tmp.name, "train_step-6.model")
        torch.save({"generator": cls.sd, "discriminator": {}, "g_running": cls.sd, "g_optimizer": {}, "d_optimizer": {}}, cls.path)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def convert(self, src=None, **kw):
        return checkpoint.get("stylegan-rosinality").convert(src if src is not None else self.path, **kw)

    def test_matches_rosinality_semantics(self):
        import stylegan_ref
        torch.set_grad_enabled(False)
        z = torch.randn(2, self.Z, generator=torch.Generator().manual_seed(1))
        for resolution, fused in ((128, 128), (64, 4096)):
            config, tensors = self.convert(resolution=resolution, seed=3)
            step = resolution.bit_length() - 3
            self.assertEqual((config["channels"], config["fused_scale_from"], config["truncation_cutoff"]),
                             (self.CHANNELS[:step + 1], fused, 2 * step + 2))
            self.assertEqual((config["bias_before_blur"], config["instance_norm_eps"], config["mapping_lrmul"],
                              config["mapping_layers"], config["label_size"]), (True, 1e-5, 0.01, self.MLP, 0))
            t = {k: torch.from_numpy(v) for k, v in tensors.items()}
            self.assertTrue(torch.equal(t["synthesis/4x4/Const/bias"], torch.zeros(self.CHANNELS[0])))
            noise = [t[f"synthesis/noise{2 * i}"] for i in range(step + 1)]
            for i in range(step + 1):                      # one map per block, both layers
                self.assertTrue(torch.equal(t[f"synthesis/noise{2 * i + 1}"], noise[i]))
            self.assertTrue(torch.equal(noise[0], torch.from_numpy(np.random.RandomState(3).randn(1, 1, 4, 4).astype(np.float32))))
            mean = self.ref.mean_style(self.sd, torch.from_numpy(np.random.RandomState(4).randn(10_000, self.Z)).float())
            self.assertLess(float((mean[0] - t["dlatent_avg"]).abs().max()), 1e-5)
            for psi in (None, 0.5):
                expected = self.ref.forward(self.sd, z, step, noise, mean_style=mean if psi else None, style_weight=psi or 1)
                out = stylegan_ref.forward(config, t, z, psi=psi, cutoff=config["truncation_cutoff"])
                # float32 rounding, amplified by instance norms of small channels (outputs reach ~20)
                self.assertLess(float((out - expected).abs().max()), 1e-5 * float(expected.abs().max()), (resolution, psi))

    def test_cli_and_generator_key(self):
        import convert as cli
        with tempfile.TemporaryDirectory() as d:
            dst = os.path.join(d, "r.safetensors")
            cli.main(["stylegan-rosinality", self.path, dst, "--resolution", "32", "--key", "generator", "--provenance", "test"])
            tensors, config = checkpoint.read_checkpoint(dst)
        self.assertEqual((config["resolution"], config["provenance"], config["stored_noise"]), (32, "test", True))
        self.assertEqual(len([k for k in tensors if k.startswith("synthesis/noise")]), 8)

    def test_refusals(self):
        def refused(pattern, src=None, **kw):
            kw.setdefault("resolution", 64)
            with self.assertRaisesRegex(ValueError, pattern):
                self.convert(src, **kw)
        with tempfile.TemporaryDirectory() as d:
            other = os.path.join(d, "G_ema.pth")                 # another model's state dict
            torch.save({"linear.weight": torch.zeros(2, 2)}, other)
            refused(r"not a rosinality training checkpoint: no 'g_running' entry", other)
            pickled = os.path.join(d, "object.pt")                # anything weights_only cannot load
            torch.save({"g_running": tempfile.TemporaryDirectory}, pickled)
            refused(r"weights_only=True\) refused it", pickled)
            bare = os.path.join(d, "000100.model")                # train.py's bare g_running saves
            torch.save(self.sd, bare)
            self.assertEqual(self.convert(bare, resolution=64)[1]["dlatent_avg"].tolist(),
                             self.convert(resolution=64)[1]["dlatent_avg"].tolist())
            refused(r"a bare generator state dict .* use --key g_running", bare, key="generator")
            refused(r"not a rosinality StyledGenerator state dict", {"g_running": {"linear.weight": torch.zeros(2)}})
        refused(r"needs block 7 and to_rgb.7; the checkpoint has 7 blocks \(up to 256 px\)", resolution=512)
        refused(r"power of two from 8 to 1024", resolution=96)
        refused(r"power of two from 8 to 1024", resolution=4)
        refused(r"unconditional", label_size=10)
        refused(r"key must be one of", key="d_optimizer")
        missing = {k: v for k, v in self.sd.items() if k != "generator.progression.2.adain1.style.linear.bias"}
        refused(r"missing tensor generator.progression.2.adain1.style.linear.bias \(expected shape \[16\]\)", {"g_running": missing})
        wrong = dict(self.sd, **{"generator.progression.5.conv1.0.weight": torch.zeros(4, 2, 3, 3)})
        refused(r"generator.progression.5.conv1.0.weight has shape \[4, 2, 3, 3\], expected \[4, 4, 3, 3\]", {"g_running": wrong}, resolution=128)
        blur = dict(self.sd, **{"generator.progression.3.conv1.2.weight": torch.ones(8, 1, 3, 3)})
        refused(r"conv1.2.weight is not the \[1,2,1\]", {"g_running": blur})


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
