//! `Input` (raw file chunks to blocks of whole NDJSON lines) and `Table` (a viewer's rows
//! by column, filtered on the columns): what a page needs to load a file and answer its
//! views without parsing anything itself.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

use super::convert::record_error;
use super::filter::Filter;
use super::Error;
use crate::columns;
use crate::convert::NdjsonLines;

/// Reads a file in chunks of any size (any readable format, gzip or not) and hands back
/// whole NDJSON lines: NDJSON lines unchanged, other formats converted.
#[wasm_bindgen]
pub struct Input {
    lines: NdjsonLines,
    first_line: u64,
}

#[wasm_bindgen]
impl Input {
    /// An input named `fileName` (a hint for content too short to tell its format).
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(js_name = fileName)] file_name: Option<String>) -> Input {
        Input {
            lines: NdjsonLines::new(file_name.as_deref(), u64::MAX, crate::input::MAX_LINE_BYTES),
            first_line: 1,
        }
    }

    /// Takes the next chunk; returns the whole lines it completed (maybe none).
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let first = &mut self.first_line;
        let mut any = false;
        self.lines.push(chunk, &mut |block, line| {
            if !any {
                *first = line;
                any = true;
            }
            out.extend_from_slice(block);
        });
        out
    }

    /// Ends the input; returns the last lines.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let first = &mut self.first_line;
        let mut any = false;
        self.lines.finish(&mut |block, line| {
            if !any {
                *first = line;
                any = true;
            }
            out.extend_from_slice(block);
        });
        out
    }

    /// The number of the first line `push` or `finish` last returned, in the NDJSON lines.
    #[wasm_bindgen(getter, js_name = firstLine)]
    pub fn first_line(&self) -> f64 {
        self.first_line as f64
    }

    /// The format read, once the content tells it.
    #[wasm_bindgen(getter, unchecked_return_type = "Format | undefined")]
    pub fn format(&self) -> Option<String> {
        self.lines.format().map(|f| f.name().to_string())
    }

    /// Whether the input is gzip, once its first bytes are read.
    #[wasm_bindgen(getter)]
    pub fn gzip(&self) -> Option<bool> {
        self.lines.is_gzip()
    }

    /// The records and lines skipped since the last call (`RecordError`s: too long, bad
    /// gzip, records a converted format could not read).
    #[wasm_bindgen(js_name = takeErrors, unchecked_return_type = "RecordError[]")]
    pub fn take_errors(&mut self) -> Array {
        self.lines
            .take_errors()
            .iter()
            .map(|e| JsValue::from(record_error(e)))
            .collect()
    }
}

/// A file's rows: its NDJSON lines, and by column the fields a table, its facets, its
/// histogram and a filter form read. Columns: `auditEventTime` (see `times`), the other
/// paths of `fieldCatalog().tableFields`, and `user` (the principal's email, else its identifier).
#[wasm_bindgen]
pub struct Table {
    inner: columns::Table,
}

impl Default for Table {
    fn default() -> Self {
        Table::new()
    }
}

#[wasm_bindgen]
impl Table {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Table {
        Table {
            inner: columns::Table::default(),
        }
    }

    /// Appends a block of whole lines (from `Input`) whose first line has number
    /// `firstLine`; `columns`, when given, is `readBlock(block, firstLine)` done elsewhere
    /// (another worker). Returns the number of rows added.
    pub fn push(&mut self, block: Vec<u8>, first_line: f64, columns: Option<Vec<u8>>) -> u32 {
        let read = columns
            .as_deref()
            .and_then(columns::BlockColumns::from_bytes);
        let added = match read {
            Some(read) => self.inner.append(block, read),
            None => self.inner.push(block, first_line as u64),
        };
        added as u32
    }

    /// Number of rows (lines that are not blank).
    #[wasm_bindgen(getter)]
    pub fn rows(&self) -> u32 {
        self.inner.len() as u32
    }

    /// The rows from `from` on that `filter` matches, in order: exactly the lines
    /// `filterNdjson` would keep.
    pub fn filter(&self, filter: &Filter, from: u32) -> Vec<u32> {
        self.inner
            .filter(filter.core(), filter.now(), from as usize)
    }

    /// The lines of `rows` as NDJSON (each with its `\n`), as `filterNdjson` writes them.
    pub fn lines(&self, rows: &[u32]) -> Vec<u8> {
        self.inner.lines(rows)
    }

    /// Each row's time from row `from` on, in epoch milliseconds (NaN: none), read as the
    /// filter reads times.
    pub fn times(&self, from: u32) -> Vec<f64> {
        self.inner.times(from as usize)
    }

    /// A column's value index for each row from `from` on (0: no value).
    pub fn ids(&self, column: &str, from: u32) -> Vec<u32> {
        self.inner.ids(column, from as usize)
    }

    /// A column's values from index `from` on, as text (index 0 is no value, "").
    pub fn values(&self, column: &str, from: u32) -> Vec<String> {
        self.inner.values(column, from as usize)
    }

    /// The lines that are not JSON, as `TrailsiftError`s (`bad_json`, `bad_utf8`) with
    /// their `row` and `line`.
    #[wasm_bindgen(unchecked_return_type = "UnreadLine[]")]
    pub fn unread(&self) -> Array {
        self.inner
            .unread()
            .iter()
            .map(|u| {
                JsValue::from(Error::Plain {
                    code: u.code,
                    message: u.message.clone(),
                    details: vec![("row", f64::from(u.row)), ("line", u.line as f64)],
                })
            })
            .collect()
    }
}

/// The columns of a block of whole lines, read on their own (in another worker) for
/// `Table.push`.
#[wasm_bindgen(js_name = readBlock)]
pub fn read_block(block: &[u8], first_line: f64) -> Uint8Array {
    let read = columns::BlockColumns::read(block, first_line as u64);
    Uint8Array::from(read.to_bytes().as_slice())
}
