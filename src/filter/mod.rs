//! The filter language (filter-language.md): text, structured and Logpush filters,
//! one canonical IR, one compiled evaluator.
//!
//! Readings chosen where filter-language.md leaves room:
//! - `!=` and `not in` are false when the field is missing or null, like every comparison;
//!   for `user` they hold when at least one of identifier/email is present and none equals.
//! - A bare number after an operator on a string field is a type error (`action < 5`);
//!   quote it (`resourceId == "123"`). Qualifier values on string fields are always text.
//! - Qualifier matches (`field:value`) glob with `*` even inside quotes; on string fields
//!   they match strings only, on metadata also numbers and booleans by value.
//! - `time:2026-01-01` (a bare date as a qualifier value) means that whole UTC day; `..*`
//!   leaves a range end open; `<`/`>` with a date compare with its midnight.
//! - Metadata keys after `metadata.` keep their case (JSON keys are case-sensitive).
//! - `is:login,system` is any of the presets; `()` is the empty group (matches all).
//!
//! ```
//! use trailsift::filter::Filter;
//! use serde_json::json;
//!
//! let f = Filter::parse(r#"action:create,update -is:system"#).unwrap();
//! let event = json!({"auditAction": "CREATE",
//!     "auditEventAuthor": {"principal": {"type": "USER", "identifier": "alice"}}});
//! assert!(f.matches(&event, 0));
//! assert_eq!(f.to_query(), r#"(action:"create" or action:"update") and not is:system"#);
//! ```

pub mod batch;
mod check;
pub mod columnar;
mod compile;
pub mod error;
mod eval;
pub mod fields;
pub mod ir;
mod lex;
mod line;
mod logpush;
mod parse;
mod precheck;
mod print;
mod program;
mod structured;

use serde::Serialize;
use serde_json::Value;

pub(crate) use check::regex;
pub use error::FilterError;
pub use ir::{Ir, Literal, Op, Preset};
pub(crate) use precheck::{rarest, text_hit};

/// Longest query text accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 256 * 1024;
/// Deepest nesting of parentheses, negations and operators accepted.
pub const MAX_DEPTH: usize = 64;

/// A compiled filter: its canonical IR plus the precompiled evaluator (regexes, sets,
/// networks, case-folded patterns).
#[derive(Debug, Clone)]
pub struct Filter {
    ir: Ir,
    program: program::Program,
}

/// Which terms of a filter matched one event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The answer of the whole filter.
    pub matched: bool,
    /// Every leaf term in print order: its canonical text and whether it held.
    pub terms: Vec<TermResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TermResult {
    pub term: String,
    pub matched: bool,
}

impl Filter {
    /// Compiles a query in the text syntax (section 2). The empty query matches everything.
    pub fn parse(query: &str) -> Result<Filter, FilterError> {
        let ir = parse::parse(query)?;
        Filter::from_ir(ir)
    }

    /// Compiles a structured filter (section 4, the form JSON).
    pub fn from_structured(json: &str) -> Result<Filter, FilterError> {
        Filter::from_ir(structured::to_ir(json)?)
    }

    /// Imports a Logpush filter (section 5).
    pub fn from_logpush(json: &str) -> Result<Filter, FilterError> {
        Filter::from_ir(logpush::to_ir(json)?)
    }

    /// Compiles IR (normalised first). Checks fields, types, regexes and depth.
    pub fn from_ir(ir: Ir) -> Result<Filter, FilterError> {
        // Checked before and after normalising: normalising recurses, and flattening
        // never deepens a tree.
        if ir.deeper_than(MAX_DEPTH * 4) {
            ir.dismantle();
            return Err(FilterError::new(
                error::TOO_DEEP,
                format!("the filter nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        let ir = ir.normalize();
        if ir.deeper_than(MAX_DEPTH) {
            return Err(FilterError::new(
                error::TOO_DEEP,
                format!("the filter nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        let program = compile::compile(&ir)?;
        Ok(Filter { ir, program })
    }

    /// Compiles IR given as JSON (the form [`Filter::to_ir_json`] writes).
    pub fn from_ir_json(json: &str) -> Result<Filter, FilterError> {
        let ir: Ir = serde_json::from_str(json)
            .map_err(|e| FilterError::new(error::BAD_IR, format!("invalid filter IR: {e}")))?;
        Filter::from_ir(ir)
    }

    pub fn ir(&self) -> &Ir {
        &self.ir
    }

    /// Canonical expression text; `Filter::parse(&f.to_query())` gives the same IR.
    pub fn to_query(&self) -> String {
        print::print(&self.ir)
    }

    /// The filter as the structured filter of section 4 (JSON text), for a filter form:
    /// the terms of a top-level `and` that the form's fields express exactly (lists as
    /// case-sensitive `==`/`in` on strings, `from`/`to` as `time >=`/`time <=`, the
    /// `excludeLoginEvents`/`excludeSystemEvents` presets), in the order
    /// [`Filter::from_structured`] writes them, and the rest as canonical text in `query`.
    /// `None` when no form field can hold any term (show the query alone then).
    /// `Filter::from_structured(&s)` of the answer has the same IR as `self`.
    pub fn to_structured(&self) -> Option<String> {
        structured::from_ir(&self.ir)
    }

    /// The IR as canonical JSON.
    pub fn to_ir_json(&self) -> String {
        serde_json::to_string(&self.ir).unwrap_or_default()
    }

    /// Exports to a Logpush filter; fails naming the first construct Logpush cannot express.
    pub fn to_logpush(&self) -> Result<String, FilterError> {
        logpush::from_ir(&self.ir)
    }

    /// Evaluates the filter on one event (a JSON object). `now_ms` resolves `now-7d` etc.
    pub fn matches(&self, event: &Value, now_ms: i64) -> bool {
        self.program.eval_value(event, now_ms)
    }

    /// Evaluates the filter on one JSON text (an NDJSON line), reading only the fields the
    /// filter uses. Gives the same answer as [`Filter::matches`]. A line that must be parsed
    /// and is not valid JSON is a `bad_json` error; a line that a literal pre-check already
    /// rules out is `false` without being parsed.
    pub fn matches_line(&self, line: &[u8], now_ms: i64) -> Result<bool, FilterError> {
        line::matches_line(&self.program, line, now_ms)
    }

    /// Decides every line of `block` (whole NDJSON lines, `\n`-separated, the last one
    /// with or without its ending) as [`Filter::matches_line`] does, and calls
    /// `f(range, answer)` for each line whose answer is not `Ok(false)` (the matches and
    /// the lines that are not JSON), in order; ranges leave the `\n` out. The pre-check's
    /// searches run over the whole block at once, so most lines are passed over without
    /// being looked at one by one: faster than taking the block line by line.
    pub fn decide_lines(
        &self,
        block: &[u8],
        now_ms: i64,
        f: &mut dyn FnMut(std::ops::Range<usize>, Result<bool, FilterError>),
    ) {
        let precheck = &self.program.precheck;
        // The pre-check passes over no line unchecked in the wasm builds (`SMALL`).
        if precheck.is_empty() || program::SMALL {
            return line::decide_lines(&self.program, block, now_ms, f);
        }
        line::decide_lines(&self.program, block, now_ms, &mut |r, answer| {
            // Lines the pre-check passed over unchecked: one that is not JSON is not
            // reported when the pre-check rules it out, as `matches_line` does not.
            if answer.is_err() && precheck.rules_out(&block[r.clone()], now_ms) {
                return;
            }
            f(r, answer)
        })
    }

    /// Which leaf terms matched `event`.
    pub fn explain(&self, event: &Value, now_ms: i64) -> Explanation {
        let mut terms = Vec::new();
        eval::explain(&self.ir, &self.program, event, now_ms, &mut terms);
        Explanation {
            matched: self.matches(event, now_ms),
            terms,
        }
    }

    /// Inclusive `(from, to)` epoch-millisecond bounds on `auditEventTime` implied by
    /// time comparisons ANDed at the top level. `None` means unbounded.
    pub fn time_bounds(&self, now_ms: i64) -> (Option<i64>, Option<i64>) {
        compile::time_bounds(&self.ir, now_ms)
    }

    /// The canonical paths of the event fields the filter reads (`user` expands to the
    /// principal identifier and email). Free text reads every field and is not listed.
    pub fn fields(&self) -> Vec<String> {
        self.program.fields()
    }

    /// Whether the filter holds a free-text term (which reads every string of the event).
    pub fn has_free_text(&self) -> bool {
        self.program.has_text()
    }
}

#[cfg(test)]
mod tests;
