// GAN gallery, part 2 of 4: truncation controls, model selection (from each model's
// capabilities in /v1/models) and the URL hash that keeps the view shareable.
'use strict';

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
