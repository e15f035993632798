//! The object's events: commit (sequence numbers, idempotency by `auditEventId`), query
//! pages over a time range, one event by id, and retention.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use worker::{SqlStorage, SqlStorageValue};

use super::sql::{self, int, text};
use crate::edge::error::{ApiError, ApiResult};
use crate::edge::filtering::{is_match_all, Filter, FilterSource};
use crate::log::Hash;

pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        time INTEGER NOT NULL,
        body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS events_time ON events (time, seq)",
];

/// Bound parameters per statement: SQLite in Durable Objects allows 100.
const MAX_BINDS: usize = 100;
/// Rows per multi-row insert: 4 bound parameters each.
const INSERT_CHUNK: usize = MAX_BINDS / 4;
/// Rows read from SQLite per scan step.
pub const SCAN_CHUNK: i64 = 500;
/// Rows examined per page call before answering with a position to resume from.
const SCAN_BUDGET: usize = 20_000;
/// Rows deleted per retention statement.
const DELETE_CHUNK: usize = 5000;
/// A sequence number past every event, as a bound of a scan: the largest integer a JS
/// number holds exactly (bound parameters pass through JS; `i64::MAX` would be rounded,
/// with a warning logged each time).
pub const PAST_EVERY_SEQ: i64 = (1 << 53) - 1;

/// One validated event to store: its id, its time in epoch milliseconds, its JSON.
#[derive(Debug, Serialize, Deserialize)]
pub struct Row {
    pub id: String,
    pub time: i64,
    pub body: Box<RawValue>,
}

/// Stores validated events in one transaction; an id the account holds is a duplicate.
/// Answers [`Committed`].
#[derive(Debug, Serialize, Deserialize)]
pub struct Commit {
    /// The account, whose name the log's checkpoints carry.
    #[serde(default)]
    pub account: String,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Committed {
    pub accepted: u64,
    pub duplicates: u64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
}

/// Where a scan resumes: the `(time, seq)` of the last row it read.
pub type Position = (i64, i64);

/// One page of a query: events in `[from, to]` that match `filter`, in time order (newest
/// first when `desc`), after `after`, at most `limit`. Answers [`Page`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageRequest {
    pub filter: FilterSource,
    pub from: i64,
    pub to: i64,
    pub desc: bool,
    pub limit: usize,
    pub after: Option<Position>,
    /// Resolves relative times of the filter (`now-1d`).
    pub now: i64,
}

/// The events of a page as stored, and where the next page starts (`None` when the range
/// holds no more). A page may hold fewer than `limit` events and still have a `next`: the
/// object stops after a bounded number of rows.
#[derive(Debug, Deserialize)]
pub struct Page {
    pub events: Vec<Box<RawValue>>,
    pub next: Option<Position>,
}

/// One event by its `auditEventId`. Answers the event as stored (a `Box<RawValue>`), or
/// `404 not_found`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventRequest {
    pub id: String,
}

/// Stores the events whose `auditEventId` is new, numbered from the last sequence number
/// on without gaps (http-api.md): duplicates, stored before or repeated within the commit,
/// are left out before numbering, so a resend uses up no numbers.
///
/// Answers also the leaf hashes of the stored events, in sequence order, for the log, and
/// when `keep` asks for them (the live tail), the stored events' text in that order.
pub fn commit(sql: &SqlStorage, commit: Commit, keep: bool) -> ApiResult<Stored> {
    let total = commit.rows.len() as u64;
    let mut seen = HashSet::with_capacity(commit.rows.len());
    let mut fresh: Vec<Row> = commit
        .rows
        .into_iter()
        .filter(|r| seen.insert(r.id.clone()))
        .collect();
    let stored = stored_ids(sql, fresh.iter().map(|r| r.id.as_str()))?;
    fresh.retain(|r| !stored.contains(&r.id));
    let accepted = fresh.len() as u64;
    let leaves = super::log::leaves(fresh.iter().map(|r| r.body.get()))?;
    let last = last_seq(sql)?;
    let mut next = last;
    let mut bodies = Vec::with_capacity(if keep { fresh.len() } else { 0 });
    let mut rows = fresh.into_iter().peekable();
    while rows.peek().is_some() {
        let mut stmt = String::from("INSERT INTO events (seq, id, time, body) VALUES ");
        let mut binds = Vec::with_capacity(INSERT_CHUNK * 4);
        for (i, row) in rows.by_ref().take(INSERT_CHUNK).enumerate() {
            if i > 0 {
                stmt.push(',');
            }
            stmt.push_str("(?,?,?,?)");
            next += 1;
            binds.push(SqlStorageValue::Integer(next));
            binds.push(SqlStorageValue::String(row.id));
            binds.push(SqlStorageValue::Integer(row.time));
            let body = String::from(Box::<str>::from(row.body));
            if keep {
                bodies.push(body.clone());
            }
            binds.push(SqlStorageValue::String(body));
        }
        sql::exec(sql, &stmt, binds)?;
    }
    let committed = Committed {
        accepted,
        duplicates: total - accepted,
        first_seq: (accepted > 0).then_some(last + 1),
        last_seq: (accepted > 0).then_some(next),
    };
    Ok(Stored {
        committed,
        leaves,
        bodies,
    })
}

/// What [`commit`] stored.
pub struct Stored {
    pub committed: Committed,
    pub leaves: Vec<Hash>,
    /// The stored events' text in sequence order, when the caller asked to keep it.
    pub bodies: Vec<String>,
}

/// The last sequence number given out (kept by SQLite's AUTOINCREMENT even when retention
/// has deleted that event), 0 before the first.
pub fn last_seq(sql: &SqlStorage) -> ApiResult<i64> {
    let stmt = "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)";
    Ok(match sql::rows(sql, stmt, vec![])?.next() {
        Some(row) => int(row?.into_iter().next()),
        None => 0,
    })
}

/// Which of `ids` are stored already.
fn stored_ids<'a>(
    sql: &SqlStorage,
    ids: impl Iterator<Item = &'a str>,
) -> ApiResult<HashSet<String>> {
    let ids: Vec<&str> = ids.collect();
    let mut found = HashSet::new();
    for chunk in ids.chunks(MAX_BINDS) {
        let marks = vec!["?"; chunk.len()].join(",");
        let stmt = format!("SELECT id FROM events WHERE id IN ({marks})");
        let binds = chunk
            .iter()
            .map(|id| SqlStorageValue::String((*id).to_string()))
            .collect();
        for row in sql::rows(sql, &stmt, binds)? {
            found.extend(text(row?.into_iter().next()));
        }
    }
    Ok(found)
}

/// One page of a query, as [`Page`] JSON text. The filter is compiled once for the call.
pub fn page(sql: &SqlStorage, req: &PageRequest) -> ApiResult<Vec<u8>> {
    let filter = scan_filter(&req.filter)?;
    let limit = req.limit.clamp(1, 10_000);
    let mut after = req.after;
    let mut page = PageWriter::new();
    let mut scanned = 0usize;
    let mut exhausted = false;
    while page.len() < limit && scanned < SCAN_BUDGET {
        let want = if filter.is_none() {
            (limit - page.len()) as i64
        } else {
            SCAN_CHUNK
        };
        let (stmt, binds) = scan_statement(req.from, req.to, req.desc, after, want);
        let mut rows = 0i64;
        let mut full = false;
        for row in sql::rows(sql, &stmt, binds)? {
            let mut cols = row?.into_iter();
            rows += 1;
            scanned += 1;
            let seq = int(cols.next());
            after = Some((int(cols.next()), seq));
            let Some(body) = text(cols.next()) else {
                continue;
            };
            if keeps(filter.as_ref(), &body, req.now) {
                page.push(&body);
                if page.len() >= limit {
                    full = true;
                    break;
                }
            }
        }
        if !full && rows < want {
            exhausted = true;
            break;
        }
    }
    Ok(page.finish(after.filter(|_| !exhausted)))
}

/// Compiles the filter of a scan: `None` when it matches every event, so that rows need no
/// look.
pub fn scan_filter(source: &FilterSource) -> ApiResult<Option<Filter>> {
    let filter = source.compile()?;
    Ok((!is_match_all(&filter)).then_some(filter))
}

/// Whether a stored event (its JSON text) passes a scan's filter.
pub fn keeps(filter: Option<&Filter>, body: &str, now: i64) -> bool {
    filter.is_none_or(|f| f.matches_line(body.as_bytes(), now).unwrap_or(false))
}

/// Writes a [`Page`] as JSON text. Stored events are JSON already: copying their text is
/// cheaper than reading each into a `RawValue` to write it out again.
struct PageWriter {
    out: String,
    events: usize,
}

impl PageWriter {
    fn new() -> Self {
        PageWriter {
            out: String::from("{\"events\":["),
            events: 0,
        }
    }

    fn len(&self) -> usize {
        self.events
    }

    fn push(&mut self, event: &str) {
        if self.events > 0 {
            self.out.push(',');
        }
        self.out.push_str(event);
        self.events += 1;
    }

    fn finish(mut self, next: Option<Position>) -> Vec<u8> {
        self.out.push_str("],\"next\":");
        match next {
            Some((t, s)) => self.out.push_str(&format!("[{t},{s}]")),
            None => self.out.push_str("null"),
        }
        self.out.push('}');
        self.out.into_bytes()
    }
}

/// The next `limit` rows `(seq, time, body)` in `[from, to]` after `after`, in time order.
pub fn scan_statement(
    from: i64,
    to: i64,
    desc: bool,
    after: Option<Position>,
    limit: i64,
) -> (String, Vec<SqlStorageValue>) {
    let mut stmt = String::from("SELECT seq, time, body FROM events WHERE time >= ? AND time <= ?");
    let mut binds = vec![SqlStorageValue::Integer(from), SqlStorageValue::Integer(to)];
    if let Some((t, s)) = after {
        if desc {
            stmt.push_str(" AND (time < ? OR (time = ? AND seq < ?))");
        } else {
            stmt.push_str(" AND (time > ? OR (time = ? AND seq > ?))");
        }
        binds.push(SqlStorageValue::Integer(t));
        binds.push(SqlStorageValue::Integer(t));
        binds.push(SqlStorageValue::Integer(s));
    }
    if desc {
        stmt.push_str(" ORDER BY time DESC, seq DESC LIMIT ?");
    } else {
        stmt.push_str(" ORDER BY time ASC, seq ASC LIMIT ?");
    }
    binds.push(SqlStorageValue::Integer(limit));
    (stmt, binds)
}

/// Stored events in sequence order, read in one step: one string of `seq<TAB>time<TAB>body`
/// lines (stored bodies are JSON on one line), so that a scan crosses from SQLite to the
/// object's code once per chunk rather than once per row.
pub struct Chunk {
    text: String,
}

/// Body characters a chunk holds before its last event: SQLite's strings are limited (2 MB
/// on Cloudflare), a character takes up to 4 bytes and one event is at most
/// `MAX_EVENT_BYTES` (1 MB by default).
pub const CHUNK_CHARS: i64 = 256 * 1024;

impl Chunk {
    /// The events after `after` and up to `through`: at most `limit`, and no more once
    /// `max_chars` (at most [`CHUNK_CHARS`]) characters of bodies are reached. Empty only
    /// when no event is left.
    pub fn read(
        sql: &SqlStorage,
        after: i64,
        through: i64,
        limit: i64,
        max_chars: i64,
    ) -> ApiResult<Chunk> {
        let stmt = "SELECT group_concat(seq || char(9) || time || char(9) || body, char(10)) FROM
            (SELECT seq, time, body, SUM(LENGTH(body)) OVER (ORDER BY seq) - LENGTH(body) AS before
             FROM (SELECT seq, time, body FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?))
            WHERE before < ?";
        let binds = vec![
            SqlStorageValue::Integer(after),
            SqlStorageValue::Integer(through),
            SqlStorageValue::Integer(limit),
            SqlStorageValue::Integer(max_chars.clamp(1, CHUNK_CHARS)),
        ];
        let text = match sql::rows(sql, stmt, binds)?.next() {
            Some(row) => text(row?.into_iter().next()).unwrap_or_default(),
            None => String::new(),
        };
        Ok(Chunk { text })
    }

    /// `(seq, time, body)` of each event, in sequence order.
    pub fn rows(&self) -> Vec<(i64, i64, &str)> {
        let mut rows: Vec<(i64, i64, &str)> = self
            .text
            .split('\n')
            .filter_map(|line| {
                let mut parts = line.splitn(3, '\t');
                let seq = parts.next()?.parse().ok()?;
                let time = parts.next()?.parse().ok()?;
                Some((seq, time, parts.next()?))
            })
            .collect();
        // group_concat keeps the subquery's order in practice; a sort makes it certain.
        if rows.windows(2).any(|w| matches!(w, [a, b] if a.0 > b.0)) {
            rows.sort_unstable_by_key(|r| r.0);
        }
        rows
    }
}

/// The stored text of one event.
pub fn event(sql: &SqlStorage, req: &EventRequest) -> ApiResult<Vec<u8>> {
    let binds = vec![SqlStorageValue::String(req.id.clone())];
    for row in sql::rows(sql, "SELECT body FROM events WHERE id = ?", binds)? {
        if let Some(body) = text(row?.into_iter().next()) {
            return Ok(body.into_bytes());
        }
    }
    Err(ApiError::not_found("event"))
}

/// Deletes the events older than `cutoff` (epoch milliseconds), in bounded statements,
/// but none whose sequence number is in a range of `keep` (inclusive bounds).
pub fn apply_retention(sql: &SqlStorage, cutoff: i64, keep: &[(i64, i64)]) {
    for (above, below) in gaps(keep) {
        loop {
            let deleted = sql
                .exec(
                    &format!("DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE time < ? AND seq > ? AND seq < ? LIMIT {DELETE_CHUNK})"),
                    vec![
                        SqlStorageValue::Integer(cutoff),
                        SqlStorageValue::Integer(above),
                        SqlStorageValue::Integer(below),
                    ],
                )
                .map(|c| c.rows_written())
                .unwrap_or(0);
            if deleted < DELETE_CHUNK {
                break;
            }
        }
    }
}

/// The open intervals `(above, below)` of sequence numbers outside the ranges of `keep`.
fn gaps(keep: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut ranges = keep.to_vec();
    ranges.sort_unstable();
    let mut gaps = Vec::new();
    let mut above = i64::MIN;
    for (from, through) in ranges {
        if from > above.saturating_add(1) {
            gaps.push((above, from));
        }
        above = above.max(through);
    }
    gaps.push((above, i64::MAX));
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_page_reads_back_as_a_page() {
        let mut w = PageWriter::new();
        w.push(r#"{"auditEventId":"a"}"#);
        w.push(r#"{"auditEventId":"b","n":[1,2]}"#);
        assert_eq!(w.len(), 2);
        let page: Page = serde_json::from_slice(&w.finish(Some((1_700_000_000_000, 7)))).unwrap();
        let ids: Vec<&str> = page.events.iter().map(|e| e.get()).collect();
        assert_eq!(
            ids,
            [
                r#"{"auditEventId":"a"}"#,
                r#"{"auditEventId":"b","n":[1,2]}"#
            ]
        );
        assert_eq!(page.next, Some((1_700_000_000_000, 7)));
        let empty: Page = serde_json::from_slice(&PageWriter::new().finish(None)).unwrap();
        assert!(empty.events.is_empty() && empty.next.is_none());
    }

    #[test]
    fn a_chunk_reads_as_rows_in_sequence_order() {
        let chunk = Chunk {
            text: "7\t100\t{\"a\":\"x\\ty\"}\n5\t90\t{}\nbroken".into(),
        };
        assert_eq!(chunk.rows(), [(5, 90, "{}"), (7, 100, r#"{"a":"x\ty"}"#)]);
        assert!(Chunk {
            text: String::new()
        }
        .rows()
        .is_empty());
    }

    #[test]
    fn retention_deletes_only_between_the_kept_ranges() {
        assert_eq!(gaps(&[]), [(i64::MIN, i64::MAX)]);
        assert_eq!(
            gaps(&[(10, 20), (5, 12), (30, 30), (31, 40)]),
            [(i64::MIN, 5), (20, 30), (40, i64::MAX)]
        );
    }

    #[test]
    fn scans_resume_after_the_position_in_either_order() {
        let (desc, binds) = scan_statement(1, 2, true, Some((5, 9)), 10);
        assert!(desc.contains("(time < ? OR (time = ? AND seq < ?))"));
        assert!(desc.ends_with("ORDER BY time DESC, seq DESC LIMIT ?"));
        assert_eq!(binds.len(), 6);
        let (asc, binds) = scan_statement(1, 2, false, None, 10);
        assert!(!asc.contains("seq >") && asc.ends_with("ORDER BY time ASC, seq ASC LIMIT ?"));
        assert_eq!(binds.len(), 3);
    }
}
