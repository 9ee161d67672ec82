#!/usr/bin/env python3
"""End-to-end check of the browser gallery (public/) against a running biggan-server.

1. Starts biggan-server on port 0 (reads the port from its stdout) with the models in
   --models-dir (a folder or one .safetensors file); without --models-dir it first writes a
   random-weight model with the `biggan` binary next to the server binary.
2. Loads the gallery in headless Chromium with a URL hash that generates a 2x2 grid with a
   truncation, and
   - dumps the DOM: the grid must report every tile loaded (data-loaded, data-state) with one
     <img> per expected seed, the truncation must be ticked and sent to the API, the class sheet
     must stay closed, and the nearest-neighbours panel (opened from the hash) must have
     finished with either an image or an error message;
   - takes a screenshot and decodes it with a small PNG decoder (zlib + struct only).
3. Checks the screenshot: every tile must appear pixel for pixel, as the server renders it
   for that seed upscaled by the page's display factor; the grid region must hold many
   distinct colours and many pixels that are neither page background nor white.
4. A first visit (no hash, nothing pressed): the class sheet opens by itself with one row per
   class (10 random ones for large models), labelled with index and name, each row requested
   without a truncation (the default is untruncated; the controls must say so) and shown
   pixel for pixel as GET /v1/sample renders it; no grid is rendered.
5. Checks /healthz, stops the server with SIGTERM and expects a clean exit.
6. Colliding class names: writes a random 1000-class model with the `biggan` binary next to
   the server, gives it ImageNet names with duplicates (crane 134 and 517, maillot 638 and
   639, goldfish 1 and Goldfish 2) and the truncnorm-scaled convention, serves it from a
   second server and checks that it too samples untruncated by default, that the class
   picker tells duplicates apart, that hashes resolve like the server (index, exact name,
   NAME:INDEX, then case-insensitive), that the page writes a hash that reads back the same,
   and that ambiguous or wrong names give a message naming the candidates instead of a guess.
7. Capabilities (the gallery reads each model's `capabilities` from /v1/models): the shipped
   server has no unconditional family, so the real public/ files are served by a stub HTTP server
   (in this script) with a fake /v1 API: an unconditional model with a ψ rule in [0, 1] and a
   conditional one with a made-up rule τ in (0.5, ∞), neither known to the gallery by name. It
   records every request and answers 400 to a class for the unconditional model, like the server.
   Checks: no class sheet and no class picker for the unconditional model (a note says why), class
   interpolation marked unavailable, neighbour search over all classes, no request with a class;
   truncation label, bounds, help and validation from the capabilities (ψ = 0 accepted, 1.5
   refused with a message); a link with a class says it is ignored; switching models both ways in
   the page (a driver script the stub adds after app.js) shows and hides the class controls and
   keeps the class; a screenshot of the unconditional grid shows each tile pixel for pixel
   (NAME-unconditional.png next to --screenshot).

Standard library only; no network access beyond 127.0.0.1. Exits 1 with a message on any
failure. Needs Chromium and at least one font (Chromium aborts without any):

    apt-get install -y --no-install-recommends chromium fonts-dejavu-core
    swift build -c release
    python3 scripts/gallery_check.py --server .build/release/biggan-server
"""
import argparse
import collections
import contextlib
import html.parser
import json
import math
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoint  # noqa: E402  (scripts/checkpoint: standard library only at import)

from gallery_support import *  # noqa: E402,F401,F403
from gallery_stub import check_capabilities  # noqa: E402

# ----------------------------------------------------------------------------- first load: the class sheet

def sheet_rows(root, model, names, what):
    """Checks the finished class sheet in the DOM; returns [(class, query dict)] for its rows."""
    panel, sheet = need(root, "sheet-panel"), need(root, "sheet")
    if "open" not in panel.attrs:
        raise CheckFailed(f"{what}: the class sheet is not open on a first visit (no hash)")
    state = sheet.attrs.get("data-state")
    if state != "done":
        raise CheckFailed(f"{what}: class sheet state {state!r} (expected 'done'): {sheet.text()[:300]!r}; "
                          f"page message: {banner_text(root) or '(none)'}")
    ncls = model["classes"]
    want = ncls if ncls <= 20 else 10
    rows = sheet.find_all("button", "sheet-row")
    if len(rows) != want or sheet.attrs.get("data-loaded") != str(want):
        raise CheckFailed(f"{what}: the sheet has {len(rows)} rows, data-loaded={sheet.attrs.get('data-loaded')!r}; "
                          f"expected {want} for {ncls} classes")
    classes = [int(r.attrs.get("data-class", "-1")) for r in rows]
    if ncls <= 20 and classes != list(range(ncls)):
        raise CheckFailed(f"{what}: sheet rows are classes {classes}, expected every class in order")
    if classes != sorted(set(classes)) or not all(0 <= c < ncls for c in classes):
        raise CheckFailed(f"{what}: sheet rows are classes {classes}: expected distinct valid classes in order")
    out, seeds = [], set()
    for row, c in zip(rows, classes):
        index, name = row.find_all(cls="sheet-index"), row.find_all(cls="sheet-name")
        if not index or not name or index[0].text() != str(c) or name[0].text() != " ".join(names[c].split()):
            raise CheckFailed(f"{what}: the row of class {c} is labelled {row.text()!r}; expected its index {c} "
                              f"and name {names[c]!r}")
        if not row.find_all("img"):
            raise CheckFailed(f"{what}: the row of class {c} has no <img>")
        q = query_of(row.attrs.get("data-url", ""))
        k = row.attrs.get("data-n")
        expected = {"model": model["name"], "class": str(c), "seed": row.attrs.get("data-seed"), "n": k, "columns": k}
        if q != expected:
            raise CheckFailed(f"{what}: the row of class {c} loads {row.attrs.get('data-url')!r}; expected exactly the "
                              f"parameters {expected} (no truncation: the sheet is untruncated by default)")
        seeds.add((q["seed"], k))
        out.append((c, q))
    if len(seeds) != 1:
        raise CheckFailed(f"{what}: the sheet rows use different seeds or counts: {sorted(seeds)}")
    return out


def check_first_load(args, browser, work, base, model, names):
    """A first visit (no hash): the class sheet appears by itself, untruncated, pixel for pixel."""
    what = "first load"

    def ready(root):
        sheet = root.by_id("sheet")
        return sheet is not None and sheet.attrs.get("data-state") in ("done", "error")

    root, console = dump_dom(args, browser, work, base + "/", ready, "first-load")
    if banner_text(root):
        raise CheckFailed(f"{what}: the page shows a message: {banner_text(root)}")
    rows = sheet_rows(root, model, names, what)
    check_untruncated_controls(root, what)
    grid = need(root, "grid")
    if grid.attrs.get("data-state") != "idle" or grid.find_all("img"):
        raise CheckFailed(f"{what}: the grid was rendered too (state {grid.attrs.get('data-state')!r}); "
                          "a first visit shows the class sheet only")
    if written_hash(root) is not None:
        raise CheckFailed(f"{what}: the page wrote a hash before anything was asked for: {written_hash(root)}")
    seed, k = rows[0][1]["seed"], int(rows[0][1]["n"])
    ok(f"{what}: the class sheet opened without input: {len(rows)} rows (classes "
       f"{', '.join(str(c) for c, _ in rows)}), {k} seeds from {seed}, labelled with index and name, untruncated")

    res = model["resolution"]
    scale = int(need(root, "sheet").attrs.get("data-scale") or 0)
    if scale < 1:
        raise CheckFailed(f"{what}: #sheet has no data-scale")
    expected = []
    for c, q in rows:
        path = "/v1/sample?" + urllib.parse.urlencode(q)
        status, _, png = http_get(base, path)
        if status != 200:
            raise CheckFailed(f"GET {path} answered {status}: {png[:300]!r}")
        w, h, prow = decode_png(png)
        if (w, h) != (k * res + (k - 1) * 2, res):
            raise CheckFailed(f"GET {path} gave a {w}x{h} image; expected one row of {k} {res}px images")
        expected.append(upscale(prow, scale))
    height = max(1000, 400 + len(rows) * (res * scale + 16))
    shot = os.path.join(work, "first-load.png") if not args.screenshot else \
        os.path.splitext(os.path.abspath(args.screenshot))[0] + "-first-load.png"
    budgets = (args.budget_ms, args.budget_ms * 3)
    for attempt, budget in enumerate(budgets):
        if os.path.exists(shot):
            os.unlink(shot)
        r = chromium(args, browser, work, [f"--screenshot={shot}"], base + "/", budget, window=(1200, height))
        if r.returncode != 0 or not os.path.exists(shot):
            raise CheckFailed(f"chromium --screenshot failed ({r.returncode}):\n{chromium_error(r)}")
        with open(shot, "rb") as f:
            _, _, shot_rows = decode_png(f.read())
        boxes = [find_image(shot_rows, e) for e in expected]
        if all(boxes) or attempt + 1 == len(budgets):
            break
        log(f"  ..  {what}: not every sheet row is in the screenshot after a {budget} ms budget; retrying")
    for (c, _), at in zip(rows, boxes):
        if at is None:
            raise CheckFailed(f"{what}: the sheet row of class {c} ({k} images of {res}px, shown at x{scale}) does not "
                              f"appear pixel for pixel in the screenshot (keep it with --screenshot FILE to look)")
    xs, ys = {b[0] for b in boxes}, [b[1] for b in boxes]
    if len(xs) != 1 or ys != sorted(ys) or len(set(ys)) != len(ys):
        raise CheckFailed(f"{what}: the sheet rows are not stacked one per line: {boxes}")
    ok(f"{what}: every sheet row appears pixel-exact in a 1200x{height} screenshot (x{scale}), one row per class, "
       f"at x={boxes[0][0]}, y={ys[0]}…{ys[-1]}")


# ----------------------------------------------------------------------------- duplicate class names

def duplicate_names():
    """1000 ImageNet names with the collisions the gallery must keep apart."""
    names = checkpoint.read_class_names(checkpoint.IMAGENET_CLASSES)
    if len(names) != 1000:
        raise CheckFailed(f"scripts/imagenet_classes.txt has {len(names)} names, expected 1000")
    names[134] = names[517] = "crane"          # ImageNet: the bird and the machine
    names[638] = names[639] = "maillot"
    names[1], names[2] = "goldfish", "Goldfish"  # differ only by case
    return names


def set_class_names(path, names, truncation=None):
    """Rewrites a checkpoint's __metadata__ config with other class names, and optionally another
    truncation convention (checkpoint.patch_config: the tensor bytes are kept)."""
    def update(config):
        if config.get("n_classes") != len(names):
            raise CheckFailed(f"{path}: {config.get('n_classes')} classes, not {len(names)}")
        config["class_names"] = names
        if truncation:
            config["truncation"] = truncation
    checkpoint.patch_config(path, update)


def check_duplicate_names(args, browser, work):
    """A 1000-class model whose names collide: picker, sheet labels and the hash keep them apart."""
    biggan = os.path.join(os.path.dirname(os.path.abspath(args.server)), "biggan")
    if not os.access(biggan, os.X_OK):
        raise CheckFailed(f"no `biggan` binary next to the server ({biggan}) to create the duplicate-names model")
    folder = os.path.join(work, "dup-models")
    path = init_random_model(biggan, folder, "dupnames-32.safetensors", classes=1000, timeout=300)
    names = duplicate_names()
    # The other truncation convention, so that both are seen untruncated by default.
    set_class_names(path, names, truncation="truncnorm-scaled")
    proc, base, server_log = start_server(args, work, ["--models-dir", folder], tag="dupnames")
    ok(f"duplicate names: server with a random 1000-class truncnorm-scaled model (crane = 134 and 517, "
       f"maillot = 638 and 639, goldfish 1 / Goldfish 2) at {base}/")
    with serving(proc, server_log, "duplicate-names server"):
        status, _, body = http_get(base, "/v1/models/dupnames-32")
        model = json.loads(body) if status == 200 else None
        if model is None or model.get("class_names") != names or model.get("truncation") != "truncnorm-scaled":
            raise CheckFailed(f"GET /v1/models/dupnames-32 answered {status} without the patched class names "
                              "and truncation convention")

        # First visit: a sample of 10 classes, labelled with index and name.
        def sheet_ready(root):
            sheet = root.by_id("sheet")
            return sheet is not None and sheet.attrs.get("data-state") in ("done", "error")
        root, _ = dump_dom(args, browser, work, base + "/", sheet_ready, "dup-first-load")
        rows = sheet_rows(root, model, names, "duplicate names, first load")
        ok(f"duplicate names: first load shows a sheet of 10 of 1000 classes ({', '.join(str(c) for c, _ in rows)})")
        options = need(root, "class").find_all("option")
        texts = [o.text() for o in options]
        if len(options) != 1000 or len(set(texts)) != 1000:
            dupes = sorted(t for t, n in collections.Counter(texts).items() if n > 1)[:5]
            raise CheckFailed(f"the class picker has {len(options)} options, {len(set(texts))} distinct texts "
                              f"(repeated: {dupes}): duplicate names must be told apart")
        by_value = {o.attrs.get("value"): o.text() for o in options}
        for i in (134, 517, 638, 639, 1, 2):
            if str(i) not in by_value[str(i)] or names[i] not in by_value[str(i)]:
                raise CheckFailed(f"picker option {i} reads {by_value[str(i)]!r}: expected its index and name {names[i]!r}")
        ok(f"duplicate names: the picker's 1000 options are distinct: {by_value['134']!r}, {by_value['517']!r}, "
           f"{by_value['638']!r}, {by_value['639']!r}")

        def done(root):
            grid, strip = root.by_id("grid"), root.by_id("classlerp-strip")
            return grid is not None and strip is not None and \
                grid.attrs.get("data-state") not in ("loading", "idle") and \
                strip.attrs.get("data-state") not in ("loading", "idle")

        # Hash → classes → hash: index, exact names, NAME:INDEX, a case-insensitive unique name.
        cases = [
            ({"class": "517", "seed": "5", "n": "1", "cls_a": "goldfish", "cls_b": "Goldfish", "cls_steps": "2"},
             517, (1, 2), None, {"class": "crane:517", "cls_a": "goldfish", "cls_b": "Goldfish", "truncation": "none"}),
            ({"class": "TENCH", "seed": "1", "n": "1", "cls_a": "crane:134", "cls_b": "MAILLOT:639", "cls_steps": "2",
              "truncation": "0.5"},
             0, (134, 639), "0.5", {"class": "tench", "cls_a": "crane:134", "cls_b": "maillot:639", "truncation": "0.5"}),
        ]
        for n_case, (given, cls, (ca, cb), trunc, hash_want) in enumerate(cases, 1):
            what = "hash " + urllib.parse.urlencode(given)
            root, console = dump_dom(args, browser, work, base + "/#" + urllib.parse.urlencode(given), done, f"dup-{n_case}")
            if banner_text(root):
                raise CheckFailed(f"{what}: the page shows a message: {banner_text(root)}")
            grid = need(root, "grid")
            if grid.attrs.get("data-state") != "done":
                raise CheckFailed(f"{what}: grid state {grid.attrs.get('data-state')!r}; console: {'; '.join(console)}")
            links = grid.find_all("a", "tile-dl")
            q = query_of(links[0].attrs.get("href", "")) if links else {}
            if q.get("class") != str(cls) or q.get("truncation") != trunc:
                raise CheckFailed(f"{what}: the grid requests {links[0].attrs.get('href') if links else None!r}; "
                                  f"expected class={cls} and " + (f"truncation={trunc}" if trunc else "no truncation"))
            (check_truncated_controls if trunc else check_untruncated_controls)(root, what)
            strip = need(root, "classlerp-strip")
            dl = need(root, "classlerp-download")
            sq = query_of(dl.attrs.get("href", ""))
            if strip.attrs.get("data-state") != "done" or (sq.get("class_a"), sq.get("class_b")) != (str(ca), str(cb)):
                raise CheckFailed(f"{what}: class interpolation {strip.attrs.get('data-state')!r} with "
                                  f"{dl.attrs.get('href')!r}; expected classes {ca} → {cb}: {strip.text()[:200]!r}")
            if sq.get("truncation") != trunc:
                raise CheckFailed(f"{what}: the class interpolation sends truncation={sq.get('truncation')!r}, "
                                  f"expected {trunc!r}")
            written = written_hash(root) or {}
            if any(written.get(k) != v for k, v in hash_want.items()):
                raise CheckFailed(f"{what}: the page wrote the hash {written}; expected {hash_want}")
            ok(f"duplicate names: {what} → class {cls}, classes {ca} → {cb}, "
               + (f"truncation {trunc}" if trunc else "untruncated") + f"; the page wrote "
               + ", ".join(f"{k}={written[k]}" for k in hash_want))

        # Names that do not pick one class: a visible message with the candidates, nothing rendered.
        given = {"class": "crane", "n": "1", "cls_a": "GOLDFISH", "cls_b": "crane:3", "cls_steps": "2"}
        what = "hash " + urllib.parse.urlencode(given)
        root, _ = dump_dom(args, browser, work, base + "/#" + urllib.parse.urlencode(given),
                           lambda r: bool(banner_text(r)), "dup-ambiguous")
        msg = banner_text(root)
        for part in ("crane", "134 · crane", "517 · crane", "crane:517", "GOLDFISH", "1 · goldfish", "2 · Goldfish",
                     "Class 3 of"):
            if part not in msg:
                raise CheckFailed(f"{what}: the page's message does not mention {part!r}: {msg!r}")
        grid, strip = need(root, "grid"), need(root, "classlerp-strip")
        if grid.attrs.get("data-state") != "idle" or grid.find_all("img") or strip.attrs.get("data-state") != "idle":
            raise CheckFailed(f"{what}: an ambiguous class was rendered anyway (grid {grid.attrs.get('data-state')!r}, "
                              f"class interpolation {strip.attrs.get('data-state')!r})")
        values = [o.attrs.get("value") for o in need(root, "class").find_all("option")]
        if values != ["134", "517"]:
            raise CheckFailed(f"{what}: the class picker offers {values[:10]}; expected the candidates 134 and 517")
        ok(f"duplicate names: {what} renders nothing and says: {msg!r}")


# ----------------------------------------------------------------------------- the check

def run_check(args, work):
    t0 = time.monotonic()
    browser = find_chromium(args.chromium)
    ok(f"Chromium: {browser}")
    proc, base, server_log = start_server(args, work)
    ok(f"server listening at {base}/ (pid {proc.pid})")
    with serving(proc, server_log, "server"):
        # Static files and the API the page relies on.
        status, headers, body = http_get(base, "/")
        if status != 200 or b"app.js" not in body or b"style.css" not in body:
            raise CheckFailed(f"GET / answered {status} without the gallery page: {body[:200]!r}")
        for path, ctype in (("/app.js", "javascript"), ("/style.css", "text/css")):
            s, h, b = http_get(base, path)
            got = {k.lower(): v for k, v in h.items()}.get("content-type", "")
            if s != 200 or ctype not in got or not b:
                raise CheckFailed(f"GET {path} answered {s} ({got}, {len(b)} bytes)")
        ok("GET /, /app.js, /style.css serve the gallery")
        status, _, body = http_get(base, "/v1/models")
        if status != 200:
            raise CheckFailed(f"GET /v1/models answered {status}: {body[:300]!r}")
        models = json.loads(body)["models"]
        if not models:
            raise CheckFailed("GET /v1/models lists no models")
        model = next((m for m in models if m.get("default")), models[0])
        name, res = model["name"], model["resolution"]
        cls = 1 if model["classes"] > 1 else 0
        trunc = "1" if model["truncation"] == "resample" else "0.5"
        ok(f"model {name}: {model['architecture']} {res}px, {model['classes']} classes, truncation {model['truncation']}")
        caps = model.get("capabilities") or {}
        rule = caps.get("truncation") or {}
        if caps.get("conditional") is not True or not all(k in rule for k in ("rule", "symbol", "min", "min_inclusive",
                                                                              "max", "range", "summary")):
            raise CheckFailed(f"GET /v1/models: {name} has no usable capabilities (a class-conditional model with a "
                              f"truncation rule expected): {caps}")

        hash_q = urllib.parse.urlencode({"model": name, "class": cls, "seed": SEED, "truncation": trunc, "n": GRID_N})
        page = f"{base}/#{hash_q}"
        seeds = [str(SEED + i) for i in range(GRID_N)]

        # 1. The DOM after loading, with the neighbours panel opened from the hash.
        nn_seed = SEED + 1
        dom_url = page + f"&nn_seed={nn_seed}"
        dom, scan = None, None
        budgets = (args.budget_ms, args.budget_ms * 3)
        for attempt, budget in enumerate(budgets):
            r = chromium(args, browser, work, ["--dump-dom", "--enable-logging=stderr", "--v=0"], dom_url, budget)
            console = [m.group(1).strip() for m in re.finditer(r"CONSOLE[^\]]*\]\s*(.*)", r.stderr.decode(errors="replace"))]
            dom = r.stdout.decode(errors="replace")
            if r.returncode != 0 or "<html" not in dom:
                raise CheckFailed(f"chromium --dump-dom failed ({r.returncode}):\n{chromium_error(r)}")
            scan = DomScan()
            scan.feed(dom)
            if any("Uncaught" in c for c in console):
                break
            if scan.grid is not None and scan.grid.get("data-state") != "loading" and \
                    (scan.nn or {}).get("data-state") not in ("loading", "idle"):
                break
            if attempt + 1 < len(budgets):
                log(f"  ..  page still loading after a {budget} ms budget; retrying with more time")
        with open(os.path.join(work, "dom.html"), "w") as f:
            f.write(dom)
        uncaught = [c for c in console if "Uncaught" in c]
        if uncaught:
            raise CheckFailed("JavaScript error in the page: " + "; ".join(uncaught))
        g = scan.grid
        if g is None:
            raise CheckFailed("the DOM has no #grid element")
        banner = "".join(scan.banner_text).strip()
        if g.get("data-state") != "done" or g.get("data-loaded") != str(GRID_N):
            raise CheckFailed(f"grid state {g.get('data-state')!r}, data-loaded={g.get('data-loaded')!r} "
                              f"(expected 'done', {GRID_N}); page message: {banner or '(none)'}; browser console: "
                              + ("; ".join(console) or "(empty)"))
        tile_seeds = [a.get("data-seed") for a in scan.grid_imgs]
        if tile_seeds != seeds:
            raise CheckFailed(f"grid <img> seeds {tile_seeds}, expected {seeds}")
        if not all(a.get("src") for a in scan.grid_imgs):
            raise CheckFailed("not every grid <img> has a loaded image source")
        ok(f"DOM: #grid data-state=done data-loaded={GRID_N}, <img> tiles for seeds {', '.join(seeds)}")
        if banner:
            raise CheckFailed(f"the page shows an error banner: {banner}")
        root = DomTree(dom).root
        check_truncated_controls(root, "hash with a truncation")
        check_conditional_controls(root, model, "hash with a truncation")
        for a in need(root, "grid").find_all("a", "tile-dl"):
            q = query_of(a.attrs.get("href", ""))
            if q.get("truncation") != trunc or q.get("class") != str(cls):
                raise CheckFailed(f"a tile links to {a.attrs.get('href')!r}: expected class={cls}, truncation={trunc}")
        if written_hash(root) is None or written_hash(root).get("truncation") != trunc:
            raise CheckFailed(f"the page wrote the hash {written_hash(root)}: expected truncation={trunc}")
        if "open" in need(root, "sheet-panel").attrs or need(root, "sheet").attrs.get("data-state") != "idle":
            raise CheckFailed("the class sheet opened although the hash describes a view")
        ok(f"DOM: truncation {trunc} from the hash is ticked, sent to the API and kept in the hash; "
           "the class sheet stays closed")
        nn = scan.nn or {}
        nn_state = nn.get("data-state")
        nn_text = " ".join("".join(scan.nn_text).split())
        if nn_state == "done":
            ok(f"DOM: neighbours panel for seed {nn_seed} shows the neighbours image")
        elif nn_state == "error" and nn_text:
            ok(f"DOM: neighbours panel for seed {nn_seed} shows the server's error: {nn_text!r}")
        else:
            raise CheckFailed(f"neighbours panel state {nn_state!r} with text {nn_text!r}: expected an image or an error")
        scale = int(g.get("data-scale") or 0)  # 0: tiles shown downscaled, no pixel-exact match possible

        # The tiles as the server renders them, upscaled as the page shows them.
        expected = []
        for s in seeds:
            q = urllib.parse.urlencode({"model": name, "class": cls, "seed": s, "truncation": trunc, "n": 1})
            status, _, png = http_get(base, "/v1/sample?" + q)
            if status != 200:
                raise CheckFailed(f"GET /v1/sample?{q} answered {status}: {png[:300]!r}")
            tw, th, trows = decode_png(png)
            if (tw, th) != (res, res):
                raise CheckFailed(f"GET /v1/sample?{q} gave a {tw}x{th} image for a {res}px model")
            expected.append(upscale(trows, scale) if scale else None)

        # 2. The screenshot; a second try with more virtual time if the tiles are not all there yet.
        shot = os.path.abspath(args.screenshot or os.path.join(work, "gallery.png"))
        for attempt, budget in enumerate(budgets):
            if os.path.exists(shot):
                os.unlink(shot)
            r = chromium(args, browser, work, [f"--screenshot={shot}"], page, budget)
            if r.returncode != 0 or not os.path.exists(shot):
                raise CheckFailed(f"chromium --screenshot failed ({r.returncode}):\n{chromium_error(r)}")
            with open(shot, "rb") as f:
                sw, sh, shot_rows = decode_png(f.read())
            boxes = [find_image(shot_rows, e) if e else None for e in expected]
            if all(boxes) or not scale or attempt + 1 == len(budgets):
                break
            log(f"  ..  not every tile is in the screenshot after a {budget} ms budget; retrying with more time")
        ok(f"screenshot {shot if args.screenshot else 'taken'}: {sw}x{sh}")

        # 3a. Every tile appears exactly as the server renders it, upscaled by the page's factor.
        if scale:
            for s, at in zip(seeds, boxes):
                if at is None:
                    raise CheckFailed(f"the tile for seed {s} ({res}x{res} shown at x{scale}) does not appear pixel "
                                      f"for pixel in the screenshot (keep it with --screenshot FILE to look)")
            side = res * scale
            boxes = [(x, y, x + side, y + side) for x, y in boxes]
            how = f"{res}px upscaled x{scale}, pixelated" if scale > 1 else f"{res}px at 1:1"
            ok(f"all {GRID_N} tiles appear pixel-exact in the screenshot ({how}) at "
               + ", ".join(f"({b[0]},{b[1]})" for b in boxes))
            xs, ys = sorted({b[0] for b in boxes}), sorted({b[1] for b in boxes})
            if GRID_N == 4 and (len(xs) != 2 or len(ys) != 2):
                raise CheckFailed(f"the tiles are not laid out as a 2x2 grid: {boxes}")
            ok(f"the tiles form a {len(xs)}x{len(ys)} grid")
            x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
            x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
            image_area = sum((b[2] - b[0]) * (b[3] - b[1]) for b in boxes)
        else:
            log(f"  ..  tiles are shown downscaled ({res}px in {g.get('data-tile')} px): no pixel-exact match; "
                "checking the whole screenshot")
            x0, y0, x1, y1 = 0, 0, sw, sh
            tile = int(g.get("data-tile") or 0)
            image_area = GRID_N * tile * tile

        # 3b. Colour statistics: whole screenshot and the grid region.
        counts = collections.Counter()
        for row in shot_rows:
            counts.update(row[i:i + 3] for i in range(0, len(row), 3))
        background = counts.most_common(1)[0][0]
        white = b"\xff\xff\xff"
        region = collections.Counter()
        for row in shot_rows[y0:y1]:
            region.update(row[i:i + 3] for i in range(x0 * 3, x1 * 3, 3))
        busy = sum(c for colour, c in region.items() if colour not in (background, white))
        log(f"  ..  most common colour rgb{tuple(background)}; {len(counts)} distinct colours in the screenshot; "
            f"grid region {x1 - x0}x{y1 - y0} at ({x0},{y0}): {len(region)} distinct colours, "
            f"{busy} pixels neither background nor white")
        if len(counts) <= 200:
            raise CheckFailed(f"only {len(counts)} distinct colours in the screenshot (need > 200)")
        if len(region) <= 200:
            raise CheckFailed(f"only {len(region)} distinct colours in the grid region (need > 200)")
        if busy < image_area * 0.9:
            raise CheckFailed(f"only {busy} image pixels in the grid region (need >= {int(image_area * 0.9)})")
        ok("> 200 distinct colours; the grid region is filled with varied image pixels")

        # 4. A first visit, without a hash: the class sheet.
        status, _, body = http_get(base, f"/v1/models/{urllib.parse.quote(name)}")
        if status != 200:
            raise CheckFailed(f"GET /v1/models/{name} answered {status}: {body[:300]!r}")
        names = json.loads(body)["class_names"]
        check_first_load(args, browser, work, base, model, names)

        # 5. Health, then a clean stop.
        status, _, body = http_get(base, "/healthz")
        health = json.loads(body) if body.startswith(b"{") else {}
        if status != 200 or health.get("status") not in ("ok", "degraded") or name not in health.get("models", []):
            raise CheckFailed(f"GET /healthz answered {status}: {body[:300]!r}")
        ok(f"GET /healthz: {health['status']}, models {health['models']}, queue depth {health.get('queue_depth')}")
    ok("server stopped cleanly on SIGTERM (exit 0)")

    # 6. Colliding class names, on a second server with a random 1000-class model.
    check_duplicate_names(args, browser, work)
    ok("duplicate-names server stopped cleanly on SIGTERM")

    # 7. Capabilities: an unconditional model and unknown truncation rules, on a stub server.
    check_capabilities(args, browser, work)
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default=".build/release/biggan-server", help="biggan-server binary (default: %(default)s)")
    ap.add_argument("--models-dir", help="folder of .safetensors checkpoints, or one checkpoint file "
                                         "(default: a random biggan-32 model made with the `biggan` next to --server)")
    ap.add_argument("--public-dir", default=os.path.join(REPO, "public"), help="gallery folder (default: %(default)s)")
    ap.add_argument("--chromium", help="Chromium binary (default: chromium, chromium-browser or google-chrome on PATH)")
    ap.add_argument("--screenshot", help="where to keep the grid screenshot; the first-load one goes next to it as "
                                         "NAME-first-load.png (default: a temporary folder, deleted)")
    ap.add_argument("--budget-ms", type=int, default=15000, help="Chromium --virtual-time-budget (default: %(default)s)")
    ap.add_argument("--browser-timeout", type=int, default=120, help="seconds per Chromium run (default: %(default)s)")
    ap.add_argument("--start-timeout", type=int, default=60, help="seconds to wait for the server (default: %(default)s)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (DOM dump, logs) and print it")
    args = ap.parse_args()

    log("gallery check")
    work = tempfile.mkdtemp(prefix="gallery-check-")
    try:
        seconds = run_check(args, work)
    except CheckFailed as e:
        print(f"FAIL: {e}", file=sys.stderr, flush=True)
        if not args.keep:
            log(f"(rerun with --keep to inspect the DOM dump and logs)")
        return 1
    except KeyboardInterrupt:
        print("FAIL: interrupted", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            log(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    log(f"PASS: gallery check in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
