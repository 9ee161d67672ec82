// BigGAN gallery: plain JavaScript, no dependencies. Talks to the server's /v1 API with
// relative URLs, keeps the view in the URL hash, and loads every image with fetch() so that a
// failed request can show the server's JSON error message.
'use strict';

const $ = (id) => document.getElementById(id);

const GRID_SIZES = [1, 4, 9, 16, 25, 36];
const DEFAULT_GRID = 4;
const U64_MASK = (1n << 64n) - 1n;
const TRUNC = {
  resample: {
    label: '(threshold)', min: 0.01, max: null, sliderMin: 0.1, sliderMax: 2, def: 1,
    help: 'Latent entries are redrawn until |z| ≤ threshold. Lower gives more typical, less varied images; useful range 0.1–2.',
  },
  'truncnorm-scaled': {
    label: '(scale)', min: 0.01, max: 1, sliderMin: 0.01, sliderMax: 1, def: 0.5,
    help: 'Truncated-normal latents scaled by this value in (0, 1]. Lower gives more typical, less varied images.',
  },
};

const el = {
  modelInfo: $('model-info'), banner: $('banner'),
  form: $('sample-form'), model: $('model'), truncKind: $('truncation-kind'),
  truncRange: $('truncation-range'), trunc: $('truncation'), truncHelp: $('truncation-help'),
  seed: $('seed'), seedRandom: $('seed-random'), classRandom: $('class-random'), gridSize: $('grid-size'),
  generate: $('generate'), copyLink: $('copy-link'), copyStatus: $('copy-status'),
  grid: $('grid'), gridStatus: $('grid-status'), gridDownload: $('grid-download'),
  latentForm: $('latent-form'), latentA: $('latent-a'), latentB: $('latent-b'), latentSteps: $('latent-steps'),
  latentMethod: $('latent-method'), latentGo: $('latent-go'), latentStrip: $('latent-strip'),
  latentStatus: $('latent-status'), latentDownload: $('latent-download'),
  clsForm: $('classlerp-form'), clsSeed: $('classlerp-seed'), clsSteps: $('classlerp-steps'), clsGo: $('classlerp-go'),
  clsStrip: $('classlerp-strip'), clsStatus: $('classlerp-status'), clsDownload: $('classlerp-download'),
  nnDialog: $('nn-dialog'), nnForm: $('nn-form'), nnClose: $('nn-close'), nnSubject: $('nn-subject'),
  nnK: $('nn-k'), nnSpace: $('nn-space'), nnScope: $('nn-scope'), nnGo: $('nn-go'),
  nnStatus: $('nn-status'), nnDownload: $('nn-download'), nnStrip: $('nn-strip'),
};

const state = {
  models: [],            // summaries from /v1/models
  details: new Map(),    // name -> detail from /v1/models/{name}
  model: null,           // the selected model's detail
  grid: null,            // the grid shown: {model, cls, seed, t, n}
  latent: null,          // the latent strip shown (null: none)
  classLerp: null,       // the class strip shown (null: none)
  nn: null,              // the sample whose neighbours are shown
  gridRun: null,         // AbortController of the grid being loaded
  urls: { grid: [], latent: [], classLerp: [], nn: [] },
};

// ---------------------------------------------------------------- small helpers

class InputError extends Error {
  constructor(message, field) { super(message); this.field = field; }
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
  });
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  return q.toString();
}

/** A truncation value as a short decimal string ("0.7", not "0.7000000000000001"). */
function fmtT(t) { return String(Number(t.toFixed(4))); }

function parseSeed(text, field, what = 'Seed') {
  const s = String(text).trim();
  if (!/^\d+$/.test(s)) throw new InputError(`${what} must be a whole number from 0 to 18446744073709551615.`, field);
  const v = BigInt(s);
  if (v > U64_MASK) throw new InputError(`${what} must be at most 18446744073709551615.`, field);
  return v;
}

/** Seed of image i of a grid starting at `seed`: the server adds with 64-bit wrap-around. */
function seedPlus(seed, i) { return (seed + BigInt(i)) & U64_MASK; }

function randomSeed() { return BigInt(Math.floor(Math.random() * 1e9)); }

function parseSteps(input, what) {
  const v = Number(input.value);
  if (!Number.isInteger(v) || v < 2 || v > 32) throw new InputError(`${what} must be a whole number from 2 to 32.`, input);
  return v;
}

function classLabel(i) {
  const name = state.model?.class_names?.[i];
  return name && name !== `class ${i}` ? `${name} (${i})` : `class ${i}`;
}

function fileStem(model) { return String(model).replace(/[^A-Za-z0-9._-]+/g, '_'); }

function displayScale(resolution) {
  // Small images are upscaled by an integer factor to about 128 px; large ones are shown as is.
  return resolution < 128 ? Math.max(1, Math.round(128 / resolution)) : 1;
}

function tileSize(resolution) { return Math.min(resolution * displayScale(resolution), 256); }

function showBanner(message) {
  el.banner.textContent = message;
  el.banner.hidden = !message;
}

function markInvalid(err) {
  if (err instanceof InputError && err.field) {
    err.field.setAttribute('aria-invalid', 'true');
    err.field.focus();
  }
}

function clearInvalid() {
  for (const node of document.querySelectorAll('[aria-invalid="true"]')) node.removeAttribute('aria-invalid');
}

function setBusy(button, busy) {
  button.disabled = busy;
  button.classList.toggle('busy', busy);
  button.setAttribute('aria-busy', String(busy));
}

async function errorFrom(resp) {
  let message = `HTTP ${resp.status}${resp.statusText ? ' ' + resp.statusText : ''}`;
  let code = '';
  try {
    const body = await resp.json();
    if (body && body.error && body.error.message) { message = body.error.message; code = body.error.code || ''; }
  } catch { /* not JSON: keep the status line */ }
  const err = new Error(message);
  err.code = code;
  err.status = resp.status;
  return err;
}

/** fetch() that retries a busy server (503 + Retry-After) and turns error bodies into Errors. */
async function request(url, signal) {
  for (let attempt = 0; ; attempt++) {
    let resp;
    try {
      resp = await fetch(url, { signal });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new Error(`Cannot reach the server (${e.message}).`);
    }
    if (resp.status === 503 && attempt < 3) {
      const wait = Math.min(Math.max(Number(resp.headers.get('Retry-After')) || 1, 1), 5);
      await sleep(wait * 1000, signal);
      continue;
    }
    if (!resp.ok) throw await errorFrom(resp);
    return resp;
  }
}

async function getJSON(url) { return (await request(url)).json(); }

/** Fetches a PNG, shows it in `img` and resolves when it has decoded. */
async function loadPNG(url, img, bucket, signal) {
  const blob = await (await request(url, signal)).blob();
  const objectURL = URL.createObjectURL(blob);
  state.urls[bucket].push(objectURL);
  img.src = objectURL;
  await img.decode().catch(() => {
    if (!img.complete || img.naturalWidth === 0) throw new Error('The server sent an image the browser cannot decode.');
  });
}

function revoke(bucket) {
  for (const u of state.urls[bucket]) URL.revokeObjectURL(u);
  state.urls[bucket] = [];
}

// ---------------------------------------------------------------- class pickers

/** A search box filtering a <select> of class names (by name or number). */
class ClassPicker {
  constructor(filter, select) {
    this.filter = filter;
    this.select = select;
    this.names = [];
    this.last = '';        // the last class chosen, restored when a filter shows it again
    filter.addEventListener('input', () => this.render());
    filter.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown') { e.preventDefault(); this.select.focus(); }
    });
    select.addEventListener('change', () => { this.last = select.value; });
  }

  setNames(names) {
    this.names = names;
    this.last = '';
    this.filter.value = '';
    this.render();
  }

  get value() { return this.select.value === '' ? null : Number(this.select.value); }

  set value(i) {
    if (!(i >= 0 && i < this.names.length)) return;
    if (!this.matches(i, this.filter.value.trim().toLowerCase())) { this.filter.value = ''; this.render(); }
    this.select.value = String(i);
    this.last = this.select.value;
  }

  matches(i, q) {
    if (!q) return true;
    return this.names[i].toLowerCase().includes(q) || String(i).startsWith(q);
  }

  render() {
    const q = this.filter.value.trim().toLowerCase();
    const current = this.select.value || this.last;
    const frag = document.createDocumentFragment();
    let first = null, keep = false;
    this.names.forEach((name, i) => {
      if (!this.matches(i, q)) return;
      const opt = document.createElement('option');
      opt.value = String(i);
      opt.textContent = name === `class ${i}` ? name : `${i} · ${name}`;
      frag.append(opt);
      if (first === null) first = opt.value;
      if (opt.value === current) keep = true;
    });
    if (first === null) {
      const opt = document.createElement('option');
      opt.value = '';
      opt.textContent = 'No matching class';
      opt.disabled = true;
      frag.append(opt);
    }
    this.select.replaceChildren(frag);
    this.select.value = keep ? current : (first ?? '');
    if (this.select.value !== '') this.last = this.select.value;
    this.filter.setAttribute('aria-invalid', String(first === null));
  }

  /** The chosen class index, or an InputError. */
  require(what) {
    const v = this.value;
    if (v === null) throw new InputError(`${what}: no class matches “${this.filter.value}”.`, this.filter);
    return v;
  }
}

const picker = new ClassPicker($('class-filter'), $('class'));
const pickerA = new ClassPicker($('classlerp-a-filter'), $('classlerp-a'));
const pickerB = new ClassPicker($('classlerp-b-filter'), $('classlerp-b'));

/** Resolves a class from the hash: an index or a name (case-insensitive). */
function classFromText(text) {
  if (text === null || text === undefined || text === '') return null;
  const names = state.model.class_names;
  if (/^\d+$/.test(text)) { const i = Number(text); return i < names.length ? i : null; }
  const i = names.findIndex((n) => n.toLowerCase() === text.toLowerCase());
  return i >= 0 ? i : null;
}

// ---------------------------------------------------------------- truncation

function truncConfig() { return TRUNC[state.model?.truncation] ?? TRUNC.resample; }

function configureTruncation() {
  const c = truncConfig();
  el.truncKind.textContent = c.label;
  el.truncHelp.textContent = c.help;
  el.truncRange.min = c.sliderMin;
  el.truncRange.max = c.sliderMax;
  el.trunc.min = c.min;
  if (c.max === null) el.trunc.removeAttribute('max'); else el.trunc.max = c.max;
}

/** The readout shows at least two decimals ("1.00"), more when the value needs them. */
function truncText(t) {
  const short = fmtT(t);
  return Number(t.toFixed(2)) === Number(short) ? t.toFixed(2) : short;
}

function setTruncation(t) {
  el.trunc.value = truncText(t);
  el.truncRange.value = String(t);
  el.truncRange.setAttribute('aria-valuetext', fmtT(t));
}

function readTruncation() {
  const c = truncConfig();
  const t = Number(el.trunc.value);
  if (el.trunc.value.trim() === '' || !validTruncation(t)) {
    const range = c.max === null ? `at least ${c.min}` : `in (0, ${c.max}]`;
    throw new InputError(`Truncation must be ${range} for this model.`, el.trunc);
  }
  return t;
}

function validTruncation(t) {
  const c = truncConfig();
  return Number.isFinite(t) && t >= c.min && (c.max === null || t <= c.max);
}

// ---------------------------------------------------------------- models

async function modelDetail(name) {
  if (!state.details.has(name)) state.details.set(name, await getJSON(`v1/models/${encodeURIComponent(name)}`));
  return state.details.get(name);
}

function describeModel(m) {
  const arch = m.architecture === 'biggan-deep' ? 'BigGAN-deep' : m.architecture === 'biggan' ? 'BigGAN' : m.architecture;
  const params = m.parameters ? ` · ${(m.parameters / 1e6).toFixed(m.parameters < 1e7 ? 2 : 1)} M parameters` : '';
  return `${m.name}: ${arch} ${m.resolution}×${m.resolution}, ${m.classes} classes, z ${m.dim_z}${params}`;
}

/** Makes `name` the current model; keeps the class and truncation when they still fit. */
async function selectModel(name) {
  const wasClass = picker.value;
  const wasT = Number(el.trunc.value);
  el.model.value = name;
  el.modelInfo.textContent = `Loading ${name}…`;
  for (const b of [el.generate, el.latentGo, el.clsGo]) b.disabled = true;
  const m = await modelDetail(name);
  state.model = m;
  el.modelInfo.replaceChildren(describeModel(m));
  if (m.provenance) {
    const p = document.createElement('span');
    p.className = 'provenance';
    p.textContent = m.provenance;
    el.modelInfo.append(p);
  }
  el.modelInfo.title = m.provenance || '';
  const names = m.class_names && m.class_names.length === m.classes
    ? m.class_names : Array.from({ length: m.classes }, (_, i) => `class ${i}`);
  m.class_names = names;
  for (const p of [picker, pickerA, pickerB]) p.setNames(names);
  const cls = wasClass !== null && wasClass < names.length ? wasClass : 0;
  picker.value = cls;
  pickerA.value = cls;
  pickerB.value = (cls + 1) % names.length;
  configureTruncation();
  setTruncation(validTruncation(wasT) ? wasT : truncConfig().def);
  document.documentElement.style.setProperty('--tile', `${tileSize(m.resolution)}px`);
  document.documentElement.classList.toggle('upscaled', displayScale(m.resolution) > 1);
  for (const b of [el.generate, el.latentGo, el.clsGo]) b.disabled = false;
}

// ---------------------------------------------------------------- hash (shareable state)

function writeHash() {
  const p = new URLSearchParams();
  const g = state.grid;
  if (!g) return;
  p.set('model', g.model);
  p.set('class', String(g.cls));
  p.set('seed', String(g.seed));
  p.set('truncation', fmtT(g.t));
  p.set('n', String(g.n));
  if (state.latent) {
    const l = state.latent;
    p.set('lat_a', String(l.a)); p.set('lat_b', String(l.b));
    p.set('lat_steps', String(l.steps)); p.set('lat_method', l.method);
  }
  if (state.classLerp) {
    const c = state.classLerp;
    p.set('cls_a', String(c.a)); p.set('cls_b', String(c.b));
    p.set('cls_seed', String(c.seed)); p.set('cls_steps', String(c.steps));
  }
  if (state.nn) {
    p.set('nn_seed', String(state.nn.seed));
    p.set('nn_k', String(state.nn.k)); p.set('nn_space', state.nn.space); p.set('nn_scope', state.nn.scope);
  }
  const hash = '#' + p.toString();
  if (location.hash !== hash) history.replaceState(null, '', hash);
}

function validSeedText(text) {
  try { return text !== null && parseSeed(text) !== null; } catch { return false; }
}

/** Applies a hash (or defaults) to every control and renders what it describes. */
async function applyHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  const warnings = [];
  const wanted = h.get('model');
  let summary = state.models.find((m) => m.name === wanted);
  if (wanted && !summary) warnings.push(`Model “${wanted}” is not loaded on this server.`);
  summary ??= state.models.find((m) => m.default) ?? state.models[0];
  await selectModel(summary.name);

  const cls = classFromText(h.get('class'));
  if (h.has('class') && cls === null) warnings.push(`Class “${h.get('class')}” does not exist in ${summary.name}.`);
  if (cls !== null) { picker.value = cls; pickerA.value = cls; pickerB.value = (cls + 1) % state.model.classes; }

  if (h.has('truncation')) {
    const t = Number(h.get('truncation'));
    if (validTruncation(t)) setTruncation(t);
    else warnings.push(`Truncation ${h.get('truncation')} is not valid for ${summary.name}.`);
  }
  el.seed.value = validSeedText(h.get('seed')) ? h.get('seed') : String(randomSeed());
  const n = Number(h.get('n'));
  el.gridSize.value = String(GRID_SIZES.includes(n) ? n : DEFAULT_GRID);

  const seed = BigInt(el.seed.value);
  el.latentA.value = validSeedText(h.get('lat_a')) ? h.get('lat_a') : String(seed);
  el.latentB.value = validSeedText(h.get('lat_b')) ? h.get('lat_b') : String(seedPlus(seed, 1));
  el.latentSteps.value = h.get('lat_steps') || '8';
  el.latentMethod.value = h.get('lat_method') === 'spherical' ? 'spherical' : 'linear';
  const ca = classFromText(h.get('cls_a')), cb = classFromText(h.get('cls_b'));
  if (ca !== null) pickerA.value = ca;
  if (cb !== null) pickerB.value = cb;
  el.clsSeed.value = validSeedText(h.get('cls_seed')) ? h.get('cls_seed') : String(seed);
  el.clsSteps.value = h.get('cls_steps') || '8';

  showBanner(warnings.join(' '));
  const jobs = [generateGrid({ keepBanner: true })];
  if (h.has('lat_a')) jobs.push(generateLatent());
  if (h.has('cls_a')) jobs.push(generateClassLerp());
  if (validSeedText(h.get('nn_seed'))) {
    el.nnK.value = h.get('nn_k') || '8';
    el.nnSpace.value = h.get('nn_space') === 'feature' ? 'feature' : 'pixel';
    el.nnScope.value = h.get('nn_scope') === 'all' ? 'all' : 'class';
    openNeighbours(BigInt(h.get('nn_seed')));
  } else if (el.nnDialog.open) {
    el.nnDialog.close();
  }
  await Promise.all(jobs);
}

// ---------------------------------------------------------------- the grid

function readSampleControls() {
  const cls = picker.require('Class');
  const t = readTruncation();
  const seed = parseSeed(el.seed.value, el.seed);
  const n = Number(el.gridSize.value);
  return { model: state.model.name, cls, t, seed, n };
}

function sampleURL(g, seed, n) {
  return 'v1/sample?' + query({ model: g.model, class: g.cls, seed: String(seed), truncation: fmtT(g.t), n });
}

function makeTile(g, i) {
  const seed = seedPlus(g.seed, i);
  const url = sampleURL(g, seed, 1);
  const fig = document.createElement('figure');
  fig.className = 'tile loading';
  fig.dataset.seed = String(seed);
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'tile-btn';
  button.setAttribute('aria-label', `${classLabel(g.cls)}, seed ${seed}: show nearest neighbours`);
  button.title = `Seed ${seed}: show nearest neighbours`;
  const img = document.createElement('img');
  img.alt = `${classLabel(g.cls)}, seed ${seed}`;
  img.width = img.height = state.model.resolution;
  img.dataset.seed = String(seed);
  button.append(img);
  button.addEventListener('click', () => openNeighbours(seed));
  const cap = document.createElement('figcaption');
  const label = document.createElement('span');
  label.className = 'tile-seed';
  label.textContent = `seed ${seed}`;
  label.title = `seed ${seed}`;
  const dl = document.createElement('a');
  dl.className = 'tile-dl';
  dl.href = url;
  dl.download = `${fileStem(g.model)}_class${g.cls}_seed${seed}_t${fmtT(g.t)}.png`;
  dl.textContent = '⤓';
  dl.title = 'Download PNG';
  dl.setAttribute('aria-label', `Download seed ${seed} as PNG`);
  cap.append(label, dl);
  fig.append(button, cap);
  return { fig, img, url, button };
}

async function generateGrid({ keepBanner = false } = {}) {
  clearInvalid();
  let g;
  try { g = readSampleControls(); } catch (e) { showBanner(e.message); markInvalid(e); return; }
  if (!keepBanner) showBanner('');
  state.gridRun?.abort();
  const run = new AbortController();
  state.gridRun = run;
  state.grid = g;
  writeHash();
  revoke('grid');

  const cols = Math.round(Math.sqrt(g.n));
  const grid = el.grid;
  grid.style.setProperty('--cols', String(cols));
  grid.dataset.loaded = '0';
  grid.dataset.failed = '0';
  grid.dataset.total = String(g.n);
  // For tests: the tile size in CSS pixels, and the whole upscaling factor when there is one.
  const res = state.model.resolution, tile = tileSize(res);
  grid.dataset.resolution = String(res);
  grid.dataset.tile = String(tile);
  grid.dataset.scale = tile % res === 0 ? String(tile / res) : '';
  grid.dataset.state = 'loading';
  grid.setAttribute('aria-busy', 'true');
  el.gridDownload.href = sampleURL(g, g.seed, g.n);
  el.gridDownload.download = `${fileStem(g.model)}_class${g.cls}_seed${g.seed}_n${g.n}_t${fmtT(g.t)}.png`;
  el.gridDownload.hidden = false;
  el.gridDownload.textContent = g.n > 1 ? `Download grid (${g.n})` : 'Download';
  setBusy(el.generate, true);

  const tiles = Array.from({ length: g.n }, (_, i) => makeTile(g, i));
  grid.replaceChildren(...tiles.map((t) => t.fig));
  let loaded = 0;
  const errors = [];
  const progress = () => {
    el.gridStatus.textContent = loaded + errors.length < g.n
      ? `Generating ${loaded} / ${g.n}…` : `${classLabel(g.cls)} · truncation ${fmtT(g.t)}`;
  };
  progress();

  await Promise.all(tiles.map(async (tile) => {
    try {
      await loadPNG(tile.url, tile.img, 'grid', run.signal);
      if (run.signal.aborted) return;
      tile.fig.classList.remove('loading');
      loaded++;
      grid.dataset.loaded = String(loaded);
    } catch (e) {
      if (run.signal.aborted) return;
      tile.fig.classList.remove('loading');
      tile.fig.classList.add('failed');
      const msg = document.createElement('span');
      msg.className = 'tile-error';
      msg.textContent = e.message;
      if (e.code) msg.title = `Error code: ${e.code}`;
      tile.button.replaceChildren(msg);
      tile.button.disabled = true;
      tile.fig.querySelector('.tile-dl')?.remove();
      errors.push(e);
      grid.dataset.failed = String(errors.length);
    }
    progress();
  }));

  if (state.gridRun !== run) return;
  state.gridRun = null;
  setBusy(el.generate, false);
  grid.removeAttribute('aria-busy');
  grid.dataset.state = errors.length ? 'error' : 'done';
  if (errors.length) {
    const unique = [...new Set(errors.map((e) => e.message))];
    showBanner(`${errors.length} of ${g.n} images failed: ${unique.join('; ')}`);
    el.gridStatus.textContent = `${errors.length} of ${g.n} failed`;
  }
}

// ---------------------------------------------------------------- strips (interpolations, neighbours)

const strips = {
  latent: { box: el.latentStrip, status: el.latentStatus, download: el.latentDownload, button: el.latentGo, run: null },
  classLerp: { box: el.clsStrip, status: el.clsStatus, download: el.clsDownload, button: el.clsGo, run: null },
  nn: { box: el.nnStrip, status: el.nnStatus, download: el.nnDownload, button: el.nnGo, run: null },
};

/** Loads one PNG strip into a strip box, with loading and error states. */
async function loadStrip(key, { url, filename, alt, loading, done, failPrefix }) {
  const s = strips[key];
  s.run?.abort();
  const run = new AbortController();
  s.run = run;
  revoke(key);
  setBusy(s.button, true);
  s.box.dataset.state = 'loading';
  s.box.setAttribute('aria-busy', 'true');
  s.download.hidden = true;
  s.status.textContent = loading;
  const ph = document.createElement('div');
  ph.className = 'strip-placeholder';
  ph.textContent = loading;
  s.box.replaceChildren(ph);
  const img = document.createElement('img');
  img.alt = alt;
  try {
    await loadPNG(url, img, key, run.signal);
    if (s.run !== run) return;
    const scale = displayScale(state.model.resolution);
    img.style.width = `${img.naturalWidth * scale}px`;
    img.style.minWidth = `${img.naturalWidth}px`;
    s.box.replaceChildren(img);
    s.box.dataset.state = 'done';
    s.status.textContent = done;
    s.download.href = url;
    s.download.download = filename;
    s.download.hidden = false;
  } catch (e) {
    if (s.run !== run) return;
    const p = document.createElement('p');
    p.className = 'error';
    p.setAttribute('role', 'alert');
    p.textContent = (failPrefix ? failPrefix(e) : '') + e.message;
    if (e.code) p.title = `Error code: ${e.code}`;
    s.box.replaceChildren(p);
    s.box.dataset.state = 'error';
    s.box.dataset.error = e.code || 'error';
    s.status.textContent = '';
  } finally {
    if (s.run === run) {
      s.run = null;
      setBusy(s.button, false);
      s.box.removeAttribute('aria-busy');
    }
  }
}

async function generateLatent() {
  clearInvalid();
  let l;
  try {
    const cls = picker.require('Class');
    const t = readTruncation();
    const a = parseSeed(el.latentA.value, el.latentA, 'Seed A');
    const b = parseSeed(el.latentB.value, el.latentB, 'Seed B');
    const steps = parseSteps(el.latentSteps, 'Steps');
    l = { model: state.model.name, cls, t, a, b, steps, method: el.latentMethod.value };
  } catch (e) { showBanner(e.message); markInvalid(e); return; }
  state.latent = l;
  writeHash();
  const q = { model: l.model, kind: 'latent', class: l.cls, seed_a: String(l.a), seed_b: String(l.b),
    steps: l.steps, truncation: fmtT(l.t) };
  if (l.method === 'spherical') q.method = 'spherical';
  await loadStrip('latent', {
    url: 'v1/interpolate?' + query(q),
    filename: `${fileStem(l.model)}_latent_class${l.cls}_${l.a}-${l.b}_${l.method}_${l.steps}steps_t${fmtT(l.t)}.png`,
    alt: `${l.method} interpolation from seed ${l.a} to seed ${l.b}, ${classLabel(l.cls)}, ${l.steps} steps`,
    loading: `Rendering ${l.steps} frames…`,
    done: `${classLabel(l.cls)} · seed ${l.a} → ${l.b} · ${l.method}`,
  });
}

async function generateClassLerp() {
  clearInvalid();
  let c;
  try {
    const a = pickerA.require('Class A');
    const b = pickerB.require('Class B');
    const t = readTruncation();
    const seed = parseSeed(el.clsSeed.value, el.clsSeed);
    const steps = parseSteps(el.clsSteps, 'Steps');
    c = { model: state.model.name, a, b, seed, steps, t };
  } catch (e) { showBanner(e.message); markInvalid(e); return; }
  state.classLerp = c;
  writeHash();
  await loadStrip('classLerp', {
    url: 'v1/interpolate?' + query({ model: c.model, kind: 'class', class_a: c.a, class_b: c.b, seed: String(c.seed),
      steps: c.steps, truncation: fmtT(c.t) }),
    filename: `${fileStem(c.model)}_classes${c.a}-${c.b}_seed${c.seed}_${c.steps}steps_t${fmtT(c.t)}.png`,
    alt: `Interpolation from ${classLabel(c.a)} to ${classLabel(c.b)}, seed ${c.seed}, ${c.steps} steps`,
    loading: `Rendering ${c.steps} frames…`,
    done: `${classLabel(c.a)} → ${classLabel(c.b)} · seed ${c.seed}`,
  });
}

// ---------------------------------------------------------------- neighbours panel

/** Opens the panel for one grid sample: its class, seed and truncation are those of the grid. */
function openNeighbours(seed) {
  const g = state.grid;
  if (!g) return;
  state.nn = { model: g.model, cls: g.cls, t: g.t, seed, k: 8, space: 'pixel', scope: 'class' };
  el.nnSubject.textContent = `${g.model} · ${classLabel(g.cls)} · seed ${seed} · truncation ${fmtT(g.t)}`;
  if (!el.nnDialog.open) el.nnDialog.showModal();
  searchNeighbours();
}

async function searchNeighbours() {
  const n = state.nn;
  if (!n) return;
  clearInvalid();
  const k = Number(el.nnK.value);
  if (!Number.isInteger(k) || k < 1 || k > 32) {
    el.nnK.setAttribute('aria-invalid', 'true');
    el.nnStatus.textContent = 'Neighbours must be a whole number from 1 to 32.';
    return;
  }
  Object.assign(n, { k, space: el.nnSpace.value, scope: el.nnScope.value });
  writeHash();
  await loadStrip('nn', {
    url: 'v1/neighbours?' + query({ model: n.model, class: n.cls, seed: String(n.seed), truncation: fmtT(n.t),
      k: n.k, space: n.space, scope: n.scope }),
    filename: `${fileStem(n.model)}_neighbours_class${n.cls}_seed${n.seed}_k${n.k}_${n.space}_${n.scope}.png`,
    alt: `Seed ${n.seed} followed by its ${n.k} nearest neighbours in ${n.space} space`,
    loading: 'Searching…',
    failPrefix: (e) => (e.code === 'not_found' && e.status === 404
      ? 'This server does not offer neighbour search: '
      : ''),
    done: `${n.k} nearest in ${n.space} space, ${n.scope === 'all' ? 'all classes' : 'same class'}`,
  });
}

function closeNeighbours() {
  strips.nn.run?.abort();
  state.nn = null;
  writeHash();
}

// ---------------------------------------------------------------- wiring

function bind() {
  el.form.addEventListener('submit', (e) => { e.preventDefault(); generateGrid(); });
  el.latentForm.addEventListener('submit', (e) => { e.preventDefault(); generateLatent(); });
  el.clsForm.addEventListener('submit', (e) => { e.preventDefault(); generateClassLerp(); });
  el.nnForm.addEventListener('submit', (e) => { e.preventDefault(); searchNeighbours(); });
  el.nnClose.addEventListener('click', () => el.nnDialog.close());
  el.nnDialog.addEventListener('close', closeNeighbours);
  el.nnDialog.addEventListener('click', (e) => { if (e.target === el.nnDialog) el.nnDialog.close(); });

  el.model.addEventListener('change', async () => {
    const name = el.model.value;
    try {
      await selectModel(name);
    } catch (e) {
      showBanner(`Cannot load model ${name}: ${e.message}`);
      if (state.model) {   // stay on the model that works
        el.model.value = state.model.name;
        el.modelInfo.replaceChildren(describeModel(state.model));
      }
      el.latentGo.disabled = !!strips.latent.run;
      el.clsGo.disabled = !!strips.classLerp.run;
      el.generate.disabled = !!state.gridRun || !state.model;
      return;
    }
    await generateGrid();
  });
  el.truncRange.addEventListener('input', () => setTruncation(Number(el.truncRange.value)));
  el.trunc.addEventListener('input', () => {
    const t = Number(el.trunc.value);
    if (el.trunc.value.trim() !== '' && Number.isFinite(t)) {
      el.truncRange.value = String(t);
      el.truncRange.setAttribute('aria-valuetext', fmtT(t));
    }
  });
  el.seedRandom.addEventListener('click', () => { el.seed.value = String(randomSeed()); generateGrid(); });
  el.classRandom.addEventListener('click', () => {
    picker.filter.value = '';
    picker.render();
    picker.value = Math.floor(Math.random() * state.model.classes);
    generateGrid();
  });
  el.gridSize.addEventListener('change', () => generateGrid());
  el.copyLink.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      el.copyStatus.textContent = 'Link copied.';
    } catch {
      el.copyStatus.textContent = 'Copy failed: the address bar holds the link.';
    }
    setTimeout(() => { el.copyStatus.textContent = ''; }, 3000);
  });
  window.addEventListener('hashchange', () => {
    applyHash().catch((e) => showBanner(e.message));
  });
}

async function init() {
  bind();
  try {
    state.models = (await getJSON('v1/models')).models || [];
  } catch (e) {
    el.modelInfo.textContent = 'No models';
    showBanner(`Cannot load the model list: ${e.message}`);
    return;
  }
  if (state.models.length === 0) {
    el.modelInfo.textContent = 'No models';
    showBanner('The server has no models loaded.');
    return;
  }
  el.model.replaceChildren(...state.models.map((m) => {
    const opt = document.createElement('option');
    opt.value = m.name;
    opt.textContent = `${m.name} · ${m.resolution}px`;
    return opt;
  }));
  el.model.disabled = false;
  try {
    await applyHash();
  } catch (e) {
    showBanner(e.message);
  }
}

init();
