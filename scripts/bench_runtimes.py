#!/usr/bin/env python3
"""Our engine (biggan-bench) against ONNX Runtime, OpenVINO and PyTorch on the same weights and
inputs, in one run, with a correctness check of every runtime against PyTorch.

    swift build -c release --product biggan-bench
    python3 scripts/bench_runtimes.py [--cases deep-128:1,deep-128:8,biggan-128:1,biggan-128:8,fashion-mnist-32:64,
                                                bigbigan-enc-128:1,bigbigan-enc-128:8,bigbigan-enc-32:64]
        [--threads 2] [--iters 5] [--rounds 2] [--runners ours,ort,openvino,torch] [--weights fixture|bench]
        [--work-dir /tmp/bench_runtimes] [--prep-threads N] [--bin .build/release/biggan-bench] [--json]

Models: the BigGAN entries of MODELS start from `bench_torch.build()` (its model and its inputs z, y:
HF `BigGAN(BigGANConfig())` with calibrated SN vectors and truncation 0.4 for deep-128; the
ajbrock reference of scripts/biggan_ref.py for biggan-128; the shipped tapered fashion-mnist-32
architecture; NVlabs StyleGAN at 256 and 1024 px). The BigBiGAN encoders (bigbigan-enc-128, a
ResNet-v2 encoder at 128 px; bigbigan-enc-32, the shipped Fashion-MNIST encoder's config) take
x [B, C, R, R] and give z_mean; biggan-bench times them with --encoder (the generator half of a
BigBiGAN is a BigGAN, benchmarked above); their three default cases add about two minutes. The
StyleGAN entries are not in the default --cases; run them with
`--cases stylegan-256:1,stylegan-1024:1`. A new family is one more
`Entry` in MODELS (scripts/bench_models.py): each names its inputs and output, which become the
ONNX graph's names and the io file's tensors.

Weights (--weights): bench_torch's random initialisation leaves deep-128's activations dead (its
output is the conv_to_rgb bias whatever z is) and every attention gamma at 0, so a check on those
weights proves little. By default ("fixture") the model is randomised as scripts/make_fixtures.py
does (randomise_hf / randomise_ajbrock: orthogonal weights, BN statistics calibrated on a batch of
2 and perturbed, attention gamma 0.7, output BN scaled so tanh is not saturated; seed 1), as
check_full_parity.py does for its full-size model; an encoder as make_bigbigan_fixtures.py does
(randomise_encoder: BN affine and biases drawn, BN statistics calibrated on 8 images and perturbed).
"bench" keeps bench_torch's weights as built (an encoder's: PyTorch's default init).
The values change no runtime's work (same shapes, same graph). The state_dict is saved to
WORK/<model>-<fingerprint of bench_torch's model>-<weights>.pt and reused while bench_torch builds
the same model (the deep-128 calibration takes a minute or so once).

Shared weights: that state_dict (SN not baked) is converted with the project's registry
(`checkpoint.get("biggan-deep"|"biggan").convert`, the converters of scripts/convert.py) to
WORK/<model>-<fingerprint>.safetensors, which biggan-bench loads with `--model PATH`. Then SN is
baked with bench_torch's helpers (`_bake_hf_sn`, `_bake_ajbrock_sn`) and that module is (a) the
PyTorch reference for the inputs of each case, (b) exported with `torch.onnx.export` (TorchScript
exporter, opset 17, fixed batch, truncation a constant) to WORK/<model>-<fingerprint>-b<B>.onnx,
which ONNX Runtime and OpenVINO both load, (c) what the PyTorch runner times (it rebuilds the
model with bench_torch.build, loads the saved state_dict and bakes SN the same way). The
fingerprint is a SHA-1 of the state_dict, so cached checkpoints and ONNX files are reused only for
the very same weights.

Timing: per case (model:batch) the four runners alternate --rounds times, each in its own process
(one warm-up, then --iters timed forward passes, median per image), and each keeps its best median:
  ours      biggan-bench --model CKPT --batch B --iters K --threads T --json (deep: --truncation 0.4;
            encoders: --encoder)
  ort       onnxruntime CPUExecutionProvider, intra_op_num_threads T, inter_op 1, sequential, ORT_ENABLE_ALL
  openvino  CPU, INFERENCE_PRECISION_HINT f32, PERFORMANCE_HINT LATENCY, INFERENCE_NUM_THREADS T
  torch     eval, no_grad, set_num_threads(T), interop 1, SN baked (as bench_torch.py times it)
ours is timed as bench_compare.py times it: Sampler.images (seeded latents and class
conditioning, the forward pass, a finiteness check of the float output; for an encoder
Sampler.encode on fixed images: the forward pass and the finiteness checks); the peers time the
forward pass on fixed inputs. Peak RSS is each runner process's ru_maxrss
(os.wait4): weights, runtime and activations (and, for the Python runners, the interpreter).

Correctness: per case the PyTorch output on the case's inputs is the reference. ORT, OpenVINO and
the timed PyTorch runner report the max abs difference of their warm-up output from it; ours is
checked by `biggan-bench --model CKPT --check WORK/<...>-b<B>-io.safetensors` (an io file with the
inputs and the output under their names, as scripts/check_full_parity.py writes: z, y, truncation
and out [B, C, R, R] for generators; x [B, C, R, R] and z_mean for encoders, with --encoder).
Errors are absolute, on the output's scale (images in [-1, 1]; z_mean); above 1e-3 is flagged in
the table and the exit code is 1.

Prints the machine, thread and version line, a Markdown table (ms/image of each runtime, ratios of
ours to each peer and to the fastest peer, max errors) and a peak-memory table; --json prints one
JSON object instead.
"""
import argparse
import hashlib
import inspect
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

RUNNERS = ("ours", "ort", "openvino", "torch")
LABELS = {"ours": "ours", "ort": "ONNX Runtime", "openvino": "OpenVINO", "torch": "PyTorch"}
PEERS = ("ort", "openvino", "torch")
TOLERANCE = {"ours": 1e-3, "ort": 1e-3, "openvino": 1e-3, "torch": 1e-3}
OPSET = 17


from bench_models import CALIB_BATCH, MODELS, Built, Entry  # noqa: E402,F401  (the models, one Entry each)

RANDOMISE_SEED = 1


def fingerprint(module):
    h = hashlib.sha1()
    for k, v in sorted(module.state_dict().items()):
        h.update(k.encode())
        h.update(str(tuple(v.shape)).encode())
        h.update(v.detach().contiguous().cpu().numpy().tobytes())
    return h.hexdigest()[:12]


def load_weights(model_name, batch, weights_path):
    """bench_torch's model for `batch` with the saved (randomised) weights, SN baked."""
    import torch
    built = MODELS[model_name].build(batch)
    built.state.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True), strict=True)
    built.bake()
    built.module.eval()
    return built


# --------------------------------------------------------------------------------------
# Preparation: weights, checkpoint, reference output, io file, ONNX export
# --------------------------------------------------------------------------------------

def prepare(model_name, batch, work, weights, threads, log):
    """Writes (or reuses) the files of one case; returns their paths and the reference's stats."""
    import numpy as np
    import torch
    import checkpoint

    torch.set_num_threads(threads)
    t0 = time.time()
    built = MODELS[model_name].build(batch)
    # weights: bench_torch's as built, or those randomised from them (cached under the fingerprint
    # of bench_torch's model, so a change there makes new files)
    wpath = os.path.join(work, f"{model_name}-{fingerprint(built.state)}-{weights}.pt")
    if os.path.exists(wpath):
        built.state.load_state_dict(torch.load(wpath, map_location="cpu", weights_only=True), strict=True)
    else:
        if weights == "fixture":
            t1 = time.time()
            torch.manual_seed(RANDOMISE_SEED)
            built.randomise()
            log(f"  randomised the weights as make_fixtures.py does ({time.time() - t1:.0f} s)")
        torch.save(built.state.state_dict(), wpath + ".tmp")
        os.replace(wpath + ".tmp", wpath)
    fp = fingerprint(built.state)
    stem = os.path.join(work, f"{model_name}-{fp}")
    ckpt = stem + ".safetensors"
    if not os.path.exists(ckpt):
        config, tensors = built.convert()
        checkpoint.write_checkpoint(ckpt + ".tmp", tensors, config)
        os.replace(ckpt + ".tmp", ckpt)
        log(f"  wrote {ckpt}")
    built.bake()
    module = built.module.eval()
    names = list(built.inputs)
    args = tuple(built.inputs[n] for n in names)
    zeroed = names[0]    # how much the output depends on the first input (z; an encoder's x)
    with torch.no_grad():
        out = module(*args)
        out_zeroed = module(*((torch.zeros_like(a) if n == zeroed else a) for n, a in zip(names, args)))
    case = f"{stem}-b{batch}"
    # inputs and reference output under their names (the ONNX graph's), for the peer runners
    np.savez(case + "-data.npz", **{n: a.numpy() for n, a in built.inputs.items()}, **{built.output: out.numpy()})
    io = case + "-io.safetensors"
    io_tensors = dict(built.inputs, **{built.output: out})
    io_meta = {"case": f"{model_name}:{batch}", "model": os.path.basename(ckpt)}
    if built.truncation is not None:
        io_tensors["truncation"] = torch.tensor([built.truncation], dtype=torch.float32)
        io_meta["truncation"] = repr(float(built.truncation))
    checkpoint.write_tensors_sorted(io, io_tensors, io_meta)
    onnx_path = case + ".onnx"
    if not os.path.exists(onnx_path):
        t1 = time.time()
        tmp = case + ".tmp.onnx"
        with torch.no_grad():
            kw = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
            torch.onnx.export(module, args, tmp, input_names=names, output_names=[built.output],
                              opset_version=OPSET, do_constant_folding=True, **kw)
        os.replace(tmp, onnx_path)
        log(f"  exported {onnx_path} ({os.path.getsize(onnx_path) / 2**20:.0f} MiB, {time.time() - t1:.0f} s)")
    a = out.abs()
    return {"weights": wpath, "checkpoint": ckpt, "io": io, "onnx": onnx_path, "data": case + "-data.npz",
            "fingerprint": fp, "truncation": built.bench_truncation, "bench_args": list(built.bench_args),
            "inputs": names, "output": built.output, "prepare_s": round(time.time() - t0, 1),
            "ref_max_abs": a.max().item(), "ref_std": out.std().item(),
            "ref_saturated": (a > 0.99).float().mean().item(),
            "ref_zeroed": zeroed, "ref_zero_effect": (out - out_zeroed).abs().max().item()}


# --------------------------------------------------------------------------------------
# Runners (each timed in its own process)
# --------------------------------------------------------------------------------------

def _time(fn, iters):
    out = fn()                                     # warm-up; checked against the reference
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times)


def _load_data(path, inputs, output):
    """The named inputs (name -> array) and the reference output of a case's -data.npz."""
    import numpy as np
    d = np.load(path)
    return {k: d[k] for k in inputs}, d[output]


def runner_ort(args):
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    t0 = time.perf_counter()
    sess = ort.InferenceSession(args.onnx, sess_options=so, providers=["CPUExecutionProvider"])
    load_s = time.perf_counter() - t0
    feeds, ref = _load_data(args.data, [i.name for i in sess.get_inputs()], sess.get_outputs()[0].name)
    out, med = _time(lambda: sess.run(None, feeds)[0], args.iters)
    return {"ms_per_image": med * 1000 / ref.shape[0], "max_err": float(np.abs(out - ref).max()),
            "load_s": load_s, "version": ort.__version__}


def runner_openvino(args):
    import numpy as np
    import openvino as ov
    core = ov.Core()
    t0 = time.perf_counter()
    compiled = core.compile_model(core.read_model(args.onnx), "CPU", {
        "INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_NUM_THREADS": str(args.threads)})
    load_s = time.perf_counter() - t0
    req = compiled.create_infer_request()
    names = [p.get_any_name() for p in compiled.inputs]
    feeds, ref = _load_data(args.data, names, compiled.outputs[0].get_any_name())
    ordered = [feeds[n] for n in names]

    def run():
        req.infer(ordered)
        return req.get_output_tensor(0).data.copy()

    out, med = _time(run, args.iters)
    return {"ms_per_image": med * 1000 / ref.shape[0], "max_err": float(np.abs(out - ref).max()),
            "load_s": load_s, "version": ov.__version__.split("-")[0],
            "precision": compiled.get_property("INFERENCE_PRECISION_HINT").to_string(),
            "threads": int(compiled.get_property("INFERENCE_NUM_THREADS"))}


def runner_torch(args):
    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    t0 = time.perf_counter()
    built = load_weights(args.model, args.batch, args.weights)
    load_s = time.perf_counter() - t0
    _, ref = _load_data(args.data, list(built.inputs), built.output)
    inputs = tuple(built.inputs.values())
    with torch.no_grad():
        out, med = _time(lambda: built.module(*inputs), args.iters)
    return {"ms_per_image": med * 1000 / ref.shape[0], "max_err": float(np.abs(out.numpy() - ref).max()),
            "load_s": load_s, "version": torch.__version__}


def run_child(cmd):
    """Runs cmd, returns (stdout, stderr, rc, peak RSS in MiB of that process)."""
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, cwd=ROOT, text=True)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        return fo.read(), fe.read(), p.returncode, ru.ru_maxrss / 1024.0


def _last_json(stdout):
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON line in the output")


def time_runner(kind, model, batch, files, args):
    if kind == "ours":
        cmd = [args.bin, "--model", files["checkpoint"], "--batch", str(batch), "--iters", str(args.iters),
               "--threads", str(args.threads), "--json"]
        if files["truncation"] is not None:
            cmd += ["--truncation", repr(files["truncation"])]
        cmd += files["bench_args"]
    else:
        cmd = [sys.executable, os.path.abspath(__file__), "--runner", kind, "--model", model, "--batch", str(batch),
               "--onnx", files["onnx"], "--weights-file", files["weights"], "--data", files["data"],
               "--iters", str(args.iters), "--threads", str(args.threads)]
    out, err, rc, rss = run_child(cmd)
    if rc != 0:
        return {"error": (err.strip().splitlines() or [f"exit code {rc}"])[-1][:300]}
    r = _last_json(out)
    r["peak_rss_mib"] = rss
    return r


def check_ours(files, args):
    out, err, rc, _ = run_child([args.bin, "--model", files["checkpoint"], "--check", files["io"],
                                 "--threads", str(args.threads)] + files["bench_args"])
    for line in out.splitlines():
        if line.startswith("parity: max abs error"):
            return float(line.split()[4])
    return {"error": ((err + out).strip().splitlines() or [f"exit code {rc}"])[-1][:300]}


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------

from bench_compare import cpu_name  # noqa: E402  (one CPU-name reader for both benchmark scripts)


def versions():
    v = {"python": platform.python_version()}
    for mod, key in (("torch", "torch"), ("onnx", "onnx"), ("onnxruntime", "onnxruntime"), ("openvino", "openvino"),
                     ("numpy", "numpy")):
        try:
            v[key] = __import__(mod).__version__.split("-")[0]
        except Exception:
            v[key] = "not installed"
    return v


def fmt_ms(r):
    return f"{r['ms_per_image']:.1f}" if r and "ms_per_image" in r else "failed"


def fmt_ratio(ours, peer):
    if not ours or not peer or "ms_per_image" not in ours or "ms_per_image" not in peer:
        return "–"
    return f"{ours['ms_per_image'] / peer['ms_per_image']:.2f}"


def fmt_err(kind, e):
    if e is None:
        return "–"
    if isinstance(e, dict):
        return "failed"
    return f"{e:.1e}" + (" **FAIL**" if e > TOLERANCE[kind] else "")


def print_report(rows, args, vers):
    print(f"Machine: {cpu_name()}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}; "
          f"threads {args.threads}; {args.iters} timed iterations, best median of {args.rounds} alternating rounds")
    ov_set = sorted({f"{x['precision']}, {x['threads']} threads" for r in rows for k, x in r["best"].items()
                     if k == "openvino" and "precision" in x})
    print("Versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()) + "; ours: " + args.bin
          + (f"; OpenVINO as compiled: {'; '.join(ov_set)}" if ov_set else "") + f"; weights: {args.weights}\n")
    print("| model | batch | ours ms/image | ONNX Runtime | OpenVINO | PyTorch | ours/ORT | ours/OpenVINO "
          "| ours/fastest peer | ours/PyTorch | max err ours | max err ORT | max err OpenVINO |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        b = r["best"]
        peers = [(k, b[k]) for k in PEERS if b.get(k) and "ms_per_image" in b[k]]
        fastest = min(peers, key=lambda kv: kv[1]["ms_per_image"]) if peers else None
        fr = (f"{fmt_ratio(b.get('ours'), fastest[1])} ({LABELS[fastest[0]]})" if fastest else "–")
        print(f"| {r['model']} | {r['batch']} | {fmt_ms(b.get('ours'))} | {fmt_ms(b.get('ort'))} | "
              f"{fmt_ms(b.get('openvino'))} | {fmt_ms(b.get('torch'))} | {fmt_ratio(b.get('ours'), b.get('ort'))} | "
              f"{fmt_ratio(b.get('ours'), b.get('openvino'))} | {fr} | {fmt_ratio(b.get('ours'), b.get('torch'))} | "
              f"{fmt_err('ours', r['max_err'].get('ours'))} | {fmt_err('ort', r['max_err'].get('ort'))} | "
              f"{fmt_err('openvino', r['max_err'].get('openvino'))} |")
    print("\nRatios are time ratios (below 1: ours is faster); the fastest peer is the fastest of ONNX Runtime, "
          "OpenVINO and PyTorch. Max err: max |output - PyTorch| (images on the [-1, 1] scale; an encoder's z_mean) "
          "for the same weights and inputs (the PyTorch reference of the preparation step); flagged above 1e-3.")
    for r in rows:
        f, e = r["files"], r["max_err"].get("torch")
        print(f"- {r['model']}:{r['batch']}: reference max|{f['output']}| {f['ref_max_abs']:.3f}, std {f['ref_std']:.3f}, "
              f"max change when {f['ref_zeroed']} is zeroed {f['ref_zero_effect']:.3f}"
              + (f"; the timed PyTorch runner's own output differs by {fmt_err('torch', e)}" if e is not None else ""))
    print()
    print("| model | batch | peak RSS ours (MiB) | ONNX Runtime | OpenVINO | PyTorch |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        cells = []
        for k in RUNNERS:
            x = r["best"].get(k)
            cells.append(f"{x['peak_rss_mib']:.0f}" if x and "peak_rss_mib" in x else "–")
        print(f"| {r['model']} | {r['batch']} | " + " | ".join(cells) + " |")
    print("\nPeak RSS: ru_maxrss of the runner's process (weights, runtime, activations; the Python runners "
          "include the interpreter and their imports; the ORT/OpenVINO ones the graph as loaded).")
    for r in rows:
        for k, x in r["best"].items():
            if x and "error" in x:
                print(f"{r['model']}:{r['batch']} {LABELS[k]} failed: {x['error']}")
        for k, e in r["max_err"].items():
            if isinstance(e, dict):
                print(f"{r['model']}:{r['batch']} {LABELS[k]} check failed: {e['error']}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default="deep-128:1,deep-128:8,biggan-128:1,biggan-128:8,fashion-mnist-32:64,"
                    "bigbigan-enc-128:1,bigbigan-enc-128:8,bigbigan-enc-32:64",
                    help=f"model:batch,... (models: {', '.join(MODELS)})")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--runners", default=",".join(RUNNERS), help="subset of " + ",".join(RUNNERS))
    ap.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "bench_runtimes"),
                    help="cache of checkpoints, ONNX files and io files (default /tmp/bench_runtimes)")
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release", "biggan-bench"))
    ap.add_argument("--weights", choices=("fixture", "bench"), default="fixture",
                    help="fixture (default): bench_torch's model randomised as make_fixtures.py does (calibrated "
                         "BN statistics, attention gamma 0.7), so the output depends on every layer; bench: "
                         "bench_torch's weights as built (deep-128's output is then the same for every z)")
    ap.add_argument("--prep-threads", type=int, help="torch threads for building, randomising, the reference and "
                    "the export (default: --threads)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the tables")
    # internal: one timed runner in this process
    ap.add_argument("--runner", choices=("ort", "openvino", "torch"), help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--onnx", help=argparse.SUPPRESS)
    ap.add_argument("--weights-file", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.iters = max(1, args.iters)

    if args.runner:
        args.weights = args.weights_file
        r = {"ort": runner_ort, "openvino": runner_openvino, "torch": runner_torch}[args.runner](args)
        print(json.dumps(r))
        return 0

    runners = [k for k in args.runners.split(",") if k]
    bad = [k for k in runners if k not in RUNNERS]
    if bad:
        ap.error(f"unknown runners {bad}; choose from {RUNNERS}")
    cases = []
    for c in args.cases.split(","):
        model, _, batch = c.partition(":")
        if model not in MODELS or not batch.isdigit() or int(batch) < 1:
            ap.error(f"bad case {c!r}: model:batch with model in {list(MODELS)}")
        cases.append((model, int(batch)))
    if "ours" in runners and not os.access(args.bin, os.X_OK):
        print(f"error: {args.bin} not found (swift build -c release --product biggan-bench)", file=sys.stderr)
        return 2
    os.makedirs(args.work_dir, exist_ok=True)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    rows = []
    for model, batch in cases:
        log(f"{model}:{batch}: preparing (build, convert, reference, export)")
        # in a child process: the large torch model and the exporter's memory are freed afterwards
        out, err, rc, _ = run_child([sys.executable, os.path.abspath(__file__), "--prepare", f"{model}:{batch}",
                                     "--work-dir", args.work_dir, "--weights", args.weights,
                                     "--threads", str(args.prep_threads or args.threads)])
        sys.stderr.write("".join(l + "\n" for l in out.splitlines() if l.startswith("  ")))
        if rc != 0:
            log(err)
            raise SystemExit(f"{model}:{batch}: preparation failed (exit code {rc})")
        files = _last_json(out)
        log(f"  prepared in {files['prepare_s']} s; reference max|{files['output']}| {files['ref_max_abs']:.3f}, std "
            f"{files['ref_std']:.3f}, {files['ref_saturated'] * 100:.1f}% above 0.99, "
            f"max change when {files['ref_zeroed']} is zeroed {files['ref_zero_effect']:.3f}")
        max_err = {}
        if "ours" in runners:
            max_err["ours"] = check_ours(files, args)
        best = {}
        for rnd in range(args.rounds):
            for kind in runners:
                r = time_runner(kind, model, batch, files, args)
                if "max_err" in r:
                    max_err[kind] = max(max_err.get(kind, 0.0), r["max_err"])
                if "error" in r:
                    best.setdefault(kind, r)
                elif kind not in best or "error" in best[kind] or r["ms_per_image"] < best[kind]["ms_per_image"]:
                    best[kind] = r
                log(f"  round {rnd + 1} {LABELS[kind]}: " + (f"{r['ms_per_image']:.1f} ms/image"
                                                             if "ms_per_image" in r else f"failed: {r['error']}"))
        for kind in runners:
            if kind not in max_err:
                max_err[kind] = {"error": best.get(kind, {}).get("error", "no result")}
        rows.append({"model": model, "batch": batch, "best": best, "max_err": max_err, "files": files})

    vers = versions()
    failed = any((isinstance(e, dict) or e > TOLERANCE[k]) for r in rows for k, e in r["max_err"].items())
    failed = failed or any("error" in x for r in rows for x in r["best"].values())
    if args.json:
        print(json.dumps({"machine": cpu_name(), "cores": os.cpu_count(), "threads": args.threads,
                          "iters": args.iters, "rounds": args.rounds, "versions": vers, "rows": rows,
                          "tolerance": TOLERANCE, "ok": not failed}, indent=1))
    else:
        print_report(rows, args, vers)
    return 1 if failed else 0


def prepare_main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--prepare", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--threads", type=int, required=True)
    a = ap.parse_args(argv)
    model, _, batch = a.prepare.partition(":")
    res = prepare(model, int(batch), a.work_dir, a.weights, a.threads,
                  lambda m: print(m, flush=True))   # stdout: the parent shows these lines
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    if "--prepare" in sys.argv[1:]:
        sys.exit(prepare_main(sys.argv[1:]))
    sys.exit(main())
