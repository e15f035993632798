// The JS baseline of validation: the event of formats.md §1 as an ajv JSON Schema, and
// the per-line JSON.parse + check loop. Shared by bench.mjs and validate.mjs.

// The event of formats.md §1 as JSON Schema (what a JS project would write for ajv).
const nonEmpty = { type: 'string', minLength: 1 };
export const SCHEMA = {
  type: 'object',
  required: ['auditEventId', 'auditEventAuthor', 'auditModule', 'auditResource', 'auditResourceScope', 'auditAction', 'auditEventTime'],
  properties: {
    auditEventId: nonEmpty,
    auditEventAuthor: {
      type: 'object',
      required: ['principal'],
      properties: {
        principal: {
          type: 'object',
          required: ['type', 'identifier'],
          properties: { type: nonEmpty, identifier: nonEmpty, email: { type: 'string' } },
        },
      },
    },
    auditModule: nonEmpty,
    auditResource: { type: 'object', required: ['type', 'identifier'], properties: { type: nonEmpty, identifier: nonEmpty } },
    auditResourceScope: {
      type: 'object',
      required: ['accountIdentifier'],
      properties: { accountIdentifier: nonEmpty, orgIdentifier: { type: 'string' }, projectIdentifier: { type: 'string' } },
    },
    auditAction: nonEmpty,
    auditEventTime: {
      anyOf: [
        { type: 'number' },
        { type: 'string', pattern: '^[0-9]+$' },
        { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?([Zz]|[+-]\\d{2}:\\d{2})$' },
      ],
    },
    auditHttpRequestInfo: {
      type: 'object',
      required: ['requestMethod', 'clientIP'],
      properties: {
        requestMethod: { type: 'string' },
        clientIP: {
          anyOf: [
            { type: 'string', pattern: '^(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}$' },
            { type: 'string', pattern: '^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$' },
          ],
        },
      },
    },
    auditEventMetadata: { type: 'object' },
  },
};

export function ajvValidate(text, check) {
  let valid = 0;
  let rejected = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let e;
    try {
      e = JSON.parse(line);
    } catch {
      rejected++;
      continue;
    }
    if (check(e)) valid++;
    else rejected++;
  }
  return { valid, rejected };
}
