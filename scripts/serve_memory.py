#!/usr/bin/env python3
"""Resident memory of biggan-server while it serves one checkpoint (Linux /proc).

Starts the server on a free port, reads VmRSS/VmHWM from /proc/<pid>/status after loading,
after a series of 1-image requests and after a series of n-image requests, and prints each
relative to the checkpoint file's size. Standard library only.

    swift build -c release --product biggan-server
    python3 scripts/serve_memory.py --model /tmp/deep-128.safetensors [--batch 8] [-- --buffer-pool-mb 64]
"""
import argparse, os, re, subprocess, sys, tempfile, time, urllib.request


def status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                fields[k] = int(v.split()[0]) * 1024
    return fields


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default=".build/release/biggan-server")
    ap.add_argument("--model", required=True, help="checkpoint to serve")
    ap.add_argument("--requests", type=int, default=5, help="requests per phase (default 5)")
    ap.add_argument("--batch", type=int, default=8, help="images per request in the second phase (default 8)")
    ap.add_argument("extra", nargs="*", help="more biggan-server flags, after --")
    a = ap.parse_args()

    weights = os.path.getsize(a.model)
    tmp = tempfile.mkdtemp(prefix="serve-memory-")
    proc = subprocess.Popen([a.server, "--model", a.model, "--port", "0", "--db", os.path.join(tmp, "log.sqlite"),
                             "--cache-mb", "0", *a.extra], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().decode()
        m = re.search(r"listening on http://([^/\s]+):(\d+)/", line)
        if not m:
            sys.exit(f"server did not start: {line!r}")
        base = f"http://127.0.0.1:{m.group(2)}"
        name = os.path.splitext(os.path.basename(a.model))[0]

        def report(moment):
            s = status(proc.pid)
            print(f"{moment:<34} resident {s['VmRSS'] / 2**20:7.1f} MiB ({s['VmRSS'] / weights:.2f}× weights)"
                  f"   peak {s['VmHWM'] / 2**20:7.1f} MiB ({s['VmHWM'] / weights:.2f}×)")

        print(f"{name}: weights file {weights / 2**20:.1f} MiB")
        report("after loading")
        for phase, n in (("1-image requests", 1), (f"{a.batch}-image requests", a.batch)):
            start = time.time()
            for i in range(a.requests):
                with urllib.request.urlopen(f"{base}/v1/sample?model={name}&class={i}&seed={i}&n={n}", timeout=600) as r:
                    r.read()
            report(f"after {a.requests} {phase}")
            print(f"{'':<34} {(time.time() - start) / a.requests * 1000:.0f} ms per request")
    finally:
        proc.terminate()
        proc.wait(timeout=60)


if __name__ == "__main__":
    main()
