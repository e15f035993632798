// Compiled with `tsc --strict` against the installed package by install.test.mjs: the
// declarations must type every function and option, and reject wrong calls.
import init, {
  compileFilter,
  convert,
  createConvertStream,
  createFilterStream,
  detectFormat,
  FilterError,
  TrailsiftError,
  validate,
  type ConvertOptions,
  type DetectedFormat,
  type Explanation,
  type Filter,
  type LogpushFilter,
  type StructuredFilter,
  type ValidationReport,
} from 'trailsift';

const form: StructuredFilter = { actions: ['CREATE'], excludeLoginEvents: true, from: 'now-7d' };
const logpush: LogpushFilter = { where: { and: [{ key: 'auditAction', operator: 'in', value: ['CREATE'] }] } };
const f: Filter = compileFilter('action:CREATE', { now: 1763719530123 });
compileFilter(form);
compileFilter(logpush, { now: '2026-01-01T00:00:00Z' });

const matched: boolean = f.matches({ auditAction: 'CREATE' }) && f.matches('{"auditAction":"CREATE"}');
const lines: string | Uint8Array = f.filterNdjson(new Uint8Array());
const n: number = f.count('');
const why: Explanation = f.explain({});
const firstTerm: string | undefined = why.terms[0]?.term;
const text: string = f.toQuery();
const exported: LogpushFilter = f.toLogpush();
f.toIR();
const back: StructuredFilter | null = f.toStructured();
if (back) compileFilter(back);

const report: ValidationReport = validate([{}, {}], { strict: true, vocabulary: true });
const code: string | undefined = report.rejected[0]?.errors[0]?.code;
const line: number | undefined = report.warnings[0]?.line;

const options: ConvertOptions = {
  to: 'splunk_hec',
  hec: { sourcetype: 'harness:audit', fields: { account: 'auditResourceScope.accountIdentifier' } },
  onError: (e) => console.log(e.code, e.line, e.record, e.offset),
};
const converted: string | Uint8Array = convert('', options);
const detected: DetectedFormat = detectFormat(new Uint8Array(), 'audit.ndjson.gz');
const format: string | null = detected.format;

const filtered: ReadableStream<Uint8Array> = new Blob(['']).stream().pipeThrough(createFilterStream(f));
const csv: ReadableStream<Uint8Array> = filtered.pipeThrough(createConvertStream({ from: 'ndjson', to: 'csv' }));

try {
  compileFilter('nosuch:1');
} catch (e) {
  if (e instanceof FilterError) {
    const span: [number, number] = e.span;
    console.log(e.code, span, e.line, e.column, e.rendered);
  } else if (e instanceof TrailsiftError) {
    console.log(e.code, e.line);
  }
}

// @ts-expect-error `to` is required
convert('', {});
// @ts-expect-error not a format
convert('', { to: 'xml' });
// @ts-expect-error strict is a boolean
validate('', { strict: 'yes' });
// @ts-expect-error a filter is not a number
compileFilter(5);
// @ts-expect-error unknown structured key
compileFilter({ user: ['alice'] });

f.free();
await init();
console.log(matched, lines, n, firstTerm, text, exported, code, line, converted, format, csv);
