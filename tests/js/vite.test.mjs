// A Vite-built page importing the installed package runs a filter in headless Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { build } from 'vite';
import { chromium } from 'playwright-core';
import { PKG, ROOT } from './helpers.mjs';

const CHROMIUM = '/usr/bin/chromium';
const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
};

function serve(dir) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    const file = join(dir, path.endsWith('/') ? path + 'index.html' : path);
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('a Vite build of a page importing trailsift filters in headless Chromium', { skip: !existsSync(CHROMIUM) && 'no /usr/bin/chromium (scripts/setup.sh chromium)' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trailsift-vite-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(ROOT, 'tests', 'js', 'vite-app'), join(dir, 'app'), { recursive: true });
  const app = join(dir, 'app');
  // Install the package as a consumer would: from the npm-packed tarball.
  execFileSync('npm', ['pack', PKG, '--pack-destination', dir, '--loglevel=error'], { cwd: dir });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'vite-app', private: true, type: 'module' }));
  execFileSync('npm', ['install', join(dir, tarball), '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app });

  await build({ root: app, logLevel: 'warn', configFile: false, build: { outDir: join(dir, 'dist') } });
  const assets = readdirSync(join(dir, 'dist', 'assets'));
  assert.ok(assets.some((f) => f.endsWith('.wasm')), `Vite emitted the .wasm: ${assets}`);

  const server = await serve(join(dir, 'dist'));
  t.after(() => server.close());
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  t.after(() => context.close());
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 30000 });
  const result = await page.evaluate(() => window.__result);
  assert.deepEqual(errors, []);
  assert.equal(result.failure, undefined, result.failure);
  assert.deepEqual(result.matched, ['ev-1', 'ev-2', 'ev-3']);
  assert.equal(result.bytesIsUint8Array, true);
  assert.equal(result.streamedEqual, true);
  assert.equal(result.count, 3);
  assert.equal(typeof result.query, 'string');
  assert.equal(result.valid, 4);
  assert.equal(result.error.isFilterError, true);
  assert.equal(result.error.line, 1);
});
