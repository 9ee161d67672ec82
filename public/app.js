// GAN gallery: plain JavaScript, no dependencies. Talks to the server's /v1 API with
// relative URLs, keeps the view in the URL hash, and loads every image with fetch() so that a
// failed request can show the server's JSON error message. What a model can do (class-conditional
// or not, its truncation rule and range) comes from its `capabilities` in /v1/models. The
// StyleGAN controls (capabilities.style) live in stylegan.js, the BigBiGAN encode panel
// (capabilities.encoder) in bigbigan.js.
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

// ---------------------------------------------------------------- truncation

/** A bound for messages: "0.01", "1". */
function fmtBound(v) { return String(Number(v.toFixed(6))); }

function roundStep(v) { return Number((Math.round(v / TRUNC_STEP) * TRUNC_STEP).toFixed(6)); }

/**
 * The selected model's truncation rule as the controls use it, built from its
 * capabilities.truncation alone: the symbol (t, ψ, …), the accepted values (min, whether min
 * itself is accepted, max or none), the one-sentence summary. A rule listed in TRUNC_HINTS gets
 * its nicer slider range and starting value; any other takes them from its range.
 */
function truncConfig() {
  const m = state.model;
  const r = m?.capabilities?.truncation ?? {};
  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const rule = typeof r.rule === 'string' && r.rule ? r.rule : (m?.truncation || '');
  const min = num(r.min) ?? 0;
  const minInclusive = r.min_inclusive === true;
  const max = num(r.max);
  const symbol = typeof r.symbol === 'string' && r.symbol.trim() ? r.symbol.trim() : 't';
  const range = typeof r.range === 'string' && r.range.trim() ? r.range.trim()
    : `${minInclusive ? '[' : '('}${fmtBound(min)}, ${max === null ? '∞)' : `${fmtBound(max)}]`}`;
  const valid = (t) => Number.isFinite(t) && (minInclusive ? t >= min : t > min) && (max === null || t <= max);
  // The smallest value the controls offer: min itself, or a step above a min that is excluded.
  const lowest = minInclusive ? min : Math.min(roundStep(min + TRUNC_STEP), max ?? Infinity);
  const clamp = (v) => Math.min(Math.max(v, lowest), max ?? Infinity);
  const hint = TRUNC_HINTS[rule] ?? {};
  const sliderMin = clamp(hint.sliderMin ?? lowest);
  let sliderMax = clamp(hint.sliderMax ?? max ?? Math.max(2, lowest * 2));
  if (sliderMax <= sliderMin) sliderMax = max ?? sliderMin + 1;
  let def = hint.def;
  if (def === undefined || !valid(def)) def = max === null && valid(1) ? 1 : roundStep((sliderMin + sliderMax) / 2);
  if (!valid(def)) def = lowest;
  const summary = typeof r.summary === 'string' ? r.summary.trim() : '';
  const sentence = summary ? (/[.!?]$/.test(summary) ? summary : `${summary}.`) : `Any ${symbol} in ${range}.`;
  return {
    rule, symbol, min, minInclusive, max, range, valid, lowest, sliderMin, sliderMax, def,
    label: `${symbol} ∈ ${range}`,
    help: rule ? `Rule “${rule}”: ${sentence}` : sentence,
    // What values are accepted, in words for messages.
    words: max !== null ? `in ${range}` : `${minInclusive ? 'at least' : 'greater than'} ${fmtBound(min)}`,
  };
}

function configureTruncation() {
  const c = truncConfig();
  el.truncRange.min = c.sliderMin;
  el.truncRange.max = c.sliderMax;
  el.truncRange.step = TRUNC_STEP;
  el.trunc.min = c.lowest;
  if (c.max === null) el.trunc.removeAttribute('max'); else el.trunc.max = c.max;
  el.trunc.step = TRUNC_STEP;
  el.trunc.setAttribute('aria-label', `Truncation value ${c.symbol}`);
  showTruncationMode();
}

/** Enables the value controls only while "truncate" is ticked, and says what is in use. */
function showTruncationMode() {
  const on = el.truncate.checked;
  const c = truncConfig();
  el.truncRange.disabled = !on;
  el.trunc.disabled = !on;
  el.truncKind.textContent = on ? c.label : 'none (untruncated)';
  el.truncHelp.textContent = on ? c.help
    : `Untruncated: z ~ N(0, I). Tick “truncate” to set ${c.symbol} ∈ ${c.range}; lower values trade variety for fidelity.`;
  if (!on) el.trunc.removeAttribute('aria-invalid');
}

/** The number in the truncation box (NaN when empty). */
function truncBoxValue() { return el.trunc.value.trim() === '' ? NaN : Number(el.trunc.value); }

/** null: untruncated; else a value for the model. */
function setTruncationMode(t) {
  el.truncate.checked = t !== null;
  if (t !== null) setTruncation(t);
  else if (!validTruncation(truncBoxValue())) setTruncation(truncConfig().def);
  showTruncationMode();
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

/** The truncation in use: null when untruncated. */
function readTruncation() {
  if (!el.truncate.checked) return null;
  const t = truncBoxValue();
  if (!validTruncation(t)) {
    const c = truncConfig();
    throw new InputError(`Truncation ${c.symbol} must be ${c.words} for this model.`, el.trunc);
  }
  return t;
}

/** Whether the model's rule accepts t (null, untruncated, is always accepted). */
function validTruncation(t) {
  return t === null || truncConfig().valid(t);
}

// ---------------------------------------------------------------- models

async function modelDetail(name) {
  if (!state.details.has(name)) state.details.set(name, await getJSON(`v1/models/${encodeURIComponent(name)}`));
  return state.details.get(name);
}

/** One line about a model, from what the server says (the architecture as the server names it). */
function describeModel(m) {
  const params = m.parameters ? ` · ${(m.parameters / 1e6).toFixed(m.parameters < 1e7 ? 2 : 1)} M parameters` : '';
  const classes = isConditional(m) ? `${m.classes} ${m.classes === 1 ? 'class' : 'classes'}` : 'unconditional';
  return `${m.name}: ${m.architecture} ${m.resolution}×${m.resolution}, ${classes}, z ${m.dim_z}${params}`;
}

/** Makes `name` the current model; keeps the class and truncation when they still fit. */
async function selectModel(name) {
  if (state.model && isConditional()) state.lastClass = picker.value;
  const wasClass = state.lastClass;
  const wasT = truncBoxValue();
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
  const conditional = isConditional(m);
  if (conditional) {
    const names = m.class_names && m.class_names.length === m.classes
      ? m.class_names : Array.from({ length: m.classes }, (_, i) => `class ${i}`);
    m.class_names = names;
    for (const p of [picker, pickerA, pickerB]) p.setNames(names);
    const cls = wasClass !== null && wasClass < names.length ? wasClass : 0;
    picker.value = cls;
    pickerA.value = cls;
    pickerB.value = (cls + 1) % names.length;
  }
  showConditioning();
  configureTruncation();
  configureStyleControls();
  configureEncoderPanel();
  setTruncation(validTruncation(wasT) ? wasT : truncConfig().def);
  document.documentElement.style.setProperty('--tile', `${tileSize(m.resolution)}px`);
  document.documentElement.classList.toggle('upscaled', displayScale(m.resolution) > 1);
  for (const b of [el.generate, el.latentGo]) b.disabled = false;
  el.clsGo.disabled = !conditional;
  if (!sheetCurrent()) {   // the sheet shows another model, or nothing yet
    stopSheet();
    if (el.sheetPanel.open) loadSheet();
  }
}

/**
 * Shows the class controls (class picker, random class, class interpolation, class sheet,
 * same-class neighbour search) for a class-conditional model; for an unconditional one hides
 * them and says why. Requests for an unconditional model never carry a class.
 */
function showConditioning() {
  const m = state.model;
  const conditional = isConditional(m);
  el.classPicker.hidden = !conditional;
  el.classNone.hidden = conditional;
  el.classNone.textContent = conditional ? ''
    : `None: ${m.name} is unconditional, so a sample depends on its seed (and truncation) only.`;
  el.latentHelp.textContent = `From seed A to seed B with the ${conditional ? 'model, class' : 'model'} and truncation above.`;
  el.clsFields.hidden = !conditional;
  el.clsHelp.textContent = conditional ? 'From class A to class B with one seed, using the model and truncation above.'
    : `Not available: class interpolation needs a class-conditional model, and ${m.name} is unconditional.`;
  if (!conditional) {
    resetStrip('classLerp');
    state.classLerp = null;
  }
  el.clsGo.disabled = !conditional || !!strips.classLerp.run;
  // Neighbours: an unconditional model has no "same class" to restrict the search to.
  if (!conditional) el.nnScope.value = 'all';
  else if (el.nnScope.disabled) el.nnScope.value = 'class';
  el.nnScope.disabled = !conditional;
  el.nnScopeHelp.hidden = conditional;
  el.nnScopeHelp.textContent = conditional ? '' : `${m.name} is unconditional: the search covers every training image.`;
  if (conditional) el.nnScope.removeAttribute('aria-describedby');
  else el.nnScope.setAttribute('aria-describedby', 'nn-scope-help');
  el.sheetHint.textContent = conditional ? 'a few samples of each class' : 'not available for an unconditional model';
  const empty = el.grid.querySelector('.grid-empty');
  if (empty) {
    empty.textContent = conditional ? 'Pick a class in the class sheet, or choose one on the left and press Generate.'
      : 'Press Generate for a grid of samples, one seed per tile.';
  }
}

// ---------------------------------------------------------------- hash (shareable state)

function writeHash() {
  const p = new URLSearchParams();
  const g = state.grid;
  if (!g) return;
  p.set('model', g.model);
  if (g.cls !== null) p.set('class', classToken(g.cls));   // an unconditional model has none
  p.set('seed', String(g.seed));
  p.set('truncation', fmtT(g.t));   // "none": untruncated
  p.set('n', String(g.n));
  if (state.latent) {
    const l = state.latent;
    p.set('lat_a', String(l.a)); p.set('lat_b', String(l.b));
    p.set('lat_steps', String(l.steps)); p.set('lat_method', l.method);
  }
  if (state.classLerp) {
    const c = state.classLerp;
    p.set('cls_a', classToken(c.a)); p.set('cls_b', classToken(c.b));
    p.set('cls_seed', String(c.seed)); p.set('cls_steps', String(c.steps));
  }
  if (state.nn) {
    p.set('nn_seed', String(state.nn.seed));
    p.set('nn_k', String(state.nn.k)); p.set('nn_space', state.nn.space); p.set('nn_scope', state.nn.scope);
  }
  writeStyleHash(p);
  const hash = '#' + p.toString();
  if (location.hash !== hash) history.replaceState(null, '', hash);
  el.copyLink.dataset.hash = hash;   // the link as written (read by scripts/gallery_check.py)
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

  // A class that does not resolve to exactly one class is reported, never guessed: nothing that
  // needs it is rendered, and for an ambiguous name the picker lists the candidates.
  // An unconditional model takes no class: one in the link is reported and left out.
  const conditional = isConditional();
  const nWarnings = warnings.length;
  let classOK = true;
  if (conditional) {
    const cls = classFromText(h.get('class'), warnings);
    classOK = warnings.length === nWarnings;
    if (cls !== null) { picker.value = cls; pickerA.value = cls; pickerB.value = (cls + 1) % state.model.classes; }
    if (!classOK && resolveClass(h.get('class'))?.candidates) {
      picker.filter.value = h.get('class').trim();
      picker.render();
    }
  } else if ((h.get('class') ?? '').trim() !== '') {
    warnings.push(`${summary.name} is unconditional: the class “${h.get('class').trim()}” in the link is ignored.`);
  }

  // No truncation, or "none": untruncated (z ~ N(0, I)).
  const tText = (h.get('truncation') ?? 'none').trim();
  if (tText === '' || tText.toLowerCase() === 'none') {
    setTruncationMode(null);
  } else {
    const t = Number(tText);
    if (validTruncation(t)) setTruncationMode(t);
    else {
      setTruncationMode(null);
      warnings.push(`Truncation ${tText} is not valid for ${summary.name}; sampling untruncated.`);
    }
  }
  el.seed.value = validSeedText(h.get('seed')) ? h.get('seed') : String(randomSeed());
  const n = Number(h.get('n'));
  el.gridSize.value = String(GRID_SIZES.includes(n) ? n : DEFAULT_GRID);

  const seed = BigInt(el.seed.value);
  el.latentA.value = validSeedText(h.get('lat_a')) ? h.get('lat_a') : String(seed);
  el.latentB.value = validSeedText(h.get('lat_b')) ? h.get('lat_b') : String(seedPlus(seed, 1));
  el.latentSteps.value = h.get('lat_steps') || '8';
  el.latentMethod.value = h.get('lat_method') === 'spherical' ? 'spherical' : 'linear';
  const nLerpWarnings = warnings.length;
  if (conditional) {
    const ca = classFromText(h.get('cls_a'), warnings), cb = classFromText(h.get('cls_b'), warnings);
    if (ca !== null) pickerA.value = ca;
    if (cb !== null) pickerB.value = cb;
  } else if (h.has('cls_a') || h.has('cls_b')) {
    warnings.push(`Class interpolation needs a class-conditional model; ${summary.name} is unconditional.`);
  }
  const lerpOK = warnings.length === nLerpWarnings;
  el.clsSeed.value = validSeedText(h.get('cls_seed')) ? h.get('cls_seed') : String(seed);
  el.clsSteps.value = h.get('cls_steps') || '8';
  const mixJob = applyStyleHash(h, warnings);

  showBanner(warnings.join(' '));
  const jobs = [];
  if ([...h.keys()].length === 0 && conditional) {
    // A first visit: show what the model does, one row per class, instead of one class's grid.
    if (!el.sheetPanel.open) el.sheetPanel.open = true;   // the toggle event loads the sheet
    else if (!sheetCurrent()) loadSheet();
  } else if (classOK) {   // (a first visit to an unconditional model: a grid of random seeds)
    jobs.push(generateGrid({ keepBanner: true }));
    if (h.has('lat_a')) jobs.push(generateLatent());
  }
  if (h.has('cls_a') && lerpOK) jobs.push(generateClassLerp());
  if (mixJob && classOK) jobs.push(mixJob());
  if (classOK && validSeedText(h.get('nn_seed'))) {
    el.nnK.value = h.get('nn_k') || '8';
    el.nnSpace.value = h.get('nn_space') === 'feature' ? 'feature' : 'pixel';
    el.nnScope.value = h.get('nn_scope') === 'all' || !conditional ? 'all' : 'class';
    openNeighbours(BigInt(h.get('nn_seed')));
  } else if (el.nnDialog.open) {
    el.nnDialog.close();
  }
  await Promise.all(jobs);
}

// ---------------------------------------------------------------- the grid

function readSampleControls() {
  const cls = isConditional() ? picker.require('Class') : null;
  const t = readTruncation();
  readStyleControls();
  const seed = parseSeed(el.seed.value, el.seed);
  const n = Number(el.gridSize.value);
  return { model: state.model.name, cls, t, seed, n, style: styleParams() };
}

function sampleURL(g, seed, n) {
  return 'v1/sample?' + query({ model: g.model, class: g.cls, seed: String(seed), truncation: truncParam(g.t), n, ...g.style });
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
  button.setAttribute('aria-label', `${sampleWords(g.cls, seed)}: show nearest neighbours`);
  button.title = `Seed ${seed}: show nearest neighbours`;
  const img = document.createElement('img');
  img.alt = g.cls === null ? `Sample, seed ${seed}` : sampleWords(g.cls, seed);
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
  dl.download = `${fileStem(g.model)}${classSuffix(g.cls)}_seed${seed}${truncSuffix(g.t)}.png`;
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
  el.gridDownload.download = `${fileStem(g.model)}${classSuffix(g.cls)}_seed${g.seed}_n${g.n}${truncSuffix(g.t)}.png`;
  el.gridDownload.hidden = false;
  el.gridDownload.textContent = g.n > 1 ? `Download grid (${g.n})` : 'Download';
  setBusy(el.generate, true);

  const tiles = Array.from({ length: g.n }, (_, i) => makeTile(g, i));
  grid.replaceChildren(...tiles.map((t) => t.fig));
  let loaded = 0;
  const errors = [];
  const progress = () => {
    el.gridStatus.textContent = loaded + errors.length < g.n
      ? `Generating ${loaded} / ${g.n}…` : `${classWords(g.cls) ?? 'unconditional'} · ${truncWords(g.t)}`;
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
  mix: { box: $('mix-grid'), status: $('mix-status'), download: $('mix-download'), button: $('mix-go'), run: null },
};

/** Empties a strip box (stopping its request): for a strip the model cannot make. */
function resetStrip(key) {
  const s = strips[key];
  const run = s.run;
  s.run = null;
  run?.abort();
  setBusy(s.button, false);
  revoke(key);
  s.box.replaceChildren();
  s.box.dataset.state = 'idle';
  delete s.box.dataset.error;
  s.box.removeAttribute('aria-busy');
  s.status.textContent = '';
  s.download.hidden = true;
}

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
    const cls = isConditional() ? picker.require('Class') : null;
    const t = readTruncation();
    const a = parseSeed(el.latentA.value, el.latentA, 'Seed A');
    const b = parseSeed(el.latentB.value, el.latentB, 'Seed B');
    const steps = parseSteps(el.latentSteps, 'Steps');
    readStyleControls();
    const space = styleCaps() ? $('latent-space').value : 'z';
    if (space === 'w' && el.latentMethod.value === 'spherical') throw new InputError('W-space interpolation is linear: choose Linear.', el.latentMethod);
    l = { model: state.model.name, cls, t, a, b, steps, method: el.latentMethod.value, space, style: styleParams() };
  } catch (e) { showBanner(e.message); markInvalid(e); return; }
  state.latent = l;
  writeHash();
  const q = { model: l.model, kind: 'latent', class: l.cls, seed_a: String(l.a), seed_b: String(l.b),
    steps: l.steps, truncation: truncParam(l.t), ...l.style };
  if (l.method === 'spherical') q.method = 'spherical';
  if (l.space === 'w') q.space = 'w';
  await loadStrip('latent', {
    url: 'v1/interpolate?' + query(q),
    filename: `${fileStem(l.model)}_latent${classSuffix(l.cls)}_${l.a}-${l.b}_${l.method}_${l.steps}steps${truncSuffix(l.t)}.png`,
    alt: [`${l.method} interpolation from seed ${l.a} to seed ${l.b}`, classWords(l.cls), `${l.steps} steps`]
      .filter(Boolean).join(', '),
    loading: `Rendering ${l.steps} frames…`,
    done: [classWords(l.cls), `seed ${l.a} → ${l.b}`, l.method].filter(Boolean).join(' · '),
  });
}

async function generateClassLerp() {
  clearInvalid();
  if (!isConditional()) {
    showBanner(`Class interpolation needs a class-conditional model; ${state.model.name} is unconditional.`);
    return;
  }
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
      steps: c.steps, truncation: truncParam(c.t), ...styleParams() }),
    filename: `${fileStem(c.model)}_classes${c.a}-${c.b}_seed${c.seed}_${c.steps}steps${truncSuffix(c.t)}.png`,
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
  state.nn = { model: g.model, cls: g.cls, t: g.t, seed, k: 8, space: 'pixel', scope: g.cls === null ? 'all' : 'class' };
  el.nnSubject.textContent = [g.model, classWords(g.cls), `seed ${seed}`, truncWords(g.t)].filter(Boolean).join(' · ');
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
  // Without a class there is no "same class": the whole index is searched.
  Object.assign(n, { k, space: el.nnSpace.value, scope: n.cls === null ? 'all' : el.nnScope.value });
  writeHash();
  await loadStrip('nn', {
    url: 'v1/neighbours?' + query({ model: n.model, class: n.cls, seed: String(n.seed), truncation: truncParam(n.t),
      k: n.k, space: n.space, scope: n.scope, ...styleParams() }),
    filename: `${fileStem(n.model)}_neighbours${classSuffix(n.cls)}_seed${n.seed}_k${n.k}_${n.space}_${n.scope}.png`,
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

// ---------------------------------------------------------------- class sheet

/** The server puts this many white pixels between the images of a grid PNG. */
const PNG_GUTTER = 2;

/** Sheet images are smaller than grid tiles: small models are upscaled to about 64 px. */
function sheetScale(resolution) { return resolution < 64 ? Math.max(1, Math.round(64 / resolution)) : 1; }

function sheetPerClass(resolution) { return resolution <= 64 ? 8 : resolution <= 128 ? 5 : 4; }

function sheetCurrent() { return !!state.sheet && state.sheet.model === state.model?.name; }

/** Every class of a small model; a random sample of a large one, in index order. */
function sheetClasses(n) {
  if (n <= SHEET_ALL) return Array.from({ length: n }, (_, i) => i);
  const picked = new Set();
  while (picked.size < SHEET_SAMPLE) picked.add(Math.floor(Math.random() * n));
  return [...picked].sort((a, b) => a - b);
}

/** Resolves once no grid or strip is loading: the sheet never holds up what the user asked for. */
async function othersIdle(signal) {
  while (state.gridRun || Object.values(strips).some((s) => s.run)) await sleep(150, signal);
}

function stopSheet() {
  state.sheet?.run.abort();
  state.sheet = null;
  revoke('sheet');
  el.sheet.replaceChildren();
  el.sheet.dataset.state = 'idle';
  el.sheet.removeAttribute('aria-busy');
  el.sheetStatus.textContent = '';
  el.sheetHelp.textContent = '';
  el.sheetShuffle.hidden = false;
}

/** An unconditional model has no classes to show a row of: the open panel says so. */
function showSheetUnavailable(m) {
  el.sheet.dataset.state = 'unavailable';
  el.sheet.dataset.model = m.name;
  el.sheetShuffle.hidden = true;
  el.sheetHelp.textContent = `The class sheet shows a row of samples for each class; ${m.name} is unconditional `
    + '(it has no classes), so there is no sheet. The grid below shows its samples.';
}

/**
 * Shows one row per class (see sheetClasses), each one `GET /v1/sample` PNG of k images with
 * seeds seed … seed+k−1 side by side. Rows load one at a time, after anything else loading.
 */
async function loadSheet({ reseed = false } = {}) {
  const m = state.model;
  if (!m) return;
  stopSheet();
  if (!isConditional(m)) { showSheetUnavailable(m); return; }
  let t;
  try { t = readTruncation(); } catch { t = null; }
  const run = new AbortController();
  const k = sheetPerClass(m.resolution);
  const sh = { model: m.name, seed: reseed ? randomSeed() : 0n, k, t, classes: sheetClasses(m.classes), run, finished: false };
  state.sheet = sh;
  const res = m.resolution, scale = sheetScale(res);
  const width = k * res + (k - 1) * PNG_GUTTER;
  const box = el.sheet;
  box.dataset.state = 'loading';
  box.dataset.loaded = '0';
  box.dataset.total = String(sh.classes.length);
  box.dataset.scale = String(scale);
  box.dataset.model = m.name;
  box.setAttribute('aria-busy', 'true');
  box.classList.toggle('pixelated', scale > 1);
  const last = seedPlus(sh.seed, k - 1);
  const sampled = sh.classes.length < m.classes;
  el.sheetHelp.textContent = (sampled ? `${sh.classes.length} of ${m.classes} classes, chosen at random` : 'One row per class')
    + `; seeds ${sh.seed}–${last} in every row, ${truncWords(t)}. Select a sample to open its class and seed in the grid.`;
  el.sheetShuffle.textContent = sampled ? 'Other classes' : 'New seeds';
  el.sheetShuffle.title = sampled ? 'Other random classes and seeds' : 'The same classes with other seeds';

  const rows = sh.classes.map((cls) => {
    const url = 'v1/sample?' + query({ model: m.name, class: cls, seed: String(sh.seed), truncation: truncParam(t), n: k, columns: k, ...styleParams() });
    const name = m.class_names[cls];
    const row = document.createElement('button');
    row.type = 'button';
    row.className = 'sheet-row loading';
    Object.assign(row.dataset, { class: String(cls), seed: String(sh.seed), n: String(k), url });
    row.title = `${classLabel(cls)}: open this class in the grid, starting at the selected sample's seed`;
    const label = document.createElement('span');
    label.className = 'sheet-label';
    const index = document.createElement('span');
    index.className = 'sheet-index';
    index.textContent = String(cls);
    const text = document.createElement('span');
    text.className = 'sheet-name';
    text.textContent = name;
    label.append(index, text);
    const frame = document.createElement('span');
    frame.className = 'sheet-img';
    const img = document.createElement('img');
    img.width = width;
    img.height = res;
    img.style.width = `${width * scale}px`;
    img.alt = `${classLabel(cls)}, seeds ${sh.seed}–${last}`;
    frame.append(img);
    row.append(label, frame);
    row.addEventListener('click', (e) => {
      let j = 0;
      const r = img.getBoundingClientRect();
      if (e.detail > 0 && r.width > 0) {   // a pointer click: the image under it (a key press: the first)
        const x = (e.clientX - r.left) * (width / r.width);
        j = Math.min(k - 1, Math.max(0, Math.floor(x / (res + PNG_GUTTER))));
      }
      pickFromSheet(cls, seedPlus(sh.seed, j));
    });
    return { row, img, url };
  });
  box.replaceChildren(...rows.map((r) => r.row));

  // One request at a time; the next row is requested as soon as one arrives, while it decodes.
  const fetchRow = async (r) => { await othersIdle(run.signal); return fetchPNG(r.url, run.signal); };
  let next = fetchRow(rows[0]);
  let loaded = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    el.sheetStatus.textContent = `Generating ${loaded} / ${rows.length} rows…`;
    try {
      const blob = await next;
      next = i + 1 < rows.length ? fetchRow(rows[i + 1]) : null;
      next?.catch(() => {});   // its failure is handled when it is awaited (or not at all once stopped)
      await showPNG(blob, r.img, 'sheet');
    } catch (e) {
      if (run.signal.aborted || state.sheet !== sh) return;
      r.row.classList.remove('loading');
      r.row.classList.add('failed');
      r.row.disabled = true;
      const p = document.createElement('p');
      p.className = 'error';
      p.setAttribute('role', 'alert');
      p.textContent = `The class sheet could not be loaded: ${e.message}`;
      if (e.code) p.title = `Error code: ${e.code}`;
      box.prepend(p);
      for (const other of rows) if (other.row.classList.contains('loading')) other.row.remove();
      box.dataset.state = 'error';
      box.removeAttribute('aria-busy');
      el.sheetStatus.textContent = '';
      sh.finished = true;
      run.abort();   // the next row's request, if any
      return;
    }
    if (state.sheet !== sh) return;
    r.row.classList.remove('loading');
    box.dataset.loaded = String(++loaded);
  }
  sh.finished = true;
  box.dataset.state = 'done';
  box.removeAttribute('aria-busy');
  el.sheetStatus.textContent = `${rows.length} ${rows.length === 1 ? 'class' : 'classes'} × ${k} seeds`;
}

/** A sample chosen in the sheet: its class and seed go to the controls and the grid. */
function pickFromSheet(cls, seed) {
  picker.filter.value = '';
  picker.render();
  picker.value = cls;
  pickerA.value = cls;
  pickerB.value = (cls + 1) % state.model.classes;
  el.seed.value = String(seed);
  generateGrid();
  const reduce = window.matchMedia?.('(prefers-reduced-motion: reduce)').matches;
  el.grid.closest('section').scrollIntoView({ behavior: reduce ? 'auto' : 'smooth', block: 'start' });
}

// ---------------------------------------------------------------- wiring

function bind() {
  bindStyleControls();
  bindEncoderControls();
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
      el.clsGo.disabled = !!strips.classLerp.run || !isConditional();
      el.generate.disabled = !!state.gridRun || !state.model;
      return;
    }
    await generateGrid();
  });
  el.truncate.addEventListener('change', () => {
    if (el.truncate.checked && !validTruncation(truncBoxValue())) setTruncation(truncConfig().def);
    showTruncationMode();
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
    if (!isConditional()) return;   // hidden for unconditional models
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
  el.sheetPanel.addEventListener('toggle', () => {
    if (el.sheetPanel.open && state.model && !sheetCurrent()) loadSheet();
    else if (!el.sheetPanel.open && state.sheet && !state.sheet.finished) stopSheet();   // reopening reloads it
  });
  el.sheetShuffle.addEventListener('click', () => loadSheet({ reseed: true }));
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
