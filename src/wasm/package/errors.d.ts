/** Thrown by `compileFilter` and `Filter.toLogpush` on a filter it cannot take. */
export declare class FilterError extends Error {
  readonly name: 'FilterError';
  /** Stable error code, e.g. `unknown_field`. */
  readonly code: string;
  /** Byte span `[start, end)` of the offending text in the query. */
  readonly span: [number, number];
  /** 1-based line of the offending text. */
  readonly line: number;
  /** 1-based column (in characters) of the offending text. */
  readonly column: number;
  /** The query line with a caret under the offending text, plus the message. */
  readonly rendered: string;
}

/** Every other error of the package: bad input, bad options, conversion failures. */
export declare class TrailsiftError extends Error {
  readonly name: 'TrailsiftError';
  /** Stable error code, e.g. `bad_option`, `bad_json`, `too_deep`. */
  readonly code: string;
  /** 1-based line of the problem in the input, when known. */
  readonly line?: number;
  /** 0-based record number of the problem in the input, when known. */
  readonly record?: number;
  /** Byte offset of the problem in the input, when known. */
  readonly offset?: number;
  /** A transform's fault: the transform key at fault (`include`, `truncateIp.v4`). */
  readonly key?: string;
  /** A transform's fault: the entry of a list. */
  readonly index?: number;
  /** A transform's fault: the path of that entry. */
  readonly path?: string;
  /** A transform's fault: the regular expression of that entry. */
  readonly pattern?: string;
}
