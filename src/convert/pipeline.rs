//! Push-based conversion: a reader, an optional event predicate and a writer in one.
//!
//! NDJSON and JSON input (plain or gzip) takes a fast path: each record is parsed into a borrowed
//! [`Node`] and written from it, with no `serde_json::Value` built; the output bytes and the
//! errors are the same as reading records and writing their values.

use std::io::{self, Write};

use serde_json::Value;

use super::gzip::{GzipDecoder, GzipError};
use super::node::Node;
use super::read::json::{self, JsonReader};
use super::read::ndjson::NdjsonReader;
use super::read::{json_error, RawEvent};
use super::write::Writer;
use super::{is_gzip, ErrorCode, Format, Item, ReadError, ReadOptions, Reader};

/// Decides whether an event is written (a filter); gets the event and, for NDJSON, its
/// line's bytes.
pub type Predicate = Box<dyn FnMut(&Value) -> bool>;

/// The readers that hand over unparsed records.
enum Splitter {
    Lines(Box<NdjsonReader>),
    Elems(Box<JsonReader>),
}

impl Splitter {
    fn push(&mut self, chunk: &[u8], out: &mut dyn FnMut(RawEvent)) {
        match self {
            Splitter::Lines(r) => r.push_with(chunk, out),
            Splitter::Elems(r) => r.push_with(chunk, out),
        }
    }

    fn finish(&mut self, out: &mut dyn FnMut(RawEvent)) {
        match self {
            Splitter::Lines(r) => r.finish_with(out),
            Splitter::Elems(r) => r.finish_with(out),
        }
    }

    fn position(&self) -> (u64, u64, u64) {
        match self {
            Splitter::Lines(r) => r.position(),
            Splitter::Elems(r) => r.position(),
        }
    }
}

enum Input {
    Lines {
        gzip_decided: bool,
        head: Vec<u8>,
        gzip: Option<Box<GzipDecoder>>,
        lines: Splitter,
    },
    Items {
        reader: Box<Reader>,
        scratch: Vec<Item>,
    },
    /// Format unknown: the first bytes are held until they tell it.
    Sniff { held: Vec<u8>, opts: ReadOptions },
}

/// Bytes held to detect the format before choosing JSON (as the reader does).
const SNIFF_LIMIT: usize = 64 * 1024;

impl Input {
    /// The input for a known format (`None`: detect it from the content).
    fn new(format: Option<Format>, opts: ReadOptions) -> Result<Input, ReadError> {
        let splitter = match format {
            Some(Format::Ndjson) => {
                Splitter::Lines(Box::new(NdjsonReader::new(opts, json::identity)))
            }
            Some(Format::Json) => Splitter::Elems(Box::new(JsonReader::new(opts, json::identity))),
            Some(f) => {
                return Ok(Input::Items {
                    reader: Box::new(Reader::new(f, opts)?),
                    scratch: Vec::new(),
                })
            }
            None => {
                return Ok(Input::Sniff {
                    held: Vec::new(),
                    opts,
                })
            }
        };
        Ok(Input::Lines {
            gzip_decided: false,
            head: Vec::new(),
            gzip: None,
            lines: splitter,
        })
    }
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
        let input = Input::new(format, opts)?;
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

    /// NDJSON: the input is a piece of a larger one that starts at 1-based `line` and
    /// byte offset `byte` (whole lines), so that positions are those of the whole input;
    /// record numbers still count from 0. For splitting one input among threads.
    pub fn start_at(mut self, line: u64, byte: u64) -> Self {
        if let Input::Lines {
            lines: Splitter::Lines(lines),
            ..
        } = &mut self.input
        {
            lines.start_at(line, byte);
        }
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

    /// Ends the input and the output without giving the output up (see
    /// [`writer_mut`](Self::writer_mut)).
    pub fn end(&mut self, errors: &mut Vec<ReadError>) -> io::Result<()> {
        self.feed(&[], true, errors)?;
        self.writer.end()
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
        if let Input::Sniff { held, opts } = &mut self.input {
            held.extend_from_slice(chunk);
            let format = if held.first() == Some(&0x1f) && (held.len() >= 2 || end) {
                // Gzip (or not): the reader finds out and detects what is inside.
                None
            } else if held.len() < 2 && !end {
                return Ok(());
            } else {
                match Format::detect(held, end) {
                    Some(f) => Some(f),
                    None if held.len() > SNIFF_LIMIT => Some(Format::Json),
                    None if end => None,
                    None => return Ok(()),
                }
            };
            let held = std::mem::take(held);
            let opts = opts.clone();
            let detecting = |opts| Input::Items {
                reader: Box::new(Reader::detecting(None, opts)),
                scratch: Vec::new(),
            };
            // Detection never names an unreadable format; fall back to the reader anyway.
            self.input = match format {
                Some(f) => Input::new(Some(f), opts.clone()).unwrap_or_else(|_| detecting(opts)),
                None => detecting(opts),
            };
            self.feed(&held, false, errors)?;
            return if end {
                self.feed(&[], true, errors)
            } else {
                Ok(())
            };
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
            Input::Sniff { .. } => {}
            Input::Items { reader, scratch } => {
                reader.push(chunk, scratch);
                if end {
                    reader.finish(scratch);
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
                let mut on_line = |ev: RawEvent| sink.raw(ev);
                match gzip {
                    None => {
                        lines.push(data, &mut on_line);
                    }
                    Some(gz) => {
                        let mut r = gz.push(data, &mut |b| lines.push(b, &mut on_line));
                        if end && r.is_ok() {
                            r = gz.finish(&mut |b| lines.push(b, &mut on_line));
                        }
                        if let Err(e) = r {
                            let (index, line, byte) = lines.position();
                            let (code, message) = match e {
                                GzipError::Bad(m) => (ErrorCode::BadGzip, m),
                                GzipError::Truncated(m) => (ErrorCode::Truncated, m),
                            };
                            on_line(RawEvent::Error(ReadError::new(
                                code, message, index, line, byte,
                            )));
                        }
                    }
                }
                if end {
                    lines.finish(&mut on_line);
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

    fn raw(&mut self, ev: RawEvent) {
        if *self.stopped || self.io.is_some() {
            return;
        }
        let (bytes, index, line, column, byte, at_end) = match ev {
            RawEvent::Error(e) => return self.error(e),
            RawEvent::Record {
                bytes,
                index,
                line,
                column,
                byte,
                at_end,
            } => (bytes, index, line, column, byte, at_end),
        };
        // One UTF-8 check of the whole record is cheaper than serde_json's per string.
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(u) => {
                return self.error(ReadError::new(
                    ErrorCode::BadUtf8,
                    format!("invalid UTF-8 at byte {}", byte + u.valid_up_to() as u64),
                    index,
                    line,
                    byte,
                ))
            }
        };
        let node = match Node::parse(text) {
            Ok(node) => node,
            Err(e) => return self.error(json_error(&e, index, line, column, byte, at_end)),
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
        if let Err(e) = self.writer.write_owned_node(node) {
            self.io = Some(e);
        }
    }
}
