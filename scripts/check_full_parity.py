#!/usr/bin/env python3
"""Full-size parity check of the Swift engine against the PyTorch BigGAN-deep-128 reference.

    python3 scripts/check_full_parity.py [--bin .build/release] [--keep DIR] [--batch 2] [--truncation 0.5]

Builds a full-size HF BigGAN-deep-128 (default BigGANConfig: ch 128, 1000 classes) with random,
non-trivial weights (the same randomisation as scripts/make_fixtures.py: calibrated-then-perturbed
BN statistics per truncation row, attention gamma 0.7, random SN vectors, random output-BN
affine), converts it with the registered "biggan-deep" converter (scripts/checkpoint/) into a
temporary directory (or --keep DIR), writes an io file (z, y, classes, out, truncation; same
layout as the fixtures) and runs

    <bin>/biggan-bench --model <model.safetensors> --check <io.safetensors>

printing its output and exiting with its exit code (2 when the binary is missing). The float32
noise of the reference itself (|float32 - float64 torch|) is printed first as a yardstick for the
tolerance the Swift side applies.
"""
import argparse
import copy
import os
import subprocess
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)


def build_io(model_dir, batch, truncation, seed, calib_batch):
    from pytorch_pretrained_biggan import BigGAN, BigGANConfig
    from pytorch_pretrained_biggan.utils import truncated_noise_sample

    import checkpoint
    from make_fixtures import randomise_hf

    torch.manual_seed(seed)
    t0 = time.time()
    model = BigGAN(BigGANConfig())
    randomise_hf(model, calib_batch=calib_batch)
    print(f"built and randomised full-size BigGAN-deep-128 in {time.time() - t0:.1f} s", flush=True)
    # 1000 classes: the converter adds the ImageNet names of scripts/imagenet_classes.txt
    config, tensors = checkpoint.get("biggan-deep").convert(
        model, provenance=f"random full-size parity model (scripts/check_full_parity.py, seed {seed})")
    model_path = os.path.join(model_dir, "deep-128-random.safetensors")
    checkpoint.write_checkpoint(model_path, tensors, config)

    n = model.config.num_classes
    z = torch.from_numpy(truncated_noise_sample(batch, model.config.z_dim, truncation, seed=seed)).float()
    y = torch.zeros(batch, n)
    classes = []
    for i in range(batch):
        if i == batch - 1 and batch > 1:
            y[i, 207] = 0.3
            y[i, 388] = 0.7
            classes.append(-1.0)
        else:
            c = (1 + 97 * i) % n
            y[i, c] = 1.0
            classes.append(float(c))
    with torch.no_grad():
        out = model(z, y, truncation)
        out64 = copy.deepcopy(model).double()(z.double(), y.double(), truncation)
    noise = (out.double() - out64).abs().max().item()
    io_path = os.path.join(model_dir, "deep-128-random-io.safetensors")
    checkpoint.write_tensors_sorted(io_path, {"z": z, "y": y, "classes": torch.tensor(classes), "out": out,
                                              "truncation": torch.tensor([truncation], dtype=torch.float32)},
                                    {"case": "deep-128-full", "model": os.path.basename(model_path),
                                     "truncation": repr(float(truncation)), "f32_noise": f"{noise:.2e}"})
    print(f"reference: out {tuple(out.shape)}, max|out| {out.abs().max().item():.4f}, "
          f"float32 noise of the reference itself {noise:.2e}", flush=True)
    return model_path, io_path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"),
                    help="directory holding biggan-bench (default .build/release)")
    ap.add_argument("--keep", metavar="DIR", help="write model and io file to DIR and keep them")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--truncation", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--calib-batch", type=int, default=2,
                    help="batch of the BN-statistics calibration passes (51 of them)")
    args = ap.parse_args(argv)

    exe = os.path.join(args.bin, "biggan-bench")
    if not os.access(exe, os.X_OK):
        print(f"error: {exe} not found or not executable (build with `swift build -c release`)",
              file=sys.stderr)
        return 2
    torch.set_num_threads(os.cpu_count() or 1)

    def run(d):
        model_path, io_path = build_io(d, args.batch, args.truncation, args.seed, args.calib_batch)
        cmd = [exe, "--model", model_path, "--check", io_path]
        print("$ " + " ".join(cmd), flush=True)
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sys.stdout.write(proc.stdout)
        print(f"biggan-bench exit code {proc.returncode}")
        return proc.returncode

    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        return run(args.keep)
    with tempfile.TemporaryDirectory(prefix="biggan-parity-") as d:
        return run(d)


if __name__ == "__main__":
    sys.exit(main())
