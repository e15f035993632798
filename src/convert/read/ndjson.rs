//! Streaming NDJSON: one event per line; `\r\n`, blank lines and a missing final newline
//! are fine (Sumo bodies use the same reader with their own unwrapping). Lines come from
//! the one line splitter, [`crate::input::Lines`].

use super::{to_item, RawEvent, Unwrap};
use crate::convert::{ErrorCode, Item, ReadError, ReadOptions};
use crate::input::{LineEvent, Lines};

/// Reads NDJSON pushed in chunks. Lines that lie wholly inside a chunk are read in place;
/// only a line cut by the chunk's end is copied.
pub struct NdjsonReader {
    opts: ReadOptions,
    unwrap: Unwrap,
    /// Whether records are bare events (not envelopes).
    bare: bool,
    lines: Lines,
    index: u64,
}

impl NdjsonReader {
    pub(crate) fn new(opts: ReadOptions, unwrap: Unwrap, bare: bool) -> Self {
        // One more byte than the limit for a `\r` before the `\n`.
        let lines = Lines::new(opts.max_record_bytes.saturating_add(1));
        NdjsonReader {
            opts,
            unwrap,
            bare,
            lines,
            index: 0,
        }
    }

    pub(crate) fn unwrap(&self) -> Unwrap {
        self.unwrap
    }

    pub(crate) fn is_bare(&self) -> bool {
        self.bare
    }

    pub(crate) fn keeps_raw(&self) -> bool {
        self.opts.keep_raw
    }

    /// (records so far, current line, bytes so far).
    pub(crate) fn position(&self) -> (u64, u64, u64) {
        let (line, offset) = self.lines.position();
        (self.index, line, offset)
    }

    /// Splits a chunk into lines, handing each complete one (or a `too_large` error) to
    /// `sink` without parsing it.
    pub(crate) fn push_with(&mut self, chunk: &[u8], sink: &mut dyn FnMut(RawEvent)) {
        let (max, index) = (self.opts.max_record_bytes, &mut self.index);
        self.lines
            .push(chunk, &mut |ev| on_lines(ev, max, index, false, sink));
    }

    pub(crate) fn finish_with(&mut self, sink: &mut dyn FnMut(RawEvent)) {
        let (max, index) = (self.opts.max_record_bytes, &mut self.index);
        self.lines
            .finish(&mut |ev| on_lines(ev, max, index, true, sink));
    }
}

/// Hands on the records of a block of lines (or the error of a line that is too long),
/// numbered from `*index`. `at_end`: the input ends with this block (its last line, when
/// it has no `\n`, was cut by the end of the input).
pub(crate) fn on_lines(
    ev: LineEvent,
    max: usize,
    index: &mut u64,
    at_end: bool,
    sink: &mut dyn FnMut(RawEvent),
) {
    let (bytes, mut line, mut byte) = match ev {
        LineEvent::TooLong { line, byte } => {
            sink(too_large(max, *index, line, byte));
            *index += 1;
            return;
        }
        LineEvent::Block { bytes, line, byte } => (bytes, line, byte),
    };
    let mut rest = bytes;
    while !rest.is_empty() {
        let (body, next) = match memchr::memchr(b'\n', rest) {
            Some(nl) => (&rest[..nl], &rest[nl + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        let len = (rest.len() - next.len()) as u64;
        let mut text = body.strip_suffix(b"\r").unwrap_or(body);
        if byte == 0 {
            text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
        }
        if text.len() > max {
            sink(too_large(max, *index, line, byte));
            *index += 1;
        } else if !text.iter().all(u8::is_ascii_whitespace) {
            sink(RawEvent::Record {
                bytes: text,
                index: *index,
                line,
                column: 1,
                byte,
                at_end: at_end && next.is_empty() && body.len() == rest.len(),
            });
            *index += 1;
        }
        line += 1;
        byte += len;
        rest = next;
    }
}

fn too_large(max: usize, index: u64, line: u64, byte: u64) -> RawEvent<'static> {
    RawEvent::Error(ReadError::new(
        ErrorCode::TooLarge,
        format!("line longer than {max} bytes"),
        index,
        line,
        byte,
    ))
}

/// The item of an NDJSON line, with its raw bytes when asked.
pub(crate) fn with_raw(ev: RawEvent, unwrap: Unwrap, keep_raw: bool) -> Item {
    let raw = match &ev {
        RawEvent::Record { bytes, .. } if keep_raw => Some(bytes.to_vec()),
        _ => None,
    };
    let mut item = to_item(ev, unwrap);
    if let Ok(record) = &mut item {
        record.raw = raw;
    }
    item
}
