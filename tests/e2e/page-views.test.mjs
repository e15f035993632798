// The page's views, computed by its engine (www/src/store.js over the package's Table, run
// here in Node on the package's Node build): the matching rows come in the chosen order
// whichever part of them is asked for first (the order is picked as far as asked), the
// facets count what the filter matched, and the facets the live view adds to are counted
// on the fields the core names (`countPath`), not on paths written into the page.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, cli } from './helpers.mjs';

const pkg = await import(pathToFileURL(path.join(ROOT, 'pkg/node.mjs')).href);
const { Store } = await import(pathToFileURL(path.join(ROOT, 'www/src/store.js')).href);

// The columns the engine worker gives its store (engine-worker.js viewColumns).
function columns(catalog) {
  const p = Object.fromEntries(catalog.formLists.map((l) => [l.key, l.path]));
  const named = {
    time: catalog.tableFields[0], user: p.users, action: p.actions, rtype: p.resourceTypes,
    rid: p.resourceIdentifiers, org: p.organizations, project: p.projects, module: p.modules, ptype: p.principalTypes,
  };
  for (const f of catalog.tableFields) if (!Object.values(named).includes(f)) named[f] = f;
  return named;
}

const catalog = pkg.fieldCatalog();
const lines = cli(['gen', '--count', '5000', '--seed', '7']);
function load() {
  const store = new Store(pkg, columns(catalog));
  // In three blocks, as the engine appends a file's blocks.
  const cut = [0, 1700, 3300, 5000];
  const all = new TextDecoder().decode(lines).split('\n');
  for (let b = 0; b < 3; b++) store.push(new TextEncoder().encode(all.slice(cut[b], cut[b + 1]).join('\n') + '\n'), cut[b] + 1);
  return store;
}

// The matching rows by time, newest first, ties by row (reverse): the order the view shows.
function expected(store) {
  const m = [...store.matches()];
  return m.sort((a, b) => (store.times.a[b] - store.times.a[a]) || b - a);
}

for (const query of ['-is:login', 'action:FORCE_PUSH,DELETE', '']) {
  test(`rows of \`${query || 'every event'}\` come in order whichever page is asked first`, () => {
    const store = load();
    store.view(); // every row's order is known, as after a load
    const f = query ? pkg.compileFilter(query, { now: Date.now() }) : null;
    store.setFilter(f);
    const view = store.view();
    const want = expected(store);
    assert.equal(view.count, want.length);
    assert.ok(want.length > 0);
    assert.deepEqual(view.page.rows.map((r) => r.index), want.slice(0, 200));
    // Further pages, the last first: each is picked from the order as far as it reaches.
    const starts = [Math.max(0, want.length - 150), Math.floor(want.length / 2), 200];
    for (const start of starts) {
      const got = store.rows(start, start + 100).rows.map((r) => r.index);
      assert.deepEqual(got, want.slice(start, start + 100), `rows from ${start}`);
    }
    if (f) f.free();
  });
}

test('facets count the matching rows of each column', () => {
  const store = load();
  const f = pkg.compileFilter('-is:login', { now: Date.now() });
  store.setFilter(f);
  const { facets } = store.view();
  const m = store.matches();
  for (const [facet, column] of [['user', 'user'], ['action', 'action'], ['resourceType', 'rtype'], ['module', 'module']]) {
    const counts = new Map();
    for (const i of m) { const v = store.value(column, i); if (v) counts.set(v, (counts.get(v) || 0) + 1); }
    const want = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 10).map(([value, count]) => ({ value, count }));
    assert.deepEqual(facets[facet], want, facet);
  }
  f.free();
});

test('the live view counts each facet on a column the store holds, by the core\'s countPath', () => {
  const store = load();
  const held = new Set(Object.values(store.names));
  // The server's `by` names the online view's facets use (engine-worker.js FACET_BY).
  for (const by of ['user', 'action', 'resource.type', 'module']) {
    const p = pkg.countPath(by);
    assert.ok(p && held.has(p), `${by} counts ${p}, a column of the store`);
  }
  // `user` shows the email but counts the principal's identifier, as the Worker does.
  assert.equal(pkg.countPath('user'), pkg.countPath('actor'));
  assert.notEqual(pkg.countPath('user'), 'user');
  assert.equal(pkg.countPath('no.such.field'), undefined);
});

// A view shown while a file loads picks its first page without sorting every row: the same
// rows as the full view's, for either direction, with or without a filter, with rows whose
// time is absent (last ascending, first descending) and equal times (by row).
for (const [query, dir] of [['', 'desc'], ['', 'asc'], ['-is:login', 'desc'], ['action:FORCE_PUSH,DELETE', 'asc']]) {
  test(`a partial view's first page of \`${query || 'every event'}\` ${dir} is the full view's`, () => {
    const store = new Store(pkg, columns(catalog));
    const all = new TextDecoder().decode(lines).split('\n').filter(Boolean);
    const odd = all.slice(0, 40).map((l, i) => {
      const ev = JSON.parse(l);
      if (i % 2) delete ev.auditEventTime; // absent
      else ev.auditEventTime = JSON.parse(all[0]).auditEventTime; // one time for all
      return JSON.stringify(ev);
    });
    store.push(new TextEncoder().encode([...all.slice(40), ...odd].join('\n') + '\n'), 1);
    store.setSort('time', dir);
    const f = query ? pkg.compileFilter(query, { now: Date.now() }) : null;
    store.setFilter(f);
    const partial = store.view({ partial: true });
    const deeper = store.rows(150, 450).rows.map((r) => r.index);
    store.orders.clear();
    store.setFilter(f);
    const full = store.view();
    assert.equal(partial.count, full.count);
    assert.deepEqual(partial.page.rows.map((r) => r.index), full.page.rows.map((r) => r.index));
    assert.deepEqual(deeper, store.rows(150, 450).rows.map((r) => r.index));
    if (f) f.free();
  });
}
