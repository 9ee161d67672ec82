"""Shared parts of scripts/gallery_check.py: failures and logging, PNG decoding and matching,
DOM parsing, starting and stopping biggan-server, running headless Chromium, and the page
helpers. Standard library only."""
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


def init_random_model(biggan, folder, name, classes, timeout):
    """`biggan init` of a random 32 px BigGAN (ch 16, `classes` classes) as folder/name (folder
    is created); returns its path."""
    os.makedirs(folder)
    out = os.path.join(folder, name)
    cmd = [biggan, "init", "--preset", "biggan-32", "--ch", "16", "--classes", str(classes), "--out", out]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise CheckFailed(f"`{' '.join(cmd)}` failed ({r.returncode}): {r.stderr.strip() or r.stdout.strip()}")
    return out


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
        out = init_random_model(biggan, models, "random-32.safetensors", classes=10, timeout=120)
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
