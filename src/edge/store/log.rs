//! The account's verifiable log (integrity.md): the hashes of the Merkle tree over its
//! events, appended in the transaction that stores them, its signed checkpoints, and the
//! proofs and evidence bundles the `/v1/log` and `/v1/evidence` endpoints answer. The tree
//! and its proofs are the core's ([`crate::log`]); this module keeps their rows.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::{SqlStorage, SqlStorageValue};

use super::events::{keeps, scan_filter, scan_statement, SCAN_CHUNK};
use super::sql::{self, int, text};
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

fn tree_err(e: TreeError<ApiError>) -> ApiError {
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

/// Appends the leaves of newly stored events (their leaf hashes, in sequence order) and
/// keeps every node they complete. Called in the transaction that stores the events, with
/// the tree's size the sequence number before the first of them.
pub fn append(sql: &SqlStorage, account: &str, leaves: &[Hash]) -> ApiResult<()> {
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
    let nodes = SqlNodes(sql);
    let added = log::append(&nodes, size(sql)?, leaves).map_err(tree_err)?;
    for chunk in added.chunks(MAX_BINDS / 3) {
        let rows = vec!["(?,?,?)"; chunk.len()].join(",");
        let mut binds = Vec::with_capacity(chunk.len() * 3);
        for (id, hash) in chunk {
            binds.push(SqlStorageValue::Integer(i64::from(id.level)));
            binds.push(SqlStorageValue::Integer(index(id.index)));
            binds.push(SqlStorageValue::Blob(hash.0.to_vec()));
        }
        sql::exec(
            sql,
            &format!("INSERT INTO log_nodes (level, idx, hash) VALUES {rows}"),
            binds,
        )?;
    }
    Ok(())
}

/// A signed checkpoint as kept: its tree size, when it was signed, the signed note.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Signed {
    pub size: u64,
    pub time: i64,
    pub note: String,
}

fn latest(sql: &SqlStorage) -> ApiResult<Option<Signed>> {
    let stmt = "SELECT size, time, note FROM log_checkpoints ORDER BY size DESC LIMIT 1";
    match sql::rows(sql, stmt, vec![])?.next() {
        Some(row) => {
            let mut cols = row?.into_iter();
            Ok(Some(Signed {
                size: u64::try_from(int(cols.next())).unwrap_or(0),
                time: int(cols.next()),
                note: text(cols.next()).unwrap_or_default(),
            }))
        }
        None => Ok(None),
    }
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

/// The alarm's part: a checkpoint when the tree has grown and the last one is an hour old.
pub fn run_alarm(sql: &SqlStorage, config: &Config, now: i64) -> ApiResult<()> {
    if config.log_signing_key().is_err() {
        return Ok(());
    }
    if let Some(account) = stored_account(sql)? {
        refresh(sql, config, &account, now, CHECKPOINT_MAX_AGE_MS)?;
    }
    Ok(())
}

/// When the alarm must sign next: an hour after the last checkpoint while the tree has
/// grown past it (at once when there is none); `None` when nothing is to sign.
pub fn next_due(sql: &SqlStorage, config: &Config, now: i64) -> ApiResult<Option<i64>> {
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
                let mut cols = row?.into_iter();
                out.push(Signed {
                    size: u64::try_from(int(cols.next())).unwrap_or(0),
                    time: int(cols.next()),
                    note: text(cols.next()).unwrap_or_default(),
                });
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
