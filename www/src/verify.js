// The "Verify evidence" dialog: takes an evidence bundle — or an S3/GCS object's sidecar
// (`<object>.evidence.json`) and the object — and verifier keys (pasted, a file, or the
// Worker's /v1/log/keys), has the engine worker verify them with the package's verifier,
// and shows what was verified and each failure in the core's words (`explanation`). Event
// data and file contents are only ever written with textContent.

const KEY_LINE = /^[^\s+]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$/;

// Which of the three inputs a dropped file is: keys (every line a verifier key), a bundle
// (a JSON object with a checkpoint) or else the exported object.
async function classify(file) {
  const head = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  if (head[0] === 0x1f && head[1] === 0x8b) return 'object';
  const text = await file.text();
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (lines.length && lines.every((l) => KEY_LINE.test(l))) return 'keys';
  if (/^\s*\{\s*"checkpoint"\s*:/.test(text) || file.name.endsWith('.evidence.json')) return 'bundle';
  return 'object';
}

function el(tag, props = {}, ...children) {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

function plural(n, one, many = `${one}s`) {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}

function checkpointList(cp) {
  const dl = el('dl', { className: 'verify-checkpoint' });
  for (const [term, value, id] of [
    ['Log', cp.origin, 'origin'],
    ['Tree size', plural(cp.size, 'event'), 'size'],
    ['Root hash', cp.rootHash, 'root'],
    ['Signed by key', cp.key, 'key'],
  ]) dl.append(el('dt', { textContent: term }), el('dd', { textContent: value, className: `v-${id}` }));
  return dl;
}

function failureTable(failures) {
  const head = el('tr', {}, ...['Entry', 'Seq', 'Code', 'What it means', 'Details'].map((t) => el('th', { scope: 'col', textContent: t })));
  const rows = failures.map((f) => {
    const row = el('tr', {},
      el('td', { textContent: f.index === null ? '—' : String(f.index) }),
      el('td', { textContent: f.seq === null ? '—' : String(f.seq) }),
      el('td', {}, el('code', { textContent: f.code })),
      el('td', { textContent: f.explanation }),
      el('td', { textContent: f.message }));
    row.dataset.testid = 'verify-failure';
    row.dataset.index = f.index === null ? '' : f.index;
    row.dataset.seq = f.seq === null ? '' : f.seq;
    row.dataset.code = f.code;
    return row;
  });
  return el('table', { className: 'verify-failures' }, el('thead', {}, head), el('tbody', {}, ...rows));
}

function render(box, result, inputs) {
  const n = result.verified;
  const heading = result.ok
    ? `Verified: ${plural(n, 'event')} ${n === 1 ? 'is' : 'are'} in the log, unchanged.`
    : `Verification failed: ${plural(result.failures.length, 'problem')}${n ? ` (${plural(n, 'event')} verified)` : ''}.`;
  const parts = [el('p', { className: result.ok ? 'verify-ok' : 'verify-bad', textContent: heading })];
  parts.push(el('p', { className: 'hint', textContent: `Bundle ${inputs.bundle}${inputs.object ? `, object ${inputs.object}` : ''}.` }));
  if (result.checkpoint) parts.push(el('p', { textContent: 'Checked against the signed checkpoint:' }), checkpointList(result.checkpoint));
  else parts.push(el('p', { textContent: 'No checkpoint could be trusted, so no event was checked.' }));
  if (result.failures.length) parts.push(failureTable(result.failures));
  box.replaceChildren(...parts);
  box.dataset.ok = String(result.ok);
  box.dataset.verified = String(n);
}

// Wires the dialog. `run({bundle, object, keys})` verifies in the engine worker;
// `workerUrl()` is the online mode's Worker URL (or '').
export function setupVerifyDialog({ opener, dialog, run, workerUrl }) {
  const f = dialog.querySelector('form');
  const box = dialog.querySelector('#v-result');
  const errorBox = dialog.querySelector('#v-error');
  const picked = { bundle: null, object: null };
  const showPicked = () => {
    for (const kind of ['bundle', 'object']) dialog.querySelector(`#v-${kind}-name`).textContent = picked[kind] ? picked[kind].name : '';
  };
  const showError = (message) => { errorBox.textContent = message; errorBox.hidden = !message; };

  opener.addEventListener('click', () => {
    showError('');
    dialog.querySelector('#v-worker-keys').hidden = !workerUrl();
    dialog.showModal();
  });
  dialog.querySelector('#v-close').addEventListener('click', () => dialog.close());
  f.elements.bundle.addEventListener('change', (e) => { picked.bundle = e.target.files[0] || null; showPicked(); });
  f.elements.object.addEventListener('change', (e) => { picked.object = e.target.files[0] || null; showPicked(); });
  f.elements.keysFile.addEventListener('change', async (e) => {
    const file = e.target.files[0];
    if (file) f.elements.keys.value = await file.text();
  });
  dialog.querySelector('#v-worker-keys').addEventListener('click', async () => {
    showError('');
    try {
      const res = await fetch(`${workerUrl()}/v1/log/keys`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      f.elements.keys.value = (await res.json()).keys.join('\n');
    } catch (e) {
      showError(`Could not fetch the Worker's keys: ${e.message}`);
    }
  });
  // Files dropped on the dialog are sorted into bundle, object and keys.
  dialog.addEventListener('dragover', (e) => e.preventDefault());
  dialog.addEventListener('drop', async (e) => {
    e.preventDefault();
    for (const file of e.dataTransfer ? e.dataTransfer.files : []) {
      const kind = await classify(file);
      if (kind === 'keys') f.elements.keys.value = await file.text();
      else picked[kind] = file;
    }
    showPicked();
  });
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError('');
    if (!picked.bundle) { showError('Choose or drop an evidence bundle first.'); return; }
    if (!f.elements.keys.value.trim()) { showError('Paste the verifier keys, or choose a file of them.'); return; }
    box.setAttribute('aria-busy', 'true');
    try {
      const bundle = new Uint8Array(await picked.bundle.arrayBuffer());
      const object = picked.object ? new Uint8Array(await picked.object.arrayBuffer()) : null;
      const result = await run({ bundle, object, keys: f.elements.keys.value });
      render(box, result, { bundle: picked.bundle.name, object: picked.object && picked.object.name });
    } catch (e) {
      box.replaceChildren();
      delete box.dataset.ok;
      showError(`${(e.data && e.data.code) || 'error'}: ${e.message}`);
    } finally {
      box.setAttribute('aria-busy', 'false');
      window.__trailsift.verifications = (window.__trailsift.verifications || 0) + 1;
    }
  });
}
