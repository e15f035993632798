//! Streaming readers: one file per format, all behind the push-based [`Reader`].

use serde_json::Value;

use super::gzip::{GzipDecoder, GzipError};
use super::{is_gzip, ErrorCode, Format, Item, ReadError, ReadOptions, Record};

pub mod csv;
pub mod json;
pub mod ndjson;
pub mod splunk_hec;
pub mod sumo;

/// Turns a parsed record (an object) into the event: the identity for JSON and NDJSON,
/// envelope unwrapping for Splunk HEC and Sumo.
pub(crate) type Transform = fn(Value) -> Result<Value, (ErrorCode, String)>;

/// Bytes of content held to detect the format before giving up and choosing JSON.
const SNIFF_LIMIT: usize = 64 * 1024;

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
pub(crate) fn to_item(ev: RawEvent, transform: Transform) -> Item {
    match ev {
        RawEvent::Error(e) => Err(e),
        RawEvent::Record {
            bytes,
            index,
            line,
            column,
            byte,
            at_end,
        } => parse_record(bytes, index, line, column, byte, transform, at_end),
    }
}

/// [`to_item`], except that a record which the schema check `check` finds certainly valid
/// is handed out unparsed (see [`ReadOptions::check`](crate::convert::ReadOptions::check)).
pub(crate) fn to_checked_item(
    ev: RawEvent,
    transform: Transform,
    check: Option<&crate::schema::Options>,
) -> Item {
    if let (
        Some(options),
        RawEvent::Record {
            bytes,
            index,
            line,
            byte,
            ..
        },
    ) = (check, &ev)
    {
        let mut warnings = Vec::new();
        if crate::schema::is_certainly_valid(bytes, options, &mut warnings) {
            return Ok(Record {
                index: *index,
                line: *line,
                byte: *byte,
                value: Value::Null,
                raw: None,
                checked: Some(warnings),
            });
        }
    }
    to_item(ev, transform)
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
    transform: Transform,
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
        Ok(value @ Value::Object(_)) => match transform(value) {
            Ok(value) => Ok(Record {
                index,
                line,
                byte,
                value,
                raw: None,
                checked: None,
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

enum Inner {
    Json(json::JsonReader),
    Ndjson(ndjson::NdjsonReader),
    Csv(Box<csv::CsvReader>),
}

impl Inner {
    fn new(format: Format, opts: &ReadOptions) -> Option<Inner> {
        let mut opts = opts.clone();
        if !matches!(format, Format::Json | Format::Ndjson) {
            // The check applies to bare events, not to envelopes.
            opts.check = None;
        }
        Some(match format {
            Format::Json => Inner::Json(json::JsonReader::new(opts, json::identity)),
            Format::SplunkHec => Inner::Json(json::JsonReader::new(opts, splunk_hec::unwrap)),
            Format::Ndjson => Inner::Ndjson(ndjson::NdjsonReader::new(opts, json::identity)),
            Format::Sumo => Inner::Ndjson(ndjson::NdjsonReader::new(opts, sumo::unwrap)),
            Format::Csv => Inner::Csv(Box::new(csv::CsvReader::new(opts))),
            Format::Ocsf => return None,
        })
    }

    fn push(&mut self, chunk: &[u8], out: &mut Vec<Item>) {
        match self {
            Inner::Json(r) => r.push(chunk, out),
            Inner::Ndjson(r) => r.push(chunk, out),
            Inner::Csv(r) => r.push(chunk, out),
        }
    }

    fn finish(&mut self, out: &mut Vec<Item>) {
        match self {
            Inner::Json(r) => r.finish(out),
            Inner::Ndjson(r) => r.finish(out),
            Inner::Csv(r) => r.finish(out),
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

/// The decompressed content: held until its format is known, then read.
struct Content {
    opts: ReadOptions,
    format: Option<Format>,
    sniff: Vec<u8>,
    inner: Option<Inner>,
}

impl Content {
    fn push(&mut self, bytes: &[u8], out: &mut Vec<Item>) {
        if let Some(inner) = &mut self.inner {
            inner.push(bytes, out);
            return;
        }
        self.sniff.extend_from_slice(bytes);
        let detected = Format::detect(&self.sniff, false);
        let format = match detected {
            Some(f) => f,
            None if self.sniff.len() > SNIFF_LIMIT => Format::Json,
            None => return,
        };
        self.start(format, out);
    }

    fn start(&mut self, format: Format, out: &mut Vec<Item>) {
        self.format = Some(format);
        if let Some(mut inner) = Inner::new(format, &self.opts) {
            let held = std::mem::take(&mut self.sniff);
            inner.push(&held, out);
            self.inner = Some(inner);
        }
    }

    fn finish(&mut self, out: &mut Vec<Item>) {
        if self.inner.is_none() {
            match Format::detect(&self.sniff, true) {
                Some(f) => self.start(f, out),
                // Nothing but whitespace: no records.
                None => return,
            }
        }
        if let Some(inner) = &mut self.inner {
            inner.finish(out);
        }
    }

    fn position(&self) -> (u64, u64, u64) {
        match &self.inner {
            Some(inner) => inner.position(),
            None => (0, 1, self.sniff.len() as u64),
        }
    }
}

/// The push-based reader of every readable format, gzip or not.
///
/// Push chunks of any size with [`push`](Reader::push), then call
/// [`finish`](Reader::finish); each call appends what it completed to `out` (events and
/// positioned errors, in input order). Gzip input is recognised by its magic bytes and
/// decompressed on the way. Memory held: one partial record (plus, while the format is not
/// known yet, the first line, at most 64 KiB).
pub struct Reader {
    gzip_decided: bool,
    head: Vec<u8>,
    gzip: Option<GzipDecoder>,
    content: Content,
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
        r.content.format = Some(format);
        r.content.inner = Inner::new(format, &r.content.opts);
        Ok(r)
    }

    /// A reader that detects the format from the file name `name` when it tells
    /// (`.json`, `.ndjson`, `.jsonl`, `.csv`, with or without `.gz`), else from the first
    /// bytes of the content (see [`Format::detect`]).
    pub fn detecting(name: Option<&str>, opts: ReadOptions) -> Reader {
        let mut content = Content {
            opts,
            format: None,
            sniff: Vec::new(),
            inner: None,
        };
        if let Some((Some(format), _)) = name.map(Format::from_file_name) {
            content.format = Some(format);
            content.inner = Inner::new(format, &content.opts);
        }
        Reader {
            gzip_decided: false,
            head: Vec::new(),
            gzip: None,
            content,
        }
    }

    /// The format being read: known from the start, or once detected.
    pub fn format(&self) -> Option<Format> {
        self.content.format
    }

    /// Whether the input is gzip (known after its first two bytes).
    pub fn is_gzip(&self) -> Option<bool> {
        self.gzip_decided.then_some(self.gzip.is_some())
    }

    /// Reads a chunk; completed records and errors are appended to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<Item>) {
        if !self.gzip_decided {
            if self.head.is_empty() && chunk.len() >= 2 {
                self.decide_gzip(chunk);
                self.forward(chunk, out);
                return;
            }
            self.head.extend_from_slice(chunk);
            if self.head.len() < 2 {
                return;
            }
            let head = std::mem::take(&mut self.head);
            self.decide_gzip(&head);
            self.forward(&head, out);
            return;
        }
        self.forward(chunk, out);
    }

    fn decide_gzip(&mut self, first: &[u8]) {
        self.gzip_decided = true;
        if is_gzip(first) {
            self.gzip = Some(GzipDecoder::new());
        }
    }

    fn forward(&mut self, chunk: &[u8], out: &mut Vec<Item>) {
        let content = &mut self.content;
        match &mut self.gzip {
            None => content.push(chunk, out),
            Some(gz) => {
                let result = gz.push(chunk, &mut |b| content.push(b, out));
                if let Err(e) = result {
                    gzip_error(content, e, out);
                }
            }
        }
    }

    /// Ends the input: completes or reports the last record.
    pub fn finish(&mut self, out: &mut Vec<Item>) {
        if !self.gzip_decided {
            let head = std::mem::take(&mut self.head);
            self.decide_gzip(&head);
            self.forward(&head, out);
        }
        let content = &mut self.content;
        if let Some(gz) = &mut self.gzip {
            let result = gz.finish(&mut |b| content.push(b, out));
            if let Err(e) = result {
                gzip_error(content, e, out);
            }
        }
        content.finish(out);
    }
}

fn gzip_error(content: &Content, e: GzipError, out: &mut Vec<Item>) {
    let (index, line, byte) = content.position();
    let (code, message) = match e {
        GzipError::Bad(m) => (ErrorCode::BadGzip, m),
        GzipError::Truncated(m) => (ErrorCode::Truncated, m),
    };
    out.push(Err(ReadError::new(code, message, index, line, byte)));
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
                    let (index, line, byte) = self.reader.content.position();
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
