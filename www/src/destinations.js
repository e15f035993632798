// The destinations panel (online mode, `admin` scope): the account's streaming destinations
// with their delivery status, a form to create and edit each type (http-api.md, "Streaming
// destinations"), activate/pause, test, flush, and dead letters to replay or discard.
// Credentials are write-only: their inputs always open empty, and on edit an empty set
// keeps the stored ones. The Worker checks every field; its errors are shown as they come.

import { el, fmtCount, fmtTime } from './format.js';
import { destinationsApi as dapi } from './api.js';

// The fields of each type: [key, label, kind, required]; kind text | url | bool | pairs |
// textarea. Credentials are all secret inputs.
const TYPES = {
  s3: {
    label: 'Amazon S3 (or S3-compatible)',
    config: [['region', 'Region', 'text', true], ['bucket', 'Bucket', 'text', true], ['prefix', 'Prefix'],
      ['endpoint', 'Endpoint (default: AWS for the region)', 'url'], ['pathStyle', 'Path-style addressing', 'bool']],
    credentials: [['accessKeyId', 'Access key id'], ['secretAccessKey', 'Secret access key']],
  },
  gcs: {
    label: 'Google Cloud Storage',
    config: [['bucket', 'Bucket', 'text', true], ['prefix', 'Prefix'], ['endpoint', 'Endpoint (default: https://storage.googleapis.com)', 'url']],
    credentials: [['serviceAccountKey', 'Service account key (JSON)', 'textarea'], ['hmacAccessId', 'or HMAC access id'], ['hmacSecret', 'and HMAC secret']],
  },
  splunk_hec: {
    label: 'Splunk HTTP Event Collector',
    config: [['url', 'Base URL', 'url', true], ['index', 'Index'], ['source', 'Source'], ['sourcetype', 'Source type'], ['host', 'Host']],
    credentials: [['token', 'HEC token']],
  },
  sumo: {
    label: 'Sumo Logic HTTP source',
    config: [['category', 'Source category'], ['name', 'Source name'], ['fields', 'Fields (key=value, commas between)', 'pairs']],
    credentials: [['url', 'HTTP source URL (holds its secret)']],
  },
  webhook: {
    label: 'Webhook (signed POST)',
    config: [['url', 'URL', 'url', true]],
    credentials: [['secret', 'Signing secret']],
  },
};
// Types that write the format chosen here (Splunk and Sumo have their own).
const FORMATS = new Set(['s3', 'gcs', 'webhook']);
// How often the open panel reads the status again.
const REFRESH_MS = 2000;

const pairsText = (o) => Object.entries(o || {}).map(([k, v]) => `${k}=${v}`).join(', ');
function pairsOf(text) {
  const out = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    out[i < 0 ? part : part.slice(0, i).trim()] = i < 0 ? '' : part.slice(i + 1).trim();
  }
  return out;
}
const idOf = (key) => `dest-f-${key.replace(/\W/g, '-')}`;

export function setupDestinations({ opener, dialog, conn }) {
  const rows = dialog.querySelector('#dest-rows');
  const empty = dialog.querySelector('#dest-empty');
  const errorBox = dialog.querySelector('#dest-error');
  const message = dialog.querySelector('#dest-message');
  const form = dialog.querySelector('#dest-form');
  const fields = form.querySelector('#dest-fields');
  const typeSelect = form.elements.type;
  let items = []; // [{d, st}]
  let editing = null; // the destination being edited, or null for a new one
  let returnFocus = null;
  const openLetters = new Set(); // ids whose dead letters are shown
  let timer = 0;

  for (const [type, t] of Object.entries(TYPES)) typeSelect.appendChild(el('option', { value: type }, t.label));

  const showError = (e, what) => {
    const d = (e && e.data) || {};
    errorBox.textContent = `${what}: ${d.code || 'error'}: ${(e && e.message) || e}`;
    errorBox.hidden = false;
  };
  const say = (text) => { message.textContent = text; };

  // Runs an API call; shows its error and answers undefined when it fails.
  async function attempt(what, fn) {
    errorBox.hidden = true;
    try {
      return await fn();
    } catch (e) {
      showError(e, what);
      return undefined;
    }
  }

  async function refresh() {
    const c = conn();
    if (!c) return;
    let list;
    try {
      list = (await dapi.list(c)).destinations;
    } catch (e) {
      showError(e, 'Could not list the destinations');
      return;
    }
    const statuses = await Promise.all(list.map((d) => dapi.status(c, d.id).catch((e) => ({ failed: e }))));
    const next = list.map((d, i) => ({ d, st: statuses[i] }));
    // Unchanged answers leave the list (and the keyboard focus in it) alone.
    if (JSON.stringify(next) === JSON.stringify(items) && rows.childElementCount) return;
    items = next;
    render();
  }

  // Redraws the list, keeping the keyboard focus on the same control.
  function render() {
    const focused = document.activeElement && rows.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    rows.replaceChildren();
    empty.hidden = items.length > 0;
    for (const { d, st } of items) {
      const tr = el('tr', { 'data-id': d.id, 'data-testid': `dest-row-${d.id}` });
      const ok = st && !st.failed;
      const dead = ok ? st.deadLetters : [];
      if (!dead.length) openLetters.delete(d.id);
      const stateText = !ok ? 'status unavailable' : st.lastError && dead.length ? `${st.status}, failing` : st.status;
      tr.append(
        el('th', { scope: 'row' }, d.name),
        el('td', {}, d.type),
        el('td', { 'data-testid': 'dest-status' }, stateText),
        el('td', { 'data-testid': 'dest-pending', class: 'num' }, ok ? fmtCount(st.pendingEvents) : '–'),
        el('td', { 'data-testid': 'dest-delivered', class: 'num' }, ok ? fmtCount(st.deliveredEvents) : '–'),
        el('td', { 'data-testid': 'dest-dead', class: 'num' }, ok ? fmtCount(dead.length) : '–'),
      );
      const actions = el('div', { class: 'dest-actions' });
      const button = (key, text, label, fn) => {
        const b = el('button', { type: 'button', 'data-key': `${d.id}:${key}`, 'aria-label': `${label} ${d.name}` }, text);
        b.addEventListener('click', fn);
        actions.appendChild(b);
        return b;
      };
      button('edit', 'Edit', 'Edit', () => openForm(d, tr.querySelector('[data-key$=":edit"]')));
      const active = d.status === 'active';
      button('status', active ? 'Pause' : 'Activate', active ? 'Pause' : 'Activate', () => setStatus(d, active ? 'inactive' : 'active'));
      button('test', 'Test', 'Test', () => test(d));
      button('flush', 'Flush', 'Flush', () => flush(d));
      if (dead.length) {
        const b = button('letters', `Dead letters (${dead.length})`, 'Dead letters of', () => {
          if (openLetters.has(d.id)) openLetters.delete(d.id); else openLetters.add(d.id);
          render();
        });
        b.setAttribute('aria-expanded', String(openLetters.has(d.id)));
      }
      tr.appendChild(el('td')).appendChild(actions);
      rows.appendChild(tr);
      if (ok && st.lastError) {
        const e = st.lastError;
        rows.appendChild(el('tr', { class: 'dest-sub' }, ''))
          .appendChild(el('td', { colspan: 7, class: 'hint' }, `Last error (${e.stage}${e.status ? `, HTTP ${e.status}` : ''}, ${fmtTime(e.at)}): ${e.message}`));
      }
      if (dead.length && openLetters.has(d.id)) rows.appendChild(lettersRow(d, dead));
    }
    if (focused) {
      const again = rows.querySelector(`[data-key="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  function lettersRow(d, dead) {
    const td = el('td', { colspan: 7 });
    const ul = el('ul', { class: 'dest-letters', 'aria-label': `Dead letters of ${d.name}`, 'data-testid': `dest-letters-${d.id}` });
    for (const b of dead) {
      const li = el('li', { 'data-batch': b.batch });
      li.appendChild(el('span', {}, `Events ${b.firstSeq}–${b.lastSeq} (${fmtCount(b.events)}), ${b.attempts} ${b.attempts === 1 ? 'attempt' : 'attempts'}: ${b.lastError || 'failed'}${b.replaying ? ' · replaying' : ''}`));
      const replay = el('button', { type: 'button', 'data-key': `${d.id}:replay:${b.batch}`, 'aria-label': `Replay batch ${b.batch}` }, 'Replay');
      replay.addEventListener('click', () => replayLetters(d, [b.batch]));
      const discard = el('button', { type: 'button', 'data-key': `${d.id}:discard:${b.batch}`, 'aria-label': `Discard batch ${b.batch}` }, 'Discard');
      discard.addEventListener('click', () => discardLetter(d, b.batch));
      li.append(' ', replay, ' ', discard);
      ul.appendChild(li);
    }
    const all = el('button', { type: 'button', 'data-key': `${d.id}:replay-all`, 'aria-label': `Replay every dead letter of ${d.name}` }, 'Replay all');
    all.addEventListener('click', () => replayLetters(d, null));
    td.append(ul, all);
    return el('tr', { class: 'dest-sub' }).appendChild(td).parentNode;
  }

  async function setStatus(d, status) {
    if (await attempt(`Could not change ${d.name}`, () => dapi.update(conn(), d.id, { status }))) {
      say(`${d.name} is ${status === 'active' ? 'active: events are delivered' : 'paused'}.`);
    }
    await refresh();
  }

  async function test(d) {
    say(`Testing ${d.name}…`);
    const r = await attempt(`Could not test ${d.name}`, () => dapi.test(conn(), d.id));
    if (!r) { say(''); return; }
    say(r.ok ? `Test of ${d.name}: ok (${r.message})`
      : `Test of ${d.name} failed at ${r.stage}${r.status ? ` (HTTP ${r.status})` : ''}: ${r.message}`);
  }

  async function flush(d) {
    const r = await attempt(`Could not flush ${d.name}`, () => dapi.flush(conn(), d.id));
    if (r) say(`${d.name}: the events through sequence number ${r.flushThroughSeq} are sent now${d.status === 'active' ? '' : ' (once active)'}.`);
    await refresh();
  }

  async function replayLetters(d, batches) {
    const r = await attempt(`Could not replay ${d.name}`, () => dapi.replay(conn(), d.id, batches));
    if (r) say(`${d.name}: replaying ${r.replaying.length} ${r.replaying.length === 1 ? 'batch' : 'batches'}.`);
    await refresh();
  }

  async function discardLetter(d, batch) {
    if (await attempt(`Could not discard ${batch}`, () => dapi.discard(conn(), d.id, batch)) !== undefined) say(`${d.name}: batch ${batch} discarded.`);
    await refresh();
    const next = rows.querySelector(`[data-key^="${CSS.escape(d.id)}:"]`);
    if (next && !rows.contains(document.activeElement)) next.focus();
  }

  // --- the form ----------------------------------------------------------------------------

  function input(name, label, kind, { required, secret, value }) {
    const id = idOf(name);
    const wrap = el('div', { class: kind === 'bool' ? 'dest-check' : 'dest-field' });
    if (kind === 'bool') {
      const box = el('input', { type: 'checkbox', id, name });
      box.checked = !!value;
      wrap.append(box, el('label', { for: id }, label));
      return wrap;
    }
    const field = kind === 'textarea'
      ? el('textarea', { id, name, rows: 3, spellcheck: 'false' })
      : el('input', { id, name, type: secret ? 'password' : kind === 'url' ? 'url' : 'text', spellcheck: 'false', autocomplete: secret ? 'new-password' : 'off' });
    if (required) field.required = true;
    if (value !== undefined && value !== null) field.value = kind === 'pairs' ? pairsText(value) : String(value);
    wrap.append(el('label', { for: id }, label + (required ? ' (required)' : '')), field);
    return wrap;
  }

  function drawFields() {
    const type = typeSelect.value;
    const t = TYPES[type];
    const config = (editing && editing.type === type && editing.config) || {};
    const conf = el('fieldset', { 'data-part': 'config' }, '');
    conf.appendChild(el('legend', {}, 'Connection'));
    for (const [key, label, kind = 'text', required] of t.config) conf.appendChild(input(`config.${key}`, label, kind, { required, value: config[key] }));
    const creds = el('fieldset', { 'data-part': 'credentials' });
    creds.appendChild(el('legend', {}, 'Credentials (write-only)'));
    const stored = editing && editing.type === type ? editing.credentialKeys || [] : [];
    creds.appendChild(el('p', { class: 'hint', id: 'dest-cred-help' }, editing
      ? `Stored: ${stored.length ? stored.join(', ') : 'none'}. They are never shown; leave these empty to keep them, or fill them in to replace them all.`
      : 'They are kept encrypted by the Worker and never shown again.'));
    // Credentials are required on create, except for GCS where either kind of key will do.
    for (const [key, label, kind] of t.credentials) {
      const f = input(`credentials.${key}`, label, kind || 'text', { secret: kind !== 'textarea', required: !editing && type !== 'gcs' });
      f.querySelector('input, textarea').setAttribute('aria-describedby', 'dest-cred-help');
      creds.appendChild(f);
    }
    fields.replaceChildren(conf, creds);
    form.elements.format.disabled = !FORMATS.has(type);
    form.querySelector('#dest-format-row').hidden = !FORMATS.has(type);
  }

  function openForm(d, invoker) {
    editing = d;
    returnFocus = invoker;
    errorBox.hidden = true;
    form.reset();
    form.querySelector('#dest-form-title').textContent = d ? `Edit ${d.name}` : 'New destination';
    typeSelect.value = d ? d.type : 'webhook';
    typeSelect.disabled = !!d;
    const e = form.elements;
    e.name.value = d ? d.name : '';
    e.description.value = d ? d.description || '' : '';
    e.filter.value = d ? d.filter || '' : '';
    e.format.value = d && FORMATS.has(d.type) ? d.format : 'json';
    e.compression.value = d ? d.compression : 'none';
    e.intervalSeconds.value = d ? d.batch.intervalSeconds : '';
    e.maxEvents.value = d ? d.batch.maxEvents : '';
    e.maxAttempts.value = d ? d.retry.maxAttempts : '';
    drawFields();
    form.hidden = false;
    e.name.focus();
  }

  function closeForm() {
    form.hidden = true;
    editing = null;
    fields.replaceChildren(); // no secret stays in the page
    (returnFocus && returnFocus.isConnected ? returnFocus : dialog.querySelector('#dest-new')).focus();
  }

  // The request body of the form: on edit, a cleared optional field is removed (null) and
  // credentials are sent only when some are filled in.
  function body() {
    const e = form.elements;
    const type = typeSelect.value;
    const t = TYPES[type];
    const out = { name: e.name.value.trim(), description: e.description.value, filter: e.filter.value, compression: e.compression.value };
    if (!editing) out.type = type;
    if (FORMATS.has(type)) out.format = e.format.value;
    const config = {};
    for (const [key, , kind = 'text'] of t.config) {
      const f = e[`config.${key}`];
      if (kind === 'bool') config[key] = f.checked;
      else if (kind === 'pairs') { if (f.value.trim() || editing) config[key] = f.value.trim() ? pairsOf(f.value) : null; }
      else if (f.value.trim()) config[key] = f.value.trim();
      else if (editing) config[key] = null;
    }
    out.config = config;
    const creds = {};
    for (const [key] of t.credentials) {
      const v = e[`credentials.${key}`].value;
      if (v) creds[key] = v;
    }
    if (Object.keys(creds).length) out.credentials = creds;
    const num = (f) => (f.value === '' ? undefined : Number(f.value));
    const batch = { intervalSeconds: num(e.intervalSeconds), maxEvents: num(e.maxEvents) };
    for (const k of Object.keys(batch)) if (batch[k] === undefined) delete batch[k];
    if (Object.keys(batch).length) out.batch = batch;
    if (num(e.maxAttempts) !== undefined) out.retry = { maxAttempts: num(e.maxAttempts) };
    return out;
  }

  typeSelect.addEventListener('change', drawFields);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const b = body();
    const d = editing;
    const saved = await attempt(d ? `Could not save ${d.name}` : 'Could not create the destination',
      () => (d ? dapi.update(conn(), d.id, b) : dapi.create(conn(), b)));
    if (!saved) return;
    say(d ? `${saved.name} saved.` : `${saved.name} created (inactive: activate it to start delivery).`);
    if (!d) returnFocus = null;
    closeForm();
    await refresh();
    if (!d) {
      const edit = rows.querySelector(`[data-key="${CSS.escape(saved.id)}:status"]`);
      if (edit) edit.focus();
    }
  });
  form.querySelector('#dest-cancel').addEventListener('click', closeForm);

  // Escape closes the form first, then the panel.
  dialog.addEventListener('cancel', (ev) => {
    if (!form.hidden) { ev.preventDefault(); closeForm(); }
  });
  dialog.addEventListener('close', () => {
    clearInterval(timer);
    form.hidden = true;
    fields.replaceChildren();
    opener.focus();
  });
  dialog.querySelector('#dest-close').addEventListener('click', () => dialog.close());
  dialog.querySelector('#dest-refresh').addEventListener('click', refresh);
  dialog.querySelector('#dest-new').addEventListener('click', (ev) => openForm(null, ev.currentTarget));

  opener.addEventListener('click', async () => {
    errorBox.hidden = true;
    say('');
    form.hidden = true;
    dialog.showModal();
    dialog.querySelector('#dest-new').focus();
    await refresh();
    clearInterval(timer);
    timer = setInterval(() => { if (dialog.open) refresh(); }, REFRESH_MS);
  });
}
