//! Import and export of Logpush-style JSON filters (section 5).

use super::error::{self, FilterError};
use super::ir::Ir;

pub fn to_ir(_json: &str) -> Result<Ir, FilterError> {
    Err(FilterError::new(
        error::BAD_LOGPUSH,
        "Logpush filters are not supported yet",
    ))
}

pub fn from_ir(_ir: &Ir) -> Result<String, FilterError> {
    Err(FilterError::new(
        error::LOGPUSH_UNSUPPORTED,
        "Logpush export is not supported yet",
    ))
}
