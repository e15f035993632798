// A page built by Vite that imports the package as any app would, runs a filter over
// NDJSON (whole and as a stream) and validates events; the result lands on `window`.
import { compileFilter, validate, createFilterStream, FilterError } from 'trailsift';

const base = {
  auditEventAuthor: { principal: { type: 'USER', identifier: 'alice' } },
  auditModule: 'CORE',
  auditResource: { type: 'SECRET', identifier: 'db_password' },
  auditResourceScope: { accountIdentifier: 'acct' },
  auditEventTime: 1763719530123,
};
const lines = ['CREATE', 'DELETE', 'UPDATE', 'DELETE']
  .map((action, i) => JSON.stringify({ ...base, auditEventId: `ev-${i}`, auditAction: action }) + '\n')
  .join('');

async function run() {
  const filter = compileFilter('action:DELETE or action == "UPDATE"');
  const text = filter.filterNdjson(lines);
  const bytes = filter.filterNdjson(new TextEncoder().encode(lines));
  const streamed = await new Response(
    new Blob([lines]).stream().pipeThrough(createFilterStream(filter)),
  ).text();
  let error = null;
  try {
    compileFilter('action ==');
  } catch (e) {
    error = { isFilterError: e instanceof FilterError, code: e.code, line: e.line, column: e.column };
  }
  return {
    matched: text.trim().split('\n').map((l) => JSON.parse(l).auditEventId),
    bytesIsUint8Array: bytes instanceof Uint8Array,
    streamedEqual: streamed === text,
    count: filter.count(lines),
    query: filter.toQuery(),
    valid: validate(lines).valid,
    error,
  };
}

run().then(
  (result) => {
    window.__result = result;
    document.getElementById('out').textContent = JSON.stringify(result, null, 2);
  },
  (e) => {
    window.__result = { failure: String(e && e.stack ? e.stack : e) };
  },
);
