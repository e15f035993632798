// Saved filters: name, query and visibility ("Only me" / "Everyone"). Kept in localStorage
// when working on local files, and through the API's /v1/filters when connected.

import { el } from './format.js';
import { filtersApi } from './api.js';

const KEY = 'trailsift.savedFilters';

function loadLocal() {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) || '[]');
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

export class SavedFilters {
  constructor({ list, conn, onApply, onError }) {
    this.list = list;
    this.conn = conn;
    this.onApply = onApply;
    this.onError = onError;
    this.items = [];
  }

  async refresh() {
    const c = this.conn();
    try {
      if (c) {
        const r = await filtersApi.list(c);
        this.items = (Array.isArray(r) ? r : r.filters || r.items || []).map((f) => ({ ...f, remote: true }));
      } else {
        this.items = loadLocal();
      }
    } catch (e) {
      this.onError(`Saved filters: ${e.message}`);
      this.items = [];
    }
    this.render();
  }

  async save({ name, query, structured, visibility }) {
    const c = this.conn();
    try {
      if (c) {
        await filtersApi.create(c, { name, query, visibility });
      } else {
        const items = loadLocal();
        const id = `f-${Date.now().toString(36)}`;
        items.push({ id, name, query, structured, visibility, owner: 'me' });
        localStorage.setItem(KEY, JSON.stringify(items));
      }
    } catch (e) {
      this.onError(`Could not save the filter: ${e.message}`);
    }
    await this.refresh();
  }

  async remove(f) {
    const c = this.conn();
    try {
      if (c && f.remote) await filtersApi.remove(c, f.id);
      else localStorage.setItem(KEY, JSON.stringify(loadLocal().filter((x) => x.id !== f.id)));
    } catch (e) {
      this.onError(`Could not delete the filter: ${e.message}`);
    }
    await this.refresh();
  }

  render() {
    this.list.replaceChildren();
    if (!this.items.length) {
      this.list.appendChild(el('li', { class: 'hint' }, 'No saved filters yet.'));
      return;
    }
    for (const f of this.items) {
      const li = el('li', { class: 'saved-item' });
      const apply = el('button', { type: 'button', class: 'saved-apply', title: f.query || '' }, f.name);
      apply.addEventListener('click', () => this.onApply(f));
      const vis = el('span', { class: 'hint' }, f.visibility === 'account' ? 'everyone' : 'only me');
      const del = el('button', { type: 'button', class: 'saved-delete', 'aria-label': `Delete saved filter ${f.name}` }, '×');
      del.addEventListener('click', () => this.remove(f));
      li.append(apply, vis, del);
      this.list.appendChild(li);
    }
  }
}
