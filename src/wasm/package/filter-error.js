// The error every bad filter throws: a real `Error` subclass, so `instanceof FilterError`
// and `instanceof Error` both hold, with the position data of the Rust `FilterError`.
export class FilterError extends Error {
  constructor(code, message, span, line, column, rendered) {
    super(message);
    this.name = 'FilterError';
    this.code = code;
    this.span = span;
    this.line = line;
    this.column = column;
    this.rendered = rendered;
  }
}

// Any other error of the package (bad input, bad options, conversion): an `Error` with
// a stable `code` and, where known, the position of the problem.
export class TrailsiftError extends Error {
  constructor(code, message, details) {
    super(message);
    this.name = 'TrailsiftError';
    this.code = code;
    if (details) Object.assign(this, details);
  }
}
