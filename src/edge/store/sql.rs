//! SQLite helpers the object's concerns share: statements whose errors are answers, and
//! reading typed columns from raw rows.

use worker::{SqlCursor, SqlStorage, SqlStorageValue};

use crate::edge::error::{ApiError, ApiResult};

/// Runs one statement; a storage error becomes `503 storage_unavailable`.
pub fn exec(sql: &SqlStorage, stmt: &str, binds: Vec<SqlStorageValue>) -> ApiResult<SqlCursor> {
    sql.exec(stmt, binds).map_err(storage_err)
}

/// Every row of a statement, each as its raw column values.
pub fn rows(
    sql: &SqlStorage,
    stmt: &str,
    binds: Vec<SqlStorageValue>,
) -> ApiResult<impl Iterator<Item = ApiResult<Vec<SqlStorageValue>>>> {
    Ok(exec(sql, stmt, binds)?
        .raw()
        .map(|row| row.map_err(storage_err)))
}

pub fn storage_err(e: worker::Error) -> ApiError {
    ApiError::storage(format!("storage: {e}"))
}

/// A column as an integer (0 when null). Columns are taken by value, in order:
/// `let mut cols = row.into_iter(); let seq = int(cols.next());`.
pub fn int(v: Option<SqlStorageValue>) -> i64 {
    match v {
        Some(SqlStorageValue::Integer(i)) => i,
        Some(SqlStorageValue::Float(f)) => f as i64,
        Some(SqlStorageValue::String(s)) => s.parse().unwrap_or_default(),
        _ => 0,
    }
}

/// A column as text (`None` when null).
pub fn text(v: Option<SqlStorageValue>) -> Option<String> {
    match v {
        Some(SqlStorageValue::String(s)) => Some(s),
        Some(SqlStorageValue::Integer(i)) => Some(i.to_string()),
        Some(SqlStorageValue::Float(f)) => Some(f.to_string()),
        _ => None,
    }
}
