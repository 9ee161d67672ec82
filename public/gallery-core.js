// GAN gallery, part 1 of 4 (index.html loads gallery-core.js, gallery-state.js,
// gallery-panels.js, then app.js, as classic scripts sharing one global scope): constants, the
// page's elements and state, small helpers, fetching, and the class pickers.
'use strict';
const $ = (id) => document.getElementById(id);

const GRID_SIZES = [1, 4, 9, 16, 25, 36];
const DEFAULT_GRID = 4;
const U64_MASK = (1n << 64n) - 1n;
// Truncation is off by default: the API then samples z ~ N(0, I) (the parameter is left out).
// The accepted values, symbol and description come from the model's capabilities.truncation;
// these optional hints only give the rules known here a friendlier slider range and starting
// value. Any other rule works from its capabilities alone (see truncConfig).
const TRUNC_HINTS = {
  resample: { sliderMin: 0.1, sliderMax: 2, def: 1 },
  'truncnorm-scaled': { def: 0.5 },
};
const TRUNC_STEP = 0.01;
// Class sheet: every class when there are at most SHEET_ALL, else SHEET_SAMPLE random ones.
const SHEET_ALL = 20;
const SHEET_SAMPLE = 10;

const el = {
  modelInfo: $('model-info'), banner: $('banner'),
  form: $('sample-form'), model: $('model'), truncKind: $('truncation-kind'), truncate: $('truncate'),
  truncRange: $('truncation-range'), trunc: $('truncation'), truncHelp: $('truncation-help'),
  seed: $('seed'), seedRandom: $('seed-random'), classRandom: $('class-random'), gridSize: $('grid-size'),
  classPicker: $('class-picker'), classNone: $('class-none'),
  generate: $('generate'), copyLink: $('copy-link'), copyStatus: $('copy-status'),
  grid: $('grid'), gridStatus: $('grid-status'), gridDownload: $('grid-download'),
  latentForm: $('latent-form'), latentA: $('latent-a'), latentB: $('latent-b'), latentSteps: $('latent-steps'),
  latentMethod: $('latent-method'), latentGo: $('latent-go'), latentStrip: $('latent-strip'), latentHelp: $('latent-help'),
  latentStatus: $('latent-status'), latentDownload: $('latent-download'),
  clsForm: $('classlerp-form'), clsSeed: $('classlerp-seed'), clsSteps: $('classlerp-steps'), clsGo: $('classlerp-go'),
  clsStrip: $('classlerp-strip'), clsStatus: $('classlerp-status'), clsDownload: $('classlerp-download'),
  clsHelp: $('classlerp-help'), clsFields: $('classlerp-fields'),
  nnDialog: $('nn-dialog'), nnForm: $('nn-form'), nnClose: $('nn-close'), nnSubject: $('nn-subject'),
  nnK: $('nn-k'), nnSpace: $('nn-space'), nnScope: $('nn-scope'), nnScopeHelp: $('nn-scope-help'), nnGo: $('nn-go'),
  nnStatus: $('nn-status'), nnDownload: $('nn-download'), nnStrip: $('nn-strip'),
  sheetPanel: $('sheet-panel'), sheet: $('sheet'), sheetStatus: $('sheet-status'), sheetHelp: $('sheet-help'),
  sheetHint: $('sheet-hint'),
  sheetShuffle: $('sheet-shuffle'),
};

const state = {
  models: [],            // summaries from /v1/models
  details: new Map(),    // name -> detail from /v1/models/{name}
  model: null,           // the selected model's detail
  grid: null,            // the grid shown: {model, cls, seed, t, n} (cls null: unconditional)
  latent: null,          // the latent strip shown (null: none)
  classLerp: null,       // the class strip shown (null: none)
  nn: null,              // the sample whose neighbours are shown
  mix: null,             // the style-mixing grid shown: {rows, cols, styles} (stylegan.js)
  sheet: null,           // the class sheet shown: {model, seed, k, classes, run}
  lastClass: null,       // the class picked last, kept while an unconditional model is shown
  gridRun: null,         // AbortController of the grid being loaded
  urls: { grid: [], latent: [], classLerp: [], nn: [], sheet: [], mix: [], encode: [] },
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

/** A truncation value as a short decimal string ("0.7", not "0.7000000000000001"); null is untruncated. */
function fmtT(t) { return t === null ? 'none' : String(Number(t.toFixed(4))); }

/** The API parameter: left out (undefined) when untruncated. */
function truncParam(t) { return t === null ? undefined : fmtT(t); }

/** For file names: "_t0.7", or nothing when untruncated. */
function truncSuffix(t) { return t === null ? '' : `_t${fmtT(t)}`; }

function truncWords(t) { return t === null ? 'untruncated' : `truncation ${fmtT(t)}`; }

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

/** Whether requests to model `m` name a class: its capabilities say (a server that sends no
 *  capabilities serves class-conditional BigGANs only). */
function isConditional(m = state.model) {
  if (!m) return true;
  return m.capabilities ? m.capabilities.conditional === true : m.classes > 0;
}

/** What a class is called in status lines; null (an unconditional model) names nothing. */
function classWords(cls) { return cls === null ? null : classLabel(cls); }

/** "crane (134), seed 7"; "seed 7" without a class. */
function sampleWords(cls, seed) { return [classWords(cls), `seed ${seed}`].filter(Boolean).join(', '); }

/** For file names: "_class134", or nothing without a class. */
function classSuffix(cls) { return cls === null ? '' : `_class${cls}`; }

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
  await showPNG(await fetchPNG(url, signal), img, bucket);
}

async function fetchPNG(url, signal) { return (await request(url, signal)).blob(); }

async function showPNG(blob, img, bucket) {
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
    const pair = /^(.*):(\d+)$/.exec(q);   // "crane:517" finds that class only
    if (pair && Number(pair[2]) === i) return this.names[i].toLowerCase().startsWith(pair[1].trim());
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
      opt.textContent = optionText(name, i);
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

/** "134 · crane": the index keeps classes with the same name apart. */
function optionText(name, i) { return name === `class ${i}` ? name : `${i} · ${name}`; }

/**
 * Resolves a class given as text (the URL hash), with the server's rules:
 * a bare index; else an exact name; else `NAME:INDEX` (the form for duplicate names);
 * else a case-insensitive name. A name matching several classes is not resolved: the answer
 * carries the candidates. Returns null for no text, {index} or {error} (a message for users).
 */
function resolveClass(text) {
  if (text === null || text === undefined) return null;
  const s = String(text).trim();
  if (s === '') return null;
  const names = state.model.class_names;
  const n = names.length;
  const list = (is) => is.map((i) => optionText(names[i], i)).join(', ');
  const ambiguous = (is) => ({
    error: `Class “${s}” is ambiguous in ${state.model.name}: it names ${list(is)}. `
      + `Use ${is.map((i) => `${names[i]}:${i}`).join(' or ')}, or the index.`,
    candidates: is,
  });
  if (/^\d+$/.test(s)) {
    const i = Number(s);
    return i < n ? { index: i } : { error: `Class ${s} does not exist in ${state.model.name} (classes 0–${n - 1}).` };
  }
  const exact = [];
  names.forEach((name, i) => { if (name === s) exact.push(i); });
  if (exact.length === 1) return { index: exact[0] };
  if (exact.length > 1) return ambiguous(exact);
  const pair = /^(.*):(\d+)$/.exec(s);
  if (pair) {
    const name = pair[1].trim(), i = Number(pair[2]);
    if (i >= n) return { error: `Class ${i} (from “${s}”) does not exist in ${state.model.name} (classes 0–${n - 1}).` };
    if (names[i] === name || names[i].toLowerCase() === name.toLowerCase()) return { index: i };
    return { error: `Class ${i} of ${state.model.name} is “${names[i]}”, not “${name}”.` };
  }
  const lower = s.toLowerCase();
  const folded = [];
  names.forEach((name, i) => { if (name.toLowerCase() === lower) folded.push(i); });
  if (folded.length === 1) return { index: folded[0] };
  if (folded.length > 1) return ambiguous(folded);
  const close = [];
  names.forEach((name, i) => { if (close.length < 5 && name.toLowerCase().includes(lower)) close.push(i); });
  return {
    error: `Class “${s}” does not exist in ${state.model.name}.`
      + (close.length ? ` Did you mean ${list(close)}?` : ''),
  };
}

/** Class index from the hash, or null (no text, or a problem: its message goes to `warnings`). */
function classFromText(text, warnings = []) {
  const r = resolveClass(text);
  if (r === null) return null;
  if (r.error) { warnings.push(r.error); return null; }
  return r.index;
}

/** How the hash writes class i so that resolveClass reads it back: its name when that is
 *  unique, `name:index` for a duplicate name, else the index. */
function classToken(i) {
  const names = state.model?.class_names;
  const name = names?.[i];
  if (!name || name === `class ${i}` || name !== name.trim() || /^\d+$/.test(name)) return String(i);
  const same = names.reduce((c, x) => c + (x === name ? 1 : 0), 0);
  const token = same === 1 ? name : `${name}:${i}`;
  const back = resolveClass(token);
  return back && back.index === i ? token : String(i);
}
