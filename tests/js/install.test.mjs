// The package installs into a fresh Node project from a local tarball (`npm pack` of pkg/,
// so the `files` list is checked too) and loads through ESM and CommonJS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, PKG, ROOT } from './helpers.mjs';

const npm = (args, cwd) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });

test('npm pack + npm install into a fresh project; import and require both work', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trailsift-install-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  npm(['pack', PKG, '--pack-destination', dir], dir);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote a tarball');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  npm(['install', `./${tarball}`], dir);

  const event = JSON.stringify({
    auditEventId: 'ev-1',
    auditEventAuthor: { principal: { type: 'USER', identifier: 'alice' } },
    auditModule: 'CORE',
    auditResource: { type: 'SECRET', identifier: 'db_password' },
    auditResourceScope: { accountIdentifier: 'acct' },
    auditAction: 'CREATE',
    auditEventTime: 1763719530123,
  });
  const body = (load) => `
    ${load}
    const report = ts.validate(${JSON.stringify(event)});
    if (report.valid !== 1) throw new Error('validate: ' + JSON.stringify(report));
    const f = ts.compileFilter('action:CREATE');
    if (!f.matches(${JSON.stringify(event)})) throw new Error('no match');
    if (typeof ts.createFilterStream !== 'function') throw new Error('no streams');
    let caught;
    try { ts.compileFilter('nosuchfield:1'); } catch (e) { caught = e; }
    if (!(caught instanceof ts.FilterError) || !(caught instanceof Error)) throw new Error('FilterError');
    console.log('ok');
  `;
  writeFileSync(join(dir, 'esm.mjs'), body("import * as ts from 'trailsift';"));
  writeFileSync(join(dir, 'cjs.cjs'), body("const ts = require('trailsift');"));
  assert.equal(execFileSync(process.execPath, ['esm.mjs'], { cwd: dir, encoding: 'utf8' }).trim(), 'ok');
  assert.equal(execFileSync(process.execPath, ['cjs.cjs'], { cwd: dir, encoding: 'utf8' }).trim(), 'ok');

  // `trailsift/verify`, its own .wasm: a fixture bundle verifies through import and require.
  const valid = join(FIXTURES, 'evidence', 'bundles', readdirSync(join(FIXTURES, 'evidence', 'bundles')).find((d) => d.endsWith('-valid')));
  copyFileSync(join(valid, 'bundle.json'), join(dir, 'bundle.json'));
  copyFileSync(join(valid, 'keys.txt'), join(dir, 'keys.txt'));
  const verify = (load) => `
    ${load}
    const fs = require('node:fs');
    const r = v.verifyEvidence(fs.readFileSync('bundle.json'), { keys: fs.readFileSync('keys.txt', 'utf8') });
    if (!r.ok || r.verified !== 5) throw new Error(JSON.stringify(r));
    console.log('ok');
  `;
  writeFileSync(join(dir, 'verify-esm.mjs'), verify("import * as v from 'trailsift/verify'; import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);"));
  writeFileSync(join(dir, 'verify-cjs.cjs'), verify("const v = require('trailsift/verify');"));
  assert.equal(execFileSync(process.execPath, ['verify-esm.mjs'], { cwd: dir, encoding: 'utf8' }).trim(), 'ok');
  assert.equal(execFileSync(process.execPath, ['verify-cjs.cjs'], { cwd: dir, encoding: 'utf8' }).trim(), 'ok');
});

test('the TypeScript declarations type a consumer under tsc --strict and reject wrong calls', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trailsift-types-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  npm(['pack', PKG, '--pack-destination', dir], dir);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'ts-consumer', private: true, type: 'module' }));
  npm(['install', `./${tarball}`, 'typescript@5'], dir);
  for (const f of ['consumer.mts', 'verify-consumer.mts', 'tsconfig.json']) copyFileSync(join(ROOT, 'tests', 'js', 'types', f), join(dir, f));
  try {
    execFileSync(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir, encoding: 'utf8' });
  } catch (e) {
    assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
  }
});

// The size budget of the package's WebAssembly (issue 14): 250,000 bytes with `gzip -9`
// (GNU gzip, as the build script reports and BENCHMARKS.md records; Node's zlib at level 9
// gives about 1 kB more).
test('the .wasm is within its 250,000-byte gzip budget', () => {
  const gzipped = execFileSync('gzip', ['-9', '-c', join(PKG, 'trailsift_bg.wasm')], { maxBuffer: 1 << 24 }).length;
  assert.ok(gzipped <= 250_000, `trailsift_bg.wasm is ${gzipped} bytes gzipped (budget 250,000)`);
});
