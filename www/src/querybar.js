// The query bar: completion of field names and known values, and the error span marked
// under the text (the span is in UTF-8 bytes, as the filter reports it).

import { el } from './format.js';

// Field names and the field each stands for come from the package's field catalog
// (`fieldCatalog()`): canonical paths and aliases, `metadata.`, and the presets of `is:`.
export function completionNames(catalog) {
  const names = new Map(); // lowercase name -> [name as written, canonical path]
  for (const { path, aliases } of catalog.names) {
    for (const n of [path, ...aliases]) names.set(n.toLowerCase(), [n, path]);
  }
  names.set(catalog.metadataPrefix.toLowerCase(), [catalog.metadataPrefix, null]);
  names.set('is', ['is', null]);
  return names;
}

export function byteSpanToChars(text, span) {
  if (!span) return null;
  const enc = new TextEncoder();
  let bytes = 0;
  let start = null, end = null;
  for (let i = 0; i <= text.length; i++) {
    if (start === null && bytes >= span[0]) start = i;
    if (end === null && bytes >= span[1]) { end = i; break; }
    if (i < text.length) {
      const cp = text.codePointAt(i);
      bytes += enc.encode(String.fromCodePoint(cp)).length;
      if (cp > 0xffff) i++;
    }
  }
  if (start === null) start = text.length;
  if (end === null) end = text.length;
  return [start, Math.max(start, end)];
}

export class QueryBar {
  constructor({ input, mirror, list, errorBox, onApply }) {
    this.input = input;
    this.mirror = mirror;
    this.list = list;
    this.errorBox = errorBox;
    this.onApply = onApply;
    this.vocab = {}; // canonical path -> known values
    this.names = new Map();
    this.presets = [];
    this.items = [];
    this.sel = -1;
    input.addEventListener('input', () => { this.clearError(); this.complete(); });
    input.addEventListener('keydown', (e) => this.onKey(e));
    input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
    input.addEventListener('scroll', () => { mirror.scrollLeft = input.scrollLeft; });
  }

  setVocab(v) { this.vocab = v || {}; }

  setCatalog(catalog) {
    this.names = completionNames(catalog);
    this.presets = catalog.presets;
  }

  get value() { return this.input.value; }
  set value(v) { this.input.value = v; this.clearError(); }

  showError(err) {
    const text = this.input.value;
    this.errorBox.textContent = err.rendered || err.message;
    this.errorBox.hidden = false;
    this.input.setAttribute('aria-invalid', 'true');
    const span = byteSpanToChars(text, err.span);
    this.mirror.replaceChildren();
    if (span) {
      const [a, b0] = span;
      const b = b0 > a ? b0 : Math.min(text.length, a + 1);
      this.mirror.append(document.createTextNode(text.slice(0, a)), el('mark', {}, text.slice(a, b) || ' '), document.createTextNode(text.slice(b)));
      this.mirror.scrollLeft = this.input.scrollLeft;
    }
  }

  clearError() {
    this.errorBox.hidden = true;
    this.errorBox.textContent = '';
    this.input.removeAttribute('aria-invalid');
    this.mirror.replaceChildren();
  }

  // The token before the caret decides what to offer.
  complete() {
    const caret = this.input.selectionStart ?? this.input.value.length;
    const before = this.input.value.slice(0, caret);
    const m = /[^\s()]*$/.exec(before);
    const token = m ? m[0].replace(/^[-!]/, '') : '';
    const tokenStart = caret - token.length;
    let items = [];
    const colon = token.indexOf(':');
    if (colon > 0) {
      const field = token.slice(0, colon).toLowerCase();
      const rest = token.slice(colon + 1).replace(/^[<>]=?/, '');
      const lastComma = rest.lastIndexOf(',');
      const prefix = rest.slice(lastComma + 1);
      const valueStart = caret - prefix.length;
      const known = this.names.get(field);
      const values = field === 'is' ? this.presets : (known && known[1] && this.vocab[known[1]]) || [];
      const p = prefix.toLowerCase();
      items = values.filter((v) => v.toLowerCase().startsWith(p) && v !== prefix).slice(0, 12)
        .map((v) => ({ label: v, insert: /[\s,()"]/.test(v) ? JSON.stringify(v) : v, from: valueStart }));
    } else if (token.length >= 1 && !/^["\d]/.test(token)) {
      const p = token.toLowerCase();
      items = [...this.names.values()].map(([f]) => f).filter((f) => f.toLowerCase().startsWith(p) && f.toLowerCase() !== p).slice(0, 12)
        .map((f) => ({ label: f.endsWith('.') ? f : `${f}:`, insert: f.endsWith('.') ? f : `${f}:`, from: tokenStart }));
    }
    this.show(items);
  }

  show(items) {
    this.items = items;
    this.sel = -1;
    this.list.replaceChildren();
    if (!items.length) { this.close(); return; }
    items.forEach((it, i) => {
      const li = el('li', { role: 'option', id: `completion-${i}`, 'aria-selected': 'false' }, it.label);
      li.addEventListener('mousedown', (e) => { e.preventDefault(); this.accept(i); });
      this.list.appendChild(li);
    });
    this.list.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
  }

  close() {
    this.list.hidden = true;
    this.items = [];
    this.sel = -1;
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }

  highlight(i) {
    this.sel = i;
    [...this.list.children].forEach((li, k) => li.setAttribute('aria-selected', k === i ? 'true' : 'false'));
    if (i >= 0) this.input.setAttribute('aria-activedescendant', `completion-${i}`);
  }

  accept(i) {
    const it = this.items[i];
    if (!it) return;
    const caret = this.input.selectionStart ?? this.input.value.length;
    const v = this.input.value;
    this.input.value = v.slice(0, it.from) + it.insert + v.slice(caret);
    const pos = it.from + it.insert.length;
    this.input.setSelectionRange(pos, pos);
    this.close();
    this.input.focus();
  }

  onKey(e) {
    const open = !this.list.hidden && this.items.length;
    if (open && e.key === 'ArrowDown') { e.preventDefault(); this.highlight((this.sel + 1) % this.items.length); }
    else if (open && e.key === 'ArrowUp') { e.preventDefault(); this.highlight((this.sel - 1 + this.items.length) % this.items.length); }
    else if (open && e.key === 'Tab') { e.preventDefault(); this.accept(this.sel >= 0 ? this.sel : 0); }
    else if (open && e.key === 'Enter' && this.sel >= 0) { e.preventDefault(); this.accept(this.sel); }
    else if (e.key === 'Escape') this.close();
    else if (e.key === 'Enter') { e.preventDefault(); this.close(); this.onApply(); }
  }
}
