//! The CSV writer (RFC 4180, CRLF line ends): a header row of dotted paths, then one row
//! per event.
//!
//! Cells: `auditEventTime` as RFC 3339 UTC with milliseconds; `auditEventMetadata` as
//! compact JSON; the other fixed columns as their text. Other columns (unknown fields or a
//! chosen projection) hold strings as their text and other values as JSON (`5`, `true`,
//! `[1,2]`, `{}`), and a string that would read back as something else (`"5"`, `"true"`)
//! is written as a JSON string. An empty cell means an absent field, so an empty string is
//! written as `""` (a JSON empty string). This is what lets [`crate::convert::read::csv`]
//! give the events back exactly when spreadsheet safety is off.
//!
//! Columns in streaming mode: without an explicit column list, the columns are the fixed
//! ones of formats.md followed by the unknown fields (leaf paths) of the **first** event,
//! in its field order; unknown fields that only later events have are not written. Pass
//! the union ([`extra_columns`] over all events, or the CLI's `--all-columns`) to keep
//! them all.

use std::collections::HashSet;
use std::io::{self, Write};

use chrono::{Datelike, Timelike};
use serde_json::{Map, Value};

use super::not_an_object;
use crate::convert::node::Node;
use crate::event::{format_time_ms, parse_time, parse_time_value};

/// The fixed CSV columns, in the order formats.md gives.
pub const FIXED_COLUMNS: [&str; 15] = [
    "auditEventId",
    "auditEventTime",
    "auditEventAuthor.principal.type",
    "auditEventAuthor.principal.identifier",
    "auditEventAuthor.principal.email",
    "auditModule",
    "auditResource.type",
    "auditResource.identifier",
    "auditResourceScope.accountIdentifier",
    "auditResourceScope.orgIdentifier",
    "auditResourceScope.projectIdentifier",
    "auditAction",
    "auditHttpRequestInfo.requestMethod",
    "auditHttpRequestInfo.clientIP",
    "auditEventMetadata",
];

/// How a column's cells are written and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnKind {
    Time,
    Metadata,
    /// A fixed column whose schema type is string.
    Text,
    /// Anything else: typed cells.
    Typed,
}

pub(crate) fn column_kind(name: &str) -> ColumnKind {
    match name {
        "auditEventTime" => ColumnKind::Time,
        "auditEventMetadata" => ColumnKind::Metadata,
        n if FIXED_COLUMNS.contains(&n) => ColumnKind::Text,
        _ => ColumnKind::Typed,
    }
}

/// Adds to `columns` the unknown-field columns of `event` (dotted paths of its leaves that
/// are neither fixed columns nor inside `auditEventMetadata` or a fixed column), skipping
/// those already in `seen`.
pub fn extra_columns(event: &Value, columns: &mut Vec<String>, seen: &mut HashSet<String>) {
    unknown_leaves(event, &mut |path| {
        if seen.insert(path.to_string()) {
            columns.push(path.to_string());
        }
    });
}

/// Calls `found` with the dotted path of each leaf of `event` that is an unknown-field
/// column.
fn unknown_leaves(event: &Value, found: &mut dyn FnMut(&str)) {
    if let Value::Object(map) = event {
        walk(map, &mut String::new(), found);
    }
}

fn walk(map: &Map<String, Value>, prefix: &mut String, found: &mut dyn FnMut(&str)) {
    for (key, value) in map {
        let len = prefix.len();
        if !prefix.is_empty() {
            prefix.push('.');
        }
        prefix.push_str(key);
        if column_kind(prefix) == ColumnKind::Typed {
            match value {
                Value::Object(inner) if !inner.is_empty() => walk(inner, prefix, found),
                _ => found(prefix),
            }
        }
        prefix.truncate(len);
    }
}

/// Streams CSV rows; see the module docs for the column rule.
pub struct CsvWriter {
    columns: Option<Vec<String>>,
    kinds: Vec<ColumnKind>,
    /// Each column's path, split at the dots once.
    paths: Vec<Vec<String>>,
    /// Per column and path part, the member position it was last found at.
    hints: Vec<Vec<usize>>,
    safety: bool,
    header_written: bool,
    write_header: bool,
    row: Vec<u8>,
    cell: String,
}

impl CsvWriter {
    pub fn new(columns: Option<Vec<String>>, safety: bool) -> Self {
        let kinds = columns
            .as_ref()
            .map(|c| c.iter().map(|n| column_kind(n)).collect())
            .unwrap_or_default();
        CsvWriter {
            columns,
            kinds,
            paths: Vec::new(),
            hints: Vec::new(),
            safety,
            header_written: false,
            write_header: true,
            row: Vec::with_capacity(1024),
            cell: String::new(),
        }
    }

    /// The columns, once known (given, or decided by the first event).
    pub fn columns(&self) -> Option<&[String]> {
        self.columns.as_deref()
    }

    fn header(&mut self, out: &mut dyn Write, first: Option<&Value>) -> io::Result<()> {
        if self.columns.is_none() {
            let mut columns: Vec<String> = FIXED_COLUMNS.iter().map(|c| c.to_string()).collect();
            if let Some(event) = first {
                // One event's columns are few: a scan of them, rather than a hash set,
                // keeps std's hash table out of builds that need no other (the npm
                // package, 1.3 kB gzipped).
                unknown_leaves(event, &mut |path| {
                    if !columns.iter().any(|c| c == path) {
                        columns.push(path.to_string());
                    }
                });
            }
            self.kinds = columns.iter().map(|n| column_kind(n)).collect();
            self.columns = Some(columns);
        }
        self.header_written = true;
        self.paths = self
            .columns
            .iter()
            .flatten()
            .map(|c| c.split('.').map(str::to_string).collect())
            .collect();
        self.hints = self.paths.iter().map(|p| vec![0; p.len()]).collect();
        if !self.write_header {
            return Ok(());
        }
        self.row.clear();
        let columns = self.columns.take().unwrap_or_default();
        for (i, name) in columns.iter().enumerate() {
            self.cell.clear();
            self.cell.push_str(name);
            self.push_cell(i == 0, self.safety);
        }
        self.columns = Some(columns);
        self.end_row();
        out.write_all(&self.row)
    }

    /// Leaves out the header row (to continue a CSV written elsewhere).
    pub fn without_header(mut self) -> Self {
        self.write_header = false;
        self
    }

    pub fn write(&mut self, out: &mut dyn Write, event: &Value) -> io::Result<()> {
        if !event.is_object() {
            return Err(not_an_object());
        }
        if !self.header_written {
            self.header(out, Some(event))?;
        }
        self.write_cells(out, event)
    }

    /// Writes one event given as a borrowed [`Node`] (the fast path; same bytes as
    /// [`write`](CsvWriter::write) of its `Value`).
    pub fn write_node(&mut self, out: &mut dyn Write, event: &Node) -> io::Result<()> {
        if !event.is_object() {
            return Err(not_an_object());
        }
        if !self.header_written {
            self.header(out, Some(&event.to_value()))?;
        }
        self.write_cells(out, event)
    }

    fn write_cells<T: CellSource>(&mut self, out: &mut dyn Write, event: &T) -> io::Result<()> {
        self.row.clear();
        for i in 0..self.paths.len() {
            self.cell.clear();
            let kind = self.kinds.get(i).copied().unwrap_or(ColumnKind::Typed);
            let path = self.paths.get(i).map(Vec::as_slice).unwrap_or_default();
            let hints = self
                .hints
                .get_mut(i)
                .map(Vec::as_mut_slice)
                .unwrap_or_default();
            if let Some(value) = event.at_hinted(path, hints) {
                encode_cell(&mut self.cell, kind, value);
            }
            self.push_cell(i == 0, self.safety);
        }
        self.end_row();
        out.write_all(&self.row)
    }

    /// Writes the header if no event came.
    pub fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if !self.header_written {
            self.header(out, None)?;
        }
        Ok(())
    }

    fn push_cell(&mut self, first: bool, safety: bool) {
        if !first {
            self.row.push(b',');
        }
        if safety && starts_unsafe(&self.cell) {
            self.cell.insert(0, '\'');
        }
        let cell = self.cell.as_bytes();
        // RFC 4180: quote a cell holding a comma, a quote or a line break.
        let quote = cell.iter().any(|&b| NEEDS_QUOTES[usize::from(b)]);
        if quote {
            self.row.push(b'"');
            let mut rest = cell;
            while let Some(q) = memchr::memchr(b'"', rest) {
                self.row.extend_from_slice(&rest[..=q]);
                self.row.push(b'"');
                rest = &rest[q + 1..];
            }
            self.row.extend_from_slice(rest);
            self.row.push(b'"');
        } else if cell.is_empty() && first && self.kinds.len() == 1 {
            // A row of one empty cell would be a blank line, which readers skip.
            self.row.extend_from_slice(b"\"\"");
        } else {
            self.row.extend_from_slice(cell);
        }
    }

    fn end_row(&mut self) {
        self.row.extend_from_slice(b"\r\n");
    }
}

/// The bytes that make a cell quoted: comma, quote, CR and LF.
static NEEDS_QUOTES: [bool; 256] = {
    let mut table = [false; 256];
    table[b',' as usize] = true;
    table[b'"' as usize] = true;
    table[b'\n' as usize] = true;
    table[b'\r' as usize] = true;
    table
};

/// The text trailsift writes in the CSV cell of `column` for `value` (before CSV quoting),
/// with or without the spreadsheet-safety prefix.
pub fn cell_text(column: &str, value: &Value, safety: bool) -> String {
    let mut cell = String::new();
    encode_cell(&mut cell, column_kind(column), value);
    if safety && starts_unsafe(&cell) {
        cell.insert(0, '\'');
    }
    cell
}

fn starts_unsafe(cell: &str) -> bool {
    matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// What a cell needs from a JSON value: implemented by `serde_json::Value` and by the fast
/// path's borrowed [`Node`].
pub(crate) trait CellSource {
    fn at(&self, path: &[String]) -> Option<&Self>;
    /// Like `at`, trying first the member positions where the path was found last time
    /// (events of one producer share their key order).
    fn at_hinted(&self, path: &[String], _hints: &mut [usize]) -> Option<&Self> {
        self.at(path)
    }
    fn str_value(&self) -> Option<&str>;
    fn time_ms(&self) -> Option<i64>;
    fn push_json(&self, cell: &mut String);
}

impl CellSource for Value {
    fn at(&self, path: &[String]) -> Option<&Self> {
        let mut current = self;
        for part in path {
            current = current.as_object()?.get(part)?;
        }
        Some(current)
    }
    fn str_value(&self) -> Option<&str> {
        self.as_str()
    }
    fn time_ms(&self) -> Option<i64> {
        parse_time_value(self).ok()
    }
    fn push_json(&self, cell: &mut String) {
        cell.push_str(&self.to_string());
    }
}

impl CellSource for Node<'_> {
    fn at_hinted(&self, path: &[String], hints: &mut [usize]) -> Option<&Self> {
        let mut current = self;
        for (part, hint) in path.iter().zip(hints.iter_mut()) {
            let Node::Object(members) = current else {
                return None;
            };
            current = match members.get(*hint) {
                Some((k, v)) if k == part => v,
                _ => {
                    let i = members.iter().position(|(k, _)| k == part)?;
                    *hint = i;
                    &members[i].1
                }
            };
        }
        Some(current)
    }
    fn at(&self, path: &[String]) -> Option<&Self> {
        let mut current = self;
        for part in path {
            current = current.get(part)?;
        }
        Some(current)
    }
    fn str_value(&self) -> Option<&str> {
        self.as_str()
    }
    fn time_ms(&self) -> Option<i64> {
        match self {
            Node::String(s) => parse_time(s).ok(),
            Node::Number(n) => parse_time_value(&Value::Number(n.clone())).ok(),
            _ => None,
        }
    }
    fn push_json(&self, cell: &mut String) {
        cell.push_str(&serde_json::to_string(self).unwrap_or_default());
    }
}

/// The text of one cell (see the module docs).
pub(crate) fn encode_cell<T: CellSource + ?Sized>(cell: &mut String, kind: ColumnKind, value: &T) {
    match (kind, value.str_value()) {
        (ColumnKind::Time, s) => match value.time_ms() {
            Some(ms) => push_time(cell, ms),
            None => match s {
                Some(s) => cell.push_str(s),
                None => value.push_json(cell),
            },
        },
        (ColumnKind::Metadata, _) => value.push_json(cell),
        (ColumnKind::Text, Some(s)) => {
            if s.is_empty() || s.starts_with('"') {
                cell.push_str(&Value::String(s.to_string()).to_string());
            } else {
                cell.push_str(s);
            }
        }
        (ColumnKind::Typed, Some(s)) => {
            if s.is_empty() || looks_like_json(s) {
                cell.push_str(&Value::String(s.to_string()).to_string());
            } else {
                cell.push_str(s);
            }
        }
        (_, None) => value.push_json(cell),
    }
}

/// RFC 3339 UTC with milliseconds, as `format_time_ms`.
/// Years 0 to 9999 are written digit by digit (the common case, without chrono's
/// formatting machinery); others as `format_time_ms` does.
fn push_time(cell: &mut String, ms: i64) {
    let Some(dt) = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms) else {
        cell.push_str(&format_time_ms(ms));
        return;
    };
    let year = dt.year();
    if !(0..=9999).contains(&year) {
        cell.push_str(&format_time_ms(ms));
        return;
    }
    let digits = |cell: &mut String, n: u32, width: u32| {
        for i in (0..width).rev() {
            let d = (n / 10u32.pow(i)) % 10;
            cell.push(char::from(b'0' + d as u8));
        }
    };
    digits(cell, year as u32, 4);
    cell.push('-');
    digits(cell, dt.month(), 2);
    cell.push('-');
    digits(cell, dt.day(), 2);
    cell.push('T');
    digits(cell, dt.hour(), 2);
    cell.push(':');
    digits(cell, dt.minute(), 2);
    cell.push(':');
    digits(cell, dt.second(), 2);
    cell.push('.');
    digits(cell, ms.rem_euclid(1000) as u32, 3);
    cell.push('Z');
}

/// Whether a cell's text would read back as a JSON value rather than as this string.
pub(crate) fn looks_like_json(s: &str) -> bool {
    let first = s.trim_start().as_bytes().first().copied();
    matches!(
        first,
        Some(b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n')
    ) && serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_time_matches_format_time_ms() {
        let mut ms_values = vec![
            0,
            -1,
            -999,
            -1000,
            1_763_719_530_123,
            -62_167_219_200_000,
            -62_167_219_200_001,
            253_402_300_799_999,
            253_402_300_800_000,
            i64::MIN,
            i64::MAX,
        ];
        // A spread of instants over the years 1 to 9999.
        let mut ms: i64 = -62_135_596_800_000;
        while ms < 253_402_300_799_999 {
            ms_values.push(ms);
            ms += 86_400_000 * 97 + 3_723_457;
        }
        for ms in ms_values {
            let mut cell = String::new();
            push_time(&mut cell, ms);
            assert_eq!(cell, format_time_ms(ms), "{ms}");
        }
    }
}
