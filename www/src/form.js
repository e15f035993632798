// The filter form and the structured filter of filter-language.md §4, both ways.

export const LIST_KEYS = ['users', 'organizations', 'projects', 'resourceTypes', 'resourceIdentifiers', 'actions', 'modules', 'principalTypes'];
const PRESETS = ['1d', '7d', '30d', '90d', '180d', '365d', '730d'];

export function splitList(text) {
  return String(text || '').split(',').map((s) => s.trim()).filter(Boolean);
}

function toRfc3339(local) {
  if (!local) return undefined;
  const withSeconds = /T\d\d:\d\d$/.test(local) ? `${local}:00` : local;
  return `${withSeconds}Z`;
}

function toLocalInput(t) {
  if (!t) return '';
  const ms = /^\d+$/.test(t) ? Number(t) : Date.parse(t);
  if (!Number.isFinite(ms)) return '';
  return new Date(ms).toISOString().slice(0, 19);
}

// Reads the form into a structured filter; `extraQuery` is the part of a typed query the form
// cannot show, ANDed so that editing the form never drops it.
export function readForm(form, extraQuery) {
  const s = {};
  for (const k of LIST_KEYS) {
    const v = splitList(form.elements[k].value);
    if (v.length) s[k] = v;
  }
  const range = form.elements.range.value;
  if (PRESETS.includes(range)) s.from = `now-${range}`;
  else if (range === 'custom') {
    const from = toRfc3339(form.elements.from.value);
    const to = toRfc3339(form.elements.to.value);
    if (from) s.from = from;
    if (to) s.to = to;
  }
  if (form.elements.excludeLoginEvents.checked) s.excludeLoginEvents = true;
  if (form.elements.excludeSystemEvents.checked) s.excludeSystemEvents = true;
  if (extraQuery && extraQuery.trim()) s.query = extraQuery.trim();
  return s;
}

export function writeForm(form, s) {
  for (const k of LIST_KEYS) form.elements[k].value = (s[k] || []).join(', ');
  const m = /^now-(\d+d)$/.exec(s.from || '');
  const presetTo = !s.to || s.to === 'now';
  let range = 'all';
  if (m && presetTo && PRESETS.includes(m[1])) range = m[1];
  else if (s.from || s.to) range = 'custom';
  form.elements.range.value = range;
  form.elements.from.value = range === 'custom' ? toLocalInput(s.from) : '';
  form.elements.to.value = range === 'custom' ? toLocalInput(s.to) : '';
  form.elements.excludeLoginEvents.checked = !!s.excludeLoginEvents;
  form.elements.excludeSystemEvents.checked = !!s.excludeSystemEvents;
}

// Whether writeForm shows the time bounds of `s` as they are: a preset range (now-Nd to now)
// or absolute times; other relative times (now-3h) have no place in the form.
export function canShow(s) {
  const m = /^now-(\d+d)$/.exec(s.from || '');
  if (m && (!s.to || s.to === 'now') && PRESETS.includes(m[1])) return true;
  return [s.from, s.to].every((t) => t === undefined || typeof t === 'number' || (!/^now/i.test(t) && Number.isFinite(Date.parse(t))));
}

export function isEmpty(s) {
  return !Object.keys(s).length;
}
