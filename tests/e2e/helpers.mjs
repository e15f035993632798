// Shared helpers of the page's browser tests: a static server for www/, Chromium through
// playwright-core, the CLI, generated event files, and the Worker serving the page online.

import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = path.join(ROOT, 'www');
export const CLI = process.env.TRAILSIFT_BIN
  || path.join(process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target'), 'native', 'trailsift');
export const SCREENSHOTS = path.join(ROOT, 'tests/e2e/screenshots');

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

// Serves `dir` with Python's static server, the way the README says the page can be served.
export async function serve(dir = DIST) {
  if (!existsSync(path.join(dir, 'index.html'))) throw new Error(`${dir} has no index.html: run "make www" first`);
  const port = await freePort();
  const proc = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', dir], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 100; i++) {
    try { const r = await fetch(url); if (r.ok) return { url, close: () => proc.kill() }; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill();
  throw new Error('static server did not start');
}

export async function launch(extraArgs = []) {
  // playwright-core starts Chromium with a fresh temporary profile (its own --user-data-dir).
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...extraArgs] });
}

export function cli(args, opts = {}) {
  return execFileSync(CLI, args, { maxBuffer: 1 << 30, ...opts });
}

export function tmpDir(name) {
  const d = mkdtempSync(path.join(tmpdir(), `trailsift-e2e-${name}-`));
  return d;
}

export function screenshotPath(name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, `${name}.png`);
}

// Opens the page, loads `file` through the file input and waits for the first results.
export async function openPage(browser, url, { colorScheme = 'light', viewport = { width: 1440, height: 900 } } = {}) {
  const context = await browser.newContext({ acceptDownloads: true, colorScheme, viewport });
  const page = await context.newPage();
  const dialogs = [];
  const errors = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.engine);
  return { context, page, dialogs, errors };
}

export async function loadFile(page, file) {
  const before = await page.evaluate(() => (window.__trailsift ? window.__trailsift.seq || 0 : 0));
  await page.setInputFiles('[data-testid=file-input]', file);
  await page.waitForFunction((b) => window.__trailsift && window.__trailsift.seq > b, before, { timeout: 120_000 });
}

// The number shown in result-count once the page is idle.
export async function resultCount(page) {
  await page.waitForFunction(() => document.body.getAttribute('aria-busy') === 'false');
  const text = await page.getByTestId('result-count').textContent();
  return Number.parseInt(text.replace(/[^\d]/g, ''), 10);
}

// --- the CLI's answers (one place to adapt to its flags) ------------------------------------

export function cliGen(count, seed) {
  return cli(['gen', '--count', String(count), '--seed', String(seed)]);
}

export function cliCount(query, file) {
  return Number.parseInt(cli(['filter', '-q', query, '--count', file]).toString().trim(), 10);
}

export function cliFilter(query, file) {
  return cli(['filter', '-q', query, file]);
}

export function cliConvert(file, to) {
  return cli(['convert', '--to', to, file]);
}

// Waits until the page has finished `n` more filter runs after `action`.
export async function afterRun(page, action) {
  const before = await page.evaluate(() => window.__trailsift.runs);
  await action();
  await page.waitForFunction((b) => window.__trailsift.runs > b && document.body.getAttribute('aria-busy') === 'false', before, { timeout: 60_000 });
}

export async function typeQuery(page, query) {
  await afterRun(page, async () => {
    await page.getByTestId('query-input').fill(query);
    await page.getByTestId('query-input').press('Enter');
  });
}

export async function download(page, testId) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  const p = await dl.path();
  const { readFileSync } = await import('node:fs');
  return readFileSync(p);
}

/** Submits the open "Verify evidence" dialog; answers what its result box shows. */
export async function submitVerify(page) {
  const before = await page.evaluate(() => window.__trailsift.verifications || 0);
  await page.getByTestId('verify-go').click();
  await page.waitForFunction((b) => (window.__trailsift.verifications || 0) > b, before, { timeout: 60_000 });
  return page.evaluate(() => {
    const box = document.querySelector('[data-testid=verify-result]');
    const text = (sel) => { const e = box.querySelector(sel); return e ? e.textContent : null; };
    return {
      ok: box.dataset.ok === 'true',
      verified: Number(box.dataset.verified),
      heading: text('p'),
      origin: text('.v-origin'),
      size: text('.v-size'),
      root: text('.v-root'),
      key: text('.v-key'),
      failures: [...box.querySelectorAll('[data-testid=verify-failure]')].map((r) => ({
        index: r.dataset.index === '' ? null : Number(r.dataset.index),
        seq: r.dataset.seq === '' ? null : Number(r.dataset.seq),
        code: r.dataset.code,
        explanation: r.children[3].textContent,
      })),
    };
  });
}

// --- the page served by the Worker in wrangler dev (tests/edge/harness.mjs) ------------------

export const HARNESS = path.join(ROOT, 'tests/edge/harness.mjs');
/** Why the online tests cannot run here, or false. */
export const noWorker = !existsSync(HARNESS) || !existsSync(path.join(ROOT, 'wrangler.toml'))
  ? 'the Worker (wrangler.toml, tests/edge/harness.mjs) is not in this tree' : false;

/**
 * Starts the Worker with the test tokens (`options`: the harness's startWorker options but
 * the tokens and keys) and opens the page it serves in Chromium. Answers `{h, w, browser,
 * s, tokens, tokensConfig, keys}`: `h` the harness, `s` openPage's answer; a restart takes
 * the same `tokensConfig` and `keys`.
 */
export async function startOnline(options = {}) {
  const h = await import(HARNESS);
  const { tokens, config: tokensConfig } = h.makeTokens();
  const keys = { credentialsKey: h.newCredentialsKey(), logSigningKey: h.newLogSigningKey() };
  const w = await h.startWorker({ ...options, tokensConfig, ...keys });
  const browser = await launch();
  const s = await openPage(browser, `${w.url}/`);
  return { h, w, browser, s, tokens, tokensConfig, keys };
}

/** Connects the page's online mode with `token` and waits for its first results. */
export async function connectOnline(page, token) {
  await page.getByRole('tab', { name: 'Online' }).click();
  await page.locator('#api-token').fill(token);
  await afterRun(page, () => page.getByRole('button', { name: 'Connect' }).click());
}

/** Closes what startOnline opened (any part may be missing). */
export async function stopOnline({ s, browser, w } = {}) {
  if (s) await s.context.close();
  if (browser) await browser.close();
  if (w) { await w.stop(); w.cleanup(); }
}
