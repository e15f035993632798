//! Transform errors: the stable codes and what names the fault (key, entry, path, pattern).

use std::fmt;

use serde::Serialize;

/// The transform text is not JSON. Example: `{"include": [}`.
pub const BAD_JSON: &str = "bad_json";
/// A key or value of the wrong JSON type. Example: `{"include": "auditAction"}`, or a
/// transform that is not an object.
pub const WRONG_TYPE: &str = "wrong_type";
/// A key the transform does not know. Example: `{"inclde": []}`, `{"truncateIp": {"v5": 8}}`.
pub const UNKNOWN_KEY: &str = "unknown_key";
/// A dotted path with an empty segment. Example: `"auditResource..type"`, `""`.
pub const BAD_PATH: &str = "bad_path";
/// A pattern of `redactPatterns` that does not compile. Example: `"(unclosed"`.
pub const BAD_REGEX: &str = "bad_regex";
/// A number outside its range. Example: `"sample": 0`, `"truncateIp": {"v4": 33}`.
pub const OUT_OF_RANGE: &str = "out_of_range";
/// A string that is not one of the allowed values. Example: `"timeFormat": "iso"`.
pub const BAD_VALUE: &str = "bad_value";
/// `exclude` names `auditEventId` or `auditEventTime`, which every event keeps.
pub const REQUIRED_FIELD: &str = "required_field";
/// `pseudonymize` is set but no key (or an empty one) was given.
pub const MISSING_KEY: &str = "missing_key";
/// The transform text is longer than [`MAX_BYTES`](super::MAX_BYTES).
pub const TOO_LARGE: &str = "too_large";
/// A list holds more entries than its limit ([`MAX_PATHS`](super::MAX_PATHS),
/// [`MAX_PATTERNS`](super::MAX_PATTERNS)).
pub const TOO_MANY: &str = "too_many";
/// A path or pattern longer than its limit ([`MAX_PATH_BYTES`](super::MAX_PATH_BYTES),
/// [`MAX_PATTERN_BYTES`](super::MAX_PATTERN_BYTES)).
pub const TOO_LONG: &str = "too_long";

/// Every code a transform error can carry. Codes are stable: clients match on them.
pub const CODES: &[&str] = &[
    BAD_JSON,
    WRONG_TYPE,
    UNKNOWN_KEY,
    BAD_PATH,
    BAD_REGEX,
    OUT_OF_RANGE,
    BAD_VALUE,
    REQUIRED_FIELD,
    MISSING_KEY,
    TOO_LARGE,
    TOO_MANY,
    TOO_LONG,
];

/// Why a transform is not valid, found before any event is read.
///
/// Serialised as `{"code", "message", "key", "index"?, "path"?, "pattern"?}`: `key` is the
/// transform key at fault (`include`, `truncateIp.v4`; empty for the transform as a
/// whole), `index` the entry of a list, `path` or `pattern` that entry's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransformError {
    pub code: &'static str,
    pub message: String,
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

impl TransformError {
    pub(super) fn new(code: &'static str, key: &str, message: impl Into<String>) -> Self {
        TransformError {
            code,
            message: message.into(),
            key: key.to_string(),
            index: None,
            path: None,
            pattern: None,
        }
    }

    /// The error is about entry `index` of a list.
    pub(super) fn with_index(mut self, index: usize) -> Self {
        // Lists hold at most a few hundred entries (MAX_PATHS, MAX_PATTERNS).
        self.index = u32::try_from(index).ok();
        self
    }

    /// The entry at fault is this path.
    pub(super) fn at_path(mut self, path: &str) -> Self {
        self.path = Some(path.to_string());
        self
    }

    /// The entry at fault is this pattern of `redactPatterns`.
    pub(super) fn at_pattern(mut self, pattern: &str) -> Self {
        self.pattern = Some(pattern.to_string());
        self
    }
}

impl fmt::Display for TransformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for TransformError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut all = CODES.to_vec();
        for c in &all {
            assert!(
                !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{c}"
            );
        }
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "duplicate code");
    }
}
