//! The filter the Worker compiles from `q` / a structured body, and the `from`/`to` times.
//!
//! Interim: until the core filter language is merged, only the empty filter is accepted.

use serde_json::Value;

/// A compiled filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    _private: (),
}

/// A filter that does not compile: stable code and position.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FilterError {
    pub code: String,
    pub message: String,
    pub span: (usize, usize),
    pub line: usize,
    pub column: usize,
}

impl Filter {
    pub fn parse(q: &str) -> Result<Filter, FilterError> {
        if q.trim().is_empty() {
            Ok(Filter::default())
        } else {
            Err(FilterError {
                code: "unsupported".into(),
                message: "text filters are not available in this build".into(),
                span: (0, q.len()),
                line: 1,
                column: 1,
            })
        }
    }

    pub fn from_structured(v: &Value) -> Result<Filter, FilterError> {
        match v {
            Value::Object(m) if m.is_empty() => Ok(Filter::default()),
            _ => Err(FilterError {
                code: "unsupported".into(),
                message: "structured filters are not available in this build".into(),
                span: (0, 0),
                line: 1,
                column: 1,
            }),
        }
    }

    pub fn matches(&self, _event: &Value, _now_ms: i64) -> bool {
        true
    }

    pub fn time_bounds(&self, _now_ms: i64) -> (Option<i64>, Option<i64>) {
        (None, None)
    }

    pub fn is_match_all(&self) -> bool {
        true
    }
}

/// Parses a `from`/`to` parameter: RFC 3339, a date (`to` dates include the whole day),
/// epoch milliseconds, or `now`, `now-15m`, `now-7d`, `now-2w`.
pub fn parse_range_time(s: &str, now_ms: i64, is_end: bool) -> Option<i64> {
    let t = s.trim();
    if let Some(rest) = t.strip_prefix("now") {
        if rest.is_empty() {
            return Some(now_ms);
        }
        let (sign, num) = match rest.as_bytes().first()? {
            b'-' => (-1i64, rest.get(1..)?),
            b'+' => (1i64, rest.get(1..)?),
            _ => return None,
        };
        let unit = num.chars().last()?;
        let n: i64 = num.get(..num.len().checked_sub(1)?)?.parse().ok()?;
        let mult: i64 = match unit {
            's' => 1_000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => 86_400_000,
            'w' => 7 * 86_400_000,
            _ => return None,
        };
        return now_ms.checked_add(sign.checked_mul(n)?.checked_mul(mult)?);
    }
    if t.len() == 10 && t.as_bytes().get(4) == Some(&b'-') {
        let start = crate::event::parse_time(&format!("{t}T00:00:00Z")).ok()?;
        return Some(if is_end {
            start + 86_400_000 - 1
        } else {
            start
        });
    }
    crate::event::parse_time(t).ok()
}
