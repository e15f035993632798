//! The first pass of a whole-input CSV conversion: a column for every field of every event.
//!
//! A stream has to write its header before it has seen every event, so it keeps later
//! fields in the rest column. A caller that holds the whole input (a file, a buffer) can
//! read it twice instead, and pass the columns the first pass found as
//! [`WriteOptions::columns`] to the second (see [`WriteOptions::wants_column_scan`]):
//! [`ColumnScan`] reads bytes as [`Converter`] does (the same formats, gzip, fast path
//! and predicate); [`ColumnSet`] takes events already read.
//!
//! ```
//! use trailsift::convert::{ColumnScan, Format, ReadOptions, WriteOptions};
//!
//! let input = b"{\"auditEventId\":\"a\"}\n{\"auditEventId\":\"b\",\"ticket\":{\"id\":7}}\n";
//! let mut scan = ColumnScan::new(Some(Format::Ndjson), None, ReadOptions::default(), &WriteOptions::default()).unwrap();
//! scan.push(input);
//! let columns = scan.finish();
//! assert_eq!(columns.last().map(String::as_str), Some("ticket.id"));
//! ```

use std::io;

use serde_json::Value;

use super::pipeline::{Converter, Predicate};
use super::write::csv::Layout;
use super::write::{WriteOptions, Writer};
use super::{Format, Item, ReadError, ReadOptions};

/// The CSV columns of a whole input's events: the fixed ones of formats.md, one per
/// unknown field in first-seen order, and the rest column only when some field can have
/// no column of its own (see [`crate::convert::write::csv`]).
#[derive(Debug)]
pub struct ColumnSet(Layout);

impl Default for ColumnSet {
    fn default() -> Self {
        ColumnSet(Layout::new())
    }
}

impl ColumnSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, event: &Value) {
        self.0.add(event);
    }

    /// Adds the events of read items; bad records are passed over (the conversion reports
    /// them).
    pub fn add_items(&mut self, items: impl IntoIterator<Item = Item>) {
        for record in items.into_iter().flatten() {
            self.0.add(&record.value);
        }
    }

    pub fn finish(self) -> Vec<String> {
        self.0.columns(false)
    }
}

/// A [`ColumnSet`] of an input given as bytes, read as [`Converter`] reads it.
pub struct ColumnScan {
    converter: Converter<io::Sink>,
    errors: Vec<ReadError>,
}

impl ColumnScan {
    /// A scan of an input in `format` (`None`: detect it, with the file `name` as a hint),
    /// finding the columns of the events as `write` writes them (after its transform).
    pub fn new(
        format: Option<Format>,
        name: Option<&str>,
        opts: ReadOptions,
        write: &WriteOptions,
    ) -> Result<Self, ReadError> {
        let writer = Writer::column_finder(io::sink(), write.transform.clone());
        Ok(ColumnScan {
            converter: Converter::new(format, name, opts, writer)?,
            errors: Vec::new(),
        })
    }

    /// Looks only at the events for which `predicate` is true (the conversion's filter),
    /// so that no column is only for events that are not written.
    pub fn with_predicate(mut self, predicate: Predicate) -> Self {
        self.converter = self.converter.with_predicate(predicate);
        self
    }

    /// Reads the next chunk. Bad records are passed over: the conversion reports them.
    pub fn push(&mut self, chunk: &[u8]) {
        // The output is io::sink(): nothing can fail but the records.
        let _ = self.converter.push(chunk, &mut self.errors);
        self.errors.clear();
    }

    /// Ends the input; the columns.
    pub fn finish(mut self) -> Vec<String> {
        let _ = self.converter.end(&mut self.errors);
        self.converter
            .writer_mut()
            .scanned_columns()
            .unwrap_or_default()
    }
}
