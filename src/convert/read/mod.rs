//! Streaming readers: one file per format, all behind the push-based [`Reader`].

use serde_json::Value;

use super::{ErrorCode, Format, Item, ReadError, ReadOptions, Record};
use crate::input::{self, Decoder};

pub mod csv;
pub mod json;
pub mod ndjson;
pub mod splunk_hec;
pub mod sumo;

/// Turns a parsed record (an object) into the event: the identity for JSON and NDJSON,
/// envelope unwrapping for Splunk HEC and Sumo.
pub(crate) type Unwrap = fn(Value) -> Result<Value, (ErrorCode, String)>;

/// A record found but not parsed yet (its bytes and position), or an error.
pub(crate) enum RawEvent<'b> {
    Record {
        bytes: &'b [u8],
        index: u64,
        line: u64,
        /// 1-based column of its first byte.
        column: u64,
        byte: u64,
        /// The last record, cut by the end of the input.
        at_end: bool,
    },
    Error(ReadError),
}

/// Parses a raw record into an [`Item`].
pub(crate) fn to_item(ev: RawEvent, unwrap: Unwrap) -> Item {
    match ev {
        RawEvent::Error(e) => Err(e),
        RawEvent::Record {
            bytes,
            index,
            line,
            column,
            byte,
            at_end,
        } => parse_record(bytes, index, line, column, byte, unwrap, at_end),
    }
}

/// Parses one record's bytes into an [`Item`].
///
/// `column` is the 1-based column of the record's first byte on its line, so that error
/// messages point into the input rather than into the record.
pub(crate) fn parse_record(
    bytes: &[u8],
    index: u64,
    line: u64,
    column: u64,
    byte: u64,
    unwrap: Unwrap,
    at_end: bool,
) -> Item {
    let err = |code, message: String| Err(ReadError::new(code, message, index, line, byte));
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            return err(
                ErrorCode::BadUtf8,
                format!("invalid UTF-8 at byte {}", byte + e.valid_up_to() as u64),
            )
        }
    };
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => match unwrap(value) {
            Ok(value) => Ok(Record {
                index,
                line,
                byte,
                value,
                raw: None,
            }),
            Err((code, message)) => err(code, message),
        },
        Ok(other) => err(
            ErrorCode::NotAnObject,
            format!(
                "expected an event object, found {}",
                crate::event::json_kind(&other)
            ),
        ),
        Err(e) => Err(json_error(&e, index, line, column, byte, at_end)),
    }
}

/// The positioned error for JSON that serde_json rejects.
pub(crate) fn json_error(
    e: &serde_json::Error,
    index: u64,
    line: u64,
    column: u64,
    byte: u64,
    at_end: bool,
) -> ReadError {
    let full = e.to_string();
    let what = full.split(" at line ").next().unwrap_or(&full);
    let at_line = line + e.line() as u64 - 1;
    let at_column = if e.line() <= 1 {
        column + e.column() as u64 - 1
    } else {
        e.column() as u64
    };
    let code = if what.contains("recursion limit") {
        ErrorCode::TooDeep
    } else if at_end && e.classify() == serde_json::error::Category::Eof {
        ErrorCode::Truncated
    } else {
        ErrorCode::BadJson
    };
    ReadError::new(
        code,
        format!("{what} at line {at_line} column {at_column}"),
        index,
        line,
        byte,
    )
}

/// What a reader hands on: records of JSON and NDJSON input unparsed (for callers that
/// read the bytes themselves: conversion's fast path, validation from bytes), everything
/// else as items.
pub(crate) enum Piece<'b> {
    Raw(RawEvent<'b>),
    Item(Item),
}

enum Inner {
    Json(json::JsonReader),
    Ndjson(ndjson::NdjsonReader),
    Csv(Box<csv::CsvReader>),
}

impl Inner {
    fn new(format: Format, opts: &ReadOptions) -> Option<Inner> {
        let opts = opts.clone();
        Some(match format {
            Format::Json => Inner::Json(json::JsonReader::new(opts, json::identity, true)),
            Format::SplunkHec => {
                Inner::Json(json::JsonReader::new(opts, splunk_hec::unwrap, false))
            }
            Format::Ndjson => Inner::Ndjson(ndjson::NdjsonReader::new(opts, json::identity, true)),
            Format::Sumo => Inner::Ndjson(ndjson::NdjsonReader::new(opts, sumo::unwrap, false)),
            Format::Csv => Inner::Csv(Box::new(csv::CsvReader::new(opts))),
            Format::Ocsf => return None,
        })
    }

    /// Reads a chunk (`end`: the input ends after it); records go to `sink`, unparsed when
    /// `raw` and the format holds bare events (JSON, NDJSON).
    fn read(&mut self, chunk: &[u8], end: bool, raw: bool, sink: &mut dyn FnMut(Piece)) {
        match self {
            Inner::Json(r) => {
                let (bare, unwrap) = (r.is_bare(), r.unwrap());
                let mut f = |ev: RawEvent| match ev {
                    ev if raw && bare => sink(Piece::Raw(ev)),
                    ev => sink(Piece::Item(to_item(ev, unwrap))),
                };
                r.push_with(chunk, &mut f);
                if end {
                    r.finish_with(&mut f);
                }
            }
            Inner::Ndjson(r) => {
                let (bare, unwrap, keep_raw) = (r.is_bare(), r.unwrap(), r.keeps_raw());
                let mut f = |ev: RawEvent| match ev {
                    ev if raw && bare => sink(Piece::Raw(ev)),
                    ev => sink(Piece::Item(ndjson::with_raw(ev, unwrap, keep_raw))),
                };
                r.push_with(chunk, &mut f);
                if end {
                    r.finish_with(&mut f);
                }
            }
            Inner::Csv(r) => {
                let mut items = Vec::new();
                r.push(chunk, &mut items);
                if end {
                    r.finish(&mut items);
                }
                items.into_iter().for_each(|i| sink(Piece::Item(i)));
            }
        }
    }

    fn position(&self) -> (u64, u64, u64) {
        match self {
            Inner::Json(r) => r.position(),
            Inner::Ndjson(r) => r.position(),
            Inner::Csv(r) => r.position(),
        }
    }
}

/// The push-based reader of every readable format, gzip or not.
///
/// Push chunks of any size with [`push`](Reader::push), then call
/// [`finish`](Reader::finish); each call appends what it completed to `out` (events and
/// positioned errors, in input order). The input takes the one path of [`crate::input`]:
/// gzip by its magic bytes within [`ReadOptions::max_input_bytes`], the format from the
/// content (a file name only hints). Memory held: one partial record (plus, while the
/// format is not known yet, the first line, at most [`input::SNIFF_LIMIT`]).
pub struct Reader {
    decoder: Decoder,
    opts: ReadOptions,
    /// The format, once given or detected.
    format: Option<Format>,
    /// What the file name says, for content that cannot tell.
    hint: Option<Format>,
    /// Content held until its format is known.
    sniff: Vec<u8>,
    inner: Option<Inner>,
}

impl Reader {
    /// A reader of `format` (any readable one; OCSF gives an `unsupported` error).
    pub fn new(format: Format, opts: ReadOptions) -> Result<Reader, ReadError> {
        if !format.readable() {
            return Err(ReadError::new(
                ErrorCode::Unsupported,
                format!("the {format} format cannot be read"),
                0,
                1,
                0,
            ));
        }
        let mut r = Reader::detecting(None, opts);
        r.format = Some(format);
        r.inner = Inner::new(format, &r.opts);
        Ok(r)
    }

    /// A reader that detects the format from the content (see [`input::detect`]); the file
    /// `name` (`.json`, `.ndjson`, `.jsonl`, `.csv`, with or without `.gz`) is a hint for
    /// content that cannot tell.
    pub fn detecting(name: Option<&str>, opts: ReadOptions) -> Reader {
        Reader {
            decoder: Decoder::new(opts.max_input_bytes),
            hint: name.and_then(|n| Format::from_file_name(n).0),
            opts,
            format: None,
            sniff: Vec::new(),
            inner: None,
        }
    }

    /// [`Reader::new`] for `Some` format, else [`Reader::detecting`] with `name` as a hint.
    pub fn open(
        format: Option<Format>,
        name: Option<&str>,
        opts: ReadOptions,
    ) -> Result<Reader, ReadError> {
        match format {
            Some(f) => Reader::new(f, opts),
            None => Ok(Reader::detecting(name, opts)),
        }
    }

    /// The format being read: known from the start, or once detected.
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// Whether the input is gzip (known after its first two bytes).
    pub fn is_gzip(&self) -> Option<bool> {
        self.decoder.is_gzip()
    }

    /// (records so far, current line, decoded bytes so far).
    pub fn position(&self) -> (u64, u64, u64) {
        match &self.inner {
            Some(inner) => inner.position(),
            None => (0, 1, self.sniff.len() as u64),
        }
    }

    /// Reads a chunk; completed records and errors are appended to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<Item>) {
        self.read(chunk, false, false, &mut |p| out.push(item_of(p)));
    }

    /// Ends the input: completes or reports the last record.
    pub fn finish(&mut self, out: &mut Vec<Item>) {
        self.read(&[], true, false, &mut |p| out.push(item_of(p)));
    }

    /// Reads a chunk (`end`: and ends the input), handing records to `sink` as
    /// [`Piece`]s: unparsed when `raw` and the format holds bare events.
    pub(crate) fn read(&mut self, chunk: &[u8], end: bool, raw: bool, sink: &mut dyn FnMut(Piece)) {
        let Reader {
            decoder,
            opts,
            format,
            hint,
            sniff,
            inner,
        } = self;
        // The decoded content to the format's reader (held until the format is known).
        let mut content = |inner: &mut Option<Inner>,
                           sniff: &mut Vec<u8>,
                           bytes: &[u8],
                           end: bool,
                           sink: &mut dyn FnMut(Piece)| {
            if inner.is_none() {
                sniff.extend_from_slice(bytes);
                let Some(f) = input::detect(sniff, end, *hint) else {
                    return;
                };
                *format = Some(f);
                *inner = Inner::new(f, opts);
                let held = std::mem::take(sniff);
                if let Some(inner) = inner.as_mut() {
                    inner.read(&held, end, raw, sink);
                }
                return;
            }
            if let Some(inner) = inner.as_mut() {
                inner.read(bytes, end, raw, sink);
            }
        };
        let mut result = decoder.push(chunk, &mut |b| content(inner, sniff, b, false, sink));
        if end && result.is_ok() {
            result = decoder.finish(&mut |b| content(inner, sniff, b, false, sink));
        }
        // The decoder's error goes before the end of the content (a last record cut short),
        // as it does when it comes from a push: whether the decoder meets it in a push or in
        // the finish that decodes the last compressed bytes must not change what is read.
        if let Err(e) = result {
            let (index, line, byte) = match inner {
                Some(inner) => inner.position(),
                None => (0, 1, sniff.len() as u64),
            };
            sink(Piece::Item(Err(ReadError::new(
                ErrorCode::from(&e),
                e.to_string(),
                index,
                line,
                byte,
            ))));
        }
        if end {
            content(inner, sniff, &[], true, sink);
        }
    }
}

/// A piece read in item mode is always an item.
fn item_of(p: Piece) -> Item {
    match p {
        Piece::Item(item) => item,
        Piece::Raw(ev) => to_item(ev, json::identity),
    }
}

/// Reads a whole input held in memory (`format` None: detect it, with `name` as a hint).
pub fn read_all(
    format: Option<Format>,
    name: Option<&str>,
    bytes: &[u8],
    opts: ReadOptions,
) -> Vec<Item> {
    let mut reader = match format {
        Some(f) => match Reader::new(f, opts) {
            Ok(r) => r,
            Err(e) => return vec![Err(e)],
        },
        None => Reader::detecting(name, opts),
    };
    let mut out = Vec::new();
    reader.push(bytes, &mut out);
    reader.finish(&mut out);
    out
}

/// An iterator of the records of a [`std::io::Read`] (a file, stdin), read in 64 KiB
/// chunks. An I/O failure is one `io` error, after which the iterator ends.
pub struct Records<R> {
    input: R,
    reader: Reader,
    buf: Vec<u8>,
    ready: std::collections::VecDeque<Item>,
    scratch: Vec<Item>,
    done: bool,
}

impl<R: std::io::Read> Records<R> {
    pub fn new(reader: Reader, input: R) -> Self {
        Records {
            input,
            reader,
            buf: vec![0; 64 * 1024],
            ready: Default::default(),
            scratch: Vec::new(),
            done: false,
        }
    }

    /// The format being read, once known.
    pub fn format(&self) -> Option<Format> {
        self.reader.format()
    }
}

impl<R: std::io::Read> Iterator for Records<R> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            match self.input.read(&mut self.buf) {
                Ok(0) => {
                    self.done = true;
                    self.reader.finish(&mut self.scratch);
                }
                Ok(n) => {
                    let chunk = self.buf.get(..n).unwrap_or_default();
                    self.reader.push(chunk, &mut self.scratch);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.done = true;
                    let (index, line, byte) = self.reader.position();
                    self.scratch.push(Err(ReadError::new(
                        ErrorCode::Io,
                        format!("read failed: {e}"),
                        index,
                        line,
                        byte,
                    )));
                }
            }
            self.ready.extend(self.scratch.drain(..));
        }
    }
}
