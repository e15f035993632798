//! The account's verifiable log (integrity.md): the hashes of the Merkle tree over its
//! events, appended in the transaction that stores them, its signed checkpoints, and the
//! proofs and evidence bundles the `/v1/log` and `/v1/evidence` endpoints answer. The tree
//! and its proofs are the core's ([`crate::log`]); this module keeps their rows.
//!
//! An object whose events were stored before it had a log (or whose tree fell behind)
//! builds the missing leaves from its stored events in sequence order, in bounded steps: on
//! a commit, on a log request and from the alarm. Until it has caught up, new events get no
//! leaf of their own at commit; the steps reach them, so leaf `i` stays seq `i + 1`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::{SqlStorage, SqlStorageValue};

use super::events::{keeps, last_seq, scan_filter, scan_statement, Chunk, CHUNK_CHARS, SCAN_CHUNK};
use super::sql::{self, int, text};
use super::transaction;
use crate::edge::codes;
use crate::edge::config::Config;
use crate::edge::error::{ApiError, ApiResult};
use crate::edge::filtering::FilterSource;
use crate::log::{
    self, Bundle, Checkpoint, ConsistencyProof, Entry, Hash, InclusionProof, NodeId, NodeStore,
    TreeError,
};

pub const SCHEMA: &[&str] = &[
    // Complete subtrees: level 0 holds the leaves (leaf `idx` is the event `seq = idx + 1`).
    "CREATE TABLE IF NOT EXISTS log_nodes (
        level INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (level, idx)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS log_checkpoints (
        size INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        note TEXT NOT NULL)",
    // The account's name, for the checkpoints the alarm signs.
    "CREATE TABLE IF NOT EXISTS log_origin (
        one INTEGER PRIMARY KEY CHECK (one = 0),
        account TEXT NOT NULL)",
];

/// Bound parameters per statement: SQLite in Durable Objects allows 100.
const MAX_BINDS: usize = 100;
/// While the tree grows, a checkpoint is signed at least this often (by the alarm).
pub const CHECKPOINT_MAX_AGE_MS: i64 = 3_600_000;
/// Checkpoints one `checkpoints` answer lists at most.
const MAX_LISTED: i64 = 1000;
/// Events an evidence bundle holds at most (and by default).
pub const MAX_EVIDENCE: usize = 10_000;
/// Tree nodes written per statement (about 80 bytes of bound JSON text each).
const INSERT_ROWS: usize = 5_000;
const HEX: &[u8; 16] = b"0123456789abcdef";
/// Leaves one backfill step builds at most (each reads and hashes one stored event).
const BACKFILL_STEP: u64 = 2_000;
/// Backfill steps one alarm run takes at most; it is set again for the rest.
const BACKFILL_STEPS_PER_ALARM: usize = 10;

/// The tree's nodes in the object's SQLite.
pub struct SqlNodes<'a>(pub &'a SqlStorage);

impl NodeStore for SqlNodes<'_> {
    type Error = ApiError;

    fn nodes(&self, ids: &[NodeId]) -> ApiResult<Vec<Hash>> {
        let mut found: HashMap<NodeId, Hash> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_BINDS / 2) {
            let pairs = vec!["(?,?)"; chunk.len()].join(",");
            let stmt = format!(
                "SELECT level, idx, hash FROM log_nodes WHERE (level, idx) IN (VALUES {pairs})"
            );
            let mut binds = Vec::with_capacity(chunk.len() * 2);
            for id in chunk {
                binds.push(SqlStorageValue::Integer(i64::from(id.level)));
                binds.push(SqlStorageValue::Integer(index(id.index)));
            }
            for row in sql::rows(self.0, &stmt, binds)? {
                let mut cols = row?.into_iter();
                let level = u8::try_from(int(cols.next())).unwrap_or(u8::MAX);
                let index = u64::try_from(int(cols.next())).unwrap_or(u64::MAX);
                if let Some(SqlStorageValue::Blob(bytes)) = cols.next() {
                    if let Ok(hash) = <[u8; 32]>::try_from(bytes.as_slice()) {
                        found.insert(NodeId { level, index }, Hash(hash));
                    }
                }
            }
        }
        // A node missing from the rows makes the answer short: the core calls that
        // incomplete.
        Ok(ids.iter().filter_map(|id| found.get(id).copied()).collect())
    }
}

fn index(i: u64) -> i64 {
    i64::try_from(i).unwrap_or(i64::MAX)
}

pub fn tree_err(e: TreeError<ApiError>) -> ApiError {
    match e {
        TreeError::Store(e) => e,
        TreeError::OutOfRange => ApiError::bad_request(codes::SEQ_OUT_OF_RANGE, "out of range"),
        TreeError::Incomplete => ApiError::storage("the log's tree is missing nodes"),
    }
}

/// The number of leaves in the tree.
pub fn size(sql: &SqlStorage) -> ApiResult<u64> {
    let stmt = "SELECT COALESCE(MAX(idx) + 1, 0) FROM log_nodes WHERE level = 0";
    Ok(match sql::rows(sql, stmt, vec![])?.next() {
        Some(row) => u64::try_from(int(row?.into_iter().next())).unwrap_or(0),
        None => 0,
    })
}

/// The leaf hashes of events to store, in order (their stored JSON texts).
pub fn leaves<'a>(bodies: impl Iterator<Item = &'a str>) -> ApiResult<Vec<Hash>> {
    if cfg!(feature = "bench-no-log") {
        return Ok(Vec::new());
    }
    bodies.map(leaf_of).collect()
}

fn leaf_of(body: &str) -> ApiResult<Hash> {
    serde_json::from_str(body)
        .map(|event| log::event_leaf_hash(&event))
        .map_err(|e| ApiError::storage(format!("a stored event is not JSON: {e}")))
}

/// The leaf of a sequence number that has no stored event when its leaf is built (one an
/// older commit skipped, or an event deleted before the account had a log): the hash of
/// empty leaf bytes, which no event's canonical form is, so no bundle can prove an event
/// there.
pub fn missing_leaf() -> Hash {
    log::leaf_hash(b"")
}

/// The leaves of sequence numbers `from..=through`, given the stored events among them
/// (`(seq, JSON text)`, in sequence order).
pub fn leaves_for(from: i64, through: i64, stored: &[(i64, &str)]) -> ApiResult<Vec<Hash>> {
    let mut out = Vec::with_capacity(usize::try_from(through - from + 1).unwrap_or(0));
    let mut events = stored
        .iter()
        .filter(|(seq, _)| (from..=through).contains(seq))
        .peekable();
    for seq in from..=through {
        match events.next_if(|(s, _)| *s == seq) {
            Some((_, body)) => out.push(leaf_of(body)?),
            None => out.push(missing_leaf()),
        }
    }
    Ok(out)
}

/// Appends the leaves of newly stored events, the first with sequence number `first_seq`,
/// and keeps every node they complete. Called in the transaction that stores the events
/// (after storing them). A tree that is behind is not given them out of place: it takes a
/// backfill step instead, which builds them from the stored events in turn.
pub fn append(sql: &SqlStorage, account: &str, first_seq: i64, leaves: &[Hash]) -> ApiResult<()> {
    if leaves.is_empty() {
        return Ok(());
    }
    if !account.is_empty() {
        sql::exec(
            sql,
            "INSERT OR IGNORE INTO log_origin (one, account) VALUES (0, ?)",
            vec![SqlStorageValue::String(account.into())],
        )?;
    }
    let size = size(sql)?;
    if index(size) == first_seq - 1 {
        add(sql, size, leaves)
    } else {
        backfill(sql).map(|_| ())
    }
}

/// Adds leaves to the tree of `size` leaves, with the nodes they complete.
fn add(sql: &SqlStorage, size: u64, leaves: &[Hash]) -> ApiResult<()> {
    let nodes = SqlNodes(sql);
    let added = log::append(&nodes, size, leaves).map_err(tree_err)?;
    // One bound JSON text per statement (`[[level, idx, "hex"], ...]`) rather than three
    // bound values a row: binding values one by one costs the commit more than SQLite's
    // reading of the text.
    for chunk in added.chunks(INSERT_ROWS) {
        let mut rows = String::with_capacity(chunk.len() * 80);
        for (id, hash) in chunk {
            rows.push(if rows.is_empty() { '[' } else { ',' });
            rows.push_str(&format!("[{},{},\"", id.level, id.index));
            for b in hash.0 {
                rows.push(char::from(HEX[usize::from(b >> 4)]));
                rows.push(char::from(HEX[usize::from(b & 15)]));
            }
            rows.push_str("\"]");
        }
        rows.push(']');
        sql::exec(
            sql,
            "INSERT INTO log_nodes (level, idx, hash)
             SELECT value ->> 0, value ->> 1, unhex(value ->> 2) FROM json_each(?)",
            vec![SqlStorageValue::String(rows)],
        )?;
    }
    Ok(())
}

/// The sequence numbers stored without a leaf yet, `(first, last)`; retention keeps them
/// until their leaves are built.
pub fn unlogged(sql: &SqlStorage) -> ApiResult<Option<(i64, i64)>> {
    let (size, last) = (index(size(sql)?), last_seq(sql)?);
    Ok((size < last).then_some((size + 1, last)))
}

/// One bounded backfill step: builds the leaves of up to [`BACKFILL_STEP`] sequence numbers
/// after the tree's end from the stored events. Answers whether the tree has caught up
/// with the last sequence number.
pub fn backfill(sql: &SqlStorage) -> ApiResult<bool> {
    if cfg!(feature = "bench-no-log") {
        return Ok(true);
    }
    let Some((first, last)) = unlogged(sql)? else {
        return Ok(true);
    };
    let target = last.min(first - 1 + index(BACKFILL_STEP));
    let mut leaves = Vec::new();
    let mut after = first - 1;
    while after < target {
        let chunk = Chunk::read(sql, after, target, SCAN_CHUNK, CHUNK_CHARS)?;
        let rows = chunk.rows();
        // A chunk ends at its last row, or (when empty) no event is left up to the target.
        let through = rows.last().map_or(target, |r| r.0);
        let stored: Vec<(i64, &str)> = rows.iter().map(|&(seq, _, body)| (seq, body)).collect();
        leaves.extend(leaves_for(after + 1, through, &stored)?);
        after = through;
    }
    add(sql, u64::try_from(first - 1).unwrap_or(0), &leaves)?;
    Ok(target == last)
}

/// A signed checkpoint as kept: its tree size, when it was signed, the signed note.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Signed {
    pub size: u64,
    pub time: i64,
    pub note: String,
}

impl Signed {
    /// A row of `size, time, note`.
    fn from_row(row: Vec<SqlStorageValue>) -> Signed {
        let mut cols = row.into_iter();
        Signed {
            size: u64::try_from(int(cols.next())).unwrap_or(0),
            time: int(cols.next()),
            note: text(cols.next()).unwrap_or_default(),
        }
    }
}

/// The first checkpoint a statement selects (`size, time, note`), if any.
fn one_checkpoint(
    sql: &SqlStorage,
    stmt: &str,
    binds: Vec<SqlStorageValue>,
) -> ApiResult<Option<Signed>> {
    match sql::rows(sql, stmt, binds)?.next() {
        Some(row) => Ok(Some(Signed::from_row(row?))),
        None => Ok(None),
    }
}

fn latest(sql: &SqlStorage) -> ApiResult<Option<Signed>> {
    let stmt = "SELECT size, time, note FROM log_checkpoints ORDER BY size DESC LIMIT 1";
    one_checkpoint(sql, stmt, vec![])
}

/// The account whose log this is, once an event was stored.
fn stored_account(sql: &SqlStorage) -> ApiResult<Option<String>> {
    Ok(
        match sql::rows(sql, "SELECT account FROM log_origin", vec![])?.next() {
            Some(row) => text(row?.into_iter().next()),
            None => None,
        },
    )
}

/// Signs a checkpoint of the whole tree when it has grown since the last one and the last
/// one is at least `min_age_ms` old (or there is none); answers the latest.
fn refresh(
    sql: &SqlStorage,
    config: &Config,
    account: &str,
    now: i64,
    min_age_ms: i64,
) -> ApiResult<Option<Signed>> {
    let last = latest(sql)?;
    let size = size(sql)?;
    let grown = last.as_ref().map_or(size > 0, |l| size > l.size);
    let due = last
        .as_ref()
        .is_none_or(|l| now.saturating_sub(l.time) >= min_age_ms);
    if !(grown && due) {
        return Ok(last);
    }
    let key = config
        .log_signing_key()
        .map_err(|why| ApiError::new(503, codes::LOG_KEY_UNAVAILABLE, why))?;
    let checkpoint = Checkpoint {
        origin: config.log_origin_of(account),
        size,
        root: log::root(&SqlNodes(sql), size).map_err(tree_err)?,
    };
    let note = checkpoint
        .sign(&key)
        .map_err(|e| ApiError::new(503, codes::LOG_KEY_UNAVAILABLE, e.to_string()))?;
    sql::exec(
        sql,
        "INSERT OR REPLACE INTO log_checkpoints (size, time, note) VALUES (?, ?, ?)",
        vec![
            SqlStorageValue::Integer(index(size)),
            SqlStorageValue::Integer(now),
            SqlStorageValue::String(note.clone()),
        ],
    )?;
    Ok(Some(Signed {
        size,
        time: now,
        note,
    }))
}

/// The alarm's part: backfill steps (each its own transaction) while the tree is behind,
/// then a checkpoint when the tree has grown and the last one is an hour old.
pub fn run_alarm(
    storage: &worker::Storage,
    sql: &SqlStorage,
    config: &Config,
    now: i64,
) -> ApiResult<()> {
    for _ in 0..BACKFILL_STEPS_PER_ALARM {
        let sql = sql.clone();
        if transaction(storage, move || backfill(&sql))? {
            break;
        }
    }
    if config.log_signing_key().is_err() {
        return Ok(());
    }
    if let Some(account) = stored_account(sql)? {
        refresh(sql, config, &account, now, CHECKPOINT_MAX_AGE_MS)?;
    }
    Ok(())
}

/// When the alarm must work next: now while the tree is behind the events; an hour after
/// the last checkpoint while the tree has grown past it (at once when there is none);
/// `None` when nothing is to do.
pub fn next_due(sql: &SqlStorage, config: &Config, now: i64) -> ApiResult<Option<i64>> {
    if !cfg!(feature = "bench-no-log") && unlogged(sql)?.is_some() {
        return Ok(Some(now));
    }
    if config.log_signing_key().is_err() || stored_account(sql)?.is_none() {
        return Ok(None);
    }
    let size = size(sql)?;
    Ok(match latest(sql)? {
        None if size > 0 => Some(now),
        Some(l) if size > l.size => Some(l.time.saturating_add(CHECKPOINT_MAX_AGE_MS)),
        _ => None,
    })
}

/// The smallest signed checkpoint whose tree holds the events up to `seq`, signing one of
/// the whole tree when none does. Once one exists it stays the answer (later checkpoints
/// are of larger trees), so what is proved against it is the same every time.
pub fn covering(sql: &SqlStorage, config: &Config, seq: u64, now: i64) -> ApiResult<Signed> {
    let stmt = "SELECT size, time, note FROM log_checkpoints WHERE size >= ? ORDER BY size LIMIT 1";
    if let Some(signed) = one_checkpoint(sql, stmt, vec![SqlStorageValue::Integer(index(seq))])? {
        return Ok(signed);
    }
    let behind = || ApiError::storage(format!("the log does not hold seq {seq} yet"));
    let account = stored_account(sql)?.ok_or_else(behind)?;
    refresh(sql, config, &account, now, 0)?
        .filter(|s| s.size >= seq)
        .ok_or_else(behind)
}

/// A request about the log; `account` names the origin of the checkpoints it signs.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogRequest {
    /// The latest signed checkpoint (signing a new one when due): answers [`Signed`], or
    /// `404 not_found` for a log with no events.
    Checkpoint { account: String, now: i64 },
    /// Signed checkpoints with sizes in `[from, to]`: answers `[Signed]`.
    Checkpoints { from: u64, to: u64 },
    /// Answers [`InclusionProof`].
    Inclusion { seq: u64, size: u64 },
    /// Answers [`ConsistencyProof`].
    Consistency { first: u64, second: u64 },
    /// The events of a query proved against the latest signed checkpoint: answers
    /// [`Bundle`].
    Evidence {
        account: String,
        filter: FilterSource,
        from: i64,
        to: i64,
        limit: usize,
        now: i64,
    },
}

/// Answers a [`LogRequest`] as JSON.
pub fn handle(sql: &SqlStorage, config: &Config, request: LogRequest) -> ApiResult<Vec<u8>> {
    // The first requests after events were stored without a log build it up.
    backfill(sql)?;
    match request {
        LogRequest::Checkpoint { account, now } => encode(&current(sql, config, &account, now)?),
        LogRequest::Checkpoints { from, to } => {
            let stmt = "SELECT size, time, note FROM log_checkpoints WHERE size >= ? AND size <= ? ORDER BY size LIMIT ?";
            let binds = vec![
                SqlStorageValue::Integer(index(from)),
                SqlStorageValue::Integer(index(to)),
                SqlStorageValue::Integer(MAX_LISTED),
            ];
            let mut out = Vec::new();
            for row in sql::rows(sql, stmt, binds)? {
                out.push(Signed::from_row(row?));
            }
            encode(&out)
        }
        LogRequest::Inclusion {
            seq,
            size: tree_size,
        } => {
            let tree = size(sql)?;
            check_size(tree_size, tree, "treeSize")?;
            if seq == 0 || seq > tree_size {
                return Err(ApiError::bad_request(
                    codes::SEQ_OUT_OF_RANGE,
                    format!("`seq` must be from 1 to treeSize ({tree_size}), got {seq}"),
                ));
            }
            let proof =
                log::inclusion_proof(&SqlNodes(sql), seq - 1, tree_size).map_err(tree_err)?;
            encode(&InclusionProof {
                leaf_index: seq - 1,
                tree_size,
                proof,
            })
        }
        LogRequest::Consistency { first, second } => {
            check_size(second, size(sql)?, "second")?;
            if first > second {
                return Err(ApiError::bad_request(
                    codes::BAD_RANGE,
                    format!("`first` ({first}) is larger than `second` ({second})"),
                ));
            }
            let proof = log::consistency_proof(&SqlNodes(sql), first, second).map_err(tree_err)?;
            encode(&ConsistencyProof {
                first,
                second,
                proof,
            })
        }
        LogRequest::Evidence {
            account,
            filter,
            from,
            to,
            limit,
            now,
        } => {
            let signed = current(sql, config, &account, now)?;
            let entries = matching(sql, &filter, from, to, limit, now, signed.size)?;
            encode(&Bundle {
                checkpoint: signed.note,
                entries,
            })
        }
    }
}

fn check_size(asked: u64, tree: u64, name: &str) -> ApiResult<()> {
    if asked > tree {
        return Err(ApiError::bad_request(
            codes::TREE_SIZE_OUT_OF_RANGE,
            format!("`{name}` ({asked}) is larger than the tree ({tree} events)"),
        ));
    }
    Ok(())
}

/// The latest checkpoint, a new one signed when the tree has grown and the last is at
/// least `LOG_CHECKPOINT_INTERVAL_SECONDS` old.
fn current(sql: &SqlStorage, config: &Config, account: &str, now: i64) -> ApiResult<Signed> {
    refresh(sql, config, account, now, config.log_checkpoint_interval_ms)?
        .ok_or_else(|| ApiError::not_found("checkpoint (the log has no events yet)"))
}

/// The entries of events in `[from, to]` that match `filter`, in time order, that the
/// tree of `size` leaves holds, each with its inclusion proof.
fn matching(
    sql: &SqlStorage,
    source: &FilterSource,
    from: i64,
    to: i64,
    limit: usize,
    now: i64,
    size: u64,
) -> ApiResult<Vec<Entry>> {
    let filter = scan_filter(source)?;
    let limit = limit.clamp(1, MAX_EVIDENCE);
    let nodes = SqlNodes(sql);
    let mut entries = Vec::new();
    let mut after = None;
    loop {
        let (stmt, binds) = scan_statement(from, to, false, after, SCAN_CHUNK);
        let mut rows = 0;
        for row in sql::rows(sql, &stmt, binds)? {
            let mut cols = row?.into_iter();
            rows += 1;
            let seq = int(cols.next());
            after = Some((int(cols.next()), seq));
            let Some(body) = text(cols.next()) else {
                continue;
            };
            let seq = u64::try_from(seq).unwrap_or(0);
            if seq > size || !keeps(filter.as_ref(), &body, now) {
                continue;
            }
            let event: Value = serde_json::from_str(&body)
                .map_err(|e| ApiError::storage(format!("a stored event is not JSON: {e}")))?;
            entries.push(Entry::prove(&nodes, size, seq, Some(event)).map_err(tree_err)?);
            if entries.len() >= limit {
                return Ok(entries);
            }
        }
        if rows < SCAN_CHUNK {
            return Ok(entries);
        }
    }
}

fn encode<T: Serialize>(value: &T) -> ApiResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| ApiError::storage(format!("encoding: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn backfilled_leaves_are_the_stored_events_with_missing_ones_marked() {
        let a = json!({"auditEventId": "a", "n": 1.50});
        let c = json!({"b": [1, 2], "auditEventId": "c"});
        let (a_text, c_text) = (a.to_string(), c.to_string());
        // Seqs 3..=7: events at 3 and 6; 4, 5 and 7 have none (skipped or deleted); a row
        // outside the range is not used.
        let stored = [(1, "{}"), (3, a_text.as_str()), (6, c_text.as_str())];
        let built = leaves_for(3, 7, &stored).unwrap();
        let m = missing_leaf();
        let expect = [log::event_leaf_hash(&a), m, m, log::event_leaf_hash(&c), m];
        assert_eq!(built, expect);
        // The same leaves a commit computes from the texts it stores.
        assert_eq!(
            leaves(vec![a_text.as_str(), c_text.as_str()].into_iter()).unwrap(),
            [expect[0], expect[3]]
        );
        // No event's canonical form is empty, so a missing leaf proves no event.
        assert_ne!(m, log::event_leaf_hash(&json!({})));
        assert_eq!(m, log::leaf_hash(b""));
        assert!(leaves_for(5, 4, &stored).unwrap().is_empty());
        assert!(leaves_for(1, 1, &[(1, "not json")]).is_err());
    }

    #[test]
    fn leaves_built_in_steps_give_the_tree_of_the_whole() {
        // A tree filled in backfill steps of any size has the root of one built at once.
        let events: Vec<String> = (0..37)
            .map(|i| json!({"auditEventId": i}).to_string())
            .collect();
        let stored: Vec<(i64, &str)> = events
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 7 != 3)
            .map(|(i, e)| (i as i64 + 1, e.as_str()))
            .collect();
        let all = leaves_for(1, 37, &stored).unwrap();
        let mut whole = log::MemoryTree::new();
        whole.extend(&all).unwrap();
        for step in [1, 5, 16, 36] {
            let mut tree = log::MemoryTree::new();
            let mut at = 0;
            while at < 37 {
                let through = (at + step).min(37);
                tree.extend(&leaves_for(at + 1, through, &stored).unwrap())
                    .unwrap();
                at = through;
            }
            assert_eq!(tree.root().unwrap(), whole.root().unwrap(), "step {step}");
        }
    }
}
