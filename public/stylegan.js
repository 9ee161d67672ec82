// GAN gallery: the StyleGAN controls (cutoff, noise mode, truncation target, W-space
// interpolation and the style-mixing panel). Loaded before app.js; every function runs after
// app.js has defined `state`, `el`, `query`, `loadStrip` and the other helpers it uses. What a
// model offers comes from `capabilities.style` in /v1/models (null for other families, whose
// requests never carry these parameters).
'use strict';

const sgEl = (id) => document.getElementById(id);

/** The selected model's style capabilities, or null. */
function styleCaps(m = state.model) { return m?.capabilities?.style ?? null; }

/** The StyleGAN parameters of a request: only those that differ from the model's defaults
 *  (the server fills in the same defaults, so URLs stay short and ETags equal). */
function styleParams() {
  const s = styleCaps();
  if (!s) return {};
  const out = {};
  const cutoff = Number(sgEl('style-cutoff').value);
  if (Number.isInteger(cutoff) && cutoff !== s.default_cutoff) out.cutoff = cutoff;
  const noise = sgEl('style-noise').value;
  if (noise && noise !== s.default_noise_mode) out.noise_mode = noise;
  const target = sgEl('style-target').value;
  if (target && target !== s.default_truncation_target) out.truncation_target = target;
  return out;
}

/** Checks the cutoff box: a whole number from 1 to the model's layers (throws InputError). */
function readStyleControls() {
  const s = styleCaps();
  if (!s) return;
  const box = sgEl('style-cutoff');
  const v = Number(box.value);
  if (!Number.isInteger(v) || v < 1 || v > s.layers) {
    throw new InputError(`Cutoff must be a whole number from 1 to ${s.layers} (this model's synthesis layers).`, box);
  }
}

function fillSelect(select, values, labels, value) {
  select.replaceChildren(...values.map((v) => {
    const o = document.createElement('option');
    o.value = v;
    o.textContent = labels[v] ?? v;
    return o;
  }));
  select.value = values.includes(value) ? value : values[0];
}

const NOISE_LABELS = { const: 'Stored', random: 'Random', none: 'None' };
const TARGET_LABELS = { class: 'Class', average: 'Average' };

/** Shows the StyleGAN fields and the mixing panel for a model with style controls, hides them
 *  otherwise; keeps the choices that still fit the new model. */
function configureStyleControls() {
  const s = styleCaps();
  const on = !!s;
  sgEl('style-fields').hidden = !on;
  sgEl('mix-panel').hidden = !on;
  sgEl('latent-space-field').hidden = !on;
  sgEl('mix-go').disabled = !on;
  if (!on) {
    sgEl('latent-space').value = 'z';
    if (typeof resetStrip === 'function' && strips.mix) resetStrip('mix');
    return;
  }
  const cutoff = sgEl('style-cutoff');
  const kept = Number(cutoff.value);
  cutoff.max = String(s.layers);
  cutoff.value = String(Number.isInteger(kept) && kept >= 1 && kept <= s.layers && cutoff.dataset.model === state.model.name
    ? kept : s.default_cutoff || s.layers);
  cutoff.dataset.model = state.model.name;
  fillSelect(sgEl('style-noise'), s.noise_modes, NOISE_LABELS, sgEl('style-noise').value || s.default_noise_mode);
  fillSelect(sgEl('style-target'), s.truncation_targets, TARGET_LABELS, sgEl('style-target').value || s.default_truncation_target);
  sgEl('style-target').disabled = s.truncation_targets.length < 2;
  sgEl('style-help').textContent = `ψ (above) applies to the first cutoff layers of ${s.layers}; it pulls W towards `
    + (s.class_centroids ? 'the class centroid (or the average W)' : 'the average W') + '. Random noise is drawn from each image\'s seed.';
  sgEl('mix-styles-help').textContent = `Layers 0–${s.layers - 1}: ranges and numbers, e.g. 0-3 (coarse) or 0,2,4-5.`;
}

/** Comma-separated seeds for the mixing panel (1 to 16 of them). */
function parseSeedList(input, what) {
  const parts = input.value.split(',').map((p) => p.trim());
  if (parts.length < 1 || parts.length > 16) throw new InputError(`${what}: give 1 to 16 seeds, separated by commas.`, input);
  return parts.map((p) => parseSeed(p, input, what).toString());
}

async function generateMix() {
  clearInvalid();
  let q;
  try {
    const cls = isConditional() ? picker.require('Class') : null;
    const t = readTruncation();
    readStyleControls();
    const rows = parseSeedList(sgEl('mix-rows'), 'Row seeds'), cols = parseSeedList(sgEl('mix-cols'), 'Column seeds');
    if (rows.length * cols.length > 64) throw new InputError('At most 64 mixed cells: rows × columns ≤ 64.', sgEl('mix-rows'));
    const styles = sgEl('mix-styles').value.replace(/\s+/g, '');
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(styles)) throw new InputError('Styles: layer numbers and ranges, e.g. 0-3 or 0,2,4-5.', sgEl('mix-styles'));
    q = { model: state.model.name, rows: rows.join(','), cols: cols.join(','), styles, class: cls, truncation: truncParam(t), ...styleParams() };
  } catch (e) { showBanner(e.message); markInvalid(e); return; }
  state.mix = { rows: q.rows, cols: q.cols, styles: q.styles };
  writeHash();
  await loadStrip('mix', {
    url: 'v1/mix?' + query(q),
    filename: `${fileStem(q.model)}_mix_rows${q.rows}_cols${q.cols}_styles${q.styles}${q.truncation ? `_psi${q.truncation}` : ''}.png`,
    alt: `Style mixing: rows ${q.rows}, columns ${q.cols}, styles ${q.styles}`,
    loading: 'Mixing…',
    done: `rows ${q.rows} × columns ${q.cols} · styles ${q.styles}`,
  });
}

function bindStyleControls() {
  sgEl('mix-form').addEventListener('submit', (e) => { e.preventDefault(); generateMix(); });
}

/** Adds the StyleGAN choices and the mixing grid shown to the link (URLSearchParams `p`). */
function writeStyleHash(p) {
  if (!styleCaps()) return;
  for (const [k, v] of Object.entries(styleParams())) p.set(k, String(v));
  if (state.mix) { p.set('mix_rows', state.mix.rows); p.set('mix_cols', state.mix.cols); p.set('mix_styles', state.mix.styles); }
  if (state.latent?.space === 'w') p.set('lat_space', 'w');
}

/** Applies a link's StyleGAN choices (`h`: URLSearchParams); returns the mixing grid's job, if any. */
function applyStyleHash(h, warnings) {
  const s = styleCaps();
  state.mix = null;
  if (!s) {
    const given = ['cutoff', 'noise_mode', 'truncation_target', 'mix_rows', 'lat_space'].filter((k) => h.has(k));
    if (given.length) warnings.push(`${state.model.name} is not a StyleGAN model: ${given.join(', ')} in the link ignored.`);
    return null;
  }
  const cutoff = Number(h.get('cutoff'));
  sgEl('style-cutoff').value = String(Number.isInteger(cutoff) && cutoff >= 1 && cutoff <= s.layers ? cutoff : s.default_cutoff || s.layers);
  const noise = h.get('noise_mode'), target = h.get('truncation_target');
  sgEl('style-noise').value = s.noise_modes.includes(noise) ? noise : s.default_noise_mode;
  sgEl('style-target').value = s.truncation_targets.includes(target) ? target : s.default_truncation_target;
  sgEl('latent-space').value = h.get('lat_space') === 'w' ? 'w' : 'z';
  if (!h.has('mix_rows')) return null;
  sgEl('mix-rows').value = h.get('mix_rows');
  sgEl('mix-cols').value = h.get('mix_cols') ?? sgEl('mix-cols').value;
  sgEl('mix-styles').value = h.get('mix_styles') ?? sgEl('mix-styles').value;
  return generateMix;
}
