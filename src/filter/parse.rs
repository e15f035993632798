//! Parsing: tokens to IR, resolving fields and checking types as it goes.

use super::error::{self, FilterError};
use super::ir::Ir;

pub fn parse(query: &str) -> Result<Ir, FilterError> {
    if query.trim().is_empty() {
        return Ok(Ir::All);
    }
    Err(FilterError::at(
        error::UNEXPECTED_TOKEN,
        "the text syntax is not supported yet",
        query,
        (0, query.len()),
    ))
}
