//! Format conversion (formats.md §2-3): streaming readers, writers, gzip, batching.
//!
//! - [`Format`]: the format names, what is readable, detection from a file name
//!   ([`Format::from_file_name`]) and from the first bytes ([`Format::detect`]).
//! - [`Reader`]: push chunks, get [`Record`]s (index, start line, start byte, value, NDJSON
//!   raw line) and positioned [`ReadError`]s; gzip is recognised by its magic bytes.
//!   [`Records`] iterates over an `io::Read`; [`read_all`] reads a slice.
//! - [`Writer`]: one event at a time into any `io::Write`, for every format.
//! - [`Converter`]: reader + predicate + writer, with a fast path for NDJSON input.
//! - [`ColumnScan`], [`ColumnSet`]: the first pass of a whole-input CSV conversion (every
//!   field a column).
//! - [`batch`]: request bodies within byte/event limits, stream-file names.
//!
//! Reading is push-based so that the same code serves a file, a JavaScript stream of
//! `Uint8Array`s and a Worker request body:
//!
//! ```
//! use trailsift::convert::{Format, ReadOptions, Reader};
//!
//! let mut reader = Reader::new(Format::Ndjson, ReadOptions::default()).unwrap();
//! let mut out = Vec::new();
//! reader.push(b"{\"auditEventId\":\"a\"}\n{\"audit", &mut out);
//! reader.push(b"EventId\":\"b\"}", &mut out);
//! reader.finish(&mut out);
//! let ids: Vec<_> = out.iter().map(|r| r.as_ref().unwrap().value["auditEventId"].clone()).collect();
//! assert_eq!(ids, ["a", "b"]);
//! ```

use std::fmt;

use serde::Serialize;
use serde_json::Value;

pub mod batch;
pub mod gzip;
pub mod lines;
pub mod node;
pub mod output;
#[cfg(not(target_arch = "wasm32"))]
pub mod parallel;
pub mod pipeline;
pub mod read;
pub mod scan;
pub mod write;

pub use batch::{stream_file_name, Batcher};
pub use lines::NdjsonLines;
pub use output::Output;
pub use pipeline::Converter;
pub use read::{read_all, Reader, Records};
pub use scan::{ColumnScan, ColumnSet};
pub use write::{write_all, HecOptions, WriteOptions, Writer};

pub use crate::format::{is_gzip, Format, UnknownFormat, SUMO_EVENT_PREFIX};

/// Limits and choices of a reader.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The largest record, in bytes; a larger one is a `too_large` error. Default 1 MiB.
    pub max_record_bytes: usize,
    /// The deepest nesting of arrays and objects; deeper is `too_deep`. Default 128.
    pub max_depth: usize,
    /// Keep each NDJSON record's original line bytes in [`Record::raw`]. Default true.
    pub keep_raw: bool,
    /// The most decoded bytes read from the input (gzip or not); past it, a `too_large`
    /// error ends the input. Default: no limit.
    pub max_input_bytes: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_record_bytes: 1 << 20,
            max_depth: 128,
            keep_raw: true,
            max_input_bytes: u64::MAX,
        }
    }
}

/// One event read from the input, with where it started.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The record number, from 0 (bad records count too; blank lines do not).
    pub index: u64,
    /// The 1-based line where the record starts (the line of its `{` in a JSON array).
    pub line: u64,
    /// The byte offset of its start in the (decompressed) input.
    pub byte: u64,
    /// The event.
    pub value: Value,
    /// NDJSON only (when [`ReadOptions::keep_raw`]): the line's original bytes, without
    /// its line ending.
    pub raw: Option<Vec<u8>>,
}

/// What a reader yields: an event or a positioned error.
pub type Item = Result<Record, ReadError>;

/// The kind of a read error. Its `as_str` is the stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// Not JSON: `{"a": 1,}`.
    BadJson,
    /// Bytes that are not UTF-8 where text is expected: `{"a": "\xff"}`.
    BadUtf8,
    /// A record larger than [`ReadOptions::max_record_bytes`], or an input larger than
    /// [`ReadOptions::max_input_bytes`] once decoded.
    TooLarge,
    /// Arrays and objects nested deeper than [`ReadOptions::max_depth`].
    TooDeep,
    /// Valid JSON that is not an object: `[1, 2]` as a record.
    NotAnObject,
    /// The input ends inside a record, a quoted field or a gzip stream.
    Truncated,
    /// Not a gzip stream although it starts like one, or a corrupt one.
    BadGzip,
    /// A CSV row that cannot be read back into an event (bad cell, missing header).
    BadCsv,
    /// A Splunk HEC or Sumo envelope without its event: `{"time": 1}`.
    BadEnvelope,
    /// The format cannot be read (OCSF).
    Unsupported,
    /// The underlying input failed (native reading from a file or pipe).
    Io,
}

impl ErrorCode {
    /// Every kind.
    pub const ALL: [ErrorCode; 11] = [
        ErrorCode::BadJson,
        ErrorCode::BadUtf8,
        ErrorCode::TooLarge,
        ErrorCode::TooDeep,
        ErrorCode::NotAnObject,
        ErrorCode::Truncated,
        ErrorCode::BadGzip,
        ErrorCode::BadCsv,
        ErrorCode::BadEnvelope,
        ErrorCode::Unsupported,
        ErrorCode::Io,
    ];

    /// The stable code: `bad_json`, `bad_utf8`, `too_large`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadJson => "bad_json",
            ErrorCode::BadUtf8 => "bad_utf8",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::TooDeep => "too_deep",
            ErrorCode::NotAnObject => "not_an_object",
            ErrorCode::Truncated => "truncated",
            ErrorCode::BadGzip => "bad_gzip",
            ErrorCode::BadCsv => "bad_csv",
            ErrorCode::BadEnvelope => "bad_envelope",
            ErrorCode::Unsupported => "unsupported",
            ErrorCode::Io => "io",
        }
    }
}

impl From<&crate::input::InputError> for ErrorCode {
    fn from(e: &crate::input::InputError) -> ErrorCode {
        use crate::input::InputError;
        match e {
            InputError::BadGzip(_) => ErrorCode::BadGzip,
            InputError::Truncated(_) => ErrorCode::Truncated,
            InputError::TooLarge { .. } => ErrorCode::TooLarge,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A bad record or a broken input, with its position.
///
/// `index`, `line` and `byte` are the record's number, 1-based start line and start byte
/// offset. An error that is about no single record (stray bytes between array elements, an
/// unclosed array, a truncated gzip stream) takes no record number: its `index` is the
/// number of records before it and its `line`/`byte` where the problem was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadError {
    pub code: ErrorCode,
    pub message: String,
    pub index: u64,
    pub line: u64,
    pub byte: u64,
}

impl ReadError {
    pub fn new(
        code: ErrorCode,
        message: impl Into<String>,
        index: u64,
        line: u64,
        byte: u64,
    ) -> Self {
        ReadError {
            code,
            message: message.into(),
            index,
            line,
            byte,
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "record {} (line {}, byte {}): {} [{}]",
            self.index, self.line, self.byte, self.message, self.code
        )
    }
}

impl std::error::Error for ReadError {}
