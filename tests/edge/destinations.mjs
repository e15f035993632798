// Helpers of the destination tests: the /v1/destinations API of one Worker, waiting for a
// condition, and checking answers against the OpenAPI document.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { call, event, ROOT } from './harness.mjs';

/** Every answer text seen, to check that no credential appears in any. */
export const answers = [];

/** The destination API of the Worker at `w.url` for `token`. */
export function api(w, token) {
  const send = async (method, path, body) => {
    const r = await call(`${w.url}${path}`, token, {
      method,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
    });
    answers.push(r.text);
    return r;
  };
  const d = (id) => `/v1/destinations/${encodeURIComponent(id)}`;
  return {
    send,
    list: () => send('GET', '/v1/destinations'),
    create: (def) => send('POST', '/v1/destinations', def),
    get: (id) => send('GET', d(id)),
    patch: (id, body) => send('PATCH', d(id), body),
    delete: (id) => send('DELETE', d(id)),
    status: (id) => send('GET', `${d(id)}/status`),
    test: (id) => send('POST', `${d(id)}/test`),
    flush: (id) => send('POST', `${d(id)}/flush`),
    replay: (id, body) => send('POST', `${d(id)}/replay`, body),
    discard: (id, batch) => send('DELETE', `${d(id)}/dead-letters/${encodeURIComponent(batch)}`),
    /** Makes a destination and activates it; returns its id. */
    async activeDestination(def) {
      const made = await send('POST', '/v1/destinations', def);
      if (made.status !== 201) throw new Error(`create: ${made.status} ${made.text}`);
      const on = await send('PATCH', d(made.json.id), { status: 'active' });
      if (on.status !== 200) throw new Error(`activate: ${on.status} ${on.text}`);
      return made.json.id;
    },
    /** Ingests events as NDJSON; returns the answer's JSON. */
    async ingest(events) {
      const r = await call(`${w.url}/v1/events`, token, {
        method: 'POST',
        body: events.map((e) => JSON.stringify(e)).join('\n'),
        headers: { 'content-type': 'application/x-ndjson' },
      });
      if (r.status !== 200) throw new Error(`ingest: ${r.status} ${r.text}`);
      return r.json;
    },
  };
}

/**
 * Polls `fn` until it returns a truthy value; fails after `timeoutMs` naming `what` (and
 * what `diagnose` says then).
 */
export async function until(what, fn, { timeoutMs = 90_000, every = 250, diagnose } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, every));
  }
  const more = diagnose ? ` ${JSON.stringify(await diagnose()).slice(0, 2000)}` : '';
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)?.slice(0, 500)})${more}`);
}

/** `n` events of `account` numbered from `from`, with distinct ids and recent times. */
export function events(account, from, n, over = {}) {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => event(account, from + i, {
    auditEventTime: String(now - (n - i) * 1000),
    ...(typeof over === 'function' ? over(from + i) : over),
  }));
}

/** Counts of each id in a list. */
export function counts(ids) {
  const m = new Map();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

/** Ids delivered more than once. */
export const repeated = (ids) => [...counts(ids)].filter(([, n]) => n > 1).map(([id]) => id);

/**
 * Checks an answer against the OpenAPI document: its status must be listed for the
 * operation and its JSON body must match the schema given there.
 */
export function openapiChecker() {
  const doc = JSON.parse(readFileSync(join(ROOT, 'src', 'edge', 'openapi.json'), 'utf8'));
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema(doc, 'openapi');
  const pointer = (parts) => parts.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
  const cache = new Map();
  return (method, template, answer) => {
    const op = doc.paths[template]?.[method.toLowerCase()];
    if (!op) throw new Error(`openapi has no ${method} ${template}`);
    let response = op.responses[String(answer.status)];
    if (!response) throw new Error(`openapi lists no ${answer.status} for ${method} ${template}: ${answer.text}`);
    let path = ['paths', template, method.toLowerCase(), 'responses', String(answer.status)];
    if (response.$ref) {
      path = response.$ref.slice(2).split('/');
      response = path.reduce((n, k) => n[k], doc);
    }
    const key = pointer(path);
    if (!cache.has(key)) {
      cache.set(key, ajv.compile({ $ref: `openapi#/${key}/content/application~1json/schema` }));
    }
    const validate = cache.get(key);
    if (!validate(answer.json)) {
      throw new Error(`${method} ${template} ${answer.status} does not match the OpenAPI document: ${ajv.errorsText(validate.errors)}\n${answer.text.slice(0, 1000)}`);
    }
  };
}
