// The API tokens panel of online mode (an account's admins): lists the account's tokens,
// makes one (its secret is shown once, with a copy button) and revokes one, through
// /v1/tokens. Every value is set as text, never as markup.

import { el } from './format.js';
import { tokensApi } from './api.js';

const when = (iso) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : 'never');

export class TokensPanel {
  /** `root` holds the panel's elements (see index.html #tokens); `conn()` is the connection. */
  constructor({ root, conn, onError }) {
    this.root = root;
    this.conn = conn;
    this.onError = onError;
    this.list = root.querySelector('#tokens-list');
    this.form = root.querySelector('#token-form');
    this.secretBox = root.querySelector('#token-secret');
    this.note = root.querySelector('#tokens-note');
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.create();
    });
    root.querySelector('#token-copy').addEventListener('click', () => this.copy());
    root.querySelector('#token-done').addEventListener('click', () => {
      this.secretBox.hidden = true;
      root.querySelector('#token-secret-value').textContent = '';
      this.form.elements.name.focus();
    });
  }

  /** Shows the panel for the connection and loads the list (a token without admin sees why not). */
  async show() {
    this.root.hidden = false;
    await this.refresh();
  }

  async refresh() {
    const c = this.conn();
    if (!c) return;
    try {
      const r = await tokensApi.list(c);
      this.note.hidden = true;
      this.form.hidden = false;
      this.render(r.tokens || []);
    } catch (e) {
      this.list.replaceChildren();
      this.form.hidden = e.status === 403;
      this.note.hidden = false;
      this.note.textContent = e.status === 403 ? 'Managing tokens needs a token with the admin scope.' : `Tokens: ${e.message}`;
    }
  }

  async create() {
    const f = this.form.elements;
    const scopes = ['ingest', 'read', 'admin'].filter((s) => f[`scope-${s}`].checked);
    const body = { name: f.name.value.trim(), scopes };
    if (f.expires.value.trim()) body.expiresAt = f.expires.value.trim();
    try {
      const made = await tokensApi.create(this.conn(), body);
      this.root.querySelector('#token-secret-value').textContent = made.token;
      this.secretBox.hidden = false;
      this.form.reset();
      this.root.querySelector('#token-copy').focus();
    } catch (e) {
      this.onError(`Could not create the token: ${e.message}`);
    }
    await this.refresh();
  }

  async copy() {
    const value = this.root.querySelector('#token-secret-value');
    const status = this.root.querySelector('#token-copied');
    try {
      await navigator.clipboard.writeText(value.textContent);
      status.textContent = 'Copied.';
    } catch {
      // No clipboard permission: select the text so that Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents(value);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      status.textContent = 'Selected: press Ctrl+C to copy.';
    }
  }

  async revoke(t) {
    try {
      await tokensApi.revoke(this.conn(), t.id);
    } catch (e) {
      this.onError(`Could not revoke the token: ${e.message}`);
    }
    await this.refresh();
    this.form.elements.name.focus();
  }

  render(tokens) {
    this.list.replaceChildren();
    if (!tokens.length) {
      this.list.appendChild(el('li', { class: 'hint' }, 'No API tokens yet.'));
      return;
    }
    for (const t of tokens) {
      const li = el('li', { class: 'token-item', 'data-id': t.id });
      li.append(
        el('strong', { class: 'token-name' }, t.name),
        el('span', { class: 'hint' }, ` ${t.scopes.join(', ')} · ${t.owner}`),
        el('span', { class: 'hint token-times' },
          `expires ${t.expiresAt ? when(t.expiresAt) : 'never'} · last used ${when(t.lastUsedAt)}`),
      );
      // Two steps, so that one stray key press does not revoke a token.
      const revoke = el('button', { type: 'button', class: 'token-revoke', 'aria-label': `Revoke token ${t.name}` }, 'Revoke');
      revoke.addEventListener('click', () => {
        if (revoke.dataset.armed) {
          this.revoke(t);
        } else {
          revoke.dataset.armed = 'yes';
          revoke.textContent = 'Confirm revoke';
          revoke.setAttribute('aria-label', `Confirm: revoke token ${t.name}`);
        }
      });
      li.append(revoke);
      this.list.appendChild(li);
    }
  }
}
