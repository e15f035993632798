// The filter form and the structured filter of filter-language.md §4, both ways.

const PRESETS = ['1d', '7d', '30d', '90d', '180d', '365d', '730d'];

// The form's list fields: their names are the structured filter's list keys.
function listKeys(form) {
  return [...form.querySelectorAll('input[list]')].map((i) => i.name);
}

export function splitList(text) {
  return String(text || '').split(',').map((s) => s.trim()).filter(Boolean);
}

// The custom range's times as typed: any time form of the filter language (RFC 3339 with
// an offset, a date, epoch milliseconds, now-7d). The engine reads them with the package.
export function customTimes(form) {
  const out = {};
  if (form.elements.range.value !== 'custom') return out;
  for (const [key, end] of [['from', false], ['to', true]]) {
    const text = form.elements[key].value.trim();
    if (text) out[key] = { text, end };
  }
  return out;
}

// Marks the time fields the filter cannot read, with the package's message under each.
export function showTimeErrors(form, errors) {
  for (const key of ['from', 'to']) {
    const input = form.elements[key];
    const box = document.getElementById(`${input.id}-error`);
    if (errors[key]) {
      input.setAttribute('aria-invalid', 'true');
      box.textContent = errors[key];
      box.hidden = false;
    } else {
      input.removeAttribute('aria-invalid');
      box.textContent = '';
      box.hidden = true;
    }
  }
}

// Reads the form into a structured filter; `extraQuery` is the part of a typed query the form
// cannot show, ANDed so that editing the form never drops it.
export function readForm(form, extraQuery) {
  const s = {};
  for (const k of listKeys(form)) {
    const v = splitList(form.elements[k].value);
    if (v.length) s[k] = v;
  }
  const range = form.elements.range.value;
  if (PRESETS.includes(range)) s.from = `now-${range}`;
  else if (range === 'custom') {
    for (const [key, { text }] of Object.entries(customTimes(form))) s[key] = text;
  }
  if (form.elements.excludeLoginEvents.checked) s.excludeLoginEvents = true;
  if (form.elements.excludeSystemEvents.checked) s.excludeSystemEvents = true;
  if (extraQuery && extraQuery.trim()) s.query = extraQuery.trim();
  return s;
}

export function writeForm(form, s) {
  for (const k of listKeys(form)) form.elements[k].value = (s[k] || []).join(', ');
  const m = /^now-(\d+d)$/.exec(s.from || '');
  const presetTo = !s.to || s.to === 'now';
  let range = 'all';
  if (m && presetTo && PRESETS.includes(m[1])) range = m[1];
  else if (s.from || s.to) range = 'custom';
  form.elements.range.value = range;
  form.elements.from.value = range === 'custom' && s.from !== undefined ? String(s.from) : '';
  form.elements.to.value = range === 'custom' && s.to !== undefined ? String(s.to) : '';
  form.elements.excludeLoginEvents.checked = !!s.excludeLoginEvents;
  form.elements.excludeSystemEvents.checked = !!s.excludeSystemEvents;
}

export function isEmpty(s) {
  return !Object.keys(s).length;
}
