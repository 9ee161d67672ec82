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

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GRID_N = 4
SEED = 7


class CheckFailed(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def ok(msg):
    log(f"  ok  {msg}")


# ----------------------------------------------------------------------------- PNG decoding

def decode_png(data):
    """Decodes an 8-bit, non-interlaced greyscale/RGB/RGBA PNG into (width, height, rows of RGB bytes)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise CheckFailed("not a PNG file")
    pos, idat, header = 8, [], None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise CheckFailed("PNG without IHDR")
    width, height, depth, color, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color)
    if depth != 8 or channels is None or interlace != 0:
        raise CheckFailed(f"unsupported PNG (bit depth {depth}, colour type {color}, interlace {interlace})")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    if len(raw) != height * (stride + 1):
        raise CheckFailed(f"PNG data is {len(raw)} bytes, expected {height * (stride + 1)}")
    bpp = channels
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        ftype = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        if ftype == 0:
            pass
        elif ftype == 1:  # Sub
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 0xFF
        elif ftype == 2:  # Up
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif ftype == 3:  # Average
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + ((left + prev[x]) >> 1)) & 0xFF
        elif ftype == 4:  # Paeth
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 0xFF
        else:
            raise CheckFailed(f"bad PNG filter type {ftype} in row {y}")
        rows.append(line)
        prev = line
    rgb = []
    for line in rows:
        if channels == 3:
            rgb.append(bytes(line))
            continue
        out = bytearray(width * 3)
        if channels == 4:
            out[0::3], out[1::3], out[2::3] = line[0::4], line[1::4], line[2::4]
        elif channels == 2:
            out[0::3] = out[1::3] = out[2::3] = line[0::2]
        else:
            out[0::3] = out[1::3] = out[2::3] = line
        rgb.append(bytes(out))
    return width, height, rgb


def upscale(rows, factor):
    """Nearest-neighbour upscaling of RGB rows by an integer factor."""
    out = []
    for row in rows:
        wide = b"".join(row[i:i + 3] * factor for i in range(0, len(row), 3))
        out.extend([wide] * factor)
    return out


def find_image(shot_rows, tile_rows):
    """(x, y) where tile_rows appear exactly in shot_rows, or None."""
    first, w3, h = tile_rows[0], len(tile_rows[0]), len(tile_rows)
    for y in range(len(shot_rows) - h + 1):
        row = shot_rows[y]
        at = row.find(first)
        while at >= 0:
            if at % 3 == 0 and all(shot_rows[y + j][at:at + w3] == tile_rows[j] for j in range(1, h)):
                return at // 3, y
            at = row.find(first, at + 1)
    return None


# ----------------------------------------------------------------------------- DOM parsing

class DomScan(html.parser.HTMLParser):
    """Collects the grid element, the <img> tiles inside it and the neighbours strip."""

    def __init__(self):
        super().__init__()
        self.grid = None
        self.grid_imgs = []
        self.nn = None
        self.nn_text = []
        self.banner = None
        self.banner_text = []
        self._stack = []  # (tag, role) for open elements we care about

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        role = None
        if a.get("id") == "grid":
            self.grid, role = a, "grid"
        elif a.get("id") == "nn-strip":
            self.nn, role = a, "nn"
        elif a.get("id") == "banner":
            self.banner, role = a, "banner"
        inside = {r for _, r in self._stack}
        if tag == "img" and "grid" in inside:
            self.grid_imgs.append(a)
        if tag not in ("img", "input", "br", "meta", "link", "source", "hr", "wbr", "path", "circle", "rect"):
            self._stack.append((tag, role))

    def handle_endtag(self, tag):
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break

    def handle_data(self, data):
        inside = {r for _, r in self._stack}
        if "nn" in inside:
            self.nn_text.append(data)
        if "banner" in inside:
            self.banner_text.append(data)


class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag, self.attrs, self.parent, self.children, self.texts = tag, attrs, parent, [], []

    def text(self):
        """All text inside, whitespace collapsed."""
        parts = []

        def walk(n):
            for c in n.children:
                if isinstance(c, str):
                    parts.append(c)
                else:
                    walk(c)
        walk(self)
        return " ".join("".join(parts).split())

    def iter(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.iter()

    def find_all(self, tag=None, cls=None):
        return [n for n in self.iter() if (tag is None or n.tag == tag)
                and (cls is None or cls in n.attrs.get("class", "").split())]

    def by_id(self, ident):
        return next((n for n in self.iter() if n.attrs.get("id") == ident), None)


class DomTree(html.parser.HTMLParser):
    """The whole dumped DOM as a tree of Nodes (attributes as a dict; a valueless attribute is '')."""
    VOID = {"img", "input", "br", "meta", "link", "source", "hr", "wbr", "area", "base", "col", "embed", "track"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self._cur = self.root
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: ("" if v is None else v) for k, v in attrs}, self._cur)
        self._cur.children.append(node)
        if tag not in self.VOID:
            self._cur = node

    def handle_startendtag(self, tag, attrs):
        self._cur.children.append(Node(tag, {k: ("" if v is None else v) for k, v in attrs}, self._cur))

    def handle_endtag(self, tag):
        n = self._cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self._cur = n.parent

    def handle_data(self, data):
        self._cur.children.append(data)


# ----------------------------------------------------------------------------- server

def http_get(base, path, timeout=60):
    try:
        with urllib.request.urlopen(base + path, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
    except OSError as e:
        raise CheckFailed(f"GET {path}: cannot reach the server: {e}")


def start_server(args, work, model_args=None, tag="main"):
    """Starts biggan-server with the models of --models-dir, or with `model_args` when given."""
    server = os.path.abspath(args.server)
    if not os.access(server, os.X_OK):
        raise CheckFailed(f"server binary not found or not executable: {server} (build it, or pass --server)")
    if model_args is not None:
        pass
    elif args.models_dir:
        if os.path.isfile(args.models_dir):
            model_args = ["--model", os.path.abspath(args.models_dir)]
        elif os.path.isdir(args.models_dir):
            model_args = ["--models-dir", os.path.abspath(args.models_dir)]
        else:
            raise CheckFailed(f"--models-dir {args.models_dir} does not exist")
    else:
        biggan = os.path.join(os.path.dirname(server), "biggan")
        if not os.access(biggan, os.X_OK):
            raise CheckFailed(f"no --models-dir given and no `biggan` binary next to the server ({biggan}) "
                              "to create a random model")
        models = os.path.join(work, "models")
        os.makedirs(models)
        out = os.path.join(models, "random-32.safetensors")
        cmd = [biggan, "init", "--preset", "biggan-32", "--ch", "16", "--classes", "10", "--out", out]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise CheckFailed(f"`{' '.join(cmd)}` failed ({r.returncode}): {r.stderr.strip() or r.stdout.strip()}")
        ok(f"created a random-weight model: {out}")
        model_args = ["--models-dir", models]
    public = os.path.abspath(args.public_dir)
    if not os.path.isfile(os.path.join(public, "index.html")):
        raise CheckFailed(f"no index.html in --public-dir {public}")
    stderr_path = os.path.join(work, f"server-{tag}.stderr")
    cmd = [server, *model_args, "--port", "0", "--db", os.path.join(work, f"requests-{tag}.sqlite"), "--public-dir", public]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(stderr_path, "wb"), stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + args.start_timeout
    buf = b""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CheckFailed(f"the server exited with status {proc.returncode} before listening:\n"
                              + tail(stderr_path))
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            buf += chunk
            m = re.search(rb"listening on http://([^/\s]+):(\d+)/", buf)
            if m:
                host = m.group(1).decode()
                if host in ("0.0.0.0", "::", "[::]"):
                    host = "127.0.0.1"
                return proc, f"http://{host}:{int(m.group(2))}", stderr_path
    proc.kill()
    raise CheckFailed(f"the server printed no 'listening on' line within {args.start_timeout}s:\n" + tail(stderr_path))


def tail(path, n=20):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode(errors="replace").splitlines()
        return "\n".join("    " + l for l in lines[-n:])
    except OSError:
        return "    (no output)"


def stop_server(proc):
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise CheckFailed("the server did not stop within 30 s of SIGTERM")


@contextlib.contextmanager
def serving(proc, server_log, label="server"):
    """Runs the block against a started server. On failure the server is killed and its log
    shown; on success it is stopped with SIGTERM and must exit with status 0."""
    try:
        yield
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log(f"{label} log (tail):\n" + tail(server_log))
        raise
    code = stop_server(proc)
    if code != 0:
        raise CheckFailed(f"the {label} exited with status {code} after SIGTERM:\n" + tail(server_log))


# ----------------------------------------------------------------------------- chromium

def find_chromium(given):
    if given:
        if not (os.access(given, os.X_OK) or shutil.which(given)):
            raise CheckFailed(f"--chromium {given} is not an executable")
        return shutil.which(given) or given
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise CheckFailed("no Chromium found: install the Debian package `chromium` (apt-get install -y chromium) "
                      "or pass --chromium PATH")


def chromium(args, binary, work, extra, url, budget_ms, window=(1200, 1000)):
    profile = tempfile.mkdtemp(prefix="chromium-", dir=work)
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
           "--force-color-profile=srgb", "--force-device-scale-factor=1", "--hide-scrollbars",
           f"--user-data-dir={profile}", f"--window-size={window[0]},{window[1]}", f"--virtual-time-budget={budget_ms}",
           *extra, url]
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=args.browser_timeout)
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"Chromium did not finish within {args.browser_timeout}s: {' '.join(cmd)}")
    return r


def chromium_error(r):
    text = r.stderr.decode(errors="replace")
    noise = ("dbus", "Fontconfig", "unexpected operator", "GPU", "gpu", "TextRunHarfBuzz", "crashpad")
    lines = []
    for l in text.splitlines():
        if not any(n in l for n in noise) and l.split("]", 1)[-1] not in [x.split("]", 1)[-1] for x in lines]:
            lines.append(l)
    out = "\n".join("    " + l for l in lines[-12:]) or "    (no output)"
    if "SkFontMgr" in text or "TextRunHarfBuzz" in text or "Could not find any font" in text:
        out += ("\n    hint: Chromium aborts when no font is installed; "
                "apt-get install -y fonts-dejavu-core (or fonts-liberation)")
    return out


# ----------------------------------------------------------------------------- page helpers

def dump_dom(args, browser, work, url, ready, what):
    """Loads `url` and returns its DOM as a tree, retrying with more virtual time until
    ready(root) holds; fails on an uncaught JavaScript error."""
    budgets = (args.budget_ms, args.budget_ms * 3)
    for attempt, budget in enumerate(budgets):
        r = chromium(args, browser, work, ["--dump-dom", "--enable-logging=stderr", "--v=0"], url, budget)
        console = [m.group(1).strip() for m in re.finditer(r"CONSOLE[^\]]*\]\s*(.*)", r.stderr.decode(errors="replace"))]
        dom = r.stdout.decode(errors="replace")
        if r.returncode != 0 or "<html" not in dom:
            raise CheckFailed(f"chromium --dump-dom failed ({r.returncode}):\n{chromium_error(r)}")
        with open(os.path.join(work, f"dom-{what}.html"), "w") as f:
            f.write(dom)
        uncaught = [c for c in console if "Uncaught" in c]
        if uncaught:
            raise CheckFailed(f"JavaScript error in the page ({what}): " + "; ".join(uncaught))
        root = DomTree(dom).root
        if ready(root):
            return root, console
        if attempt + 1 < len(budgets):
            log(f"  ..  {what}: page still loading after a {budget} ms budget; retrying with more time")
    return root, console


def banner_text(root):
    b = root.by_id("banner")
    return b.text() if b is not None and "hidden" not in b.attrs else ""


def need(root, ident):
    n = root.by_id(ident)
    if n is None:
        raise CheckFailed(f"the DOM has no #{ident} element")
    return n


def query_of(url):
    """The query of a relative or absolute URL as a dict (a repeated key fails the check)."""
    pairs = urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True)
    out = dict(pairs)
    if len(out) != len(pairs):
        raise CheckFailed(f"repeated query parameter in {url}")
    return out


def written_hash(root):
    """The URL hash the page wrote (mirrored in #copy-link data-hash), as a dict; None if none."""
    h = need(root, "copy-link").attrs.get("data-hash")
    return None if h is None else dict(urllib.parse.parse_qsl(h.lstrip("#"), keep_blank_values=True))


def check_untruncated_controls(root, what):
    """The truncation controls in their "none (untruncated)" state."""
    for ident in ("truncation-range", "truncation"):
        if "disabled" not in need(root, ident).attrs:
            raise CheckFailed(f"{what}: #{ident} is enabled although truncation is off")
    kind, help_text = need(root, "truncation-kind").text(), need(root, "truncation-help").text()
    if "untruncated" not in kind or "z ~ N(0, I)" not in help_text:
        raise CheckFailed(f"{what}: the truncation control does not say it is untruncated "
                          f"(label {kind!r}, help {help_text!r})")


def check_conditional_controls(root, model, what):
    """A class-conditional model: the class controls are offered, the truncation control is
    built from the model's capabilities."""
    hidden = [i for i in ("class-picker", "classlerp-fields") if "hidden" in need(root, i).attrs]
    if hidden or "hidden" not in need(root, "class-none").attrs:
        raise CheckFailed(f"{what}: class controls hidden ({', '.join(hidden) or '#class-none shown'}) for a "
                          "class-conditional model")
    rule = model["capabilities"]["truncation"]
    label = f"{rule['symbol']} ∈ {rule['range']}"
    kind = need(root, "truncation-kind").text()
    if kind not in (label, "none (untruncated)"):
        raise CheckFailed(f"{what}: the truncation label is {kind!r}; expected {label!r} from the capabilities")
    info = need(root, "model-info").text()
    if f"{model['classes']} class" not in info or model["architecture"] not in info:
        raise CheckFailed(f"{what}: the model line {info!r} does not give the architecture {model['architecture']!r} "
                          f"and {model['classes']} classes")


def check_truncated_controls(root, what):
    for ident in ("truncation-range", "truncation"):
        if "disabled" in need(root, ident).attrs:
            raise CheckFailed(f"{what}: #{ident} is disabled although the hash asks for a truncation")
    if "untruncated" in need(root, "truncation-kind").text():
        raise CheckFailed(f"{what}: the truncation label says untruncated although the hash asks for a truncation")


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
    os.makedirs(folder)
    path = os.path.join(folder, "dupnames-32.safetensors")
    cmd = [biggan, "init", "--preset", "biggan-32", "--ch", "16", "--classes", "1000", "--out", path]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise CheckFailed(f"`{' '.join(cmd)}` failed ({r.returncode}): {r.stderr.strip() or r.stdout.strip()}")
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
