// What a managed API token costs per request beside a bootstrap token of TRAILSIFT_TOKENS:
// the same GET /v1/stats, alternating the two tokens (which goes first alternates too), in
// wrangler dev on loopback. Prints the median and 90th percentile of each.
import { startWorker, makeTokens, call } from '../tests/edge/harness.mjs';
const { tokens: T, config } = makeTokens();
const w = await startWorker({ tokensConfig: config });
try {
  const U = w.url;
  const mk = await call(`${U}/v1/tokens`, T.aAll, { method: 'POST', body: JSON.stringify({ name: 'bench', scopes: ['read'] }), headers: { 'content-type': 'application/json' } });
  const managed = mk.json.token;
  const times = { bootstrap: [], managed: [] };
  for (let i = 0; i < 20; i++) { await call(`${U}/v1/stats?by=action`, T.aRead); await call(`${U}/v1/stats?by=action`, managed); }
  for (let i = 0; i < 300; i++) {
    for (const [k, t] of (i % 2 ? [['bootstrap', T.aRead], ['managed', managed]] : [['managed', managed], ['bootstrap', T.aRead]])) {
      const t0 = performance.now();
      const r = await call(`${U}/v1/stats?by=action`, t);
      times[k].push(performance.now() - t0);
      if (r.status !== 200) throw new Error(r.text);
    }
  }
  const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
  const p90 = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length * 0.9)]; };
  for (const k of Object.keys(times)) console.log(k, 'median ms', med(times[k]).toFixed(2), 'p90', p90(times[k]).toFixed(2), 'n', times[k].length);
} finally { await w.stop(); w.cleanup(); }
