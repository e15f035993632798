// `wrangler deploy --dry-run` builds and bundles the Worker without uploading; the gzipped
// size is recorded (Cloudflare's limit applies to it; wrangler warns above 1 MiB).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './harness.mjs';

test('wrangler deploy --dry-run bundles the Worker under 1 MiB gzipped', { timeout: 900_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'trailsift-deploy-'));
  try {
    const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'wrangler'), ['deploy', '--dry-run', '--outdir', out], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
    });
    const log = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.status, 0, log);
    const m = log.match(/Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/);
    assert.ok(m, `no size line in:\n${log}`);
    const gzipKiB = Number(m[2]);
    assert.ok(gzipKiB < 1024, `gzipped Worker is ${gzipKiB} KiB`);
    mkdirSync(join(ROOT, 'target'), { recursive: true });
    writeFileSync(join(ROOT, 'target', 'worker-size.txt'), `total ${m[1]} KiB, gzip ${m[2]} KiB\n`);
    console.log(`worker size: total ${m[1]} KiB, gzip ${m[2]} KiB`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
