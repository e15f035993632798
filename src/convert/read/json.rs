//! Streaming JSON: a top-level array of events, one event object, or several top-level
//! values one after another (Splunk HEC bodies use the same reader).
//!
//! A byte scanner finds where each top-level element (or array element) starts and ends,
//! tracking strings and nesting, and buffers only that element; serde_json then parses it.
//! A broken element is reported and scanning goes on with the next one. One recovery rule
//! catches the usual damage (an element that lost its closing braces): inside an object a
//! `,` must be followed by a key, so a `,` followed by `{` or `[` ends the broken element
//! there and starts a new one.

use serde_json::Value;

use super::{RawEvent, Unwrap};
use crate::convert::{ErrorCode, ReadError, ReadOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Between top-level values.
    Top,
    /// Inside the top-level array, expecting an element or `]`.
    ArrayExpect { after_comma: bool },
    /// Inside the top-level array, after an element: expecting `,` or `]`.
    ArrayAfter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Container,
    Str,
    Scalar,
}

enum Stop {
    /// The element ended.
    Complete,
    /// The element is broken: a new element starts at the stop position.
    Cut,
}

struct Elem {
    index: u64,
    line: u64,
    column: u64,
    byte: u64,
    buf: Vec<u8>,
    kind: Kind,
    in_array: bool,
    depth: usize,
    /// Per open container up to the depth limit: true for an object.
    stack: Vec<bool>,
    in_str: bool,
    escape: bool,
    /// After a `,` directly inside an object, before the next non-space byte.
    key_expected: bool,
    too_large: bool,
    too_deep: bool,
}

/// Reads JSON arrays and top-level values pushed in chunks.
pub struct JsonReader {
    opts: ReadOptions,
    unwrap: Unwrap,
    /// Whether records are bare events (not envelopes).
    bare: bool,
    mode: Mode,
    /// Absolute offset of the start of the chunk being scanned.
    offset: u64,
    /// Current 1-based line and the absolute offset where it starts.
    line: u64,
    line_start: u64,
    index: u64,
    array_line: u64,
    array_byte: u64,
    elem: Option<Elem>,
}

impl JsonReader {
    pub(crate) fn new(opts: ReadOptions, unwrap: Unwrap, bare: bool) -> Self {
        JsonReader {
            opts,
            unwrap,
            bare,
            mode: Mode::Top,
            offset: 0,
            line: 1,
            line_start: 0,
            index: 0,
            array_line: 1,
            array_byte: 0,
            elem: None,
        }
    }

    /// (records so far, current line, bytes so far).
    pub(crate) fn position(&self) -> (u64, u64, u64) {
        (self.index, self.line, self.offset)
    }

    fn structural(&self, at: u64, message: impl Into<String>, out: &mut dyn FnMut(RawEvent)) {
        out(RawEvent::Error(ReadError::new(
            ErrorCode::BadJson,
            message,
            self.index,
            self.line,
            at,
        )));
    }

    fn start_elem(&mut self, b: u8, at: u64) {
        let kind = match b {
            b'{' | b'[' => Kind::Container,
            b'"' => Kind::Str,
            _ => Kind::Scalar,
        };
        let in_array = !matches!(self.mode, Mode::Top);
        self.elem = Some(Elem {
            index: self.index,
            line: self.line,
            column: at - self.line_start + 1,
            byte: at,
            buf: Vec::new(),
            kind,
            in_array,
            depth: 0,
            stack: Vec::new(),
            in_str: false,
            escape: false,
            key_expected: false,
            too_large: false,
            too_deep: false,
        });
        self.index += 1;
    }

    pub(crate) fn unwrap(&self) -> Unwrap {
        self.unwrap
    }

    pub(crate) fn is_bare(&self) -> bool {
        self.bare
    }

    /// Finds the records of a chunk, handing each one's bytes (or an error) to `out`
    /// without parsing it.
    pub(crate) fn push_with(&mut self, chunk: &[u8], out: &mut dyn FnMut(RawEvent)) {
        let mut i = 0;
        while i < chunk.len() {
            if let Some(mut elem) = self.elem.take() {
                let (end, stop) = self.scan(&mut elem, chunk, i);
                elem.append(
                    chunk.get(i..end).unwrap_or_default(),
                    self.opts.max_record_bytes,
                );
                i = end;
                match stop {
                    None => self.elem = Some(elem),
                    Some(Stop::Complete) => self.emit(elem, out),
                    Some(Stop::Cut) => {
                        let next_line = self.line;
                        out(RawEvent::Error(ReadError::new(
                            ErrorCode::BadJson,
                            format!(
                                "the record is not closed before the next one starts (line {next_line})"
                            ),
                            elem.index,
                            elem.line,
                            elem.byte,
                        )));
                        self.mode = if elem.in_array {
                            Mode::ArrayAfter
                        } else {
                            Mode::Top
                        };
                        let at = self.offset + i as u64;
                        self.start_elem(b'{', at);
                    }
                }
                continue;
            }
            let b = chunk[i];
            let at = self.offset + i as u64;
            if b == b'\n' {
                self.line += 1;
                self.line_start = at + 1;
                i += 1;
                continue;
            }
            if matches!(b, b' ' | b'\t' | b'\r') || (at < 3 && matches!(b, 0xEF | 0xBB | 0xBF)) {
                i += 1;
                continue;
            }
            match self.mode {
                Mode::Top => match b {
                    b'[' => {
                        self.mode = Mode::ArrayExpect { after_comma: false };
                        self.array_line = self.line;
                        self.array_byte = at;
                        i += 1;
                    }
                    b',' | b']' | b'}' => {
                        self.structural(at, format!("unexpected '{}'", b as char), out);
                        i += 1;
                    }
                    _ => self.start_elem(b, at),
                },
                Mode::ArrayExpect { after_comma } => match b {
                    b']' => {
                        if after_comma {
                            self.structural(at, "trailing ',' before ']'", out);
                        }
                        self.mode = Mode::Top;
                        i += 1;
                    }
                    b',' => {
                        self.structural(at, "empty array element (',' after ',' or '[')", out);
                        self.mode = Mode::ArrayExpect { after_comma: true };
                        i += 1;
                    }
                    b'}' => {
                        self.structural(at, "unexpected '}'", out);
                        i += 1;
                    }
                    _ => self.start_elem(b, at),
                },
                Mode::ArrayAfter => match b {
                    b',' => {
                        self.mode = Mode::ArrayExpect { after_comma: true };
                        i += 1;
                    }
                    b']' => {
                        self.mode = Mode::Top;
                        i += 1;
                    }
                    b'}' => {
                        self.structural(at, "unexpected '}' (expected ',' or ']')", out);
                        i += 1;
                    }
                    _ => {
                        self.structural(at, "missing ',' between array elements", out);
                        self.start_elem(b, at);
                    }
                },
            }
        }
        self.offset += chunk.len() as u64;
    }

    /// Scans element bytes from `start`; returns where it stopped and why.
    fn scan(&mut self, e: &mut Elem, chunk: &[u8], start: usize) -> (usize, Option<Stop>) {
        let mut j = start;
        if e.kind == Kind::Scalar {
            while j < chunk.len() {
                if matches!(
                    chunk[j],
                    b' ' | b'\t' | b'\r' | b'\n' | b',' | b']' | b'}' | b'[' | b'{' | b'"'
                ) {
                    return (j, Some(Stop::Complete));
                }
                j += 1;
            }
            return (j, None);
        }
        let max_depth = self.opts.max_depth;
        while j < chunk.len() {
            let b = chunk[j];
            if e.in_str {
                if e.escape {
                    e.escape = false;
                } else if b == b'\\' {
                    e.escape = true;
                } else if b == b'"' {
                    e.in_str = false;
                    if e.depth == 0 {
                        return (j + 1, Some(Stop::Complete));
                    }
                } else if b == b'\n' {
                    self.line += 1;
                    self.line_start = self.offset + j as u64 + 1;
                } else {
                    // Skip ahead to the next byte that matters inside a string.
                    if let Some(k) = memchr::memchr3(b'"', b'\\', b'\n', &chunk[j..]) {
                        j += k;
                        continue;
                    }
                    return (chunk.len(), None);
                }
                j += 1;
                continue;
            }
            match b {
                b'\n' => {
                    self.line += 1;
                    self.line_start = self.offset + j as u64 + 1;
                }
                b' ' | b'\t' | b'\r' => {}
                b'"' => {
                    e.in_str = true;
                    e.key_expected = false;
                }
                b'{' | b'[' => {
                    if e.key_expected {
                        return (j, Some(Stop::Cut));
                    }
                    e.depth += 1;
                    if e.depth <= max_depth {
                        e.stack.push(b == b'{');
                    } else if !e.too_deep {
                        e.too_deep = true;
                        e.buf = Vec::new();
                    }
                }
                b'}' | b']' => {
                    e.key_expected = false;
                    if e.depth == e.stack.len() {
                        e.stack.pop();
                    }
                    e.depth = e.depth.saturating_sub(1);
                    if e.depth == 0 {
                        return (j + 1, Some(Stop::Complete));
                    }
                }
                b',' => {
                    e.key_expected = e.depth == e.stack.len() && e.stack.last() == Some(&true);
                }
                _ => e.key_expected = false,
            }
            j += 1;
        }
        (j, None)
    }

    fn emit(&mut self, e: Elem, out: &mut dyn FnMut(RawEvent)) {
        self.mode = if e.in_array {
            Mode::ArrayAfter
        } else {
            Mode::Top
        };
        let err = |code, message: String| ReadError::new(code, message, e.index, e.line, e.byte);
        if e.too_deep {
            out(RawEvent::Error(err(
                ErrorCode::TooDeep,
                format!("nested deeper than {} levels", self.opts.max_depth),
            )));
            return;
        }
        if e.too_large {
            out(RawEvent::Error(err(
                ErrorCode::TooLarge,
                format!("record larger than {} bytes", self.opts.max_record_bytes),
            )));
            return;
        }
        out(RawEvent::Record {
            bytes: &e.buf,
            index: e.index,
            line: e.line,
            column: e.column,
            byte: e.byte,
            at_end: false,
        });
    }

    pub(crate) fn finish_with(&mut self, out: &mut dyn FnMut(RawEvent)) {
        if let Some(e) = self.elem.take() {
            if e.kind == Kind::Scalar {
                self.emit(e, out);
            } else {
                out(RawEvent::Error(ReadError::new(
                    ErrorCode::Truncated,
                    "the input ends inside this record",
                    e.index,
                    e.line,
                    e.byte,
                )));
                self.mode = if e.in_array {
                    Mode::ArrayAfter
                } else {
                    Mode::Top
                };
            }
        }
        if self.mode != Mode::Top {
            out(RawEvent::Error(ReadError::new(
                ErrorCode::Truncated,
                format!(
                    "the input ends before the array that starts at line {} (byte {}) is closed",
                    self.array_line, self.array_byte
                ),
                self.index,
                self.line,
                self.offset,
            )));
            self.mode = Mode::Top;
        }
    }
}

impl Elem {
    fn append(&mut self, bytes: &[u8], max: usize) {
        if self.too_large || self.too_deep || bytes.is_empty() {
            return;
        }
        if self.buf.len() + bytes.len() > max {
            self.too_large = true;
            self.buf = Vec::new();
        } else {
            self.buf.extend_from_slice(bytes);
        }
    }
}

/// The unwrapping of bare events: the value itself.
pub(crate) fn identity(v: Value) -> Result<Value, (ErrorCode, String)> {
    Ok(v)
}
