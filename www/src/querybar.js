// The query bar: completion of field names and known values, and the error span marked
// under the text (the span is in UTF-8 bytes, as the filter reports it).

import { el } from './format.js';

export const FIELD_NAMES = [
  'auditEventId', 'id', 'auditEventTime', 'time', 'created',
  'auditEventAuthor.principal.type', 'principal.type', 'principalType',
  'auditEventAuthor.principal.identifier', 'actor', 'auditEventAuthor.principal.email', 'email', 'user',
  'auditModule', 'module', 'auditResource.type', 'resource.type', 'resourceType', 'type',
  'auditResource.identifier', 'resource.identifier', 'resourceId',
  'auditResourceScope.accountIdentifier', 'account', 'auditResourceScope.orgIdentifier', 'org', 'organization',
  'auditResourceScope.projectIdentifier', 'project', 'auditAction', 'action',
  'auditHttpRequestInfo.requestMethod', 'method', 'auditHttpRequestInfo.clientIP', 'ip', 'clientIP',
  'auditEventMetadata.', 'metadata.', 'is',
];

const VOCAB_OF = {
  user: 'user', email: 'user', actor: 'user', 'auditeventauthor.principal.identifier': 'user', 'auditeventauthor.principal.email': 'user',
  action: 'action', auditaction: 'action',
  module: 'module', auditmodule: 'module',
  type: 'rtype', resourcetype: 'rtype', 'resource.type': 'rtype', 'auditresource.type': 'rtype',
  resourceid: 'rid', 'resource.identifier': 'rid', 'auditresource.identifier': 'rid',
  org: 'org', organization: 'org', 'auditresourcescope.origidentifier': 'org', 'auditresourcescope.orgidentifier': 'org',
  project: 'project', 'auditresourcescope.projectidentifier': 'project',
  account: 'account', 'auditresourcescope.accountidentifier': 'account',
  principaltype: 'ptype', 'principal.type': 'ptype', 'auditeventauthor.principal.type': 'ptype',
};

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
    this.vocab = {};
    this.items = [];
    this.sel = -1;
    input.addEventListener('input', () => { this.clearError(); this.complete(); });
    input.addEventListener('keydown', (e) => this.onKey(e));
    input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
    input.addEventListener('scroll', () => { mirror.scrollLeft = input.scrollLeft; });
  }

  setVocab(v) { this.vocab = v || {}; }

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
      const values = field === 'is' ? ['login', 'system'] : (this.vocab[VOCAB_OF[field]] || []);
      const p = prefix.toLowerCase();
      items = values.filter((v) => v.toLowerCase().startsWith(p) && v !== prefix).slice(0, 12)
        .map((v) => ({ label: v, insert: /[\s,()"]/.test(v) ? JSON.stringify(v) : v, from: valueStart }));
    } else if (token.length >= 1 && !/^["\d]/.test(token)) {
      const p = token.toLowerCase();
      items = FIELD_NAMES.filter((f) => f.toLowerCase().startsWith(p) && f.toLowerCase() !== p).slice(0, 12)
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
