#!/usr/bin/env python3
"""Times the Swift engine (biggan-bench) and PyTorch (scripts/bench_torch.py) on the same models,
batch sizes and thread count, one after the other in the same run, and prints a Markdown table with
the time ratio (Swift / PyTorch; below 1 means Swift is faster).

    swift build -c release --product biggan-bench
    python3 scripts/bench_compare.py --threads 2 --iters 5 [--cases deep-128:1,deep-128:8,biggan-128:1,fashion-mnist-32:64]
    python3 scripts/bench_compare.py --threads 2 --iters 3 --train shipped,width32

With --train, times training iterations instead (biggan-bench --train against
scripts/bench_torch_train.py, 2 D steps + 1 G step, each preset's default batch).

Each case alternates Swift and PyTorch `--rounds` times (default 2) and keeps each side's best
median, which damps drift on a shared machine. Needs torch (pip install torch) for the baseline.
"""
import argparse
import json
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--cases", default="deep-128:1,deep-128:8,biggan-128:1,fashion-mnist-32:64")
    ap.add_argument("--train", help="comma-separated training presets (shipped, width32) to time instead")
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release", "biggan-bench"))
    args = ap.parse_args()
    if args.train:
        return compare_training(args)

    rows = []
    for case in args.cases.split(","):
        model, batch = case.split(":")
        best = {}
        for _ in range(args.rounds):
            s = run_json([args.bin, "--model", model, "--batch", batch, "--iters", str(args.iters),
                          "--threads", str(args.threads), "--json"])
            t = run_json([sys.executable, os.path.join(HERE, "bench_torch.py"), "--model", model, "--batch", batch,
                          "--iters", str(args.iters), "--threads", str(args.threads), "--json"])
            for k, r in (("swift", s), ("torch", t)):
                if k not in best or r["ms_per_image"] < best[k]["ms_per_image"]:
                    best[k] = r
        rows.append((model, int(batch), best["swift"], best["torch"]))
        print(f"{model} batch {batch}: swift {best['swift']['ms_per_image']:.1f} ms, "
              f"torch {best['torch']['ms_per_image']:.1f} ms", file=sys.stderr)

    print(f"Machine: {cpu_name()}, {os.cpu_count()} cores; threads {args.threads}; "
          f"torch {rows[0][3].get('torch_version', '?')}\n")
    print("| model | batch | Swift ms/image | Swift GFLOP/s | PyTorch ms/image | PyTorch GFLOP/s | time ratio Swift/PyTorch |")
    print("|---|---|---|---|---|---|---|")
    for model, batch, s, t in rows:
        print(f"| {model} | {batch} | {s['ms_per_image']:.1f} | {s['gflops']:.1f} | {t['ms_per_image']:.1f} | "
              f"{t['gflops']:.1f} | {s['ms_per_image'] / t['ms_per_image']:.2f} |")
    print("\nGFLOP/s are effective: both sides divide the same nominal count "
          f"({rows[0][2]['gflop_per_image']:.2f} GFLOP/image for {rows[0][0]}) by their time.")


def compare_training(args):
    rows = []
    for preset in args.train.split(","):
        best = {}
        for _ in range(args.rounds):
            s = run_json([args.bin, "--train", preset, "--iters", str(args.iters), "--threads", str(args.threads), "--json"])
            t = run_json([sys.executable, os.path.join(HERE, "bench_torch_train.py"), "--config", preset,
                          "--iters", str(args.iters), "--threads", str(args.threads), "--json"])
            for k, r in (("swift", s), ("torch", t)):
                if k not in best or r["s_per_iteration"] < best[k]["s_per_iteration"]:
                    best[k] = r
        rows.append((preset, best["swift"], best["torch"]))
        print(f"train {preset}: swift {best['swift']['s_per_iteration']:.3f} s, torch {best['torch']['s_per_iteration']:.3f} s",
              file=sys.stderr)
    print(f"Machine: {cpu_name()}, {os.cpu_count()} cores; threads {args.threads}\n")
    print("| model pair | batch | G / D parameters | Swift s/iteration | PyTorch s/iteration | Swift it/s | PyTorch it/s | time ratio Swift/PyTorch |")
    print("|---|---|---|---|---|---|---|---|")
    for preset, s, t in rows:
        print(f"| {preset} | {s['batch']} | {s['g_params'] / 1e6:.2f} M / {s['d_params'] / 1e6:.2f} M | {s['s_per_iteration']:.3f} | "
              f"{t['s_per_iteration']:.3f} | {s['iterations_per_s']:.2f} | {t['iterations_per_s']:.2f} | "
              f"{s['s_per_iteration'] / t['s_per_iteration']:.2f} |")


if __name__ == "__main__":
    main()
