// The results table: only the rows in view exist in the DOM; their data is fetched from the
// engine in pages and cached, so 100k+ rows scroll at a steady frame rate.

import { el, fmtTime } from './format.js';

const ROW_H = 28;
export const PAGE = 200; // rows fetched at once (the engine sends the first page with a view)
const OVERSCAN = 8;
const MAX_PX = 15_000_000; // stay well below the browsers' maximum element height

export const CELLS = [
  ['time', 'c-time', (r) => fmtTime(r.time)],
  ['user', 'c-user', (r) => r.user],
  ['action', 'c-action', (r) => r.action],
  ['resource', 'c-resource', (r) => r.resource],
  ['org', 'c-org', (r) => r.org],
  ['project', 'c-project', (r) => r.project],
  ['module', 'c-module', (r) => r.module],
];

export class VirtualTable {
  constructor({ root, viewport, spacer, fetchRows, onOpen, onSort, onEnd }) {
    this.onEnd = onEnd; // called when the last row comes into view (online paging)
    this.root = root;
    this.viewport = viewport;
    this.spacer = spacer;
    this.fetchRows = fetchRows;
    this.onOpen = onOpen;
    this.count = 0;
    this.generation = 0;
    this.cache = new Map(); // page number -> rows
    this.loading = new Set();
    this.rowEls = new Map(); // row number -> element
    this.active = -1;
    this.scale = 1;
    // The viewport's scrollTop and height as last seen: reading them while drawing would
    // force a layout of the page before the frame's own.
    this.top = 0;
    this.vh = 600;
    viewport.addEventListener('scroll', () => { this.top = viewport.scrollTop; this.schedule(); }, { passive: true });
    new ResizeObserver(([e]) => { this.vh = e.contentRect.height || 600; this.schedule(); }).observe(viewport);
    viewport.addEventListener('keydown', (e) => this.onKey(e));
    spacer.addEventListener('click', (e) => {
      const row = e.target.closest('[data-row]');
      if (row) this.select(Number(row.dataset.row), true);
    });
    root.querySelectorAll('[data-col]').forEach((b) => b.addEventListener('click', () => {
      const col = b.dataset.col;
      const cur = this.sort || { column: 'time', dir: 'desc' };
      const dir = cur.column === col && cur.dir === 'desc' ? 'asc' : cur.column === col ? 'desc' : (col === 'time' ? 'desc' : 'asc');
      onSort(col, dir);
    }));
  }

  setSort(sort) {
    this.sort = sort;
    this.root.querySelectorAll('[role=columnheader]').forEach((h) => {
      const col = h.querySelector('[data-col]').dataset.col;
      h.setAttribute('aria-sort', col === sort.column ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none');
    });
  }

  // New result set: forget cached rows, keep the scroll position only if asked.
  // `firstPage`: the first rows, when the engine sent them with the view.
  reset(count, keepScroll = false, firstPage = null) {
    this.generation++;
    this.count = count;
    this.cache.clear();
    this.loading.clear();
    if (firstPage && firstPage.start === 0) this.cache.set(0, firstPage.rows);
    // The row elements stay and are filled again (making them anew each view cost a
    // layout and paint of every row).
    for (const e of this.rowEls.values()) e.dataset.filled = '0';
    const h = count * ROW_H;
    this.scale = h > MAX_PX ? MAX_PX / h : 1;
    this.spacer.style.height = `${Math.round(h * this.scale)}px`;
    this.root.setAttribute('aria-rowcount', String(count + 1));
    if (!keepScroll) {
      if (this.top) this.viewport.scrollTop = this.top = 0;
      this.active = -1;
    }
    // Rows are drawn at the next frame, once the page is laid out anyway (drawing them now
    // would lay out the whole page a second time).
    this.schedule();
  }

  schedule() {
    if (this.raf) return;
    this.raf = requestAnimationFrame(() => { this.raf = 0; this.render(); });
  }

  firstVisible() {
    return Math.floor(this.viewport.scrollTop / this.scale / ROW_H);
  }

  render() {
    // Layout is read once, before any row is written: reading it between writes would lay
    // the page out again for every row.
    const vh = this.vh;
    const top = this.top;
    const visible = Math.floor(top / this.scale / ROW_H);
    const first = Math.max(0, visible - OVERSCAN);
    const last = Math.min(this.count, visible + Math.ceil(vh / ROW_H) + OVERSCAN);
    for (const [r, e] of this.rowEls) {
      if (r < first || r >= last) { e.remove(); this.rowEls.delete(r); }
    }
    if (this.count && last >= this.count && this.onEnd) this.onEnd();
    for (let r = first; r < last; r++) {
      const data = this.rowData(r);
      let e = this.rowEls.get(r);
      if (e && e.dataset.filled === '1') { this.position(e, r, top); continue; }
      if (!e) {
        e = el('div', { class: 'tr', role: 'row', 'aria-rowindex': r + 2, 'data-row': r });
        for (const [, cls] of CELLS) e.appendChild(el('div', { class: `td ${cls}`, role: 'cell' }));
        this.spacer.appendChild(e);
        this.rowEls.set(r, e);
      }
      this.position(e, r, top);
      this.fill(e, data);
    }
  }

  position(e, r, top) {
    // With a scaled spacer (huge results), rows are laid out from the scroll position.
    const y = this.scale === 1 ? r * ROW_H : top + r * ROW_H - top / this.scale;
    const transform = `translateY(${Math.round(y)}px)`;
    if (e.style.transform !== transform) e.style.transform = transform;
    e.classList.toggle('active', r === this.active);
    if (r === this.active) e.setAttribute('aria-selected', 'true'); else e.removeAttribute('aria-selected');
  }

  // Fills a row with `data`, or empties it until its rows arrive; cells keep what did not change.
  fill(e, data) {
    const cells = e.children;
    CELLS.forEach(([, , get], k) => {
      const v = data ? get(data) ?? '' : '';
      if (cells[k].textContent !== v) {
        cells[k].textContent = v;
        cells[k].title = v;
      }
    });
    if (data) e.dataset.index = String(data.index);
    const filled = data ? '1' : '0';
    if (e.dataset.filled !== filled) e.dataset.filled = filled;
  }

  rowData(r) {
    const p = Math.floor(r / PAGE);
    const page = this.cache.get(p);
    if (page) return page[r - p * PAGE];
    if (!this.loading.has(p)) {
      this.loading.add(p);
      const gen = this.generation;
      this.fetchRows(p * PAGE, Math.min(this.count, (p + 1) * PAGE)).then((res) => {
        if (gen !== this.generation) return;
        this.cache.set(p, res.rows);
        this.loading.delete(p);
        if (this.cache.size > 50) this.cache.delete(this.cache.keys().next().value);
        this.render();
      }).catch(() => this.loading.delete(p));
    }
    return null;
  }

  select(r, open) {
    if (r < 0 || r >= this.count) return;
    this.active = r;
    const top = r * ROW_H * this.scale;
    const vt = this.top;
    const vh = this.vh;
    if (top < vt) this.viewport.scrollTop = this.top = top;
    else if (top + ROW_H > vt + vh) this.viewport.scrollTop = this.top = top + ROW_H - vh;
    this.render();
    const data = this.rowData(r);
    if (open && data) this.onOpen(data);
    else if (open) setTimeout(() => { const d = this.rowData(r); if (d) this.onOpen(d); }, 50);
  }

  onKey(e) {
    const vh = Math.max(1, Math.floor(this.viewport.clientHeight / ROW_H) - 1);
    const cur = this.active < 0 ? this.firstVisible() - 1 : this.active;
    let next = null;
    if (e.key === 'ArrowDown') next = cur + 1;
    else if (e.key === 'ArrowUp') next = cur - 1;
    else if (e.key === 'PageDown') next = cur + vh;
    else if (e.key === 'PageUp') next = cur - vh;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = this.count - 1;
    else if (e.key === 'Enter' && this.active >= 0) { e.preventDefault(); this.select(this.active, true); return; }
    if (next === null) return;
    e.preventDefault();
    this.select(Math.max(0, Math.min(this.count - 1, next)), false);
  }
}
