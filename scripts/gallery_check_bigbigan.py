#!/usr/bin/env python3
"""Headless-Chromium check of the gallery's BigBiGAN panel (public/bigbigan.js).

1. Serves a `bigbigan` checkpoint (default: the grey fixture, Tests/Fixtures/bigbigan-32-grey,
   given `dataset: fashion-mnist` when /usr/share/datasets/fashion-mnist exists, so that the
   pixel neighbour index is built) with biggan-server, from a copy of public/ with a driver script
   that selects the model and hands the panel a drawn 90x60 image, as a drop would.
2. Loads the page in headless Chromium, dumps the DOM and checks: the panel is shown, the result
   is `done`, the input and reconstruction canvases are the model's size, the neighbours figure
   holds k tiles when the index is ready (hidden otherwise), the z summary is filled, no
   JavaScript error; a non-bigbigan model hides the panel.
3. Takes a screenshot (--screenshot) to look at.

    python3 scripts/gallery_check_bigbigan.py --server .build/release/biggan-server --screenshot /tmp/bbg.png

Standard library only. Exits 1 with a message on any failure.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from checkpoint.format import patch_config  # noqa: E402

DRIVER = r"""
'use strict';
(async () => {
  const out = {};
  try {
    for (let i = 0; i < 200 && !state.model; i++) await sleep(50);
    await selectModel('bigbigan');
    for (let i = 0; i < 60 && WANT_NN && !encoderState.nnReady.pixel; i++) { await sleep(250); await configureEncoderPanel(); }
    const c = document.createElement('canvas'); c.width = 90; c.height = 60;
    const g = c.getContext('2d'); g.fillStyle = '#000'; g.fillRect(0, 0, 90, 60);
    g.fillStyle = '#ddd'; g.beginPath(); g.ellipse(45, 32, 16, 24, 0, 0, 2 * Math.PI); g.fill();
    const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
    await takeFile(new File([blob], 'drawn.png', { type: 'image/png' }));
    // Wait in virtual time for as long as the budget allows (the budget, not this loop, bounds it:
    // on a loaded machine the server's answer can take longer than a short loop waits).
    for (let i = 0; i < 3000 && bbEl('encode-result').dataset.state === 'loading'; i++) await sleep(100);
    Object.assign(out, {
      panelHidden: bbEl('encode-panel').hidden, state: bbEl('encode-result').dataset.state,
      input: [bbEl('encode-input').width, bbEl('encode-input').height], recon: [bbEl('encode-recon').width, bbEl('encode-recon').height],
      nnHidden: bbEl('encode-nn-figure').hidden, nn: [bbEl('encode-nn').width, bbEl('encode-nn').height],
      code: bbEl('encode-code').textContent, banner: document.getElementById('banner').hidden ? '' : document.getElementById('banner').textContent,
      nnReady: encoderState.nnReady.pixel, k: Number(bbEl('encode-k').value),
    });
    bbEl('encode-panel').scrollIntoView();
    if (OTHER) { await selectModel(OTHER); out.otherHidden = bbEl('encode-panel').hidden; await selectModel('bigbigan'); }
  } catch (e) { out.error = String(e); }
  const pre = document.createElement('pre'); pre.id = 'driver-out'; pre.textContent = JSON.stringify(out); document.body.append(pre);
})();
"""


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def ok(msg):
    print("  ok ", msg)


def chromium(args):
    for name in ([args.chromium] if args.chromium else ["chromium", "chromium-browser", "google-chrome"]):
        if name and shutil.which(name):
            return shutil.which(name)
    fail("no Chromium on PATH (apt-get install chromium fonts-dejavu-core)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", default=os.path.join(REPO, ".build/release/biggan-server"))
    ap.add_argument("--model", default=os.path.join(REPO, "Tests/Fixtures/bigbigan-32-grey.safetensors"))
    ap.add_argument("--chromium")
    ap.add_argument("--screenshot")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    browser = chromium(args)
    work = tempfile.mkdtemp(prefix="gallery-bbg-")
    models, public = os.path.join(work, "models"), os.path.join(work, "public")
    os.makedirs(models)
    shutil.copytree(os.path.join(REPO, "public"), public)
    shutil.copy(args.model, os.path.join(models, "bigbigan.safetensors"))
    other = os.path.join(REPO, "Tests/Fixtures/biggan-32.safetensors")
    shutil.copy(other, os.path.join(models, "plain.safetensors"))
    want_nn = os.path.isdir("/usr/share/datasets/fashion-mnist") and "grey" in os.path.basename(args.model)
    if want_nn:
        patch_config(os.path.join(models, "bigbigan.safetensors"), lambda c: c["generator"].update(dataset="fashion-mnist"))
    with open(os.path.join(public, "driver.js"), "w") as f:
        f.write(DRIVER.replace("WANT_NN", "true" if want_nn else "false").replace("OTHER", "'plain'"))
    index = os.path.join(public, "index.html")
    html = open(index).read().replace('<script src="app.js" defer></script>',
                                      '<script src="app.js" defer></script>\n  <script src="driver.js" defer></script>')
    open(index, "w").write(html)
    server = subprocess.Popen([args.server, "--models-dir", models, "--public-dir", public, "--port", "0",
                               "--db", os.path.join(work, "req.sqlite")], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        m = re.search(r":(\d+)/", line)
        if not m:
            fail(f"no port in the server's first line: {line!r}")
        base = f"http://127.0.0.1:{m.group(1)}/"
        ok(f"server at {base} ({'with' if want_nn else 'without'} a Fashion-MNIST neighbour index)")
        if want_nn:
            for _ in range(120):
                h = json.load(urllib.request.urlopen(base + "healthz"))
                if h["neighbour_indexes"]["bigbigan"]["pixel"]["state"] == "ready":
                    break
                time.sleep(0.5)
        # The virtual-time budget does not wait for the server's real compute: on a loaded machine
        # (CI right after the build) the reconstruction can still be in flight. Retry with more.
        for budget in (20000, 60000, 120000):
            flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--virtual-time-budget={budget}",
                     "--window-size=1280,1400", "--enable-logging=stderr", "--v=0"]
            dom = subprocess.run([browser, *flags, "--dump-dom", base], capture_output=True, text=True, timeout=300)
            found = re.search(r'<pre id="driver-out">(.*?)</pre>', dom.stdout, re.S)
            errors = [l for l in dom.stderr.splitlines() if "Uncaught" in l]
            if errors:
                fail(f"JavaScript error: {errors[0]}")
            if not found:
                if budget == 120000:
                    fail("the driver did not finish (no #driver-out in the DOM)")
                print(f"  ..  the driver had not finished after a {budget} ms budget; retrying with more time")
                continue
            out = json.loads(found.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"'))
            if out.get("state") != "loading":
                break
            print(f"  ..  panel still loading after a {budget} ms budget; retrying with more time")
        if out.get("error") or out.get("banner"):
            fail(f"the panel failed: {out.get('error') or out.get('banner')}")
        if out["panelHidden"] or out["state"] != "done":
            fail(f"panel hidden or not done: {out}")
        if out["input"] != [32, 32] or out["recon"] != [32, 32]:
            fail(f"input/reconstruction canvases {out['input']}, {out['recon']}, expected 32x32")
        ok(f"panel shown; input and reconstruction drawn (32x32); {out['code']}")
        if want_nn:
            k = out["k"]
            if out["nnHidden"] or out["nn"] != [k * 32 + (k - 1) * 2, 32]:
                fail(f"neighbours: hidden {out['nnHidden']}, canvas {out['nn']} for k={k}")
            ok(f"{k} pixel-space neighbours drawn")
        elif not out["nnHidden"]:
            fail("neighbours shown without an index")
        if out.get("otherHidden") is not True:
            fail("the panel stays visible for a model without an encoder")
        ok("a model without an encoder hides the panel")
        if args.screenshot:
            subprocess.run([browser, *flags, f"--screenshot={args.screenshot}", base], capture_output=True, timeout=180)
            ok(f"screenshot {args.screenshot}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        if args.keep:
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("PASS: BigBiGAN panel")


if __name__ == "__main__":
    main()
