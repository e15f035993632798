// Maps a filter's canonical IR (src/filter/ir.rs, serialised with a "kind" tag) back to the
// form, i.e. the structured filter of filter-language.md §4, when the IR is a conjunction
// the form can show. Returns null otherwise; the page then shows the query alone.

const LIST_OF_FIELD = {
  user: 'users',
  'auditResourceScope.orgIdentifier': 'organizations',
  'auditResourceScope.projectIdentifier': 'projects',
  'auditResource.type': 'resourceTypes',
  'auditResource.identifier': 'resourceIdentifiers',
  'auditAction': 'actions',
  'auditModule': 'modules',
  'auditEventAuthor.principal.type': 'principalTypes',
};

const UNITS = [[86400000, 'd'], [3600000, 'h'], [60000, 'm'], [1000, 's']];

function timeText(lit, delta = 0) {
  if (!lit || typeof lit !== 'object') return null;
  if ('time' in lit) return new Date(Number(lit.time) + delta).toISOString();
  if ('now' in lit) {
    const off = Number(lit.now) + delta;
    if (off === 0) return 'now';
    if (off > 0) return null;
    for (const [ms, u] of UNITS) if (off % ms === 0) return `now-${-off / ms}${u}`;
    return null;
  }
  return null;
}

function strValues(term) {
  if (term.kind === 'cmp' && term.op === 'eq' && term.value && 'str' in term.value) return [term.field, [term.value.str]];
  if (term.kind === 'in' && !term.negated && Array.isArray(term.values) && term.values.every((v) => v && 'str' in v)) {
    return [term.field, term.values.map((v) => v.str)];
  }
  if (term.kind === 'or' && Array.isArray(term.terms)) {
    let field = null;
    const out = [];
    for (const t of term.terms) {
      const r = strValues(t);
      if (!r || (field !== null && r[0] !== field)) return null;
      field = r[0];
      out.push(...r[1]);
    }
    return field === null ? null : [field, out];
  }
  return null;
}

export function irToStructured(ir) {
  if (!ir || typeof ir !== 'object') return null;
  if (ir.kind === 'all') return {};
  const terms = ir.kind === 'and' ? ir.terms : [ir];
  if (!Array.isArray(terms)) return null;
  const s = {};
  for (const t of terms) {
    if (!t || typeof t !== 'object') return null;
    if (t.kind === 'not' && t.term && t.term.kind === 'preset') {
      const key = t.term.preset === 'login' ? 'excludeLoginEvents' : t.term.preset === 'system' ? 'excludeSystemEvents' : null;
      if (!key || s[key]) return null;
      s[key] = true;
      continue;
    }
    if (t.kind === 'cmp' && t.field === 'auditEventTime') {
      const bound = { ge: ['from', 0], gt: ['from', 1], le: ['to', 0], lt: ['to', -1] }[t.op];
      if (!bound || s[bound[0]] !== undefined) return null;
      const text = timeText(t.value, 'time' in (t.value || {}) ? bound[1] : 0);
      if (text === null || ('now' in (t.value || {}) && bound[1] !== 0)) return null;
      s[bound[0]] = text;
      continue;
    }
    const r = strValues(t);
    if (!r) return null;
    const key = LIST_OF_FIELD[r[0]];
    if (!key || s[key]) return null;
    s[key] = r[1];
  }
  return s;
}
