//! Streaming writers: one event at a time into any [`std::io::Write`] (a file, stdout, a
//! `Vec<u8>` drained between events, a gzip encoder).

use std::io::{self, Write};

use serde_json::Value;

use super::node::Node;
use super::Format;
use crate::transform::BoundTransform;

pub mod csv;
pub mod json;
pub mod ndjson;
pub mod ocsf;
pub mod splunk_hec;
pub mod sumo;

pub use self::csv::{cell_text, stream_columns, CsvWriter, FIXED_COLUMNS, REST_COLUMN};
pub use self::splunk_hec::HecOptions;

/// Choices of the writers; each format reads the ones it knows.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// CSV: the columns and their order (dotted paths), written as given: a projection,
    /// or the columns of a [`ColumnScan`](crate::convert::ColumnScan). `None`: the fixed
    /// columns of formats.md, the unknown fields of the first event written, and the rest
    /// column [`REST_COLUMN`] for the fields of later events (see [`CsvWriter`]).
    pub columns: Option<Vec<String>>,
    /// CSV: prefix `'` to cells that begin with `=`, `+`, `-`, `@`, tab or carriage
    /// return. Default on.
    pub csv_safety: bool,
    /// CSV: write the header row. Default true; false continues a CSV written elsewhere.
    pub csv_header: bool,
    /// Splunk HEC envelope options.
    pub hec: HecOptions,
    /// The transform (formats.md §4) every event goes through before it is written; the
    /// events it samples out are not written (nor counted).
    pub transform: Option<BoundTransform>,
}

impl WriteOptions {
    /// Whether writing `to` with these options wants the columns of a first pass over the
    /// whole input ([`ColumnScan`](crate::convert::ColumnScan)): CSV whose columns the
    /// caller did not choose. Without one, a CSV ends with the rest column.
    pub fn wants_column_scan(&self, to: Format) -> bool {
        to == Format::Csv && self.columns.is_none()
    }
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            columns: None,
            csv_safety: true,
            csv_header: true,
            hec: HecOptions::default(),
            transform: None,
        }
    }
}

enum Inner {
    Json(json::JsonWriter),
    Ndjson,
    Csv(Box<CsvWriter>),
    SplunkHec(HecOptions),
    Sumo,
    Ocsf,
    /// The first pass of a [`ColumnScan`](crate::convert::ColumnScan): writes nothing.
    Columns(Box<csv::Layout>),
}

/// Writes events in one format, one at a time, without holding them.
///
/// ```
/// use serde_json::json;
/// use trailsift::convert::{Format, WriteOptions, Writer};
///
/// let mut w = Writer::new(Format::Json, WriteOptions::default(), Vec::new());
/// w.write(&json!({"auditEventId": "a"})).unwrap();
/// w.write(&json!({"auditEventId": "b"})).unwrap();
/// let bytes = w.finish().unwrap();
/// assert_eq!(bytes, b"[\n{\"auditEventId\":\"a\"},\n{\"auditEventId\":\"b\"}\n]\n");
/// ```
pub struct Writer<W: Write> {
    out: W,
    inner: Inner,
    transform: Option<BoundTransform>,
    count: u64,
    /// One event's JSON text, written to `out` in one call.
    scratch: Vec<u8>,
}

impl<W: Write> Writer<W> {
    pub fn new(format: Format, opts: WriteOptions, out: W) -> Self {
        let inner = match format {
            Format::Json => Inner::Json(json::JsonWriter::default()),
            Format::Ndjson => Inner::Ndjson,
            Format::Csv => {
                let w = CsvWriter::new(opts.columns, opts.csv_safety);
                Inner::Csv(Box::new(if opts.csv_header {
                    w
                } else {
                    w.without_header()
                }))
            }
            Format::SplunkHec => Inner::SplunkHec(opts.hec),
            Format::Sumo => Inner::Sumo,
            Format::Ocsf => Inner::Ocsf,
        };
        Writer {
            out,
            inner,
            transform: opts.transform,
            count: 0,
            scratch: Vec::new(),
        }
    }

    /// A writer that writes nothing and finds the CSV columns of the events it is given,
    /// after `transform` (see [`scanned_columns`](Writer::scanned_columns)).
    pub(crate) fn column_finder(out: W, transform: Option<BoundTransform>) -> Self {
        Writer {
            out,
            inner: Inner::Columns(Box::new(csv::Layout::new())),
            transform,
            count: 0,
            scratch: Vec::new(),
        }
    }

    /// The columns a [`column_finder`](Writer::column_finder) found.
    pub(crate) fn scanned_columns(&mut self) -> Option<Vec<String>> {
        match std::mem::replace(&mut self.inner, Inner::Ndjson) {
            Inner::Columns(layout) => Some(layout.columns(false)),
            inner => {
                self.inner = inner;
                None
            }
        }
    }

    /// Whether the writer has nothing to do for the event in `text` (its JSON): a column
    /// finder whose columns hold it already. The converter then passes over it unparsed.
    pub(crate) fn passes_over(&mut self, text: &str) -> bool {
        match &mut self.inner {
            // A transform changes the event: its columns are those of the transformed one.
            Inner::Columns(layout) if self.transform.is_none() => layout.holds_text(text),
            _ => false,
        }
    }

    /// A writer of a piece of this output (events that come later, written on another
    /// thread), whose bytes [`append`](Writer::append) adds to this output; `None` when
    /// how an event is written depends on the events before it (a CSV whose columns the
    /// first event decides, a column finder).
    #[cfg(not(target_arch = "wasm32"))] // for the parallel path only
    pub(crate) fn piece(&self) -> Option<Writer<Vec<u8>>> {
        let inner = match &self.inner {
            Inner::Json(_) => Inner::Json(json::JsonWriter::continuing()),
            Inner::Ndjson => Inner::Ndjson,
            Inner::Csv(w) => Inner::Csv(Box::new(w.piece()?)),
            Inner::SplunkHec(hec) => Inner::SplunkHec(hec.clone()),
            Inner::Sumo => Inner::Sumo,
            Inner::Ocsf => Inner::Ocsf,
            Inner::Columns(_) => return None,
        };
        Some(Writer {
            out: Vec::new(),
            inner,
            transform: self.transform.clone(),
            count: 0,
            scratch: Vec::new(),
        })
    }

    /// Adds the output of a [`piece`](Writer::piece) writer (in input order).
    #[cfg(not(target_arch = "wasm32"))] // for the parallel path only
    pub(crate) fn append(&mut self, piece: Writer<Vec<u8>>) -> io::Result<()> {
        let out = &mut self.out;
        match &mut self.inner {
            Inner::Json(w) => w.append(out, &piece.out)?,
            Inner::Csv(w) => w.append(out, &piece.out)?,
            _ => out.write_all(&piece.out)?,
        }
        self.count += piece.count;
        Ok(())
    }

    /// Writes one event (a JSON object).
    pub fn write(&mut self, event: &Value) -> io::Result<()> {
        // The transformed event goes back into a value rather than through the node
        // writers: a build with no node input (the npm package) then keeps one writer
        // path, called from one place (kilobytes smaller).
        let transformed = match &self.transform {
            Some(t) => match t.apply(event) {
                Some(v) => Some(v),
                None => return Ok(()),
            },
            None => None,
        };
        self.put(transformed.as_ref().unwrap_or(event))
    }

    /// Writes one event given as a borrowed [`Node`]: the same bytes as
    /// [`write`](Writer::write) of its `Value`, faster for JSON, NDJSON and CSV.
    pub fn write_node(&mut self, event: &Node) -> io::Result<()> {
        match self.transform.clone() {
            Some(t) => self.write_transformed(&t, event.clone()),
            None => self.put_node(event),
        }
    }

    /// Like [`write_node`](Writer::write_node) for a node the caller is done with: a
    /// transform then works on it in place rather than on a copy.
    pub fn write_owned_node(&mut self, event: Node) -> io::Result<()> {
        match self.transform.clone() {
            Some(t) => self.write_transformed(&t, event),
            None => self.put_node(&event),
        }
    }

    fn write_transformed(&mut self, t: &BoundTransform, mut event: Node) -> io::Result<()> {
        if t.apply_node(&mut event) {
            self.put_node(&event)?;
        }
        Ok(())
    }

    fn put(&mut self, event: &Value) -> io::Result<()> {
        let out = &mut self.out;
        match &mut self.inner {
            Inner::Json(w) => w.write(out, event)?,
            Inner::Ndjson => ndjson::write(out, event)?,
            Inner::Csv(w) => w.write(out, event)?,
            Inner::SplunkHec(opts) => splunk_hec::write(out, event, opts)?,
            Inner::Sumo => sumo::write(out, event)?,
            Inner::Ocsf => ocsf::write(out, event)?,
            Inner::Columns(layout) => layout.add(event),
        }
        self.count += 1;
        Ok(())
    }

    fn put_node(&mut self, event: &Node) -> io::Result<()> {
        let out = &mut self.out;
        match &mut self.inner {
            Inner::Json(w) => {
                self.scratch.clear();
                serde_json::to_writer(&mut self.scratch, event)?;
                w.write_raw(out, &self.scratch)?;
            }
            Inner::Ndjson => {
                self.scratch.clear();
                serde_json::to_writer(&mut self.scratch, event)?;
                self.scratch.push(b'\n');
                out.write_all(&self.scratch)?;
            }
            Inner::Csv(w) => w.write_node(out, event)?,
            Inner::Columns(layout) => layout.add(event),
            _ => return self.put(&event.to_value()),
        }
        self.count += 1;
        Ok(())
    }

    /// Writes one event given as its JSON text on one line (a JSON object, as validated
    /// input keeps it): JSON and NDJSON copy the text as it is, the other formats read it
    /// first, and so does a transform. The same bytes as [`write`](Writer::write) of its
    /// `Value` when the text is compact.
    pub fn write_raw(&mut self, json: &[u8]) -> io::Result<()> {
        if self.transform.is_some() {
            return self.write(&serde_json::from_slice::<Value>(json)?);
        }
        let out = &mut self.out;
        match &mut self.inner {
            Inner::Json(w) => w.write_raw(out, json)?,
            Inner::Ndjson => {
                out.write_all(json)?;
                out.write_all(b"\n")?;
            }
            _ => return self.write(&serde_json::from_slice::<Value>(json)?),
        }
        self.count += 1;
        Ok(())
    }

    /// Writes what ends the output (`]` of a JSON array, the header of an empty CSV),
    /// flushes and gives the output back.
    pub fn finish(mut self) -> io::Result<W> {
        self.end()?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Like [`finish`](Writer::finish) for a writer that cannot be moved out of.
    pub fn end(&mut self) -> io::Result<()> {
        let out = &mut self.out;
        match &mut self.inner {
            Inner::Json(w) => w.end(out),
            Inner::Csv(w) => w.end(out),
            _ => Ok(()),
        }
    }

    /// The output, for example to drain a `Vec<u8>` between events.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// The output, to look at what was written so far.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// CSV: the columns, once known.
    pub fn csv_columns(&self) -> Option<&[String]> {
        match &self.inner {
            Inner::Csv(w) => w.columns(),
            _ => None,
        }
    }

    /// Events written so far.
    pub fn count(&self) -> u64 {
        self.count
    }
}

/// Writes all `events` in `format` into a new byte vector.
pub fn write_all<'a>(
    format: Format,
    opts: WriteOptions,
    events: impl IntoIterator<Item = &'a Value>,
) -> io::Result<Vec<u8>> {
    let mut w = Writer::new(format, opts, Vec::new());
    for e in events {
        w.write(e)?;
    }
    w.finish()
}

pub(crate) fn not_an_object() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "an event must be a JSON object",
    )
}

/// Writes compact JSON of a value.
pub(crate) fn json_to(out: &mut dyn Write, v: &Value) -> io::Result<()> {
    serde_json::to_writer(out, v).map_err(io::Error::from)
}
