//! Push-based conversion: a reader, an optional event predicate and a writer in one.
//!
//! NDJSON and JSON input (plain or gzip) takes a fast path: the [`Reader`] hands each record
//! over unparsed, it is parsed into a borrowed [`Node`] and written from it, with no
//! `serde_json::Value` built; the output bytes and the errors are the same as reading records
//! and writing their values.

use std::io::{self, Write};

use serde_json::Value;

use super::node::Node;
use super::read::{json_error, Piece, RawEvent};
use super::write::Writer;
use super::{ErrorCode, Format, Item, ReadError, ReadOptions, Reader};

/// Decides whether an event is written (a filter).
pub type Predicate = Box<dyn FnMut(&Value) -> bool>;

/// Converts pushed chunks into a [`Writer`]; bad records are appended to the caller's
/// error list with their positions and the rest goes on (or stops at the first one, when
/// asked).
pub struct Converter<W: Write> {
    reader: Reader,
    writer: Writer<W>,
    predicate: Option<Predicate>,
    stop_on_error: bool,
    stopped: bool,
    /// Events read (written or not).
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
        Ok(Converter {
            reader: Reader::open(format, name, opts)?,
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

    /// The format read, once known.
    pub fn format(&self) -> Option<Format> {
        self.reader.format()
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
    pub fn finish(self, errors: &mut Vec<ReadError>) -> io::Result<W> {
        self.finish_counted(errors).map(|(_, out)| out)
    }

    /// [`finish`](Self::finish), also telling how many events were read in all: the last
    /// record is read only at the end of the input, after [`events_read`](Self::events_read)
    /// could be asked.
    pub fn finish_counted(mut self, errors: &mut Vec<ReadError>) -> io::Result<(u64, W)> {
        self.feed(&[], true, errors)?;
        Ok((self.read, self.writer.finish()?))
    }

    fn feed(&mut self, chunk: &[u8], end: bool, errors: &mut Vec<ReadError>) -> io::Result<()> {
        if self.stopped {
            return Ok(());
        }
        let mut sink = Sink {
            writer: &mut self.writer,
            predicate: self
                .predicate
                .as_mut()
                .map(|p| &mut **p as &mut dyn FnMut(&Value) -> bool),
            stop_on_error: self.stop_on_error,
            stopped: &mut self.stopped,
            read: &mut self.read,
            errors,
            io: None,
        };
        self.reader
            .read(chunk, end, true, &mut |piece| match piece {
                Piece::Raw(ev) => sink.raw(ev),
                Piece::Item(item) => sink.item(item),
            });
        match sink.io.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Where records go: the predicate, the writer and the error list (of a [`Converter`], or
/// of one block of lines converted on its own: [`super::parallel`]).
pub(crate) struct Sink<'s, W: Write> {
    pub writer: &'s mut Writer<W>,
    pub predicate: Option<&'s mut dyn FnMut(&Value) -> bool>,
    pub stop_on_error: bool,
    pub stopped: &'s mut bool,
    /// Events read (written or not).
    pub read: &'s mut u64,
    pub errors: &'s mut Vec<ReadError>,
    /// The writer's error, after which nothing more is written.
    pub io: Option<io::Error>,
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

    pub fn item(&mut self, item: Item) {
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

    pub fn raw(&mut self, ev: RawEvent) {
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
        if self.predicate.is_none() && self.writer.passes_over(text) {
            *self.read += 1;
            return;
        }
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
