// GAN gallery, part 3 of 4: the panels: sample grid, strips (interpolations, neighbours),
// the neighbours panel and the class sheet.
'use strict';

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
