//! Streaming CSV (RFC 4180): the header row names the dotted columns; each later row is
//! one event. The cell rules mirror the writer ([`crate::convert::write::csv`]):
//! `auditEventTime` (RFC 3339 or digits) comes back as epoch milliseconds (a number),
//! `auditEventMetadata` is parsed from its JSON text, the other fixed columns are strings,
//! other columns are JSON when the cell is JSON (`5`, `true`, `{"a":1}`, `"5"`) and strings
//! otherwise; dotted columns rebuild nested objects; an empty cell is an absent field. The
//! rest column ([`REST_COLUMN`]) holds a partial event as JSON, merged into what the other
//! cells give (its values win), so that a field without a column of its own comes back too.

use serde_json::{Map, Value};

use super::sumo::insert_path;
use crate::convert::write::csv::{column_kind, looks_like_json, ColumnKind, REST_COLUMN};
use crate::convert::{ErrorCode, Item, ReadError, ReadOptions, Record};
use crate::time::parse_time;

/// Reads CSV pushed in chunks with csv-core; holds one partial row.
pub struct CsvReader {
    opts: ReadOptions,
    csv: csv_core::Reader,
    /// The first bytes, held until a UTF-8 byte order mark can be recognised.
    head: Vec<u8>,
    head_done: bool,
    header: Option<Vec<(String, ColumnKind)>>,
    /// The current row's unescaped fields and their ends.
    fields: Vec<u8>,
    fields_len: usize,
    ends: Vec<usize>,
    ends_len: usize,
    in_row: bool,
    /// Quotes seen in the current row's raw bytes: odd means inside a quoted field.
    quotes: u64,
    /// The row is over the size limit: skip to the end of its line.
    skipping: bool,
    row_line: u64,
    row_byte: u64,
    offset: u64,
    line: u64,
    index: u64,
}

impl CsvReader {
    pub(crate) fn new(opts: ReadOptions) -> Self {
        CsvReader {
            opts,
            csv: primed_reader(),
            head: Vec::new(),
            head_done: false,
            header: None,
            fields: vec![0; 4096],
            fields_len: 0,
            ends: vec![0; 64],
            ends_len: 0,
            in_row: false,
            quotes: 0,
            skipping: false,
            row_line: 1,
            row_byte: 0,
            offset: 0,
            line: 1,
            index: 0,
        }
    }

    /// (records so far, current line, bytes so far).
    pub(crate) fn position(&self) -> (u64, u64, u64) {
        (self.index, self.line, self.offset)
    }

    pub(crate) fn push(&mut self, chunk: &[u8], out: &mut Vec<Item>) {
        if !self.head_done {
            self.head.extend_from_slice(chunk);
            if self.head.len() < 3 && b"\xEF\xBB\xBF".starts_with(&self.head) {
                return;
            }
            self.head_done = true;
            let head = std::mem::take(&mut self.head);
            let body = match head.strip_prefix(b"\xEF\xBB\xBF") {
                Some(rest) => {
                    self.offset = 3;
                    rest
                }
                None => &head[..],
            };
            self.feed(body, false, out);
            return;
        }
        self.feed(chunk, false, out);
    }

    pub(crate) fn finish(&mut self, out: &mut Vec<Item>) {
        if !self.head_done {
            self.head_done = true;
            let head = std::mem::take(&mut self.head);
            self.feed(&head, false, out);
        }
        if self.skipping {
            self.skipping = false;
            self.too_large(out);
            return;
        }
        if self.in_row {
            // An empty input tells csv-core the data ended: it completes the last row.
            let unterminated = self.quotes % 2 == 1;
            let before = out.len();
            let index = self.index;
            self.feed(&[], true, out);
            if unterminated {
                let error = Err(ReadError::new(
                    ErrorCode::Truncated,
                    "the input ends inside a quoted field",
                    index,
                    self.row_line,
                    self.row_byte,
                ));
                if out.len() > before {
                    // The cut row was read as it stood; report the cause instead.
                    out.truncate(before);
                    out.push(error);
                } else if self.header.is_some() && index == self.index {
                    // The cut row was the header.
                    out.push(error);
                }
            }
        }
    }

    fn too_large(&mut self, out: &mut Vec<Item>) {
        let what = if self.quotes % 2 == 1 {
            " (a quoted field is probably not closed)"
        } else {
            ""
        };
        out.push(Err(ReadError::new(
            ErrorCode::TooLarge,
            format!("row larger than {} bytes{what}", self.opts.max_record_bytes),
            self.index,
            self.row_line,
            self.row_byte,
        )));
        self.index += 1;
    }

    fn advance(&mut self, consumed: &[u8]) {
        self.offset += consumed.len() as u64;
        self.line += memchr::memchr_iter(b'\n', consumed).count() as u64;
    }

    fn feed(&mut self, mut input: &[u8], at_end: bool, out: &mut Vec<Item>) {
        loop {
            if self.skipping {
                match memchr::memchr(b'\n', input) {
                    Some(nl) => {
                        self.advance(&input[..=nl]);
                        input = &input[nl + 1..];
                        self.skipping = false;
                        self.too_large(out);
                        self.csv = primed_reader();
                        self.in_row = false;
                    }
                    None => {
                        self.advance(input);
                        return;
                    }
                }
            }
            if !self.in_row {
                // Blank lines between rows are skipped here, so that a row's position is
                // where its first byte is.
                let skip = input
                    .iter()
                    .position(|b| !matches!(b, b'\r' | b'\n'))
                    .unwrap_or(input.len());
                self.advance(&input[..skip]);
                input = &input[skip..];
                if input.is_empty() {
                    return;
                }
                self.in_row = true;
                self.row_line = self.line;
                self.row_byte = self.offset;
                self.quotes = 0;
                self.fields_len = 0;
                self.ends_len = 0;
            }
            // Feed no more than the limit allows, so that the limit is hit at the same byte
            // however the input is chunked.
            let used = (self.offset - self.row_byte) as usize;
            let room = self
                .opts
                .max_record_bytes
                .saturating_add(1)
                .saturating_sub(used);
            if room == 0 {
                self.skipping = true;
                continue;
            }
            // An empty input means the end of the data to csv-core.
            if input.is_empty() && !at_end {
                return;
            }
            let piece = &input[..input.len().min(room)];
            let (res, nin, nout, nend) = self.csv.read_record(
                piece,
                &mut self.fields[self.fields_len..],
                &mut self.ends[self.ends_len..],
            );
            let consumed = &piece[..nin];
            self.quotes += memchr::memchr_iter(b'"', consumed).count() as u64;
            self.advance(consumed);
            input = &input[nin..];
            self.fields_len += nout;
            self.ends_len += nend;
            match res {
                csv_core::ReadRecordResult::InputEmpty => {
                    if (self.offset - self.row_byte) as usize > self.opts.max_record_bytes {
                        self.skipping = true;
                        continue;
                    }
                    if input.is_empty() {
                        return;
                    }
                }
                csv_core::ReadRecordResult::OutputFull => {
                    let n = self.fields.len() * 2;
                    self.fields.resize(n, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let n = self.ends.len() * 2;
                    self.ends.resize(n, 0);
                }
                csv_core::ReadRecordResult::Record => {
                    self.in_row = false;
                    self.row_done(out);
                    if at_end {
                        return;
                    }
                }
                csv_core::ReadRecordResult::End => return,
            }
        }
    }

    fn row_done(&mut self, out: &mut Vec<Item>) {
        let fields = &self.fields[..self.fields_len];
        let ends = &self.ends[..self.ends_len];
        let err = |code, message: String, index| {
            Err(ReadError::new(
                code,
                message,
                index,
                self.row_line,
                self.row_byte,
            ))
        };
        let text = match std::str::from_utf8(fields) {
            Ok(t) => t,
            Err(e) => {
                let item = err(
                    ErrorCode::BadUtf8,
                    format!(
                        "invalid UTF-8 in row (at byte {} of its cells)",
                        e.valid_up_to()
                    ),
                    self.index,
                );
                if self.header.is_none() {
                    // Without a header nothing can be read; stop at the first bad one.
                    self.header = Some(Vec::new());
                }
                out.push(item);
                self.index += 1;
                return;
            }
        };
        let mut cells = Vec::with_capacity(ends.len());
        let mut start = 0;
        for &end in ends {
            cells.push(text.get(start..end).unwrap_or(""));
            start = end;
        }
        let Some(header) = &self.header else {
            let header = cells
                .iter()
                .map(|c| (c.trim().to_string(), column_kind(c.trim())))
                .collect();
            self.header = Some(header);
            return;
        };
        let index = self.index;
        self.index += 1;
        if header.is_empty() {
            out.push(err(ErrorCode::BadCsv, "no usable header row".into(), index));
            return;
        }
        if cells.len() > header.len() {
            out.push(err(
                ErrorCode::BadCsv,
                format!("row has {} cells, the header {}", cells.len(), header.len()),
                index,
            ));
            return;
        }
        let mut event = Map::new();
        let mut rest = Map::new();
        for ((name, kind), cell) in header.iter().zip(cells) {
            if cell.is_empty() || name.is_empty() {
                continue;
            }
            if *kind == ColumnKind::Rest {
                match serde_json::from_str(cell) {
                    Ok(Value::Object(more)) => merge(&mut rest, more),
                    _ => {
                        let m = format!("the {REST_COLUMN} cell is not a JSON object");
                        out.push(err(ErrorCode::BadCsv, m, index));
                        return;
                    }
                }
                continue;
            }
            let value = decode_cell(*kind, cell);
            if let Err(m) = insert_path(&mut event, name, value) {
                out.push(err(ErrorCode::BadCsv, m, index));
                return;
            }
        }
        merge(&mut event, rest);
        out.push(Ok(Record {
            index,
            line: self.row_line,
            byte: self.row_byte,
            value: Value::Object(event),
            raw: None,
        }));
    }
}

/// A csv-core reader that will not strip a byte order mark: it strips one only on its
/// first read and only when that read has 3 bytes, which would make the result depend on
/// chunking. (The reader strips a BOM at the start of the input itself.) A blank line at
/// the start of a record is skipped, so reading one first changes nothing else.
fn primed_reader() -> csv_core::Reader {
    let mut csv = csv_core::Reader::new();
    let _ = csv.read_record(b"\n", &mut [0; 8], &mut [0; 8]);
    csv
}

/// Puts the members of `rest` into `event`; objects in both are merged, else `rest` wins
/// (a fixed text column gave the text of a value that the rest holds as it was).
fn merge(event: &mut Map<String, Value>, rest: Map<String, Value>) {
    for (key, value) in rest {
        match (event.get_mut(&key), value) {
            (Some(Value::Object(inner)), Value::Object(more)) => merge(inner, more),
            (_, value) => {
                event.insert(key, value);
            }
        }
    }
}

/// The value of one non-empty cell (not of the rest column).
pub(crate) fn decode_cell(kind: ColumnKind, cell: &str) -> Value {
    match kind {
        ColumnKind::Time => match parse_time(cell) {
            Ok(ms) => Value::from(ms),
            Err(_) => Value::String(cell.to_string()),
        },
        ColumnKind::Metadata | ColumnKind::Rest => {
            serde_json::from_str(cell).unwrap_or_else(|_| Value::String(cell.to_string()))
        }
        ColumnKind::Text => {
            if cell.starts_with('"') {
                if let Ok(s) = serde_json::from_str::<String>(cell) {
                    return Value::String(s);
                }
            }
            Value::String(cell.to_string())
        }
        ColumnKind::Typed => {
            if looks_like_json(cell) {
                if let Ok(v) = serde_json::from_str(cell) {
                    return v;
                }
            }
            Value::String(cell.to_string())
        }
    }
}
