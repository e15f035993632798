//! The machine-readable validation report of a batch (formats.md §1).

use crate::event::field;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{check_into, codes, Options, Violation};

/// `{"valid": N, "rejected": [...], "warnings": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// How many events passed.
    pub valid: u64,
    /// The events that failed, in input order.
    pub rejected: Vec<Rejected>,
    /// Vocabulary warnings (of valid and rejected events alike), in input order.
    pub warnings: Vec<Warning>,
}

impl Report {
    /// Whether every event passed.
    pub fn all_valid(&self) -> bool {
        self.rejected.is_empty()
    }

    /// How many events were looked at.
    pub fn total(&self) -> u64 {
        self.valid + self.rejected.len() as u64
    }
}

/// One rejected event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    /// Position of the event in the input, from 0.
    pub index: u64,
    /// 1-based line where the event starts.
    pub line: u64,
    /// The event's `auditEventId` when it has one (a string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub errors: Vec<Violation>,
}

/// One vocabulary warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub index: u64,
    pub line: u64,
    pub path: String,
    pub code: String,
    pub message: String,
}

/// Validates events one by one and accumulates a [`Report`].
///
/// ```
/// use trailsift::schema::{BatchValidator, Options};
///
/// let mut batch = BatchValidator::new(Options::default());
/// let ok = serde_json::json!({"auditEventId": "ev-1"});
/// assert!(!batch.push(0, 1, &ok));
/// batch.push_bad_json(1, 2, "expected value at line 2 column 1");
/// let report = batch.finish();
/// assert_eq!(report.valid, 0);
/// assert_eq!(report.rejected.len(), 2);
/// assert_eq!(report.rejected[0].id.as_deref(), Some("ev-1"));
/// assert_eq!(report.rejected[1].errors[0].code, "bad_json");
/// ```
#[derive(Debug, Clone, Default)]
pub struct BatchValidator {
    options: Options,
    report: Report,
    rejected: u64,
    warned: u64,
    errors: Vec<Violation>,
    warnings: Vec<Violation>,
}

impl BatchValidator {
    pub fn new(options: Options) -> Self {
        BatchValidator {
            options,
            ..Default::default()
        }
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Validates one event at `index` (0-based) starting on `line` (1-based). Returns
    /// whether it is valid.
    pub fn push(&mut self, index: u64, line: u64, value: &Value) -> bool {
        self.errors.clear();
        self.warnings.clear();
        check_into(value, &self.options, &mut self.errors, &mut self.warnings);
        let warnings = std::mem::take(&mut self.warnings);
        self.add_warnings(index, line, warnings);
        if self.errors.is_empty() {
            self.report.valid += 1;
            true
        } else {
            let id = value
                .get(field::ID)
                .and_then(Value::as_str)
                .map(str::to_string);
            let errors = std::mem::take(&mut self.errors);
            self.push_rejected(index, line, id, errors);
            false
        }
    }

    /// Validates one event given as JSON text, with the same outcome as [`push`](Self::push)
    /// of the parsed event; valid events are checked without being parsed into a `Value`.
    /// An error (nothing recorded) when `bytes` is not JSON.
    pub fn push_json(
        &mut self,
        index: u64,
        line: u64,
        bytes: &[u8],
    ) -> Result<bool, serde_json::Error> {
        let mut warnings = std::mem::take(&mut self.warnings);
        warnings.clear();
        if super::fast::check(bytes, &self.options, &mut warnings).is_some() {
            self.push_valid(index, line, warnings.drain(..));
            self.warnings = warnings;
            return Ok(true);
        }
        self.warnings = warnings;
        let value: Value = serde_json::from_str(crate::plain::utf8(bytes)?)?;
        Ok(self.push(index, line, &value))
    }

    /// Records an event found valid elsewhere (by
    /// [`is_certainly_valid`](super::is_certainly_valid), say), with its vocabulary
    /// warnings.
    pub fn push_valid(
        &mut self,
        index: u64,
        line: u64,
        warnings: impl IntoIterator<Item = Violation>,
    ) {
        self.add_warnings(index, line, warnings);
        self.report.valid += 1;
    }

    /// Adds the vocabulary warnings of the event at `index`/`line` to the report.
    fn add_warnings(
        &mut self,
        index: u64,
        line: u64,
        warnings: impl IntoIterator<Item = Violation>,
    ) {
        for w in warnings {
            self.warned += 1;
            self.report.warnings.push(Warning {
                index,
                line,
                path: w.path,
                code: w.code,
                message: w.message,
            });
        }
    }

    /// Records a record that is not JSON as rejected with code `bad_json`.
    pub fn push_bad_json(&mut self, index: u64, line: u64, message: impl Into<String>) {
        self.push_record_error(index, line, codes::BAD_JSON, message);
    }

    /// Records a record a reader could not turn into an event (its stable code and
    /// message, path `""`): `bad_json`, `bad_utf8`, `too_large`, `not_an_object`, ...
    pub fn push_record_error(
        &mut self,
        index: u64,
        line: u64,
        code: &str,
        message: impl Into<String>,
    ) {
        self.push_rejected(index, line, None, vec![Violation::new("", code, message)]);
    }

    /// Records a rejection found elsewhere (a reader's error, a limit).
    pub fn push_rejected(
        &mut self,
        index: u64,
        line: u64,
        id: Option<String>,
        errors: Vec<Violation>,
    ) {
        self.rejected += 1;
        self.report.rejected.push(Rejected {
            index,
            line,
            id,
            errors,
        });
    }

    /// Adds the report of records that follow, validated apart with the same options:
    /// their indices counted from 0 there, `base` the records before them.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn append(&mut self, later: BatchValidator, base: u64) {
        self.report.valid += later.report.valid;
        self.rejected += later.rejected;
        self.warned += later.warned;
        let rejected = later.report.rejected.into_iter();
        self.report.rejected.extend(rejected.map(|r| Rejected {
            index: r.index + base,
            ..r
        }));
        let warnings = later.report.warnings.into_iter();
        self.report.warnings.extend(warnings.map(|w| Warning {
            index: w.index + base,
            ..w
        }));
    }

    /// Takes the rejected events and warnings gathered so far (counts stay), so that a
    /// caller can stream them out instead of holding them.
    pub fn take_entries(&mut self) -> (Vec<Rejected>, Vec<Warning>) {
        (
            std::mem::take(&mut self.report.rejected),
            std::mem::take(&mut self.report.warnings),
        )
    }

    /// How many events were valid so far.
    pub fn valid_count(&self) -> u64 {
        self.report.valid
    }

    /// How many events were rejected so far (taken entries included).
    pub fn rejected_count(&self) -> u64 {
        self.rejected
    }

    /// How many warnings were given so far (taken entries included).
    pub fn warning_count(&self) -> u64 {
        self.warned
    }

    /// The report so far.
    pub fn report(&self) -> &Report {
        &self.report
    }

    pub fn finish(self) -> Report {
        self.report
    }
}
