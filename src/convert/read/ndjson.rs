//! Streaming NDJSON: one event per line; `\r\n`, blank lines and a missing final newline
//! are fine (Sumo bodies use the same reader with their own transform).

use super::{to_checked_item, RawEvent, Transform};
use crate::convert::{ErrorCode, Item, ReadError, ReadOptions};

/// Reads NDJSON pushed in chunks. Lines that lie wholly inside a chunk are parsed in place;
/// only a line cut by the chunk's end is copied.
pub struct NdjsonReader {
    opts: ReadOptions,
    transform: Transform,
    /// The start of the current line, cut by a chunk's end.
    partial: Vec<u8>,
    /// The current line is longer than the limit: skip to its end.
    skipping: bool,
    /// Absolute offset of the start of the chunk being read.
    offset: u64,
    /// 1-based number and start offset of the current line.
    line: u64,
    line_start: u64,
    index: u64,
}

impl NdjsonReader {
    pub(crate) fn new(opts: ReadOptions, transform: Transform) -> Self {
        NdjsonReader {
            opts,
            transform,
            partial: Vec::new(),
            skipping: false,
            offset: 0,
            line: 1,
            line_start: 0,
            index: 0,
        }
    }

    /// Reads a piece of a larger input that starts at 1-based `line` and byte `byte`
    /// (positions in errors and records count from there).
    pub(crate) fn start_at(&mut self, line: u64, byte: u64) {
        self.line = line;
        self.offset = byte;
        self.line_start = byte;
    }

    /// (records so far, current line, bytes so far).
    pub(crate) fn position(&self) -> (u64, u64, u64) {
        (self.index, self.line, self.offset)
    }

    pub(crate) fn push(&mut self, chunk: &[u8], out: &mut Vec<Item>) {
        let (transform, keep_raw, check) =
            (self.transform, self.opts.keep_raw, self.opts.check.clone());
        self.push_with(chunk, &mut |ev| {
            out.push(with_raw(ev, transform, keep_raw, check.as_ref()))
        });
    }

    pub(crate) fn finish(&mut self, out: &mut Vec<Item>) {
        let (transform, keep_raw, check) =
            (self.transform, self.opts.keep_raw, self.opts.check.clone());
        self.finish_with(&mut |ev| out.push(with_raw(ev, transform, keep_raw, check.as_ref())));
    }

    /// Splits a chunk into lines, handing each complete one (or a `too_large` error) to
    /// `sink` without parsing it.
    pub(crate) fn push_with(&mut self, chunk: &[u8], sink: &mut dyn FnMut(RawEvent)) {
        // One more byte than the limit for a `\r` before the `\n`.
        let max = self.opts.max_record_bytes.saturating_add(1);
        let mut rest = chunk;
        let mut pos = 0usize;
        while let Some(nl) = memchr::memchr(b'\n', rest) {
            let piece = &rest[..nl];
            if self.skipping {
                self.skipping = false;
                self.too_large(sink);
            } else if self.partial.is_empty() {
                self.line_done(piece, false, sink);
            } else if self.partial.len() + piece.len() > max {
                self.partial = Vec::new();
                self.too_large(sink);
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(piece);
                self.line_done(&line, false, sink);
                line.clear();
                self.partial = line;
            }
            pos += nl + 1;
            rest = &rest[nl + 1..];
            self.line += 1;
            self.line_start = self.offset + pos as u64;
        }
        if !self.skipping && !rest.is_empty() {
            if self.partial.len() + rest.len() > max {
                self.partial = Vec::new();
                self.skipping = true;
            } else {
                self.partial.extend_from_slice(rest);
            }
        }
        self.offset += chunk.len() as u64;
    }

    pub(crate) fn finish_with(&mut self, sink: &mut dyn FnMut(RawEvent)) {
        if self.skipping {
            self.skipping = false;
            self.too_large(sink);
        } else if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line_done(&line, true, sink);
        }
    }

    fn too_large(&mut self, sink: &mut dyn FnMut(RawEvent)) {
        sink(RawEvent::Error(ReadError::new(
            ErrorCode::TooLarge,
            format!("line longer than {} bytes", self.opts.max_record_bytes),
            self.index,
            self.line,
            self.line_start,
        )));
        self.index += 1;
    }

    fn line_done(&mut self, line: &[u8], at_end: bool, sink: &mut dyn FnMut(RawEvent)) {
        let mut line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > self.opts.max_record_bytes {
            self.too_large(sink);
            return;
        }
        if self.line_start == 0 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        sink(RawEvent::Record {
            bytes: line,
            index: self.index,
            line: self.line,
            column: 1,
            byte: self.line_start,
            at_end,
        });
        self.index += 1;
    }
}

/// The item of an NDJSON line, with its raw bytes when asked.
fn with_raw(
    ev: RawEvent,
    transform: Transform,
    keep_raw: bool,
    check: Option<&crate::schema::Options>,
) -> Item {
    let raw = match &ev {
        RawEvent::Record { bytes, .. } if keep_raw => Some(bytes.to_vec()),
        _ => None,
    };
    let mut item = to_checked_item(ev, transform, check);
    if let Ok(record) = &mut item {
        record.raw = raw;
    }
    item
}
