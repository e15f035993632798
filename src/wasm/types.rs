//! TypeScript declarations of the objects the npm API takes and returns.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A Harness audit event (formats.md §1). Unknown fields are kept. */
export interface AuditEvent {
  auditEventId: string;
  auditEventAuthor: { principal: { type: string; identifier: string; email?: string; [key: string]: unknown }; [key: string]: unknown };
  auditModule: string;
  auditResource: { type: string; identifier: string; [key: string]: unknown };
  auditResourceScope: { accountIdentifier: string; orgIdentifier?: string; projectIdentifier?: string; [key: string]: unknown };
  auditAction: string;
  /** Epoch milliseconds as a number or a string of digits, or an RFC 3339 string. */
  auditEventTime: number | string;
  auditHttpRequestInfo?: { requestMethod: string; clientIP: string; [key: string]: unknown };
  auditEventMetadata?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Options of `validate`. */
export interface ValidateOptions {
  /** Reject fields the schema does not name (`unknown_field`). Default false. */
  strict?: boolean;
  /** Check modules, resource types and actions against the known vocabulary; unknown
   * values are reported as warnings, never errors. Default false. */
  vocabulary?: boolean;
}

/** One problem with an event. */
export interface Violation {
  /** JSON path of the value, e.g. `auditResource.identifier` (empty for the event). */
  path: string;
  /** Stable code: `missing`, `wrong_type`, `empty`, `bad_time`, `bad_ip`, `unknown_field`, ... */
  code: string;
  message: string;
}

/** An event that failed validation. */
export interface RejectedEvent {
  /** 0-based position of the event in the input. */
  index: number;
  /** 1-based line of the event's start in the input. */
  line: number;
  /** The event's `auditEventId`, when it has one. */
  id?: string;
  errors: Violation[];
}

/** A vocabulary warning (never an error). */
export interface ValidationWarning extends Violation {
  index: number;
  line: number;
}

/** The validation report of formats.md §1. */
export interface ValidationReport {
  /** How many events passed. */
  valid: number;
  rejected: RejectedEvent[];
  warnings: ValidationWarning[];
}

/** A filter as a filter form produces it (filter-language.md §4). */
export interface StructuredFilter {
  users?: string[];
  organizations?: string[];
  projects?: string[];
  resourceTypes?: string[];
  resourceIdentifiers?: string[];
  actions?: string[];
  modules?: string[];
  principalTypes?: string[];
  /** Any time form: RFC 3339, a date, epoch milliseconds, `now-7d`. Inclusive. */
  from?: string | number;
  /** Any time form; inclusive, a date includes its whole day. */
  to?: string | number;
  excludeLoginEvents?: boolean;
  excludeSystemEvents?: boolean;
  /** A text query, ANDed with the rest. */
  query?: string;
}

/** One condition of a Logpush filter. */
export interface LogpushCondition {
  key: string;
  operator: 'eq' | '!eq' | 'lt' | 'leq' | 'gt' | 'geq' | 'startsWith' | 'endsWith'
    | '!startsWith' | '!endsWith' | 'contains' | '!contains' | 'in' | '!in';
  value: string | number | boolean | Array<string | number>;
}

/** A node of a Logpush filter: a condition or an `and`/`or` of nodes. */
export type LogpushNode = LogpushCondition | { and: LogpushNode[] } | { or: LogpushNode[] };

/** A Cloudflare Logpush-style filter (filter-language.md §5). */
export interface LogpushFilter {
  where: LogpushNode;
}

/** Options of `compileFilter`. */
export interface CompileOptions {
  /** The moment `now` means, as epoch milliseconds or any time form. By default the
   * clock at each evaluation. */
  now?: number | string;
}

/** Options of `parseTime`. */
export interface ParseTimeOptions {
  /** The moment `now` means (epoch milliseconds or any time form). Default: the clock. */
  now?: number | string;
  /** A date means the end of that day (the last millisecond) instead of its midnight. */
  end?: boolean;
}

/** A field of the audit event (formats.md §1). */
export interface EventField {
  path: string;
  /** Required when its parent object is present. */
  required: boolean;
  kind: 'text' | 'time' | 'ip' | 'object' | 'json';
}

/** The field table of the core: event fields, filter names and known values. */
export interface FieldCatalog {
  fields: EventField[];
  /** The filter language's names: canonical path, aliases and value type. */
  names: Array<{ path: string; aliases: string[]; type: 'string' | 'time' | 'ip' | 'json' | 'user' }>;
  /** `metadata.<key>` names any key of `auditEventMetadata`. */
  metadataPrefix: string;
  vocabulary: { modules: string[]; resourceTypes: string[]; actions: string[]; principalTypes: string[] };
  /** The presets of `is:`. */
  presets: string[];
  /** The lists of a `StructuredFilter` (a form's fields) and the field each constrains
   * (a canonical path, or `user`); `vocabulary` uses the same keys. */
  formLists: Array<{ key: keyof StructuredFilter; path: string }>;
  /** The fields a `Table` holds by column (the time first); with `user`, its columns. */
  tableFields: string[];
}

/** The filter IR as canonical JSON (filter-language.md §6). */
export interface FilterIR { kind: string; [key: string]: unknown }

/** Why a filter did or did not match an event: every leaf term in print order. */
export interface Explanation {
  matched: boolean;
  terms: Array<{ term: string; matched: boolean }>;
}

/** A format `convert` reads or writes. `ocsf` is write-only. */
export type Format = 'json' | 'ndjson' | 'csv' | 'splunk_hec' | 'sumo' | 'ocsf';

/** Options of the Splunk HEC writer. */
export interface HecOptions {
  host?: string;
  source?: string;
  /** Default `harness:audit`. */
  sourcetype?: string;
  index?: string;
  /** Indexed fields: name → dotted path of the event value. Default
   * `{ account: 'auditResourceScope.accountIdentifier', module: 'auditModule', action: 'auditAction' }`;
   * `{}` writes no `fields`. */
  fields?: Record<string, string>;
}

/** Options of `convert` and `createConvertStream`. */
export interface ConvertOptions {
  /** Input format; detected from the first bytes when absent. */
  from?: Exclude<Format, 'ocsf'>;
  /** Output format. */
  to: Format;
  /** CSV only: the columns (dotted paths) and their order, written as given (a projection).
   * Without them no field is dropped: `convert` gives every field of every event a column;
   * `createConvertStream` takes the first event's and ends with the column `(rest)`, the
   * JSON of what no other column holds (reading the CSV merges it back). */
  columns?: string[];
  /** CSV only: prefix cells that a spreadsheet would run as a formula with `'`. Default true. */
  csvSafety?: boolean;
  /** Gzip the output (the result is then a Uint8Array). Gzipped input is always read. */
  gzip?: boolean;
  /** Splunk HEC writer options. */
  hec?: HecOptions;
  /** Throw a `TrailsiftError` at the first bad record instead of skipping it. */
  stopOnError?: boolean;
  /** Called with every bad record that is skipped. */
  onError?: (error: RecordError) => void;
  /** Shape each event before it is written (formats.md §4); a bad transform throws a
   * `TrailsiftError` with its code and `key` (and `index`, `path` or `pattern`). An
   * object, or its JSON text. */
  transform?: TransformSpec | string;
  /** The key of the transform's `pseudonymize` (a string is taken as its UTF-8 bytes).
   * Required when `pseudonymize` is set: without it the transform is refused
   * (`missing_key`), never passed through. */
  pseudonymizeKey?: string | Uint8Array;
}

/** A transform (formats.md §4); every key is optional. They apply in this order: sample,
 * include/exclude, redact/redactPatterns, pseudonymize, truncateIp, timeFormat. */
export interface TransformSpec {
  /** Keep an event when the first 8 bytes of SHA-256(auditEventId) < sample × 2^64; (0, 1]. */
  sample?: number;
  /** Keep only these dotted paths (whole subtrees); auditEventId and auditEventTime always stay. */
  include?: string[];
  /** Remove these dotted paths. */
  exclude?: string[];
  /** Replace the values at these paths with "[REDACTED]". */
  redact?: string[];
  /** Regular expressions (the filter language's dialect); every match in every string becomes "[REDACTED]". */
  redactPatterns?: string[];
  /** Replace the values at these paths with "ps_" + the first 16 bytes of HMAC-SHA256(pseudonymizeKey, value) in hex. */
  pseudonymize?: string[];
  /** Keep only the first bits of auditHttpRequestInfo.clientIP. */
  truncateIp?: { v4?: number; v6?: number };
  /** Write auditEventTime as epoch milliseconds or RFC 3339 UTC. */
  timeFormat?: 'epoch_ms' | 'rfc3339';
}

/** A record that could not be read (a `TrailsiftError`). */
export interface RecordError extends Error {
  /** Stable code: `bad_json`, `bad_utf8`, `too_large`, `too_deep`, `not_an_object`, `truncated`, `bad_gzip`, `bad_csv`, `bad_envelope`. */
  code: string;
  /** 0-based record number. */
  record: number;
  /** 1-based line where the record starts. */
  line: number;
  /** Byte offset of the record in the (decompressed) input. */
  offset: number;
}

/** A line of a `Table` that is not JSON (a `TrailsiftError`; it matches no filter that
 * reads its fields). */
export interface UnreadLine extends Error {
  /** `bad_json` or `bad_utf8`. */
  code: string;
  /** The row it is. */
  row: number;
  /** 1-based line number in the NDJSON lines. */
  line: number;
}

/** What `detectFormat` found. */
export interface DetectedFormat {
  /** The format, or `null` when neither the bytes nor the name tell. */
  format: Exclude<Format, 'ocsf'> | null;
  /** Whether the bytes (or the name) are gzip. */
  gzip: boolean;
}
"#;
