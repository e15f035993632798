//! The structured filter of section 4 (the JSON a filter form produces).

use super::error::{self, FilterError};
use super::ir::Ir;

pub fn to_ir(_json: &str) -> Result<Ir, FilterError> {
    Err(FilterError::new(
        error::BAD_STRUCTURED,
        "structured filters are not supported yet",
    ))
}
