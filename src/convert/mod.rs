//! Format conversion (formats.md §2-3): streaming readers, writers, gzip, batching.
//!
//! - [`Format`]: the format names, what is readable, detection from a file name
//!   ([`Format::from_file_name`]) and from the first bytes ([`Format::detect`]).
//! - [`Reader`]: push chunks, get [`Record`]s (index, start line, start byte, value, NDJSON
//!   raw line) and positioned [`ReadError`]s; gzip is recognised by its magic bytes.
//!   [`Records`] iterates over an `io::Read`; [`read_all`] reads a slice.
//! - [`Writer`]: one event at a time into any `io::Write`, for every format.
//! - [`Converter`]: reader + predicate + writer, with a fast path for NDJSON input.
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
use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;

pub mod batch;
pub mod gzip;
pub mod lines;
pub mod node;
pub mod output;
pub mod pipeline;
pub mod read;
pub mod write;

pub use batch::{stream_file_name, Batcher};
pub use lines::NdjsonLines;
pub use output::Output;
pub use pipeline::Converter;
pub use read::{read_all, Reader, Records};
pub use write::{write_all, HecOptions, WriteOptions, Writer};

/// The formats trailsift reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// A JSON array of events (the stream file), or one event object.
    Json,
    /// One event per line.
    Ndjson,
    /// RFC 4180 CSV with a header row of dotted field paths.
    Csv,
    /// Splunk HTTP Event Collector envelopes, concatenated.
    SplunkHec,
    /// Sumo Logic lines: `{"event": "Harness-Audit-Event-<id>", "fields": {...}}`.
    Sumo,
    /// OCSF API Activity (class 6003), one object a line; written only.
    Ocsf,
}

impl Format {
    /// Every format, in the order `--list` shows them.
    pub const ALL: [Format; 6] = [
        Format::Json,
        Format::Ndjson,
        Format::Csv,
        Format::SplunkHec,
        Format::Sumo,
        Format::Ocsf,
    ];

    /// The format's name: `json ndjson csv splunk_hec sumo ocsf`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
            Format::SplunkHec => "splunk_hec",
            Format::Sumo => "sumo",
            Format::Ocsf => "ocsf",
        }
    }

    /// Whether trailsift can read the format (all but OCSF).
    pub fn readable(self) -> bool {
        !matches!(self, Format::Ocsf)
    }

    /// Whether trailsift can write the format (all of them).
    pub fn writable(self) -> bool {
        true
    }

    /// A one-line description for listings.
    pub fn description(self) -> &'static str {
        match self {
            Format::Json => "a JSON array of events (the stream file), or one event object",
            Format::Ndjson => "one event per line",
            Format::Csv => "RFC 4180 CSV, one row per event, dotted-path columns",
            Format::SplunkHec => "Splunk HTTP Event Collector envelopes",
            Format::Sumo => "Sumo Logic lines with flattened fields",
            Format::Ocsf => "OCSF API Activity (class 6003)",
        }
    }

    /// The file extension a stream file of this format uses, if it has one.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ndjson | Format::SplunkHec | Format::Sumo | Format::Ocsf => "ndjson",
            Format::Csv => "csv",
        }
    }

    /// The format a file name says (`.json`, `.ndjson`, `.jsonl`, `.csv`, each optionally
    /// followed by `.gz`), and whether the name says gzip.
    pub fn from_file_name(name: &str) -> (Option<Format>, bool) {
        let lower = name.to_ascii_lowercase();
        let (stem, gz) = match lower.strip_suffix(".gz") {
            Some(stem) => (stem, true),
            None => (lower.as_str(), false),
        };
        let format = if stem.ends_with(".ndjson") || stem.ends_with(".jsonl") {
            Some(Format::Ndjson)
        } else if stem.ends_with(".json") {
            Some(Format::Json)
        } else if stem.ends_with(".csv") {
            Some(Format::Csv)
        } else {
            None
        };
        (format, gz)
    }

    /// Guesses the format of (decompressed) content from its first bytes.
    ///
    /// `[` means JSON; `{` means NDJSON when the first line is one whole JSON object (and
    /// Splunk HEC or Sumo when that object is such an envelope), JSON otherwise; anything
    /// else is CSV. Returns `None` when the bytes are not enough to tell (only whitespace,
    /// or a first line that has not ended yet and `complete` is false).
    pub fn detect(content: &[u8], complete: bool) -> Option<Format> {
        const BOM: &[u8] = b"\xEF\xBB\xBF";
        if content.len() < BOM.len() && BOM.starts_with(content) {
            return None;
        }
        let content = content.strip_prefix(BOM).unwrap_or(content);
        let start = content.iter().position(|b| !b.is_ascii_whitespace())?;
        let rest = &content[start..];
        match rest.first()? {
            b'[' => Some(Format::Json),
            b'{' => {
                let line = match memchr::memchr(b'\n', rest) {
                    Some(end) => &rest[..end],
                    None if complete => rest,
                    None => return None,
                };
                match serde_json::from_slice::<Value>(line) {
                    Ok(Value::Object(map)) => {
                        let event = map.get("event");
                        if event.is_some_and(Value::is_object) {
                            Some(Format::SplunkHec)
                        } else if event
                            .and_then(Value::as_str)
                            .is_some_and(|e| e.starts_with(SUMO_EVENT_PREFIX))
                            && map.get("fields").is_some_and(Value::is_object)
                        {
                            Some(Format::Sumo)
                        } else {
                            Some(Format::Ndjson)
                        }
                    }
                    _ => Some(Format::Json),
                }
            }
            _ => Some(Format::Csv),
        }
    }
}

/// The prefix of a Sumo line's `event` value.
pub const SUMO_EVENT_PREFIX: &str = "Harness-Audit-Event-";

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown format name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown format {:?} (expected one of json, ndjson, csv, splunk_hec, sumo, ocsf)",
            self.0
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.name() == lower)
            .or(match lower.as_str() {
                "jsonl" => Some(Format::Ndjson),
                "hec" | "splunk" => Some(Format::SplunkHec),
                _ => None,
            })
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}

/// Whether bytes start with the gzip magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>(), Ok(f));
            assert_eq!(f.to_string(), f.name());
        }
        assert!("xml".parse::<Format>().is_err());
        assert!(!Format::Ocsf.readable());
        assert!(Format::Csv.readable());
    }

    #[test]
    fn file_names() {
        assert_eq!(
            Format::from_file_name("a.json"),
            (Some(Format::Json), false)
        );
        assert_eq!(
            Format::from_file_name("a.JSONL.gz"),
            (Some(Format::Ndjson), true)
        );
        assert_eq!(
            Format::from_file_name("x/a.ndjson"),
            (Some(Format::Ndjson), false)
        );
        assert_eq!(
            Format::from_file_name("a.csv.gz"),
            (Some(Format::Csv), true)
        );
        assert_eq!(Format::from_file_name("a.txt"), (None, false));
        assert_eq!(Format::from_file_name("a.gz"), (None, true));
    }

    #[test]
    fn content_detection() {
        assert_eq!(Format::detect(b"  \n[", false), Some(Format::Json));
        assert_eq!(Format::detect(b"{\"a\":1}\n{", false), Some(Format::Ndjson));
        assert_eq!(Format::detect(b"{\"a\":1}", false), None);
        assert_eq!(Format::detect(b"{\"a\":1}", true), Some(Format::Ndjson));
        assert_eq!(
            Format::detect(b"{\n  \"a\": 1\n}", true),
            Some(Format::Json)
        );
        assert_eq!(
            Format::detect(b"{\"time\":1,\"event\":{}}\n", false),
            Some(Format::SplunkHec)
        );
        assert_eq!(
            Format::detect(
                b"{\"event\":\"Harness-Audit-Event-x\",\"fields\":{}}\n",
                false
            ),
            Some(Format::Sumo)
        );
        assert_eq!(
            Format::detect(b"auditEventId,auditEventTime\n", false),
            Some(Format::Csv)
        );
        assert_eq!(Format::detect(b"   ", true), None);
        assert!(is_gzip(&[0x1f, 0x8b, 8]));
    }
}
