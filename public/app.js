// GAN gallery: plain JavaScript, no dependencies. Talks to the server's /v1 API with
// relative URLs, keeps the view in the URL hash, and loads every image with fetch() so that a
// failed request can show the server's JSON error message. What a model can do (class-conditional
// or not, its truncation rule and range) comes from its `capabilities` in /v1/models. The
// StyleGAN controls (capabilities.style) live in stylegan.js, the BigBiGAN encode panel
// (capabilities.encoder) in bigbigan.js.
//
// Part 4 of 4, loaded last: wiring the controls to the panels and starting up. Parts 1-3:
// gallery-core.js, gallery-state.js, gallery-panels.js.
'use strict';

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
