// The loaded events, kept compact: the NDJSON bytes in blocks of whole lines, and per event
// a few typed columns (time, and dictionary ids for the table, facet and sort fields). The
// event JSON is parsed once while loading and again only for the detail panel.

const BLOCK = 1 << 20; // bytes per block: one filter call, and the most text parsed at once

class Dict {
  constructor() { this.ids = new Map(); this.values = ['']; this.counts = [0]; }
  id(v) {
    if (v === undefined || v === null || v === '') return 0;
    const s = typeof v === 'string' ? v : String(v);
    let id = this.ids.get(s);
    if (id === undefined) { id = this.values.length; this.ids.set(s, id); this.values.push(s); this.counts.push(0); }
    this.counts[id]++;
    return id;
  }
}

class Col {
  constructor(Type) { this.Type = Type; this.a = new Type(1024); this.n = 0; }
  push(v) {
    if (this.n === this.a.length) { const b = new this.Type(this.a.length * 2); b.set(this.a); this.a = b; }
    this.a[this.n++] = v;
  }
  get(i) { return this.a[i]; }
  trim() { if (this.a.length > this.n) this.a = this.a.slice(0, Math.max(this.n, 1)); }
}

export const COLUMNS = ['time', 'user', 'action', 'resource', 'org', 'project', 'module'];
const DICT_FIELDS = ['user', 'action', 'rtype', 'rid', 'org', 'project', 'module', 'ptype', 'account'];

export function eventTime(v) {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (/^\d+$/.test(v)) return Number(v);
    const t = Date.parse(v);
    return Number.isNaN(t) ? NaN : t;
  }
  return NaN;
}

export class Store {
  constructor() { this.reset(); }

  reset() {
    this.blocks = [];
    this.blockFirst = []; // first event index of each block
    this.n = 0;
    this.bytes = 0;
    this.blk = new Col(Uint32Array);
    this.off = new Col(Uint32Array);
    this.len = new Col(Uint32Array);
    this.time = new Col(Float64Array);
    this.d = {};
    this.c = {};
    for (const f of DICT_FIELDS) { this.d[f] = new Dict(); this.c[f] = new Col(Uint32Array); }
    this.rejected = [];
    this.rejectedCount = 0;
    this.lineNo = 0;
    this.pending = [];
    this.pendingBytes = 0;
    this.matches = new Uint32Array(0);
    this.order = new Uint32Array(0);
    this.sort = this.sort || { column: 'time', dir: 'desc' };
    this.decoder = new TextDecoder();
  }

  // Takes raw NDJSON bytes in chunks of any size.
  push(chunk) {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= BLOCK) this.flush(false);
  }

  finish() {
    this.flush(true);
    // Give back the growth slack of the columns.
    for (const col of [this.blk, this.off, this.len, this.time, ...Object.values(this.c)]) col.trim();
  }

  flush(final) {
    if (!this.pendingBytes) return;
    const all = this.pending.length === 1 ? this.pending[0] : concatBytes(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    let cut = all.lastIndexOf(10) + 1;
    if (final) cut = all.length;
    if (cut < all.length) { const rest = all.slice(cut); this.pending.push(rest); this.pendingBytes = rest.length; }
    if (cut > 0) this.addBlock(all.subarray(0, cut), final);
  }

  addBlock(bytes, final) {
    if (final && bytes[bytes.length - 1] !== 10) {
      const b = new Uint8Array(bytes.length + 1); b.set(bytes); b[bytes.length] = 10; bytes = b;
    } else if (bytes.byteOffset !== 0 || bytes.length !== bytes.buffer.byteLength) {
      bytes = bytes.slice(); // own the memory so the rest of the chunk can go
    }
    const text = this.decoder.decode(bytes);
    const lines = text.split('\n');
    const b = this.blocks.length;
    const first = this.n;
    let pos = 0;
    let bad = false;
    const keep = []; // [start, end] of lines kept, used only when a bad line forces a copy
    for (let i = 0; i < lines.length; i++) {
      const nl = bytes.indexOf(10, pos);
      if (nl < 0) break;
      const start = pos;
      pos = nl + 1;
      this.lineNo++;
      const line = lines[i];
      if (!line.trim()) continue;
      let ev;
      try { ev = JSON.parse(line); } catch (e) { ev = e; }
      if (!ev || typeof ev !== 'object' || Array.isArray(ev) || ev instanceof Error) {
        bad = true;
        this.rejectedCount++;
        if (this.rejected.length < 20) this.rejected.push({ line: this.lineNo, message: ev instanceof Error ? ev.message : 'not a JSON object' });
        continue;
      }
      keep.push(start, nl);
      this.addEvent(ev, b, start, nl - start);
    }
    if (bad) {
      // Hand the filter only the lines that are events; offsets are rewritten to the copy.
      let size = 0;
      for (let k = 0; k < keep.length; k += 2) size += keep[k + 1] - keep[k] + 1;
      const copy = new Uint8Array(size);
      let o = 0;
      for (let k = 0, i = first; k < keep.length; k += 2, i++) {
        const l = keep[k + 1] - keep[k];
        copy.set(bytes.subarray(keep[k], keep[k + 1] + 1), o);
        this.off.a[i] = o;
        o += l + 1;
      }
      bytes = copy;
    }
    this.blocks.push(bytes);
    this.blockFirst.push(first);
    this.bytes += bytes.length;
  }

  addEvent(ev, b, off, len) {
    this.blk.push(b);
    this.off.push(off);
    this.len.push(len);
    this.time.push(eventTime(ev.auditEventTime));
    const p = (ev.auditEventAuthor && ev.auditEventAuthor.principal) || {};
    const r = ev.auditResource || {};
    const s = ev.auditResourceScope || {};
    this.c.user.push(this.d.user.id(p.email || p.identifier));
    this.c.action.push(this.d.action.id(ev.auditAction));
    this.c.rtype.push(this.d.rtype.id(r.type));
    this.c.rid.push(this.d.rid.id(r.identifier));
    this.c.org.push(this.d.org.id(s.orgIdentifier));
    this.c.project.push(this.d.project.id(s.projectIdentifier));
    this.c.module.push(this.d.module.id(ev.auditModule));
    this.c.ptype.push(this.d.ptype.id(p.type));
    this.c.account.push(this.d.account.id(s.accountIdentifier));
    this.n++;
  }

  // Online pages arrive as event objects; they are kept as NDJSON lines like a file.
  pushEvents(events) {
    if (!events.length) return;
    const enc = new TextEncoder();
    const lines = events.map((e) => JSON.stringify(e));
    const bytes = enc.encode(lines.join('\n') + '\n');
    const b = this.blocks.length;
    const first = this.n;
    let pos = 0;
    for (let i = 0; i < events.length; i++) {
      const nl = bytes.indexOf(10, pos);
      this.addEvent(events[i], b, pos, nl - pos);
      pos = nl + 1;
    }
    this.blocks.push(bytes);
    this.blockFirst.push(first);
    this.bytes += bytes.length;
  }

  // Bytes of the stored lines and typed columns (dictionaries not counted).
  heldBytes() {
    let n = 0;
    for (const b of this.blocks) n += b.byteLength;
    for (const col of [this.blk, this.off, this.len, this.time, ...Object.values(this.c)]) n += col.a.byteLength;
    return n + this.matches.byteLength + this.order.byteLength;
  }

  summary() {
    let min = Infinity, max = -Infinity;
    const t = this.time.a;
    for (let i = 0; i < this.n; i++) { const v = t[i]; if (v < min) min = v; if (v > max) max = v; }
    return { events: this.n, bytes: this.bytes, minTime: Number.isFinite(min) ? min : null, maxTime: Number.isFinite(max) ? max : null, rejectedCount: this.rejectedCount, rejected: this.rejected };
  }

  matchAll() {
    const m = new Uint32Array(this.n);
    for (let i = 0; i < this.n; i++) m[i] = i;
    this.matches = m;
  }

  // `filterBlock(bytes)` returns the matching lines of a block, unchanged and in order; each
  // output line is found again in the block to learn which events matched.
  matchWith(filterBlock, onProgress) {
    const out = new Uint32Array(this.n);
    let k = 0;
    for (let b = 0; b < this.blocks.length; b++) {
      const block = this.blocks[b];
      let res = filterBlock(block);
      if (typeof res === 'string') res = new TextEncoder().encode(res);
      const first = this.blockFirst[b];
      const last = b + 1 < this.blocks.length ? this.blockFirst[b + 1] : this.n;
      let i = first;
      let pos = 0;
      while (pos < res.length) {
        let nl = res.indexOf(10, pos);
        if (nl < 0) nl = res.length;
        let end = nl;
        if (end > pos && res[end - 1] === 13) end--;
        const l = end - pos;
        if (l > 0) {
          while (i < last && !this.sameLine(block, i, res, pos, l)) i++;
          if (i < last) out[k++] = i++;
        }
        pos = nl + 1;
      }
      if (onProgress) onProgress(b + 1, this.blocks.length);
    }
    this.matches = out.slice(0, k);
  }

  sameLine(block, i, res, pos, l) {
    const off = this.off.a[i];
    let len = this.len.a[i];
    if (len > 0 && block[off + len - 1] === 13) len--;
    if (len !== l) return false;
    for (let j = 0; j < l; j++) if (block[off + j] !== res[pos + j]) return false;
    return true;
  }

  setSort(column, dir) { this.sort = { column, dir: dir === 'asc' ? 'asc' : 'desc' }; }

  sortMatches() {
    const { column, dir } = this.sort;
    const m = this.matches.slice();
    const sign = dir === 'asc' ? 1 : -1;
    if (column === 'time') {
      const t = this.time.a;
      m.sort((a, b) => (t[a] - t[b] || a - b) * sign);
    } else {
      const fields = column === 'resource' ? ['rtype', 'rid'] : [column];
      const ranks = fields.map((f) => rankOf(this.d[f].values));
      const cols = fields.map((f) => this.c[f].a);
      const r0 = ranks[0], c0 = cols[0];
      const r1 = ranks[1], c1 = cols[1];
      m.sort((a, b) => {
        let d = r0[c0[a]] - r0[c0[b]];
        if (!d && r1) d = r1[c1[a]] - r1[c1[b]];
        return (d || a - b) * sign;
      });
    }
    this.order = m;
  }

  view() {
    return {
      count: this.matches.length,
      total: this.n,
      sort: this.sort,
      histogram: this.histogram(),
      facets: {
        user: this.top('user'),
        action: this.top('action'),
        resourceType: this.top('rtype'),
        module: this.top('module'),
      },
    };
  }

  top(field, k = 10) {
    const d = this.d[field];
    const counts = new Uint32Array(d.values.length);
    const col = this.c[field].a;
    const m = this.matches;
    for (let j = 0; j < m.length; j++) counts[col[m[j]]]++;
    const ids = [];
    for (let id = 1; id < counts.length; id++) if (counts[id]) ids.push(id);
    ids.sort((a, b) => counts[b] - counts[a] || (d.values[a] < d.values[b] ? -1 : 1));
    return ids.slice(0, k).map((id) => ({ value: d.values[id], count: counts[id] }));
  }

  histogram() {
    const t = this.time.a;
    const m = this.matches;
    let min = Infinity, max = -Infinity;
    for (let j = 0; j < m.length; j++) { const v = t[m[j]]; if (v < min) min = v; if (v > max) max = v; }
    if (!Number.isFinite(min)) return { bucketMs: 0, buckets: [] };
    const bucketMs = niceBucket(max - min);
    const start = Math.floor(min / bucketMs) * bucketMs;
    const nb = Math.floor((max - start) / bucketMs) + 1;
    const counts = new Uint32Array(nb);
    for (let j = 0; j < m.length; j++) { const v = t[m[j]]; if (Number.isFinite(v)) counts[Math.floor((v - start) / bucketMs)]++; }
    const buckets = [];
    for (let i = 0; i < nb; i++) buckets.push({ start: start + i * bucketMs, end: start + (i + 1) * bucketMs, count: counts[i] });
    return { bucketMs, buckets };
  }

  rows(start, end) {
    const out = [];
    const o = this.order;
    end = Math.min(end, o.length);
    for (let r = Math.max(0, start); r < end; r++) {
      const i = o[r];
      const rid = this.d.rid.values[this.c.rid.a[i]];
      const rtype = this.d.rtype.values[this.c.rtype.a[i]];
      out.push({
        row: r,
        index: i,
        time: this.time.a[i],
        user: this.d.user.values[this.c.user.a[i]],
        action: this.d.action.values[this.c.action.a[i]],
        resource: rid ? `${rtype} ${rid}` : rtype,
        resourceType: rtype,
        org: this.d.org.values[this.c.org.a[i]],
        project: this.d.project.values[this.c.project.a[i]],
        module: this.d.module.values[this.c.module.a[i]],
        principalType: this.d.ptype.values[this.c.ptype.a[i]],
      });
    }
    return { start, rows: out };
  }

  line(i) {
    const block = this.blocks[this.blk.a[i]];
    const off = this.off.a[i];
    return this.decoder.decode(block.subarray(off, off + this.len.a[i]));
  }

  detail(i) {
    const text = this.line(i);
    let pretty = text;
    try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch { /* show the line as is */ }
    return { index: i, json: pretty };
  }

  vocab(k = 200) {
    const out = {};
    for (const f of DICT_FIELDS) {
      const d = this.d[f];
      const ids = [];
      for (let id = 1; id < d.values.length; id++) ids.push(id);
      ids.sort((a, b) => d.counts[b] - d.counts[a]);
      out[f] = ids.slice(0, k).map((id) => d.values[id]);
    }
    return out;
  }
}

function rankOf(values) {
  const idx = values.map((_, i) => i);
  idx.sort((a, b) => (values[a] < values[b] ? -1 : values[a] > values[b] ? 1 : 0));
  const rank = new Uint32Array(values.length);
  idx.forEach((id, r) => { rank[id] = r; });
  rank[0] = values.length; // missing values sort last
  return rank;
}

const STEPS = [1e3, 5e3, 15e3, 60e3, 5 * 60e3, 15 * 60e3, 3600e3, 3 * 3600e3, 6 * 3600e3, 12 * 3600e3, 86400e3, 7 * 86400e3, 30 * 86400e3, 91 * 86400e3, 365 * 86400e3];

export function niceBucket(span, maxBuckets = 120) {
  for (const s of STEPS) if (span / s < maxBuckets) return s;
  return Math.ceil(span / maxBuckets);
}

function concatBytes(parts, n) {
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
