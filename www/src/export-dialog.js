// The export dialog: reads the user's choices into a transform (formats.md section 4) and
// hands it, with the pseudonymisation key, to `run`, which asks the package to apply it.
// The page decides nothing about events here. The key lives only in its password input
// while the dialog is open: it is cleared on close and never written to storage or a URL.

import { splitList } from './form.js';

// The transform JSON of the dialog's form; `null` when it asks for no change.
export function readTransform(f) {
  const t = {};
  const mode = f.elements.fieldMode.value;
  if (mode === 'include' || mode === 'exclude') t[mode] = splitList(f.elements.fields.value);
  for (const key of ['redact', 'pseudonymize']) {
    const paths = splitList(f.elements[key].value);
    if (paths.length) t[key] = paths;
  }
  const patterns = f.elements.patterns.value.split(/\r?\n/).filter((p) => p !== '');
  if (patterns.length) t.redactPatterns = patterns;
  if (f.elements.timeFormat.value) t.timeFormat = f.elements.timeFormat.value;
  return Object.keys(t).length ? t : null;
}

// Wires the dialog. `run({format, transform, key})` exports and throws the package's error
// (its `code`, and the `key`, `path` or `pattern` it names) when the transform is refused.
export function setupExportDialog({ opener, dialog, paths, run }) {
  const f = dialog.querySelector('form');
  const errorBox = f.querySelector('#x-error');
  const preview = f.querySelector('#x-transform');
  const list = document.getElementById('dl-paths');

  const showPreview = () => {
    const t = readTransform(f);
    preview.textContent = t ? JSON.stringify(t, null, 2) : '(none: the events as filtered)';
  };
  const showError = (e) => {
    const d = (e && e.data) || {};
    const where = ['key', 'path', 'pattern'].filter((k) => d[k] !== undefined).map((k) => `${k} ${JSON.stringify(d[k])}`);
    errorBox.textContent = `${d.code || 'error'}: ${(e && e.message) || e}${where.length ? ` (${where.join(', ')})` : ''}`;
    errorBox.hidden = false;
  };

  opener.addEventListener('click', () => {
    list.replaceChildren(...paths().map((p) => Object.assign(document.createElement('option'), { value: p })));
    errorBox.hidden = true;
    showPreview();
    dialog.showModal();
  });
  f.addEventListener('input', showPreview);
  f.querySelector('#x-cancel').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => { f.elements.key.value = ''; });
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    errorBox.hidden = true;
    const transform = readTransform(f);
    const key = f.elements.key.value;
    try {
      await run({ format: f.elements.format.value, transform, key: transform && key ? key : undefined });
      dialog.close();
    } catch (e) {
      showError(e);
    }
  });
}
