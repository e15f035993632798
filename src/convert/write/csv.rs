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
//! Columns: a caller's projection is written as given, nothing added. Otherwise the fixed
//! columns of formats.md come first, then one column per unknown field (its dotted leaf
//! path), and no field is dropped:
//! - with the whole input at hand, a first pass ([`crate::convert::scan`]) finds every
//!   unknown field of every event, in first-seen order;
//! - a stream takes the unknown fields of its **first** event and ends the header with the
//!   rest column [`REST_COLUMN`]: what of an event no other column holds (a field that
//!   first appears later), as compact JSON of a partial event (`{"ticket":{"id":"T-1"}}`),
//!   empty when nothing is left. The reader merges it back into the event.
//!
//! A few fields can have no column of their own even in a scan (a key holding a `.`; the
//! `columns` submodule lists them); a scanned header then ends with the rest column too.

use std::io::{self, Write};

use serde_json::{Map, Value};

pub(crate) use self::columns::Layout;
use self::columns::{rest_of, Tree};
use super::not_an_object;
use crate::convert::node::Node;
use crate::time::{parse_time, parse_time_value};

mod columns;

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

/// The name of the rest column: what of an event no other column holds, as compact JSON
/// of a partial event. No event field is ever written as a column of this name (the
/// parentheses cannot appear in a field path of the filter language), so a reader can
/// always tell it apart.
pub const REST_COLUMN: &str = "(rest)";

/// How a column's cells are written and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnKind {
    Time,
    Metadata,
    /// A fixed column whose schema type is string.
    Text,
    /// Anything else: typed cells.
    Typed,
    /// [`REST_COLUMN`].
    Rest,
}

pub(crate) fn column_kind(name: &str) -> ColumnKind {
    match name {
        "auditEventTime" => ColumnKind::Time,
        "auditEventMetadata" => ColumnKind::Metadata,
        REST_COLUMN => ColumnKind::Rest,
        n if FIXED_COLUMNS.contains(&n) => ColumnKind::Text,
        _ => ColumnKind::Typed,
    }
}

/// The columns a stream without a projection gets from its first event (`None`: no event
/// came): the fixed ones, the first event's unknown fields, then [`REST_COLUMN`]. What
/// [`CsvWriter`] chooses by itself; for writers that share one header (pieces of one
/// output converted apart).
pub fn stream_columns(first: Option<&Value>) -> Vec<String> {
    let mut layout = Layout::new();
    if let Some(event) = first {
        layout.add(event);
    }
    layout.columns(true)
}

/// Streams CSV rows; see the module docs for the column rule.
pub struct CsvWriter {
    columns: Option<Vec<String>>,
    kinds: Vec<ColumnKind>,
    /// Each column's path, split at the dots once.
    paths: Vec<Vec<String>>,
    /// Per column and path part, the member position it was last found at.
    hints: Vec<Vec<usize>>,
    /// With a rest column: the other columns, to find what they do not hold.
    others: Option<Tree>,
    rest: Map<String, Value>,
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
            others: None,
            rest: Map::new(),
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

    fn header<T: CellSource>(&mut self, out: &mut dyn Write, first: Option<&T>) -> io::Result<()> {
        if self.columns.is_none() {
            let mut layout = Layout::new();
            if let Some(event) = first {
                layout.add(event);
            }
            let columns = layout.columns(true);
            self.kinds = columns.iter().map(|n| column_kind(n)).collect();
            self.columns = Some(columns);
        }
        self.header_written = true;
        let columns = self.columns.as_deref().unwrap_or_default();
        if self.kinds.contains(&ColumnKind::Rest) {
            self.others = Some(Tree::of(columns));
        }
        self.paths = columns
            .iter()
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

    /// A writer of rows to follow this one's (no header), once the columns are known.
    #[cfg(not(target_arch = "wasm32"))] // for the parallel path only
    pub(crate) fn piece(&self) -> Option<CsvWriter> {
        let columns = self.columns.clone()?;
        Some(CsvWriter::new(Some(columns), self.safety).without_header())
    }

    /// Appends rows a [`piece`](Self::piece) writer wrote, after the header.
    #[cfg(not(target_arch = "wasm32"))] // for the parallel path only
    pub(crate) fn append(&mut self, out: &mut dyn Write, rows: &[u8]) -> io::Result<()> {
        if !self.header_written && !rows.is_empty() {
            self.header::<Value>(out, None)?;
        }
        out.write_all(rows)
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
            self.header(out, Some(event))?;
        }
        self.write_cells(out, event)
    }

    fn write_cells<T: CellSource>(&mut self, out: &mut dyn Write, event: &T) -> io::Result<()> {
        self.row.clear();
        for i in 0..self.paths.len() {
            self.cell.clear();
            let kind = self.kinds.get(i).copied().unwrap_or(ColumnKind::Typed);
            if kind == ColumnKind::Rest {
                self.push_rest(event);
            } else {
                let path = self.paths.get(i).map(Vec::as_slice).unwrap_or_default();
                let hints = self
                    .hints
                    .get_mut(i)
                    .map(Vec::as_mut_slice)
                    .unwrap_or_default();
                if let Some(value) = event.at_hinted(path, hints) {
                    encode_cell(&mut self.cell, kind, value);
                }
            }
            self.push_cell(i == 0, self.safety);
        }
        self.end_row();
        out.write_all(&self.row)
    }

    /// The rest cell: what of `event` the other columns do not hold, or nothing.
    fn push_rest<T: CellSource>(&mut self, event: &T) {
        let Some(others) = self.others.as_mut() else {
            return;
        };
        self.rest.clear();
        rest_of(others, event, &mut self.rest);
        if !self.rest.is_empty() {
            let rest = Value::Object(std::mem::take(&mut self.rest));
            self.cell.push_str(&rest.to_string());
            if let Value::Object(map) = rest {
                self.rest = map;
            }
        }
    }

    /// Writes the header if no event came.
    pub fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if !self.header_written {
            self.header::<Value>(out, None)?;
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
    fn is_number(&self) -> bool;
    /// An object with members.
    fn has_members(&self) -> bool;
    /// Calls `f` with each member of an object, in order (nothing for other values).
    fn for_each_member(&self, f: &mut dyn FnMut(&str, &Self));
    fn to_value(&self) -> Value;
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
    fn is_number(&self) -> bool {
        Value::is_number(self)
    }
    fn has_members(&self) -> bool {
        self.as_object().is_some_and(|m| !m.is_empty())
    }
    fn for_each_member(&self, f: &mut dyn FnMut(&str, &Self)) {
        if let Value::Object(map) = self {
            for (k, v) in map {
                f(k, v);
            }
        }
    }
    fn to_value(&self) -> Value {
        self.clone()
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
    fn is_number(&self) -> bool {
        matches!(self, Node::Number(_))
    }
    fn has_members(&self) -> bool {
        matches!(self, Node::Object(members) if !members.is_empty())
    }
    fn for_each_member(&self, f: &mut dyn FnMut(&str, &Self)) {
        if let Node::Object(members) = self {
            for (k, v) in members {
                f(k, v);
            }
        }
    }
    fn to_value(&self) -> Value {
        Node::to_value(self)
    }
}

/// The text of one cell (see the module docs).
pub(crate) fn encode_cell<T: CellSource + ?Sized>(cell: &mut String, kind: ColumnKind, value: &T) {
    match (kind, value.str_value()) {
        (ColumnKind::Time, s) => match value.time_ms() {
            Some(ms) => crate::time::push_rfc3339(cell, ms),
            None => match s {
                Some(s) => cell.push_str(s),
                None => value.push_json(cell),
            },
        },
        (ColumnKind::Metadata | ColumnKind::Rest, _) => value.push_json(cell),
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

/// Whether a cell's text would read back as a JSON value rather than as this string.
pub(crate) fn looks_like_json(s: &str) -> bool {
    let first = s.trim_start().as_bytes().first().copied();
    matches!(
        first,
        Some(b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n')
    ) && serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok()
}
