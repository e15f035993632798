// Shared helpers of the package tests: the built package (Node ESM entry) and paths.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PKG = join(ROOT, 'pkg');
export const FIXTURES = join(ROOT, 'tests', 'fixtures');

export * as trailsift from '../../pkg/node.mjs';

/** A small valid event; `over` replaces top-level fields. */
export function event(over = {}) {
  return {
    auditEventId: 'ev-1',
    auditEventAuthor: { principal: { type: 'USER', identifier: 'alice', email: 'alice@example.com' } },
    auditModule: 'CORE',
    auditResource: { type: 'SECRET', identifier: 'db_password' },
    auditResourceScope: { accountIdentifier: 'acct', orgIdentifier: 'default', projectIdentifier: 'payments' },
    auditAction: 'CREATE',
    auditEventTime: '1763719530123',
    auditHttpRequestInfo: { requestMethod: 'POST', clientIP: '10.1.2.3' },
    auditEventMetadata: { batchId: 'b-1' },
    ...over,
  };
}

export function ndjson(events) {
  return events.map((e) => JSON.stringify(e) + '\n').join('');
}
