// GAN gallery: the BigBiGAN panel. Drop (or choose) an image; the page sends it as a PNG to
// POST /v1/reconstruct (side=1, and k nearest training images when the server has a ready
// neighbour index for the model) and POST /v1/encode, then shows the preprocessed input, its
// reconstruction G(E(x)), the neighbours and a summary of z. Loaded before app.js; every
// function runs after app.js has defined `state`, `picker`, `el`, `query` and the helpers it
// uses. Shown only for models whose capabilities say `encoder: true` (/v1/models).
'use strict';

const bbEl = (id) => document.getElementById(id);

/** The last image given, as a PNG blob, and the request in flight. */
const encoderState = { png: null, name: '', run: null, nnReady: { pixel: false, feature: false } };

function hasEncoder(m = state.model) { return m?.capabilities?.encoder === true; }

/** Any image the browser can decode, as a PNG blob (PNG files are sent as they are, so the
 *  server sees their own mode and bit depth). */
async function asPNG(file) {
  if (file.type === 'image/png') return file;
  const bitmap = await createImageBitmap(file).catch(() => { throw new Error(`${file.name || 'The file'} is not an image this browser can read.`); });
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  canvas.getContext('2d').drawImage(bitmap, 0, 0);
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('Cannot convert the image to PNG.'))), 'image/png'));
}

/** POST `blob` as image/png; retries a busy server like request() does. */
async function postPNG(url, blob, signal) {
  for (let attempt = 0; ; attempt++) {
    const resp = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'image/png' }, body: blob, signal });
    if (resp.status === 503 && attempt < 3) { await sleep(1000 * Math.min(Number(resp.headers.get('Retry-After')) || 1, 5), signal); continue; }
    if (!resp.ok) throw await errorFrom(resp);
    return resp;
  }
}

/** Shows or hides the panel for the selected model and checks which neighbour indexes are ready. */
async function configureEncoderPanel() {
  const m = state.model, on = hasEncoder(m);
  bbEl('encode-panel').hidden = !on;
  encoderState.run?.abort();
  if (!on) return;
  const e = m.encoder;
  bbEl('encode-help').textContent = 'Drop an image, or choose one: the encoder maps it to z and the generator draws G(z) back (BigBiGAN). '
    + (e ? `The image is centre-cropped and resized to ${e.resolution}×${e.resolution} ${e.channels === 1 ? 'grey' : 'RGB'} (z ${e.dim_z}, ${e.feature_width} features). ` : '')
    + (isConditional(m) ? 'Uses the model and the class above.' : 'Uses the model above.');
  encoderState.nnReady = { pixel: false, feature: false };
  try {
    const health = await getJSON('healthz');
    const idx = health.neighbour_indexes?.[m.name] ?? {};
    encoderState.nnReady = { pixel: idx.pixel?.state === 'ready', feature: idx.feature?.state === 'ready' };
  } catch { /* no health: no neighbours */ }
  showNeighbourAvailability();
  if (encoderState.png) reconstructImage();
}

function showNeighbourAvailability() {
  const space = bbEl('encode-space').value, ready = encoderState.nnReady[space];
  bbEl('encode-k').disabled = !ready;
  bbEl('encode-nn-help').textContent = ready
    ? 'The nearest training images of the input, in the chosen space (0: none).'
    : `No ${space === 'pixel' ? 'pixel' : 'feature'}-space neighbour index is ready for ${state.model.name}: reconstructions only.`;
}

/** Draws tile `i` of a server row (tiles `size` px wide with PNG_GUTTER between them) into `canvas`. */
function drawTiles(bitmap, canvas, first, count, size) {
  const scale = displayScale(size), gap = PNG_GUTTER;
  canvas.width = count * size + (count - 1) * gap;
  canvas.height = size;
  canvas.style.width = `${canvas.width * scale}px`;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(bitmap, first * (size + gap), 0, canvas.width, size, 0, 0, canvas.width, size);
}

async function reconstructImage() {
  const m = state.model;
  if (!encoderState.png || !hasEncoder(m)) return;
  clearInvalid();
  let params;
  try {
    const cls = isConditional(m) ? picker.require('Class') : null;
    const space = bbEl('encode-space').value;
    const kBox = bbEl('encode-k'), k = encoderState.nnReady[space] ? Number(kBox.value) : 0;
    if (!Number.isInteger(k) || k < 0 || k > 32) throw new InputError('Neighbours must be a whole number from 0 to 32.', kBox);
    const sample = bbEl('encode-latent').value === 'sample';
    const seed = sample ? parseSeed(el.seed.value.trim(), el.seed).toString() : undefined;
    params = { model: m.name, class: cls, side: 1, sample: sample ? 1 : undefined, seed, k: k || undefined, space: k ? space : undefined };
  } catch (e) { showBanner(e.message); markInvalid(e); return; }
  encoderState.run?.abort();
  const run = new AbortController();
  encoderState.run = run;
  const status = bbEl('encode-status'), result = bbEl('encode-result');
  status.textContent = `Encoding ${encoderState.name}…`;
  result.dataset.state = 'loading';
  try {
    const [row, code] = await Promise.all([
      postPNG('v1/reconstruct?' + query(params), encoderState.png, run.signal).then((r) => r.blob()),
      postPNG('v1/encode?' + query({ model: m.name, seed: params.seed }), encoderState.png, run.signal).then((r) => r.json()),
    ]);
    if (encoderState.run !== run) return;
    const bitmap = await createImageBitmap(row);
    const size = m.resolution, k = params.k ?? 0;
    drawTiles(bitmap, bbEl('encode-input'), 0, 1, size);
    drawTiles(bitmap, bbEl('encode-recon'), 1, 1, size);
    bbEl('encode-nn-figure').hidden = k === 0;
    if (k) {
      drawTiles(bitmap, bbEl('encode-nn'), 2, k, size);
      bbEl('encode-nn-caption').textContent = `${k} nearest training images of the input (${params.space} space)`;
    }
    bbEl('encode-recon-caption').textContent = `Reconstruction G(${params.sample ? `z_sample, seed ${params.seed}` : 'z_mean'})`;
    result.hidden = false;
    result.dataset.state = 'done';
    const norm = Math.hypot(...code.z_mean), meanSigma = code.sigma.reduce((a, b) => a + b, 0) / code.sigma.length;
    const p = code.preprocessing;
    bbEl('encode-code').textContent = `‖z_mean‖ ${norm.toFixed(3)} · mean σ ${meanSigma.toFixed(3)} · ${code.feature_width} pooled features · `
      + `source ${p.source.width}×${p.source.height} ${p.source.mode ?? ''}, crop ${p.crop.side}² at (${p.crop.x}, ${p.crop.y}), resize ${p.resize}`;
    status.textContent = encoderState.name;
    const dl = bbEl('encode-download');
    revoke('encode');
    const url = URL.createObjectURL(row);
    state.urls.encode.push(url);
    dl.href = url;
    dl.download = `${fileStem(m.name)}_reconstruction_${fileStem(encoderState.name.replace(/\.[^.]*$/, ''))}.png`;
    dl.hidden = false;
  } catch (e) {
    if (encoderState.run !== run) return;
    result.dataset.state = 'error';
    status.textContent = '';
    showBanner(`Encoding ${encoderState.name}: ${e.message}`);
  } finally {
    if (encoderState.run === run) encoderState.run = null;
  }
}

async function takeFile(file) {
  if (!file) return;
  try {
    encoderState.png = await asPNG(file);
    encoderState.name = file.name || 'image';
  } catch (e) { showBanner(e.message); return; }
  reconstructImage();
}

function bindEncoderControls() {
  const drop = bbEl('encode-drop'), input = bbEl('encode-file');
  input.addEventListener('change', () => takeFile(input.files[0]));
  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add('over'); });
  }
  for (const type of ['dragleave', 'drop']) drop.addEventListener(type, () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); takeFile(e.dataTransfer?.files?.[0]); });
  bbEl('encode-form').addEventListener('submit', (e) => { e.preventDefault(); reconstructImage(); });
  bbEl('encode-space').addEventListener('change', () => { showNeighbourAvailability(); reconstructImage(); });
  for (const id of ['encode-k', 'encode-latent']) bbEl(id).addEventListener('change', () => reconstructImage());
}
