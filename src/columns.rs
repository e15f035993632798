//! The table a viewer keeps of an NDJSON file: the raw lines (for exports and the event
//! view), and by column the fields its table, facets, histogram and filter form read: each
//! distinct value once and per row its index, times read once. Filters that read only
//! those fields are decided on the columns (each distinct value tested once per term);
//! the others on the lines. Either way a row matches exactly when `trailsift filter` would
//! keep its line.
//!
//! A block of lines is read into [`BlockColumns`] on its own (so that blocks can be read in
//! parallel, and sent between threads as bytes) and then appended to the [`Table`].
//!
//! ```
//! use trailsift::columns::Table;
//! use trailsift::filter::Filter;
//!
//! let mut table = Table::default();
//! table.push(
//!     br#"{"auditAction":"CREATE","auditEventTime":"2026-01-01T00:00:00Z"}
//! {"auditAction":"LOGIN","auditEventTime":1767225600001}
//! "#.to_vec(),
//!     1,
//! );
//! let f = Filter::parse("-is:login").unwrap();
//! assert_eq!(table.filter(&f, 0, 0), [0]);
//! assert_eq!(table.times(0), [1_767_225_600_000.0, 1_767_225_600_001.0]);
//! assert_eq!(table.lines(&[1]), b"{\"auditAction\":\"LOGIN\",\"auditEventTime\":1767225600001}\n");
//! ```

use std::borrow::Cow;
use std::collections::HashMap;

use foldhash::fast::FixedState;

use crate::convert::ErrorCode;
use crate::event::field;
use crate::filter::columnar::{Cell, Column, FieldReader, FieldValue, NOT_A_TIME, NO_TIME};
use crate::filter::Filter;
use crate::plain::{same_key, Num, Plain};

/// The fields held by column, the time first: every field of the filter language but the
/// event's identifier and the client's IP (a distinct value nearly every row: a column
/// would hold a second copy of them) and the metadata.
pub const FIELDS: [&str; 12] = [
    field::TIME,
    field::PRINCIPAL_TYPE,
    field::PRINCIPAL_ID,
    field::PRINCIPAL_EMAIL,
    field::MODULE,
    field::RESOURCE_TYPE,
    field::RESOURCE_ID,
    field::ACCOUNT,
    field::ORG,
    field::PROJECT,
    field::ACTION,
    field::METHOD,
];

/// The column that shows who acted: the principal's email, else its identifier.
pub const USER: &str = crate::filter::fields::USER;

/// Columns of cells: every field but the time, then [`USER`].
const CELLS: usize = FIELDS.len();
/// The cell columns of the principal's email and identifier, which [`USER`] shows.
const WHO: [usize; 2] = [2, 1];

fn cell_column(name: &str) -> Option<usize> {
    if name == USER {
        return Some(CELLS - 1);
    }
    FIELDS[1..].iter().position(|f| *f == name)
}

/// The most values of a column looked up by comparing them all.
const FEW: usize = 16;

/// The distinct values of a column (index 0: absent or `null`).
#[derive(Debug)]
struct Dict {
    values: Vec<Option<Cell>>,
    strings: HashMap<Box<str>, u32, FixedState>,
    /// The indexes of the values that are not strings (rare in these fields).
    others: Vec<u32>,
}

impl Default for Dict {
    fn default() -> Self {
        Dict {
            values: vec![None],
            strings: HashMap::default(),
            others: Vec::new(),
        }
    }
}

fn dicts() -> Vec<Dict> {
    (0..CELLS).map(|_| Dict::default()).collect()
}

impl Dict {
    fn id_of_str(&mut self, s: &str) -> u32 {
        // Most columns hold a few values: comparing them costs less than hashing (whose
        // 64-bit multiplications wasm32 does in parts).
        if self.values.len() <= FEW {
            let known = self.values.iter().position(|v| match v {
                Some(Cell::Str(v)) => same_key(v, s),
                _ => false,
            });
            if let Some(id) = known {
                return id as u32;
            }
        } else if let Some(&id) = self.strings.get(s) {
            return id;
        }
        let id = self.values.len() as u32;
        self.strings.insert(s.into(), id);
        self.values.push(Some(Cell::Str(s.into())));
        id
    }

    fn id_of(&mut self, cell: Option<&Cell>) -> u32 {
        match cell {
            None => 0,
            Some(Cell::Str(s)) => self.id_of_str(s),
            Some(other) => {
                let known = self.others.iter().copied().find(|&id| {
                    self.values.get(id as usize).and_then(Option::as_ref) == Some(other)
                });
                known.unwrap_or_else(|| {
                    let id = self.values.len() as u32;
                    self.others.push(id);
                    self.values.push(Some(other.clone()));
                    id
                })
            }
        }
    }

    fn id_of_value(&mut self, v: Option<FieldValue<'_>>) -> u32 {
        match v {
            Some(FieldValue::Str(s)) => self.id_of_str(&s),
            Some(v) => self.id_of(Cell::of(v).as_ref()),
            None => 0,
        }
    }
}

/// One row's values of [`FIELDS`], in their order (`None`: absent).
type Values<'a> = Vec<Option<FieldValue<'a>>>;

/// The keys of [`FIELDS`] as a tree: each key with the field it holds or the keys below it.
#[derive(Default)]
struct Keys(Vec<(&'static str, Key)>);

enum Key {
    Field(usize),
    /// An object's keys, and every field below (cleared when the key comes again: a
    /// repeated key replaces the earlier value, as the filter reads it).
    Object(Keys, Vec<usize>),
}

impl Keys {
    fn of(paths: &[&'static str]) -> Keys {
        let mut keys = Keys::default();
        for (field, path) in paths.iter().enumerate() {
            keys.add(path, field);
        }
        keys
    }

    fn add(&mut self, path: &'static str, field: usize) {
        let Some((key, rest)) = path.split_once('.') else {
            self.0.push((path, Key::Field(field)));
            return;
        };
        for (k, below) in &mut self.0 {
            if let (true, Key::Object(keys, all)) = (*k == key, below) {
                all.push(field);
                keys.add(rest, field);
                return;
            }
        }
        let mut keys = Keys::default();
        keys.add(rest, field);
        self.0.push((key, Key::Object(keys, vec![field])));
    }
}

/// Reads the fields of a line of plain JSON (see [`crate::plain`]) in one pass, borrowing
/// its strings; `None` when the line is anything else, which [`FieldReader`] reads. A
/// plain line's values are the ones [`FieldReader`] (and so the filter) reads: this only
/// spares its work for free text and its allocations, which reading a file's columns does
/// not need.
fn read_plain<'a>(line: &'a [u8], keys: &Keys) -> Option<Values<'a>> {
    let mut values = vec![None; FIELDS.len()];
    let mut p = Plain::bytes(line);
    if p.peek()? == b'{' {
        read_object(&mut p, keys, &mut values, 1)?;
    } else {
        p.skip(0)?;
    }
    p.at_end().then_some(values)
}

fn read_object<'a>(
    p: &mut Plain<'a>,
    keys: &Keys,
    values: &mut Values<'a>,
    depth: u32,
) -> Option<()> {
    p.object(depth, |p, key| {
        match keys.0.iter().find(|(k, _)| same_key(k, key)) {
            Some((_, Key::Field(field))) => {
                let v = read_value(p, depth)?;
                *values.get_mut(*field)? = Some(v);
                Some(())
            }
            Some((_, Key::Object(below, all))) => {
                for &field in all {
                    *values.get_mut(field)? = None;
                }
                if p.peek()? == b'{' {
                    read_object(p, below, values, depth + 1)
                } else {
                    p.skip(depth)
                }
            }
            None => p.skip(depth),
        }
    })
}

fn read_value<'a>(p: &mut Plain<'a>, depth: u32) -> Option<FieldValue<'a>> {
    let literal = |p: &mut Plain<'a>, word, v| p.literal(word).map(|()| v);
    match p.peek()? {
        b'"' => p.string().map(|s| FieldValue::Str(Cow::Borrowed(s))),
        b't' => literal(p, "true", FieldValue::Bool(true)),
        b'f' => literal(p, "false", FieldValue::Bool(false)),
        b'n' => literal(p, "null", FieldValue::Null),
        b'{' | b'[' => p.skip(depth).map(|()| FieldValue::Other),
        _ => match p.number()? {
            Num::Int(n) => Some(FieldValue::Num(n)),
            // Left to serde_json, whose value it is.
            Num::Other => None,
        },
    }
}

/// A line that could not be read as JSON: its row, 1-based line number and why (a stable
/// code: `bad_json` or `bad_utf8`, and a message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    pub row: u32,
    pub line: u64,
    pub code: &'static str,
    pub message: String,
}

/// The rows of one block of whole NDJSON lines, read on their own.
#[derive(Debug, Default)]
pub struct BlockColumns {
    /// Start and end of each row's line in the block (the `\n` left out); blank lines are
    /// no rows.
    lines: Vec<[u32; 2]>,
    times: Vec<i64>,
    ids: Vec<Vec<u32>>,
    dicts: Vec<Dict>,
    /// Rows decided on their line: not UTF-8 or not JSON.
    unread: Vec<Unread>,
}

impl BlockColumns {
    /// Reads `block` (whole lines, the last with or without its `\n`), whose first line
    /// is line `first_line` of the input.
    pub fn read(block: &[u8], first_line: u64) -> BlockColumns {
        let reader = FieldReader::new(&FIELDS);
        let keys = Keys::of(&FIELDS);
        let mut b = BlockColumns {
            ids: vec![Vec::new(); CELLS],
            dicts: dicts(),
            ..BlockColumns::default()
        };
        let mut start = 0;
        let mut line_no = first_line;
        while start < block.len() {
            let end = memchr::memchr(b'\n', &block[start..]).map_or(block.len(), |i| start + i);
            let line = &block[start..end];
            if !line.iter().all(u8::is_ascii_whitespace) {
                b.row((&keys, &reader), line, start, end, line_no);
            }
            start = end + 1;
            line_no += 1;
        }
        b
    }

    fn row(
        &mut self,
        (keys, reader): (&Keys, &FieldReader),
        line: &[u8],
        start: usize,
        end: usize,
        line_no: u64,
    ) {
        let row = self.lines.len() as u32;
        self.lines.push([start as u32, end as u32]);
        // A plain line is UTF-8 (the plain reader checks every string). Serde_json does not
        // check the UTF-8 of strings it skips, so the answer for another line that is not
        // UTF-8 can depend on which fields a filter reads: it is decided on the line.
        let values = match read_plain(line, keys) {
            Some(values) => Ok(values),
            None => match std::str::from_utf8(line) {
                Ok(_) => reader.read(line).map_err(|e| (e.code, e.message)),
                Err(e) => Err((
                    ErrorCode::BadUtf8.as_str(),
                    format!("invalid UTF-8 at column {}", e.valid_up_to() + 1),
                )),
            },
        };
        let mut values = match values {
            Ok(values) => values.into_iter(),
            Err((code, message)) => {
                self.unread.push(Unread {
                    row,
                    line: line_no,
                    code,
                    message,
                });
                self.times.push(NO_TIME);
                self.ids.iter_mut().for_each(|ids| ids.push(0));
                return;
            }
        };
        self.times.push(match values.next().flatten() {
            None | Some(FieldValue::Null) => NO_TIME,
            Some(FieldValue::Str(s)) => crate::time::parse_time(&s).unwrap_or(NOT_A_TIME),
            Some(FieldValue::Num(n)) => {
                crate::time::parse_time_value(&serde_json::Value::Number(n)).unwrap_or(NOT_A_TIME)
            }
            Some(_) => NOT_A_TIME,
        });
        let mut who = [None, None];
        for (c, v) in values.enumerate() {
            if let (Some(slot), Some(FieldValue::Str(s))) = (WHO.iter().position(|&w| w == c), &v) {
                who[slot] = Some(s.clone()).filter(|s| !s.is_empty());
            }
            let id = self.dicts[c].id_of_value(v);
            self.ids[c].push(id);
        }
        let [email, id] = who;
        let user = match email.or(id) {
            Some(who) => self.dicts[CELLS - 1].id_of_str(&who),
            None => 0,
        };
        self.ids[CELLS - 1].push(user);
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The columns as bytes, to send to the thread that keeps the table
    /// ([`BlockColumns::from_bytes`] reads them back).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let put = |out: &mut Vec<u8>, n: usize| out.extend_from_slice(&(n as u32).to_le_bytes());
        put(&mut out, self.len());
        for [start, end] in &self.lines {
            put(&mut out, *start as usize);
            put(&mut out, *end as usize);
        }
        for t in &self.times {
            out.extend_from_slice(&t.to_le_bytes());
        }
        for (dict, ids) in self.dicts.iter().zip(&self.ids) {
            put(&mut out, dict.values.len());
            for v in dict.values.iter().skip(1) {
                // Strings (nearly every value) as they are, without a copy.
                let (tag, text): (u8, Cow<str>) = match v {
                    Some(Cell::Str(s)) => (0, Cow::Borrowed(s)),
                    Some(Cell::Num(n)) => (1, n.to_string().into()),
                    Some(Cell::Bool(b)) => (2, b.to_string().into()),
                    Some(Cell::Other) | None => (3, "".into()),
                };
                out.push(tag);
                put(&mut out, text.len());
                out.extend_from_slice(text.as_bytes());
            }
            ids.iter().for_each(|&id| put(&mut out, id as usize));
        }
        put(&mut out, self.unread.len());
        for u in &self.unread {
            put(&mut out, u.row as usize);
            out.extend_from_slice(&u.line.to_le_bytes());
            out.push(u8::from(u.code == ErrorCode::BadUtf8.as_str()));
            put(&mut out, u.message.len());
            out.extend_from_slice(u.message.as_bytes());
        }
        out
    }

    /// Reads what [`BlockColumns::to_bytes`] wrote; `None` for anything else.
    pub fn from_bytes(bytes: &[u8]) -> Option<BlockColumns> {
        let mut r = Bytes { rest: bytes };
        let n = r.u32()? as usize;
        let mut b = BlockColumns::default();
        let lines = r.u32s(2 * n)?;
        b.lines = lines.chunks_exact(2).map(|l| [l[0], l[1]]).collect();
        for _ in 0..n {
            b.times
                .push(i64::from_le_bytes(r.take(8)?.try_into().ok()?));
        }
        for _ in 0..CELLS {
            let mut dict = Dict::default();
            for _ in 1..r.u32()? {
                let tag = *r.take(1)?.first()?;
                let len = r.u32()? as usize;
                let text = std::str::from_utf8(r.take(len)?).ok()?;
                dict.values.push(Some(match tag {
                    0 => Cell::Str(text.into()),
                    1 => match serde_json::from_str(text).ok()? {
                        serde_json::Value::Number(n) => Cell::Num(n),
                        _ => return None,
                    },
                    2 => Cell::Bool(text == "true"),
                    _ => Cell::Other,
                }));
            }
            let ids = r.u32s(n)?;
            b.dicts.push(dict);
            b.ids.push(ids);
        }
        for _ in 0..r.u32()? {
            let row = r.u32()?;
            let line = u64::from_le_bytes(r.take(8)?.try_into().ok()?);
            let code = match r.take(1)? {
                [0] => crate::filter::error::BAD_JSON,
                _ => ErrorCode::BadUtf8.as_str(),
            };
            let len = r.u32()? as usize;
            let message = String::from_utf8(r.take(len)?.to_vec()).ok()?;
            b.unread.push(Unread {
                row,
                line,
                code,
                message,
            });
        }
        r.rest.is_empty().then_some(b)
    }
}

/// A reader of [`BlockColumns::to_bytes`].
struct Bytes<'a> {
    rest: &'a [u8],
}

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.rest.split_at_checked(n)?;
        self.rest = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u32s(&mut self, n: usize) -> Option<Vec<u32>> {
        let bytes = self.take(n.checked_mul(4)?)?;
        Some(
            bytes
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        )
    }
}

/// The least bytes of lines kept in one allocation: growing a wasm module's memory is
/// costly, so it grows in few large steps.
const CHUNK: usize = 8 << 20;

/// The rows of an NDJSON file (see the module docs).
#[derive(Debug)]
pub struct Table {
    /// The lines of the blocks, one block after the other in chunks of at least [`CHUNK`].
    chunks: Vec<Vec<u8>>,
    /// Each block's chunk, start in it and length.
    blocks: Vec<[usize; 3]>,
    /// The first row of each block.
    block_rows: Vec<u32>,
    lines: Vec<[u32; 2]>,
    times: Vec<i64>,
    ids: Vec<Vec<u32>>,
    dicts: Vec<Dict>,
    unread: Vec<Unread>,
}

impl Default for Table {
    fn default() -> Self {
        Table {
            chunks: Vec::new(),
            blocks: Vec::new(),
            block_rows: Vec::new(),
            lines: Vec::new(),
            times: Vec::new(),
            ids: vec![Vec::new(); CELLS],
            dicts: dicts(),
            unread: Vec::new(),
        }
    }
}

impl Table {
    /// Reads and appends a block of whole lines whose first line is line `first_line` of
    /// the input; returns the number of rows added.
    pub fn push(&mut self, block: Vec<u8>, first_line: u64) -> usize {
        let columns = BlockColumns::read(&block, first_line);
        self.append(block, columns)
    }

    /// Appends a block and its columns ([`BlockColumns::read`] of the same bytes).
    pub fn append(&mut self, block: Vec<u8>, columns: BlockColumns) -> usize {
        let first = self.lines.len() as u32;
        let n = columns.len();
        self.block_rows.push(first);
        let (c, len) = (self.chunks.len(), block.len());
        match self.chunks.last_mut() {
            Some(chunk) if len < CHUNK && chunk.capacity() - chunk.len() >= len => {
                self.blocks.push([c - 1, chunk.len(), len]);
                chunk.extend_from_slice(&block);
            }
            _ => {
                self.blocks.push([c, 0, len]);
                self.chunks.push(if len >= CHUNK {
                    block
                } else {
                    let mut chunk = Vec::with_capacity(CHUNK);
                    chunk.extend_from_slice(&block);
                    chunk
                });
            }
        }
        self.lines.extend_from_slice(&columns.lines);
        self.times.extend_from_slice(&columns.times);
        for (c, (local, ids)) in columns.dicts.iter().zip(&columns.ids).enumerate() {
            let global: Vec<u32> = local
                .values
                .iter()
                .map(|v| self.dicts[c].id_of(v.as_ref()))
                .collect();
            self.ids[c].extend(
                ids.iter()
                    .map(|&id| global.get(id as usize).copied().unwrap_or(0)),
            );
        }
        self.unread
            .extend(columns.unread.into_iter().map(|u| Unread {
                row: u.row + first,
                ..u
            }));
        n
    }

    /// Number of rows (the lines that are not blank).
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The lines that could not be read as JSON (they match no filter that needs their
    /// fields).
    pub fn unread(&self) -> &[Unread] {
        &self.unread
    }

    /// The column of a field given as the parts of its path.
    fn column(&self, path: &[String]) -> Option<Column<'_>> {
        let is = |f: &str| f.split('.').eq(path.iter().map(String::as_str));
        if is(field::TIME) {
            return Some(Column::Times(&self.times));
        }
        let c = FIELDS[1..].iter().position(|f| is(f))?;
        Some(Column::Cells {
            values: &self.dicts[c].values,
            ids: &self.ids[c],
        })
    }

    /// Whether `filter` is decided on the columns (it reads only the fields held, and no
    /// free text), not on the lines.
    pub fn decides_on_columns(&self, filter: &Filter) -> bool {
        filter.on_columns(&|path| self.column(path), 0).is_some()
    }

    /// The rows from `from` on that match `filter`, in order.
    pub fn filter(&self, filter: &Filter, now_ms: i64, from: usize) -> Vec<u32> {
        let mut out = Vec::new();
        let Some(on_columns) = filter.on_columns(&|path| self.column(path), now_ms) else {
            self.filter_lines(filter, now_ms, from, &mut out);
            return out;
        };
        let mut unread = self
            .unread
            .iter()
            .skip_while(|u| (u.row as usize) < from)
            .peekable();
        for row in from..self.len() {
            let hit = match unread.next_if(|u| u.row as usize == row) {
                Some(_) => filter.matches_line(self.line(row), now_ms) == Ok(true),
                None => on_columns.matches(row),
            };
            if hit {
                out.push(row as u32);
            }
        }
        out
    }

    /// Decides the rows from `from` on by their lines, block by block.
    fn filter_lines(&self, filter: &Filter, now_ms: i64, from: usize, out: &mut Vec<u32>) {
        let first_block = self.block_of(from);
        for b in first_block..self.blocks.len() {
            let block = self.block(b);
            let mut row = self.block_rows[b] as usize;
            filter.decide_lines(block, now_ms, &mut |range, answer| {
                while self
                    .lines
                    .get(row)
                    .is_some_and(|l| (l[0] as usize) < range.start)
                {
                    row += 1;
                }
                if matches!(answer, Ok(true)) && row >= from {
                    out.push(row as u32);
                }
            });
        }
    }

    /// The block that holds `row`.
    fn block_of(&self, row: usize) -> usize {
        self.block_rows
            .partition_point(|&first| first as usize <= row)
            .saturating_sub(1)
    }

    /// The lines of block `b`.
    fn block(&self, b: usize) -> &[u8] {
        let Some(&[c, start, len]) = self.blocks.get(b) else {
            return &[];
        };
        let chunk = self.chunks.get(c).map_or(&[][..], Vec::as_slice);
        chunk.get(start..start + len).unwrap_or_default()
    }

    /// Row `row`'s line without its `\n` (empty past the end).
    pub fn line(&self, row: usize) -> &[u8] {
        let Some(&[start, end]) = self.lines.get(row) else {
            return &[];
        };
        let block = self.block(self.block_of(row));
        block.get(start as usize..end as usize).unwrap_or_default()
    }

    /// The lines of `rows` as `trailsift filter` writes matching lines: unchanged, each
    /// ending in `\n` (a `\r\n` ending is kept).
    pub fn lines(&self, rows: &[u32]) -> Vec<u8> {
        let mut out = Vec::new();
        for &row in rows {
            out.extend_from_slice(self.line(row as usize));
            out.push(b'\n');
        }
        out
    }

    /// The times of the rows from `from` on, in epoch milliseconds (NaN: none).
    pub fn times(&self, from: usize) -> Vec<f64> {
        let times = self.times.get(from..).unwrap_or_default();
        times
            .iter()
            .map(|&t| {
                if t < crate::time::MIN_MS {
                    f64::NAN
                } else {
                    t as f64
                }
            })
            .collect()
    }

    /// The value indexes of a column (a field of [`FIELDS`] but the time, or [`USER`]) for
    /// the rows from `from` on; 0 is no value.
    pub fn ids(&self, column: &str, from: usize) -> Vec<u32> {
        cell_column(column)
            .and_then(|c| self.ids[c].get(from..))
            .map_or_else(Vec::new, <[u32]>::to_vec)
    }

    /// The values of a column from index `from` on, as text (JSON text for numbers and
    /// booleans, empty for objects and arrays); index 0, no value, is the empty string.
    pub fn values(&self, column: &str, from: usize) -> Vec<String> {
        let Some(values) = cell_column(column).and_then(|c| self.dicts[c].values.get(from..))
        else {
            return Vec::new();
        };
        values
            .iter()
            .map(|v| match v {
                Some(Cell::Str(s)) => s.to_string(),
                Some(Cell::Num(n)) => n.to_string(),
                Some(Cell::Bool(b)) => b.to_string(),
                Some(Cell::Other) | None => String::new(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_user_column_reads_the_principal() {
        assert_eq!(FIELDS[WHO[0] + 1], field::PRINCIPAL_EMAIL);
        assert_eq!(FIELDS[WHO[1] + 1], field::PRINCIPAL_ID);
        let mut t = Table::default();
        let block = br#"{"auditEventAuthor":{"principal":{"identifier":"alice","email":"alice@example.com"}}}

{"auditEventAuthor":{"principal":{"identifier":"bob","email":""}}}
{"auditEventAuthor":{"principal":{"identifier":5}}}
"#;
        assert_eq!(t.push(block.to_vec(), 1), 3);
        assert_eq!(t.ids(USER, 0), [1, 2, 0]);
        assert_eq!(t.values(USER, 0), ["", "alice@example.com", "bob"]);
        assert_eq!(t.values(field::PRINCIPAL_ID, 1), ["alice", "bob", "5"]);
    }

    #[test]
    fn lines_that_are_not_json_are_kept_and_never_match() {
        let mut t = Table::default();
        t.push(
            b"{\"auditAction\":\"A\"}\r\nnot json\n\n[1]\n{\"auditAction\":\"\xff\"}".to_vec(),
            7,
        );
        assert_eq!(t.len(), 4);
        let lines: Vec<(u64, &str)> = t.unread().iter().map(|u| (u.line, u.code)).collect();
        assert_eq!(lines, [(8, "bad_json"), (11, "bad_utf8")]);
        for q in ["", "action:A", "-action:B", "not action exists"] {
            let f = Filter::parse(q).unwrap();
            let want: Vec<u32> = (0..t.len() as u32)
                .filter(|&r| f.matches_line(t.line(r as usize), 0) == Ok(true))
                .collect();
            assert_eq!(t.filter(&f, 0, 0), want, "{q}");
            assert_eq!(
                t.filter(&f, 0, 2),
                want.iter().copied().filter(|&r| r >= 2).collect::<Vec<_>>()
            );
        }
        assert_eq!(t.lines(&[0, 2]), b"{\"auditAction\":\"A\"}\r\n[1]\n");
    }

    #[test]
    fn filters_on_the_columns_fields_are_decided_on_the_columns() {
        let t = Table::default();
        for q in [
            "",
            "-is:login -is:system",
            "user:a* time > now-7d",
            "resource.type exists",
        ] {
            assert!(t.decides_on_columns(&Filter::parse(q).unwrap()), "{q}");
        }
        for q in ["metadata.a:1", "id:x", "ip == 10.0.0.1", "\"free text\""] {
            assert!(!t.decides_on_columns(&Filter::parse(q).unwrap()), "{q}");
        }
    }

    #[test]
    fn the_request_method_is_a_column() {
        let mut t = Table::default();
        let block = br#"{"auditAction":"CREATE","auditHttpRequestInfo":{"requestMethod":"POST","clientIP":"10.0.0.1"}}
{"auditAction":"LOGIN","auditHttpRequestInfo":{"requestMethod":"PUT"}}
{"auditAction":"UPDATE","auditHttpRequestInfo":{"requestMethod":"put"}}
{"auditAction":"DELETE","auditHttpRequestInfo":{"requestMethod":"GET"},"auditHttpRequestInfo":{"clientIP":"x"}}
{"auditAction":"DELETE","auditHttpRequestInfo":"POST"}
{"auditAction":"DELETE","auditHttpRequestInfo":{"requestMethod":"P\u004fST"}}
"#;
        t.push(block.to_vec(), 1);
        assert_eq!(t.values(field::METHOD, 0), ["", "POST", "PUT", "put"]);
        assert_eq!(t.ids(field::METHOD, 0), [1, 2, 3, 0, 0, 1]);
        let f = Filter::parse("method:POST,PUT -is:login").unwrap();
        assert!(t.decides_on_columns(&f));
        let by_line: Vec<u32> = (0..t.len() as u32)
            .filter(|&r| f.matches_line(t.line(r as usize), 0) == Ok(true))
            .collect();
        assert_eq!(by_line, [0, 2, 5]);
        assert_eq!(t.filter(&f, 0, 0), by_line);
    }

    /// A member of an event's object as a line may hold it: the keys read, repeated,
    /// nested in values that are not objects, escaped, and numbers serde_json reads its way.
    fn member() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec![
            "auditEventTime",
            "auditAction",
            "auditModule",
            "auditEventAuthor",
            "principal",
            "type",
            "identifier",
            "email",
            "auditResource",
            "auditHttpRequestInfo",
            "requestMethod",
            "auditResourceScope",
            "orgIdentifier",
            r"auditAct\u0069on",
            "x",
        ]);
        let leaf = prop::sample::select(vec![
            r#""CREATE""#,
            r#""Cr\u00e9""#,
            "\"caf\u{e9}\"",
            r#""a\"b""#,
            r#""""#,
            "null",
            "true",
            "false",
            "0",
            "-12",
            "1.5",
            "1e2",
            "-0",
            "12345678901234567890",
            r#""1767225600000""#,
            "1767225600000",
            "[]",
            r#"[1,{"a":"b"}]"#,
            "{}",
        ]);
        let value = leaf
            .prop_map(str::to_string)
            .prop_recursive(3, 16, 4, move |inner| {
                prop::collection::vec((key_for_objects(), inner), 0..4).prop_map(|members| {
                    let members: Vec<String> = members
                        .iter()
                        .map(|(k, v)| format!("\"{k}\":{v}"))
                        .collect();
                    format!("{{{}}}", members.join(","))
                })
            });
        (key, value).prop_map(|(k, v)| format!("\"{k}\": {v}"))
    }

    fn key_for_objects() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "principal",
            "type",
            "identifier",
            "email",
            "requestMethod",
            "orgIdentifier",
            "auditAction",
            "x",
        ])
    }

    proptest! {
        #[test]
        fn plain_lines_are_read_as_the_filter_reads_them(
            members in prop::collection::vec(member(), 0..8),
            cut in 0usize..400,
        ) {
            let reader = FieldReader::new(&FIELDS);
            let keys = Keys::of(&FIELDS);
            let line = format!("{{{}}} ", members.join(","));
            let cut = line.len() - cut.min(line.len());
            let cut = (0..=cut).rev().find(|&c| line.is_char_boundary(c)).unwrap_or(0);
            for line in [&line[..], &line[..cut], r#"[1,"x"]"#, r#""a""#] {
                if let Some(values) = read_plain(line.as_bytes(), &keys) {
                    prop_assert_eq!(reader.read(line.as_bytes()).ok(), Some(values), "{}", line);
                }
            }
        }
    }

    #[test]
    fn an_event_is_read_in_one_pass() {
        let line = br#"{"auditEventId":"e","auditEventTime":"1767225600000","auditEventAuthor":{"principal":{"type":"USER","identifier":"u","email":"u@example.com"}},"auditAction":"CREATE","auditHttpRequestInfo":{"requestMethod":"POST","clientIP":"10.0.0.1"},"auditEventMetadata":{"a":[1.5,null]}}"#;
        let values = read_plain(line, &Keys::of(&FIELDS));
        assert_eq!(values, FieldReader::new(&FIELDS).read(line).ok());
    }

    #[test]
    fn block_columns_travel_as_bytes() {
        let block = br#"{"auditAction":"A","auditEventTime":"2026-01-01T00:00:00Z","auditModule":5}
{"auditAction":true,"auditResource":{"type":{"x":1}},"auditEventAuthor":{"principal":{"email":"e"}}}
{oops
"#;
        let block = &[block.as_slice(), b"{\"a\":\"\xff\"}\n"].concat();
        let read = BlockColumns::read(block, 3);
        let bytes = read.to_bytes();
        let back = BlockColumns::from_bytes(&bytes).unwrap();
        assert_eq!(back.to_bytes(), bytes);
        let (mut a, mut b) = (Table::default(), Table::default());
        a.push(block.to_vec(), 3);
        b.append(block.to_vec(), back);
        for c in FIELDS[1..].iter().chain([&USER]) {
            assert_eq!(a.values(c, 0), b.values(c, 0), "{c}");
            assert_eq!(a.ids(c, 0), b.ids(c, 0), "{c}");
        }
        assert_eq!(a.unread(), b.unread());
        assert_eq!(a.unread()[0].line, 5);
        assert_eq!(a.unread()[1].code, "bad_utf8");
        assert!(BlockColumns::from_bytes(&bytes[..bytes.len() - 1]).is_none());
        assert!(BlockColumns::from_bytes(&[bytes.as_slice(), &[0]].concat()).is_none());
    }

    #[test]
    fn times_are_read_as_the_filter_reads_them() {
        let mut t = Table::default();
        t.push(Vec::new(), 1);
        let block = br#"{"auditAction":"B","auditEventTime":3}
{"auditAction":"A","auditEventTime":"x"}
{"auditEventTime":"2026-01-01T01:00:00+01:00"}
{"auditAction":"A","auditEventTime":"1"}
"#;
        t.push(block.to_vec(), 1);
        let times = t.times(0);
        assert!(times[1].is_nan());
        assert_eq!(
            [times[0], times[2], times[3]],
            [3.0, 1_767_225_600_000.0, 1.0]
        );
        assert_eq!(t.times(3), [1.0]);
        assert_eq!(t.line(3), br#"{"auditAction":"A","auditEventTime":"1"}"#);
    }
}
