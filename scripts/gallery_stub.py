"""scripts/gallery_check.py, part 7: a stub server with made-up capabilities (a StyleGAN-like ψ
rule and an unknown rule) that the gallery must drive from /v1/models alone, and the check that
uses it. Standard library only."""
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

# ----------------------------------------------------------------------------- capabilities: a stub server

# The shipped server has no unconditional family (the Swift tests register one inside their
# target only), so the capability-driven gallery is checked against a stub: the real public/
# files, served with a fake /v1 API whose models are an unconditional one with a ψ rule the
# gallery has no hint for, and a conditional one with another made-up rule (minimum excluded,
# no maximum). The stub answers like the server: 400 for a class given to the unconditional
# model, 400 for a missing class on the conditional one, 400 for a truncation outside the rule.

STUB_RES = 16
STUB_UNCOND, STUB_COND = "stub-psi", "stub-cond"
PSI_SUMMARY = "w is pulled towards the average w by ψ; ψ = 1 leaves it as is, smaller ψ: less variety, higher fidelity"
TAU_SUMMARY = "a made-up rule that no part of the gallery knows by name"


def stub_models():
    """The stub's /v1/models entries and each model's class names."""
    psi = {"rule": "psi", "symbol": "ψ", "min": 0, "min_inclusive": True, "max": 1, "range": "[0, 1]",
           "summary": PSI_SUMMARY, "default": None}
    tau = {"rule": "tau-demo", "symbol": "τ", "min": 0.5, "min_inclusive": False, "max": None, "range": "(0.5, ∞)",
           "summary": TAU_SUMMARY, "default": None}

    def summary(name, arch, conditional, classes, trunc, default):
        return {"name": name, "architecture": arch, "resolution": STUB_RES, "channels": 3, "classes": classes,
                "dim_z": 8, "truncation": trunc["rule"], "default": default,
                "provenance": "gallery_check stub, not a real model", "default_truncation": "none",
                "truncation_range": trunc["range"],
                "capabilities": {"conditional": conditional, "latent_spaces": ["z"], "encoder": False, "truncation": trunc}}
    # Like the Swift tests' unconditional BigGAN: one nominal class that must never be offered.
    models = [summary(STUB_UNCOND, "stylegan-stub", False, 1, psi, True),
              summary(STUB_COND, "stub-conditional", True, 3, tau, False)]
    return models, {STUB_UNCOND: ["thing"], STUB_COND: ["alpha", "beta", "gamma"]}


def stub_image(model, cls, key, t):
    """A deterministic STUB_RES² RGB image (rows of bytes) for one sample: colours from a hash of
    everything that selects it, so that a wrong class or truncation shows as another image."""
    h = zlib.crc32(f"{model}|{cls}|{key}|{t}".encode())
    return [bytes(c for x in range(STUB_RES) for c in (
        (x * 16 + h) & 0xFF, (y * 16 + (h >> 8)) & 0xFF, (x * y * 3 + (h >> 16) + 40) & 0xFF)) for y in range(STUB_RES)]


def encode_png(rows):
    """8-bit RGB PNG from rows of RGB bytes (filter 0)."""
    width, height = len(rows[0]) // 3, len(rows)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def grid_rows(images, columns):
    """Images side by side, `columns` to a row, 2 white pixels apart (as the server lays out grids)."""
    res, gap = STUB_RES, 2
    nrows = -(-len(images) // columns)
    width, height = columns * res + (columns - 1) * gap, nrows * res + (nrows - 1) * gap
    out = [bytearray(b"\xff" * (width * 3)) for _ in range(height)]
    for i, img in enumerate(images):
        x0, y0 = (i % columns) * (res + gap), (i // columns) * (res + gap)
        for y, row in enumerate(img):
            out[y0 + y][x0 * 3:(x0 + res) * 3] = row
    return [bytes(r) for r in out]


class StubError(Exception):
    def __init__(self, status, message, code="bad_request"):
        super().__init__(message)
        self.status, self.code = status, code


DRIVER_JS = r"""'use strict';
// gallery_check's driver (served by its stub server only, after app.js): uses the gallery as a
// person would, switching between the unconditional and the conditional model and back, and
// leaves what it saw in <pre id="driver-log"> for the DOM dump.
(async () => {
  const $ = (id) => document.getElementById(id);
  const log = [];
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const until = async (what, ok) => {
    for (let i = 0; i < 600; i++) { if (ok()) return; await sleep(50); }
    throw new Error('timed out waiting for ' + what);
  };
  const tiles = () => [...document.querySelectorAll('#grid a.tile-dl')].map((a) => a.getAttribute('href'));
  const gridDone = (test) => $('grid').dataset.state === 'done' && tiles().length > 0 && tiles().every(test);
  const snap = (label) => ({
    label, model: $('model').value, info: $('model-info').firstChild?.textContent ?? '',
    pickerHidden: $('class-picker').hidden, classNone: $('class-none').hidden ? null : $('class-none').textContent,
    clsFieldsHidden: $('classlerp-fields').hidden, clsGoDisabled: $('classlerp-go').disabled,
    clsHelp: $('classlerp-help').textContent, clsState: $('classlerp-strip').dataset.state,
    clsHref: $('classlerp-download').hidden ? null : $('classlerp-download').getAttribute('href'),
    latentHelp: $('latent-help').textContent, sheetHint: $('sheet-hint').textContent,
    grid: $('grid').dataset.state, tiles: tiles(), hash: location.hash,
    truncKind: $('truncation-kind').textContent, truncHelp: $('truncation-help').textContent,
    truncMin: $('truncation').getAttribute('min'), truncMax: $('truncation').getAttribute('max'),
    truncChecked: $('truncate').checked, truncValue: $('truncation').value,
    banner: $('banner').hidden ? '' : $('banner').textContent, nnScopeDisabled: $('nn-scope').disabled,
    sheet: $('sheet').dataset.state, sheetRows: document.querySelectorAll('#sheet .sheet-row').length,
    sheetHelp: $('sheet-help').textContent,
  });
  const choose = async (name, test) => {
    $('model').value = name;
    $('model').dispatchEvent(new Event('change'));
    await until('the grid of ' + name, () => gridDone((h) => h.includes('model=' + name) && test(h)));
  };
  try {
    await until('the first grid', () => gridDone(() => true));
    $('sheet-panel').open = true;   // as a click on its summary does; it stays open from here on
    await until('the class sheet panel', () => $('sheet').dataset.state !== 'idle');
    log.push(snap('unconditional'));
    await choose('stub-cond', (h) => /[?&]class=0(&|$)/.test(h));
    await until('the class sheet', () => ['done', 'error'].includes($('sheet').dataset.state));
    log.push(snap('conditional'));
    $('classlerp-go').click();
    await until('the class interpolation', () => ['done', 'error'].includes($('classlerp-strip').dataset.state));
    $('class').value = '2';
    $('class').dispatchEvent(new Event('change'));
    $('generate').click();
    await until('the grid of class 2', () => gridDone((h) => /[?&]class=2(&|$)/.test(h)));
    log.push(snap('conditional, class interpolation, class 2'));
    await choose('stub-psi', (h) => !/[?&]class/.test(h));
    log.push(snap('unconditional again'));
    await choose('stub-cond', (h) => /[?&]class=2(&|$)/.test(h));
    await until('the class sheet again', () => ['done', 'error'].includes($('sheet').dataset.state));
    log.push(snap('conditional again'));
  } catch (e) {
    log.push({ error: String((e && e.message) || e) });
  }
  const pre = document.createElement('pre');
  pre.id = 'driver-log';
  pre.hidden = true;
  pre.textContent = JSON.stringify(log);
  document.body.append(pre);
})();
"""


class StubGallery:
    """public/ plus a fake /v1 API on 127.0.0.1, in a thread; records every /v1 request."""

    def __init__(self, public):
        import http.server
        import threading
        self.public = public
        self.models, self.names = stub_models()
        self.requests = []  # (path, query dict, status)
        self.lock = threading.Lock()
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                split = urllib.parse.urlsplit(self.path)
                pairs = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
                q = dict(pairs)
                status, ctype, body = stub.answer(split.path, q, len(q) != len(pairs))
                if split.path.startswith("/v1/"):
                    with stub.lock:
                        stub.requests.append((split.path, q, status))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def taken(self):
        with self.lock:
            out, self.requests = self.requests, []
        return out

    # -- answers

    def answer(self, path, q, repeated):
        if not path.startswith("/v1/"):
            return self.static(path, q)
        try:
            if repeated:
                raise StubError(400, "repeated query parameter")
            ctype, body = self.api(path, q)
            return 200, ctype, body
        except StubError as e:
            body = json.dumps({"error": {"code": e.code, "message": str(e)}}).encode()
            return e.status, "application/json", body

    def static(self, path, q):
        files = {"/": "index.html", "/index.html": "index.html", "/style.css": "style.css"}
        files.update({"/" + n: n for n in os.listdir(self.public) if n.endswith(".js")})   # every script the page loads
        types = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
        if path == "/__driver.js":
            return 200, types[".js"], DRIVER_JS.encode()
        if path not in files:
            return 404, "text/plain", b"not found"
        name = files[path]
        with open(os.path.join(self.public, name), "rb") as f:
            body = f.read()
        if name == "index.html" and "driver" in q:
            tag = b'<script src="app.js" defer></script>'
            if tag not in body:
                return 500, "text/plain", b"index.html does not load app.js as expected"
            body = body.replace(tag, tag + b'\n  <script src="__driver.js" defer></script>')
        return 200, types[os.path.splitext(name)[1]], body

    def api(self, path, q):
        as_json = lambda v: ("application/json", json.dumps(v).encode())  # noqa: E731
        if path == "/v1/models":
            return as_json({"models": self.models})
        if path.startswith("/v1/models/"):
            m = self.model(urllib.parse.unquote(path[len("/v1/models/"):]))
            config = {"architecture": m["architecture"], "resolution": STUB_RES, "n_classes": m["classes"],
                      "class_names": self.names[m["name"]]}
            return as_json(dict(m, class_names=self.names[m["name"]], config=config, parameters=12345))
        m = self.model(q.get("model"))
        name, t = m["name"], self.truncation(m, q.get("truncation"))

        def integer(key, default=None, lo=0, hi=2 ** 64 - 1):
            if key not in q:
                if default is None:
                    raise StubError(400, f"'{key}' is required")
                return default
            try:
                v = int(q[key])
            except ValueError:
                raise StubError(400, f"'{key}' must be an integer")
            if not lo <= v <= hi:
                raise StubError(400, f"'{key}' must be in {lo}...{hi}")
            return v

        def cls_param(key):
            if not m["capabilities"]["conditional"]:
                if key in q:
                    raise StubError(400, f"'{key}': this model is unconditional: it takes no class")
                return None
            return integer(key, lo=0, hi=m["classes"] - 1)

        if path == "/v1/sample":
            cls, seed = cls_param("class"), integer("seed")
            n = integer("n", 1, 1, 64)
            columns = integer("columns", math.ceil(math.sqrt(n)), 1, n)
            images = [stub_image(name, cls, seed + i, t) for i in range(n)]
        elif path == "/v1/interpolate":
            steps = integer("steps", 8, 2, 32)
            kind = q.get("kind", "latent")
            if kind == "latent":
                cls, a, b = cls_param("class"), integer("seed_a", 0), integer("seed_b", 1)
                images = [stub_image(name, cls, f"{a}>{b}:{i}:{q.get('method', 'linear')}", t) for i in range(steps)]
            elif kind == "class":
                if not m["capabilities"]["conditional"]:
                    raise StubError(400, "'kind': class interpolation needs a class-conditional model; this one is unconditional")
                a, b, seed = cls_param("class_a"), cls_param("class_b"), integer("seed", 0)
                images = [stub_image(name, f"{a}>{b}:{i}", seed, t) for i in range(steps)]
            else:
                raise StubError(400, f"'kind' must be latent or class, got {kind!r}")
            columns = steps
        elif path == "/v1/neighbours":
            cls, seed, k = cls_param("class"), integer("seed"), integer("k", 8, 1, 32)
            if q.get("scope", "class") not in ("class", "all"):
                raise StubError(400, "'scope' must be class or all")
            images = [stub_image(name, cls, seed, t)] + [stub_image(name, "train", f"{seed}:{j}", None) for j in range(k)]
            columns = k + 1
        else:
            raise StubError(404, f"no route {path}", "not_found")
        return "image/png", encode_png(grid_rows(images, columns))

    def model(self, name):
        m = next((m for m in self.models if m["name"] == name), None) if name else \
            next(m for m in self.models if m["default"])
        if m is None:
            raise StubError(404, f"no model {name!r}", "model_not_found")
        return m

    @staticmethod
    def truncation(m, text):
        if text is None or text == "none":
            return None
        try:
            t = float(text)
        except ValueError:
            raise StubError(400, f"'truncation' must be a number or none, got {text!r}")
        r = m["capabilities"]["truncation"]
        if not (t >= r["min"] if r["min_inclusive"] else t > r["min"]) or (r["max"] is not None and t > r["max"]):
            raise StubError(400, f"'truncation': must be in {r['range']} for this model (got {text})")
        return t


def no_class_requests(requests, model, what):
    """Every /v1 request the page made must have succeeded, and none for `model` names a class."""
    failed = [(p, q, s) for p, q, s in requests if s != 200]
    if failed:
        raise CheckFailed(f"{what}: the page made requests the stub refused: {failed[:4]}")
    sent = [(p, q) for p, q, _ in requests if q.get("model") == model and p != "/v1/models"]
    with_class = [(p, q) for p, q in sent if {"class", "class_a", "class_b"} & set(q)]
    if with_class:
        raise CheckFailed(f"{what}: the page sent a class for the unconditional model: {with_class[:4]}")
    return sent


def check_unconditional_controls(root, what):
    """The class controls of an unconditional model: hidden or disabled, with a reason."""
    if "hidden" not in need(root, "class-picker").attrs:
        raise CheckFailed(f"{what}: the class picker is shown for an unconditional model")
    note = need(root, "class-none")
    if "hidden" in note.attrs or "unconditional" not in note.text():
        raise CheckFailed(f"{what}: no note says the model is unconditional (#class-none {note.text()!r})")
    if "hidden" not in need(root, "classlerp-fields").attrs or "disabled" not in need(root, "classlerp-go").attrs:
        raise CheckFailed(f"{what}: the class interpolation controls are offered for an unconditional model")
    if "Not available" not in need(root, "classlerp-help").text():
        raise CheckFailed(f"{what}: the class interpolation does not say it is unavailable: "
                          f"{need(root, 'classlerp-help').text()!r}")
    if "not available" not in need(root, "sheet-hint").text() or "open" in need(root, "sheet-panel").attrs:
        raise CheckFailed(f"{what}: the class sheet is open or does not say it is unavailable "
                          f"({need(root, 'sheet-hint').text()!r})")
    if "disabled" not in need(root, "nn-scope").attrs:
        raise CheckFailed(f"{what}: the neighbours' same-class search is offered for an unconditional model")
    info = need(root, "model-info").text()
    if "unconditional" not in info or re.search(r"\d+ class", info):
        raise CheckFailed(f"{what}: the model line does not say unconditional: {info!r}")
    written = written_hash(root)
    if written is not None and {"class", "cls_a", "cls_b"} & set(written):
        raise CheckFailed(f"{what}: the page wrote a class into the hash: {written}")


def check_capabilities(args, browser, work):
    """The gallery built from capabilities: an unconditional ψ model and a conditional model with
    an unknown rule, on the stub server."""
    with StubGallery(os.path.abspath(args.public_dir)) as stub:
        base = stub.base
        ok(f"capabilities: stub server at {base}/ with {STUB_UNCOND} (unconditional, ψ ∈ [0, 1], the default) "
           f"and {STUB_COND} (3 classes, τ ∈ (0.5, ∞)); both rules unknown to the gallery")
        status, _, _ = http_get(base, f"/v1/sample?model={STUB_UNCOND}&seed=1&class=0")
        status2, _, _ = http_get(base, f"/v1/sample?model={STUB_COND}&seed=1")
        if (status, status2) != (400, 400):
            raise CheckFailed(f"the stub answers {status} to a class for {STUB_UNCOND} and {status2} to none for "
                              f"{STUB_COND}: expected 400 for both, as the server does")
        stub.taken()

        def grid_ready(root):
            grid = root.by_id("grid")
            return grid is not None and grid.attrs.get("data-state") in ("done", "error")

        # a. First visit: no class sheet for an unconditional model; a grid of random seeds.
        what = "unconditional, first load"
        root, console = dump_dom(args, browser, work, base + "/", grid_ready, "caps-first-load")
        if banner_text(root):
            raise CheckFailed(f"{what}: the page shows a message: {banner_text(root)}")
        grid = need(root, "grid")
        links = grid.find_all("a", "tile-dl")
        if grid.attrs.get("data-state") != "done" or len(links) != 4:
            raise CheckFailed(f"{what}: grid state {grid.attrs.get('data-state')!r} with {len(links)} tiles "
                              f"(expected a finished 2x2 grid); console: {'; '.join(console) or '(empty)'}")
        check_unconditional_controls(root, what)
        check_untruncated_controls(root, what)
        help_text = need(root, "truncation-help").text()
        if "ψ ∈ [0, 1]" not in help_text:
            raise CheckFailed(f"{what}: the untruncated help does not name the model's ψ range: {help_text!r}")
        sent = no_class_requests(stub.taken(), STUB_UNCOND, what)
        samples = [q for p, q in sent if p == "/v1/sample"]
        if len(samples) != 4 or any("truncation" in q for q in samples):
            raise CheckFailed(f"{what}: expected 4 untruncated /v1/sample requests, got {samples}")
        ok(f"{what}: class picker hidden with a note, class interpolation and sheet marked unavailable, "
           f"4 untruncated samples requested without a class: {samples[0]}")

        # b. ψ = 0 is valid (min_inclusive), from the capabilities alone; latent strip and neighbours.
        given = {"model": STUB_UNCOND, "seed": "3", "n": "4", "truncation": "0", "lat_a": "3", "lat_b": "9",
                 "lat_steps": "3", "nn_seed": "4"}
        what = "hash " + urllib.parse.urlencode(given)

        def all_ready(root):
            return grid_ready(root) and all((root.by_id(i) or Node("x", {})).attrs.get("data-state") in ("done", "error")
                                            for i in ("latent-strip", "nn-strip"))
        root, console = dump_dom(args, browser, work, base + "/#" + urllib.parse.urlencode(given), all_ready, "caps-psi")
        if banner_text(root):
            raise CheckFailed(f"{what}: the page shows a message: {banner_text(root)}")
        check_unconditional_controls(root, what)
        check_truncated_controls(root, what)
        kind, box = need(root, "truncation-kind").text(), need(root, "truncation")
        if kind != "ψ ∈ [0, 1]" or (box.attrs.get("min"), box.attrs.get("max")) != ("0", "1"):
            raise CheckFailed(f"{what}: truncation label {kind!r}, bounds min={box.attrs.get('min')!r} "
                              f"max={box.attrs.get('max')!r}: expected 'ψ ∈ [0, 1]', 0 and 1 from the capabilities")
        if PSI_SUMMARY not in need(root, "truncation-help").text():
            raise CheckFailed(f"{what}: the truncation help does not give the rule's summary: "
                              f"{need(root, 'truncation-help').text()!r}")
        for ident in ("grid", "latent-strip", "nn-strip"):
            if need(root, ident).attrs.get("data-state") != "done":
                raise CheckFailed(f"{what}: #{ident} state {need(root, ident).attrs.get('data-state')!r}: "
                                  f"{need(root, ident).text()[:200]!r}; console: {'; '.join(console) or '(empty)'}")
        sent = no_class_requests(stub.taken(), STUB_UNCOND, what)
        kinds = collections.Counter(p for p, _ in sent)
        if kinds["/v1/sample"] != 4 or kinds["/v1/interpolate"] != 1 or kinds["/v1/neighbours"] != 1:
            raise CheckFailed(f"{what}: expected 4 samples, 1 interpolation and 1 neighbour search, got {dict(kinds)}")
        for p, q in sent:
            if q.get("truncation") != "0":
                raise CheckFailed(f"{what}: {p} was sent truncation={q.get('truncation')!r}, expected 0")
            if p == "/v1/neighbours" and q.get("scope") != "all":
                raise CheckFailed(f"{what}: the neighbour search asked for scope={q.get('scope')!r}, expected all")
        if written_hash(root).get("truncation") != "0":
            raise CheckFailed(f"{what}: the page wrote the hash {written_hash(root)}")
        ok(f"{what}: ψ = 0 accepted (min inclusive), label 'ψ ∈ [0, 1]', bounds 0…1 and the rule's summary shown; "
           "grid, latent strip and neighbours (scope all) requested without a class")

        # c. A link with what an unconditional model cannot take: said, left out, the rest rendered.
        given = {"model": STUB_UNCOND, "class": "2", "seed": "5", "n": "1", "truncation": "1.5",
                 "cls_a": "0", "cls_b": "1", "cls_steps": "2"}
        what = "hash " + urllib.parse.urlencode(given)
        root, _ = dump_dom(args, browser, work, base + "/#" + urllib.parse.urlencode(given), grid_ready, "caps-bad-link")
        msg = banner_text(root)
        for part in ("Truncation 1.5 is not valid", "the class “2” in the link is ignored",
                     "Class interpolation needs a class-conditional model"):
            if part not in msg:
                raise CheckFailed(f"{what}: the page's message does not say {part!r}: {msg!r}")
        check_unconditional_controls(root, what)
        check_untruncated_controls(root, what)
        if need(root, "grid").attrs.get("data-state") != "done" or need(root, "classlerp-strip").attrs.get("data-state") != "idle":
            raise CheckFailed(f"{what}: grid {need(root, 'grid').attrs.get('data-state')!r}, class interpolation "
                              f"{need(root, 'classlerp-strip').attrs.get('data-state')!r}: expected done and idle")
        sent = no_class_requests(stub.taken(), STUB_UNCOND, what)
        if [p for p, _ in sent] != ["/v1/sample"] or "truncation" in sent[0][1]:
            raise CheckFailed(f"{what}: expected one untruncated /v1/sample, got {sent}")
        ok(f"{what}: says {msg!r}; renders the grid untruncated, without a class and without a class interpolation")

        # d. Switching models both ways, driven in the page like a person would.
        what = "switching models"
        root, console = dump_dom(args, browser, work, base + "/?driver=1#model=stub-psi&seed=5&n=1",
                                 lambda r: r.by_id("driver-log") is not None, "caps-switch")
        node = root.by_id("driver-log")
        if node is None:
            raise CheckFailed(f"{what}: the driver did not finish; console: {'; '.join(console) or '(empty)'}")
        steps = json.loads("".join(c for c in node.children if isinstance(c, str)))
        if any("error" in s for s in steps) or len(steps) != 5:
            raise CheckFailed(f"{what}: the driver stopped: {steps[-1] if steps else '(nothing)'}; "
                              f"console: {'; '.join(console) or '(empty)'}")
        requests = stub.taken()
        no_class_requests(requests, STUB_UNCOND, what)
        for s in steps:
            label, tiles = s["label"], [query_of(h) for h in s["tiles"]]
            hash_q = dict(urllib.parse.parse_qsl(s["hash"].lstrip("#")))
            if s["banner"]:
                raise CheckFailed(f"{what}, {label}: the page shows a message: {s['banner']!r}")
            if s["model"] == STUB_UNCOND:
                bad = [k for k in ("pickerHidden", "clsFieldsHidden", "clsGoDisabled", "nnScopeDisabled") if not s[k]]
                if bad or not s["classNone"] or any("class" in q for q in tiles) or "class" in hash_q \
                        or s["clsState"] != "idle" or "unconditional" not in s["info"] or "class" in s["latentHelp"]:
                    raise CheckFailed(f"{what}, {label}: class controls or requests left for the unconditional model: {s}")
                if s["truncKind"] not in ("ψ ∈ [0, 1]", "none (untruncated)"):
                    raise CheckFailed(f"{what}, {label}: truncation label {s['truncKind']!r}")
                if s["sheet"] != "unavailable" or s["sheetRows"] or "unconditional" not in s["sheetHelp"]:
                    raise CheckFailed(f"{what}, {label}: the open class sheet is {s['sheet']!r} with {s['sheetRows']} "
                                      f"rows and the text {s['sheetHelp']!r}: expected it to say it is unavailable")
            else:
                want = "2" if "2" in label or "again" in label else "0"
                bad = [k for k in ("pickerHidden", "clsFieldsHidden", "nnScopeDisabled") if s[k]]
                if bad or s["classNone"] is not None or any(q.get("class") != want for q in tiles) \
                        or "3 classes" not in s["info"] or "class" not in s["latentHelp"]:
                    raise CheckFailed(f"{what}, {label}: expected the class controls and class {want} in every "
                                      f"request: {s}")
                if s["sheet"] != "done" or s["sheetRows"] != 3:
                    raise CheckFailed(f"{what}, {label}: the open class sheet is {s['sheet']!r} with {s['sheetRows']} "
                                      "rows: expected one row for each of the 3 classes")
                if hash_q.get("class") != ["alpha", "beta", "gamma"][int(want)]:
                    raise CheckFailed(f"{what}, {label}: the page wrote the hash {s['hash']!r}")
                if s["truncKind"] not in ("τ ∈ (0.5, ∞)", "none (untruncated)") or s["truncMin"] != "0.51" \
                        or s["truncMax"] is not None or "τ ∈ (0.5, ∞)" not in s["truncHelp"] + s["truncKind"]:
                    raise CheckFailed(f"{what}, {label}: truncation controls not built from τ ∈ (0.5, ∞): "
                                      f"label {s['truncKind']!r}, min {s['truncMin']!r}, max {s['truncMax']!r}, "
                                      f"help {s['truncHelp']!r}")
        lerp = steps[2]
        lq = query_of(lerp["clsHref"] or "")
        if lerp["clsState"] != "done" or (lq.get("class_a"), lq.get("class_b"), lq.get("kind")) != ("0", "1", "class"):
            raise CheckFailed(f"{what}: the class interpolation on the conditional model gave {lerp['clsState']!r} "
                              f"with {lerp['clsHref']!r}")
        cond_sent = [(p, q) for p, q, _ in requests if q.get("model") == STUB_COND]
        if not cond_sent or any("class" not in q and "class_a" not in q for _, q in cond_sent):
            raise CheckFailed(f"{what}: a request for the conditional model lacks its class: {cond_sent}")
        ok(f"{what}: unconditional (open class sheet says unavailable) → conditional (class picker back, sheet of 3 "
           "rows, class 0, class interpolation 0 → 1) → class 2 → unconditional (controls hidden again, strip cleared, "
           "sheet unavailable, no class sent) → conditional (class 2 kept, sheet again)")

        # e. What it looks like: the unconditional grid, pixel for pixel.
        given = {"model": STUB_UNCOND, "seed": "11", "n": "4", "truncation": "0.7"}
        shot = os.path.join(work, "unconditional.png") if not args.screenshot else \
            os.path.splitext(os.path.abspath(args.screenshot))[0] + "-unconditional.png"
        scale = 128 // STUB_RES
        expected = [upscale(stub_image(STUB_UNCOND, None, 11 + i, 0.7), scale) for i in range(4)]
        for attempt, budget in enumerate((args.budget_ms, args.budget_ms * 3)):
            if os.path.exists(shot):
                os.unlink(shot)
            r = chromium(args, browser, work, [f"--screenshot={shot}"], base + "/#" + urllib.parse.urlencode(given), budget)
            if r.returncode != 0 or not os.path.exists(shot):
                raise CheckFailed(f"chromium --screenshot failed ({r.returncode}):\n{chromium_error(r)}")
            with open(shot, "rb") as f:
                _, _, shot_rows = decode_png(f.read())
            boxes = [find_image(shot_rows, e) for e in expected]
            if all(boxes) or attempt == 1:
                break
            log("  ..  unconditional screenshot: not every tile is there yet; retrying with more time")
        if not all(boxes):
            raise CheckFailed(f"the unconditional grid's tiles are not all in the screenshot pixel for pixel: {boxes} "
                              "(keep it with --screenshot FILE to look)")
        no_class_requests(stub.taken(), STUB_UNCOND, "unconditional screenshot")
        ok(f"unconditional screenshot{' ' + shot if args.screenshot else ''}: the 4 tiles (ψ 0.7, no class) appear "
           f"pixel-exact at x{scale}: " + ", ".join(f"({x},{y})" for x, y in boxes))

