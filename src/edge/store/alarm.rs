//! The object's one alarm, shared by retention and delivery: it is set to whichever is
//! due first. Retention's next run is kept in storage, so a restarted object keeps its
//! schedule; delivery's is computed from the destinations' state.

use worker::{SqlStorage, SqlStorageValue};

use super::sql::{self, int};
use super::{destinations, events, log};
use crate::edge::config::Config;
use crate::edge::error::ApiResult;
use crate::time::DAY_MS;

pub const SCHEMA: &[&str] = &["CREATE TABLE IF NOT EXISTS alarm_schedule (
        name TEXT PRIMARY KEY,
        due INTEGER NOT NULL)"];

const RETENTION: &str = "retention";

/// When retention runs next; the first time asked, one interval from `now`.
fn retention_due(sql: &SqlStorage, config: &Config, now: i64) -> ApiResult<i64> {
    let row = sql::rows(
        sql,
        "SELECT due FROM alarm_schedule WHERE name = ?",
        vec![SqlStorageValue::String(RETENTION.into())],
    )?
    .next();
    match row {
        Some(row) => Ok(int(row?.into_iter().next())),
        None => {
            let due = now.saturating_add(config.retention_interval_ms);
            set_retention_due(sql, due)?;
            Ok(due)
        }
    }
}

fn set_retention_due(sql: &SqlStorage, due: i64) -> ApiResult<()> {
    sql::exec(
        sql,
        "INSERT OR REPLACE INTO alarm_schedule (name, due) VALUES (?, ?)",
        vec![
            SqlStorageValue::String(RETENTION.into()),
            SqlStorageValue::Integer(due),
        ],
    )?;
    Ok(())
}

/// Deletes events older than the retention when it is due (keeping the ranges of batches
/// in flight and dead letters, and events the log has no leaf of yet), and schedules the
/// next run.
pub fn run_retention(sql: &SqlStorage, config: &Config, now: i64) -> ApiResult<()> {
    if retention_due(sql, config, now)? > now {
        return Ok(());
    }
    let cutoff = now - config.retention_days.saturating_mul(DAY_MS);
    let mut keep = destinations::kept_ranges(sql)?;
    keep.extend(log::unlogged(sql)?);
    events::apply_retention(sql, cutoff, &keep);
    destinations::prune_commits(sql)?;
    set_retention_due(sql, now.saturating_add(config.retention_interval_ms))
}

/// The earliest time the alarm has work: retention, delivery or a checkpoint to sign.
pub fn next_due(sql: &SqlStorage, config: &Config, now: i64) -> ApiResult<i64> {
    let retention = retention_due(sql, config, now)?;
    Ok([
        destinations::next_due(sql, now)?,
        log::next_due(sql, config, now)?,
    ]
    .into_iter()
    .flatten()
    .fold(retention, i64::min))
}
