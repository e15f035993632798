// The loaded events, for the engine worker: the package's Table holds the lines and their
// columns (read once, in wasm) and decides filters; this keeps a copy of the columns the
// views read (value indexes per row, the distinct values, the times) and builds the views
// from them: the matching rows in the chosen order, the facets and the histogram. Nothing
// here parses an event or a time.

// Rows sent with each view, so that the table shows them without asking (table.js PAGE).
const FIRST_PAGE = 200;

class Grow {
  constructor(Type) { this.Type = Type; this.a = new Type(1024); this.n = 0; }
  append(src) {
    if (this.n + src.length > this.a.length) {
      const b = new this.Type(Math.max(this.a.length * 2, this.n + src.length));
      b.set(this.a.subarray(0, this.n));
      this.a = b;
    }
    this.a.set(src, this.n);
    this.n += src.length;
  }
  view() { return this.a.subarray(0, this.n); }
}

// `columns`: the path of the time, and of each column a view shows, by name: user, action,
// rtype, rid, org, project, module, ptype, and any other by its path (engine-worker.js
// takes them from the package's field catalog).
export class Store {
  constructor(pkg, { time, ...columns }) {
    this.pkg = pkg;
    this.timePath = time;
    this.names = columns;
    this.sort = { column: 'time', dir: 'desc' };
    this.table = null;
    this.reset();
  }

  reset() {
    if (this.table) this.table.free();
    this.table = new this.pkg.Table();
    this.n = 0;
    this.times = new Grow(Float64Array);
    this.ids = {};
    this.values = {};
    for (const c of Object.keys(this.names)) { this.ids[c] = new Grow(Uint32Array); this.values[c] = ['']; }
    this.bytes = 0;
    this.setFilter(null);
    this.orders = new Map(); // sort key -> every row in that order (valid for this.n rows)
  }

  // The filter the views show; `null` matches every row. The caller frees filters.
  setFilter(filter) {
    this.filter = filter;
    this.matched = new Grow(Uint32Array);
    this.matchedTo = 0;
  }

  // Appends a block of whole NDJSON lines (and its columns, read by a shard worker).
  push(block, firstLine, columns) {
    this.bytes += block.length;
    const from = this.n;
    this.table.push(block, firstLine, columns);
    this.n = this.table.rows;
    this.mirror(from);
    this.orders.clear();
  }

  mirror(from) {
    this.times.append(this.table.times(from));
    for (const [c, path] of Object.entries(this.names)) {
      this.ids[c].append(this.table.ids(path, from));
      const values = this.values[c];
      for (const v of this.table.values(path, values.length)) values.push(v);
    }
  }

  // Runs the filter over the rows not looked at yet.
  matchUpTo() {
    if (this.matchedTo >= this.n) return;
    if (this.filter) this.matched.append(this.table.filter(this.filter, this.matchedTo));
    else { const all = new Uint32Array(this.n - this.matchedTo); for (let i = 0; i < all.length; i++) all[i] = this.matchedTo + i; this.matched.append(all); }
    this.matchedTo = this.n;
  }

  matches() {
    this.matchUpTo();
    return this.matched.view();
  }

  setSort(column, dir) { this.sort = { column, dir: dir === 'asc' ? 'asc' : 'desc' }; }

  // Every row in the chosen order, ties by row, absent values last (descending: the exact
  // reverse); kept until rows are added.
  fullOrder() {
    const key = `${this.sort.column} ${this.sort.dir}`;
    let o = this.orders.get(key);
    if (!o) {
      o = this.sorted(null);
      this.orders.set(key, o);
    }
    return o;
  }

  // `rows` (ascending; null: every row) in the chosen order.
  sorted(rows) {
    const { column, dir } = this.sort;
    const n = rows ? rows.length : this.n;
    const row = rows ? (i) => rows[i] : (i) => i;
    const o = column === 'time' ? this.byTime(n, row) : column === 'resource' ? this.byValues(n, row, 'rtype', 'rid') : this.byValues(n, row, column);
    if (dir === 'desc') o.reverse();
    return o;
  }

  // The matching rows in the chosen order: few are sorted themselves, many are picked from
  // the order of every row, as far as they are asked for (`upTo`): a view shows its first
  // page only, and the rest is picked when the table scrolls to it.
  order() {
    const m = this.matches();
    if (m.length === this.n) return complete(this.fullOrder());
    if (m.length * 16 < this.n && !this.orders.has(`${this.sort.column} ${this.sort.dir}`)) return complete(this.sorted(m));
    const all = this.fullOrder();
    const hit = new Uint8Array(this.n);
    for (let j = 0; j < m.length; j++) hit[m[j]] = 1;
    const rows = new Uint32Array(m.length);
    let j = 0, k = 0;
    return {
      length: m.length,
      rows,
      upTo(end) {
        while (k < end && j < all.length) { const r = all[j++]; if (hit[r]) rows[k++] = r; }
      },
    };
  }

  // The first `k` matching rows by time in the order byTime gives (absent times last,
  // ties by row; descending: the exact reverse), found in one pass that keeps the best few;
  // the whole order is made if rows beyond them are asked for.
  firstByTime(k) {
    const m = this.matches();
    const t = this.times.a;
    let min = Infinity;
    for (let j = 0; j < m.length; j++) if (t[m[j]] < min) min = t[m[j]];
    const absent = (i) => (t[i] - min >= 0 && t[i] - min < 2 ** 44 ? 0 : 1);
    const asc = (a, b) => absent(a) - absent(b) || (absent(a) ? 0 : t[a] - t[b]) || a - b;
    const desc = this.sort.dir === 'desc';
    const cmp = desc ? (a, b) => asc(b, a) : asc;
    const best = [];
    let worst = -1; // the k-th row so far, once `best` was cut to k
    // Descending, from the end: the rows read last are often the newest, which makes the
    // k-th row a good bound early.
    for (let x = 0; x < m.length; x++) {
      const i = m[desc ? m.length - 1 - x : x];
      if (worst >= 0 && cmp(worst, i) < 0) continue;
      best.push(i);
      if (best.length >= 4 * k) { best.sort(cmp); best.length = k; worst = best[k - 1]; }
    }
    best.sort(cmp);
    if (best.length > k) best.length = k;
    const store = this;
    return {
      length: m.length,
      rows: Uint32Array.from(best),
      upTo(end) {
        if (end <= this.rows.length) return;
        const whole = store.order();
        whole.upTo(end);
        this.rows = whole.rows;
        this.upTo = (e) => whole.upTo(e);
      },
    };
  }

  // The `n` rows `row(i)` by time.
  byTime(n, row) {
    const t = this.times.a;
    let min = Infinity;
    for (let i = 0; i < n; i++) if (t[row(i)] < min) min = t[row(i)];
    // Key: the time since the earliest (44 bits) and the position i (20 bits).
    const hi = new Uint32Array(n), lo = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const k = t[row(i)] - min;
      if (!(k >= 0 && k < 2 ** 44)) { hi[i] = 0xffffffff; lo[i] = i; continue; }
      hi[i] = Math.floor(k / 4096);
      lo[i] = ((k % 4096) * 2 ** 20 + i) >>> 0;
    }
    const at = (a) => t[row(a)];
    const order = n < 2 ** 20 ? sortKeys(hi, lo, 2 ** 20 - 1) : slowSort(n, (a, b) => (at(a) - at(b)) || (at(a) === at(a) ? 0 : 1) - (at(b) === at(b) ? 0 : 1));
    return order.map(row);
  }

  // The `n` rows `row(i)` by the values of column c (then c2), as text.
  byValues(n, row, c, c2) {
    const rank = (col) => {
      const values = this.values[col];
      const ids = values.map((_, i) => i).slice(1).sort((a, b) => (values[a] < values[b] ? -1 : values[a] > values[b] ? 1 : 0));
      const r = new Uint32Array(values.length).fill(values.length);
      ids.forEach((id, i) => { r[id] = i; });
      return r;
    };
    const r1 = rank(c), ids1 = this.ids[c].a;
    const r2 = c2 && rank(c2), ids2 = c2 && this.ids[c2].a;
    const width = c2 ? this.values[c2].length + 1 : 1;
    const hi = new Uint32Array(n), lo = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      hi[i] = r1[ids1[row(i)]] * width + (c2 ? r2[ids2[row(i)]] : 0);
      lo[i] = i;
    }
    const order = (this.values[c].length + 1) * width < 2 ** 32 ? sortKeys(hi, lo, 0xffffffff)
      : slowSort(n, (a, b) => r1[ids1[row(a)]] - r1[ids1[row(b)]] || r2[ids2[row(a)]] - r2[ids2[row(b)]]);
    return order.map(row);
  }

  // `partial`: a view shown while a file loads, one a second; its first page is picked
  // from the rows read so far instead of sorting them all each time.
  view({ partial = false } = {}) {
    this.ordered = partial && this.sort.column === 'time' ? this.firstByTime(FIRST_PAGE) : this.order();
    return {
      page: this.rows(0, FIRST_PAGE),
      count: this.ordered.length,
      total: this.n,
      sort: this.sort,
      histogram: this.histogram(),
      facets: this.facets(),
    };
  }

  // The top values of the facets' columns among the matching rows, counted in one pass.
  facets() {
    const m = this.matches();
    const [u, a, t, d] = ['user', 'action', 'rtype', 'module'].map((c) => [this.ids[c].a, new Uint32Array(this.values[c].length)]);
    for (let j = 0; j < m.length; j++) {
      const i = m[j];
      u[1][u[0][i]]++;
      a[1][a[0][i]]++;
      t[1][t[0][i]]++;
      d[1][d[0][i]]++;
    }
    return { user: this.top('user', u[1]), action: this.top('action', a[1]), resourceType: this.top('rtype', t[1]), module: this.top('module', d[1]) };
  }

  // The `k` values of column `c` with the highest `counts` (by value id).
  top(c, counts, k = 10) {
    const values = this.values[c];
    const top = [];
    for (let id = 1; id < counts.length; id++) if (counts[id]) top.push(id);
    top.sort((a, b) => counts[b] - counts[a] || (values[a] < values[b] ? -1 : 1));
    return top.slice(0, k).map((id) => ({ value: values[id], count: counts[id] }));
  }

  histogram() {
    const t = this.times.a;
    const m = this.matches();
    let min = Infinity, max = -Infinity;
    for (let j = 0; j < m.length; j++) { const v = t[m[j]]; if (v < min) min = v; if (v > max) max = v; }
    if (!Number.isFinite(min)) return { bucketMs: 0, buckets: [] };
    const bucketMs = niceBucket(max - min);
    const start = Math.floor(min / bucketMs) * bucketMs;
    const counts = new Uint32Array(Math.floor((max - start) / bucketMs) + 1);
    for (let j = 0; j < m.length; j++) { const v = t[m[j]]; if (v === v) counts[Math.floor((v - start) / bucketMs)]++; }
    const buckets = [];
    for (let i = 0; i < counts.length; i++) buckets.push({ start: start + i * bucketMs, end: start + (i + 1) * bucketMs, count: counts[i] });
    return { bucketMs, buckets };
  }

  value(c, row) { return this.values[c][this.ids[c].a[row]]; }

  rows(start, end) {
    const out = [];
    const o = this.ordered || (this.ordered = this.order());
    end = Math.min(end, o.length);
    o.upTo(end);
    for (let r = Math.max(0, start); r < end; r++) {
      const i = o.rows[r];
      const rid = this.value('rid', i);
      const rtype = this.value('rtype', i);
      out.push({
        row: r,
        index: i,
        time: this.times.a[i],
        user: this.value('user', i),
        action: this.value('action', i),
        resource: rid ? `${rtype} ${rid}` : rtype,
        resourceType: rtype,
        org: this.value('org', i),
        project: this.value('project', i),
        module: this.value('module', i),
        principalType: this.value('ptype', i),
      });
    }
    return { start, rows: out };
  }

  // The matching lines as NDJSON, as `trailsift filter` writes them.
  lines() { return this.table.lines(this.matches()); }

  detail(i) {
    const text = new TextDecoder().decode(this.table.lines(Uint32Array.of(i))).trimEnd();
    let pretty = text;
    try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch { /* show the line as it is */ }
    return { index: i, json: pretty };
  }

  // The values of each column, most frequent first (for completion and the form's lists).
  vocab(k = 200) {
    const out = {};
    for (const c of Object.keys(this.names)) {
      const counts = new Uint32Array(this.values[c].length);
      const ids = this.ids[c].view();
      for (let j = 0; j < ids.length; j++) counts[ids[j]]++;
      const order = [];
      for (let id = 1; id < counts.length; id++) if (counts[id]) order.push(id);
      order.sort((a, b) => counts[b] - counts[a]);
      out[this.names[c]] = order.slice(0, k).map((id) => this.values[c][id]);
    }
    return out;
  }

  // Bytes held: the lines and columns in wasm are counted by the engine (wasm memory);
  // these are the JS copies of the columns the views read.
  heldBytes() {
    let n = this.times.a.byteLength + this.matched.a.byteLength;
    for (const g of Object.values(this.ids)) n += g.a.byteLength;
    for (const o of this.orders.values()) n += o.byteLength;
    return n;
  }
}

// An order computed whole.
function complete(rows) {
  return { length: rows.length, rows, upTo() {} };
}

// Positions sorted by a 64-bit key each (`hi` then `lo`, whose low bits under `mask` are
// the position): one native sort of the keys.
function sortKeys(hi, lo, mask) {
  const n = hi.length;
  const keys = new BigUint64Array(n);
  const words = new Uint32Array(keys.buffer);
  for (let i = 0; i < n; i++) { words[2 * i] = lo[i]; words[2 * i + 1] = hi[i]; }
  keys.sort();
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = (words[2 * i] & mask) >>> 0;
  return out;
}

// Positions sorted by `cmp`, ties by position, for keys too wide for sortKeys.
function slowSort(n, cmp) {
  const rows = new Uint32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  return rows.sort((a, b) => cmp(a, b) || a - b);
}

const STEPS = [1e3, 5e3, 15e3, 60e3, 5 * 60e3, 15 * 60e3, 3600e3, 3 * 3600e3, 6 * 3600e3, 12 * 3600e3, 86400e3, 7 * 86400e3, 30 * 86400e3, 91 * 86400e3, 365 * 86400e3];

export function niceBucket(span, maxBuckets = 120) {
  for (const s of STEPS) if (span / s < maxBuckets) return s;
  return Math.ceil(span / maxBuckets);
}
