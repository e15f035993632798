//! Push-based conversion: a reader, an optional event predicate and a writer in one.
//!
//! NDJSON input (plain or gzip) takes a fast path: each line is parsed into a borrowed
//! [`Node`] and written from it, with no `serde_json::Value` built; the output bytes and the
//! errors are the same as reading records and writing their values.

use std::io::{self, Write};

use serde_json::Value;

use super::gzip::{GzipDecoder, GzipError};
use super::node::Node;
use super::read::ndjson::{LineEvent, NdjsonReader};
use super::read::{json, json_error};
use super::write::Writer;
use super::{is_gzip, ErrorCode, Format, Item, ReadError, ReadOptions, Reader};

/// Decides whether an event is written (a filter); gets the event and, for NDJSON, its
/// line's bytes.
pub type Predicate = Box<dyn FnMut(&Value) -> bool>;

enum Input {
    Lines {
        gzip_decided: bool,
        head: Vec<u8>,
        gzip: Option<Box<GzipDecoder>>,
        lines: Box<NdjsonReader>,
    },
    Items {
        reader: Box<Reader>,
        scratch: Vec<Item>,
    },
}

/// Converts pushed chunks into a [`Writer`]; bad records are appended to the caller's
/// error list with their positions and the rest goes on (or stops at the first one, when
/// asked).
pub struct Converter<W: Write> {
    input: Input,
    writer: Writer<W>,
    predicate: Option<Predicate>,
    stop_on_error: bool,
    stopped: bool,
    /// Events read (written or not) and events written.
    read: u64,
}

impl<W: Write> Converter<W> {
    /// A converter from `format` (`None`: detect it, with the file `name` as a hint).
    pub fn new(
        format: Option<Format>,
        name: Option<&str>,
        opts: ReadOptions,
        writer: Writer<W>,
    ) -> Result<Self, ReadError> {
        let format = format.or_else(|| name.and_then(|n| Format::from_file_name(n).0));
        let input = if format == Some(Format::Ndjson) {
            Input::Lines {
                gzip_decided: false,
                head: Vec::new(),
                gzip: None,
                lines: Box::new(NdjsonReader::new(opts, json::identity)),
            }
        } else {
            let reader = match format {
                Some(f) => Reader::new(f, opts)?,
                None => Reader::detecting(name, opts),
            };
            Input::Items {
                reader: Box::new(reader),
                scratch: Vec::new(),
            }
        };
        Ok(Converter {
            input,
            writer,
            predicate: None,
            stop_on_error: false,
            stopped: false,
            read: 0,
        })
    }

    /// Writes only the events for which `predicate` is true.
    pub fn with_predicate(mut self, predicate: Predicate) -> Self {
        self.predicate = Some(predicate);
        self
    }

    /// Stops at the first bad record: nothing after it is written.
    pub fn stop_on_error(mut self, yes: bool) -> Self {
        self.stop_on_error = yes;
        self
    }

    /// Events read so far (good records, written or filtered out).
    pub fn events_read(&self) -> u64 {
        self.read
    }

    /// The writer (for example to drain a `Vec<u8>` output between chunks).
    pub fn writer_mut(&mut self) -> &mut Writer<W> {
        &mut self.writer
    }

    /// Whether reading stopped at a bad record (see [`stop_on_error`](Self::stop_on_error)).
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    pub fn push(&mut self, chunk: &[u8], errors: &mut Vec<ReadError>) -> io::Result<()> {
        self.feed(chunk, false, errors)
    }

    /// Ends the input and the output; gives the output back.
    pub fn finish(mut self, errors: &mut Vec<ReadError>) -> io::Result<W> {
        self.feed(&[], true, errors)?;
        self.writer.finish()
    }

    fn feed(&mut self, chunk: &[u8], end: bool, errors: &mut Vec<ReadError>) -> io::Result<()> {
        if self.stopped {
            return Ok(());
        }
        let mut sink = Sink {
            writer: &mut self.writer,
            predicate: &mut self.predicate,
            stop_on_error: self.stop_on_error,
            stopped: &mut self.stopped,
            read: &mut self.read,
            errors,
            io: None,
        };
        match &mut self.input {
            Input::Items { reader, scratch } => {
                if end {
                    reader.finish(scratch);
                } else {
                    reader.push(chunk, scratch);
                }
                for item in scratch.drain(..) {
                    sink.item(item);
                }
            }
            Input::Lines {
                gzip_decided,
                head,
                gzip,
                lines,
            } => {
                let mut data = chunk;
                let held;
                if !*gzip_decided {
                    head.extend_from_slice(chunk);
                    if head.len() < 2 && !end {
                        return Ok(());
                    }
                    *gzip_decided = true;
                    if is_gzip(head) {
                        *gzip = Some(Box::new(GzipDecoder::new()));
                    }
                    held = std::mem::take(head);
                    data = &held;
                }
                let mut on_line = |ev: LineEvent| sink.line(ev);
                match gzip {
                    None => {
                        lines.push_with(data, &mut on_line);
                    }
                    Some(gz) => {
                        let mut r = gz.push(data, &mut |b| lines.push_with(b, &mut on_line));
                        if end && r.is_ok() {
                            r = gz.finish(&mut |b| lines.push_with(b, &mut on_line));
                        }
                        if let Err(e) = r {
                            let (index, line, byte) = lines.position();
                            let (code, message) = match e {
                                GzipError::Bad(m) => (ErrorCode::BadGzip, m),
                                GzipError::Truncated(m) => (ErrorCode::Truncated, m),
                            };
                            on_line(LineEvent::Error(ReadError::new(
                                code, message, index, line, byte,
                            )));
                        }
                    }
                }
                if end {
                    lines.finish_with(&mut on_line);
                }
            }
        }
        match sink.io.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Where records go: the predicate, the writer and the error list.
struct Sink<'s, W: Write> {
    writer: &'s mut Writer<W>,
    predicate: &'s mut Option<Predicate>,
    stop_on_error: bool,
    stopped: &'s mut bool,
    read: &'s mut u64,
    errors: &'s mut Vec<ReadError>,
    io: Option<io::Error>,
}

impl<W: Write> Sink<'_, W> {
    fn error(&mut self, e: ReadError) {
        if *self.stopped {
            return;
        }
        self.errors.push(e);
        if self.stop_on_error {
            *self.stopped = true;
        }
    }

    fn item(&mut self, item: Item) {
        if *self.stopped || self.io.is_some() {
            return;
        }
        match item {
            Ok(record) => {
                *self.read += 1;
                if let Some(p) = self.predicate.as_mut() {
                    if !p(&record.value) {
                        return;
                    }
                }
                if let Err(e) = self.writer.write(&record.value) {
                    self.io = Some(e);
                }
            }
            Err(e) => self.error(e),
        }
    }

    fn line(&mut self, ev: LineEvent) {
        if *self.stopped || self.io.is_some() {
            return;
        }
        let (bytes, index, line, byte, at_end) = match ev {
            LineEvent::Error(e) => return self.error(e),
            LineEvent::Line {
                bytes,
                index,
                line,
                byte,
                at_end,
            } => (bytes, index, line, byte, at_end),
        };
        // Parsing the bytes checks the UTF-8 of every string; only a line that fails is
        // checked whole, so that its error is the one the reader gives.
        let node = match Node::parse_slice(bytes) {
            Ok(node) => node,
            Err(e) => {
                return self.error(match std::str::from_utf8(bytes) {
                    Err(u) => ReadError::new(
                        ErrorCode::BadUtf8,
                        format!("invalid UTF-8 at byte {}", byte + u.valid_up_to() as u64),
                        index,
                        line,
                        byte,
                    ),
                    Ok(_) => json_error(&e, index, line, 1, byte, at_end),
                })
            }
        };
        if !node.is_object() {
            let kind = match node {
                Node::Null => "null",
                Node::Bool(_) => "a boolean",
                Node::Number(_) => "a number",
                Node::String(_) => "a string",
                Node::Array(_) => "an array",
                Node::Object(_) => "an object",
            };
            return self.error(ReadError::new(
                ErrorCode::NotAnObject,
                format!("expected an event object, found {kind}"),
                index,
                line,
                byte,
            ));
        }
        *self.read += 1;
        if let Some(p) = self.predicate.as_mut() {
            if !p(&node.to_value()) {
                return;
            }
        }
        if let Err(e) = self.writer.write_node(&node) {
            self.io = Some(e);
        }
    }
}
