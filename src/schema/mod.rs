//! Schema validation of audit events (formats.md §1).
//!
//! Placeholder: the foundation work replaces this with the full rule set.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One problem with an event: where (JSON path), what (stable code) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub path: String,
    pub code: String,
    pub message: String,
}

impl Violation {
    pub fn new(path: &str, code: &str, message: impl Into<String>) -> Self {
        Violation {
            path: path.to_string(),
            code: code.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.path, self.message, self.code)
    }
}

/// Validation options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Reject fields the schema does not name.
    pub strict: bool,
}

/// Every violation of one event.
pub fn validate_value(value: &Value, _options: &Options) -> Vec<Violation> {
    if value.is_object() {
        Vec::new()
    } else {
        vec![Violation::new(
            "",
            "wrong_type",
            "an audit event must be a JSON object",
        )]
    }
}
