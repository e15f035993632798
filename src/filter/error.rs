//! Filter errors: one registry of stable codes, positions and caret rendering.

use std::fmt;

use serde::Serialize;

/// Every error code a filter can produce, with what it means. Codes are stable: clients
/// match on them. A test rejects duplicates.
pub const CODES: &[(&str, &str)] = &[
    (UNEXPECTED_CHAR, "a character that cannot start a token"),
    (
        UNTERMINATED_STRING,
        "a quoted string without its closing quote",
    ),
    (
        BAD_ESCAPE,
        "an invalid escape sequence inside a quoted string",
    ),
    (
        UNEXPECTED_TOKEN,
        "a token where the grammar does not allow it",
    ),
    (UNEXPECTED_END, "the query ends where more was expected"),
    (
        UNBALANCED_PAREN,
        "a parenthesis or brace without its partner",
    ),
    (UNKNOWN_FIELD, "a field name that is not in the field table"),
    (UNKNOWN_PRESET, "an is: preset that does not exist"),
    (
        TYPE_MISMATCH,
        "a value or operator of the wrong type for the field",
    ),
    (
        BAD_TIME,
        "a time that is not RFC 3339, a date, epoch milliseconds or now-N<unit>",
    ),
    (BAD_IP, "an IP address or CIDR that does not parse"),
    (BAD_NUMBER, "a number that does not parse"),
    (BAD_REGEX, "a regular expression that does not compile"),
    (BAD_RANGE, "a range a..b that is malformed"),
    (EMPTY_VALUE, "a qualifier or operator without a value"),
    (EMPTY_SET, "a set { } without values"),
    (TOO_DEEP, "nesting deeper than the limit"),
    (TOO_LONG, "a query longer than the limit"),
    (
        BAD_STRUCTURED,
        "a structured filter that is not valid JSON of the expected shape",
    ),
    (
        UNKNOWN_KEY,
        "a key the structured or Logpush filter does not know",
    ),
    (
        BAD_LOGPUSH,
        "a Logpush filter that is not valid JSON of the expected shape",
    ),
    (
        LOGPUSH_UNSUPPORTED,
        "a construct that Logpush filters cannot express",
    ),
    (
        BAD_IR,
        "filter IR JSON that does not parse or is not canonical",
    ),
    (BAD_JSON, "an event line that is not valid JSON"),
];

pub const UNEXPECTED_CHAR: &str = "unexpected_char";
pub const UNTERMINATED_STRING: &str = "unterminated_string";
pub const BAD_ESCAPE: &str = "bad_escape";
pub const UNEXPECTED_TOKEN: &str = "unexpected_token";
pub const UNEXPECTED_END: &str = "unexpected_end";
pub const UNBALANCED_PAREN: &str = "unbalanced_paren";
pub const UNKNOWN_FIELD: &str = "unknown_field";
pub const UNKNOWN_PRESET: &str = "unknown_preset";
pub const TYPE_MISMATCH: &str = "type_mismatch";
pub const BAD_TIME: &str = "bad_time";
pub const BAD_IP: &str = "bad_ip";
pub const BAD_NUMBER: &str = "bad_number";
pub const BAD_REGEX: &str = "bad_regex";
pub const BAD_RANGE: &str = "bad_range";
pub const EMPTY_VALUE: &str = "empty_value";
pub const EMPTY_SET: &str = "empty_set";
pub const TOO_DEEP: &str = "too_deep";
pub const TOO_LONG: &str = "too_long";
pub const BAD_STRUCTURED: &str = "bad_structured";
pub const UNKNOWN_KEY: &str = "unknown_key";
pub const BAD_LOGPUSH: &str = "bad_logpush";
pub const LOGPUSH_UNSUPPORTED: &str = "logpush_unsupported";
pub const BAD_IR: &str = "bad_ir";
pub const BAD_JSON: &str = "bad_json";

/// A filter error: a stable code, a message and where in the query it happened.
///
/// `span` holds byte offsets `[start, end)` into the query text; `line` and `column` are
/// 1-based (column counts characters). Errors that do not come from query text (structured
/// or Logpush JSON, IR) carry the position inside that JSON where known, else 0..0 at 1:1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterError {
    pub code: &'static str,
    pub message: String,
    pub span: (usize, usize),
    pub line: usize,
    pub column: usize,
}

impl FilterError {
    /// An error at a byte span of `text`; line and column are computed from the text.
    pub fn at(
        code: &'static str,
        message: impl Into<String>,
        text: &str,
        span: (usize, usize),
    ) -> Self {
        let start = floor_char_boundary(text, span.0.min(text.len()));
        let end = floor_char_boundary(text, span.1.clamp(start, text.len()));
        let (line, column) = line_column(text, start);
        FilterError {
            code,
            message: message.into(),
            span: (start, end),
            line,
            column,
        }
    }

    /// An error without a position in query text.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        FilterError {
            code,
            message: message.into(),
            span: (0, 0),
            line: 1,
            column: 1,
        }
    }

    /// Renders the error with the offending line of `query` and carets under the span:
    ///
    /// ```text
    /// error[unknown_field]: unknown field "acton", did you mean "action"?
    ///  --> 1:1
    ///   |
    /// 1 | acton == "CREATE"
    ///   | ^^^^^
    /// ```
    pub fn render(&self, query: &str) -> String {
        let mut out = format!("error[{}]: {}\n", self.code, self.message);
        let start = floor_char_boundary(query, self.span.0.min(query.len()));
        let end = floor_char_boundary(query, self.span.1.clamp(start, query.len()));
        let line_start = query[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = query[start..].find('\n').map_or(query.len(), |i| start + i);
        let line_text = query[line_start..line_end].trim_end_matches('\r');
        let (line, column) = line_column(query, start);
        let number = line.to_string();
        let pad = " ".repeat(number.len());
        out.push_str(&format!(
            "{pad}--> {line}:{column}\n{pad} |\n{number} | {line_text}\n"
        ));
        let lead: String = query[line_start..start]
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let width = query[start..end.min(line_end).max(start)]
            .chars()
            .count()
            .max(1);
        out.push_str(&format!("{pad} | {lead}{}\n", "^".repeat(width)));
        out
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {}:{}: {}",
            self.code, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for FilterError {}

/// 1-based line and character column of byte offset `at`.
pub fn line_column(text: &str, at: usize) -> (usize, usize) {
    let at = floor_char_boundary(text, at.min(text.len()));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique() {
        let mut seen = HashSet::new();
        for (code, _) in CODES {
            assert!(seen.insert(*code), "duplicate error code {code}");
        }
    }

    #[test]
    fn renders_caret_under_span() {
        let q = "action == 1\nacton == \"x\"";
        let e = FilterError::at(UNKNOWN_FIELD, "unknown field", q, (12, 17));
        assert_eq!((e.line, e.column), (2, 1));
        let r = e.render(q);
        assert!(r.contains("2 | acton == \"x\"\n  | ^^^^^\n"), "{r}");
    }
}
