//! The filters the Worker compiles (text `q` or a structured body, via the core filter
//! language) and the `from`/`to` range parameters.

use serde::{Deserialize, Serialize};

pub use crate::filter::{Filter, FilterError};

/// A filter as a client gave it: what the Worker checks and the account object runs, and
/// what a saved filter keeps. It travels as given rather than as IR, whose JSON nests too
/// deep for serde_json at the filter language's own depth limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterSource {
    /// The text syntax (`q=`); the empty query matches every event.
    Query(String),
    /// A structured filter (section 4), as compact JSON text.
    Structured(String),
}

impl FilterSource {
    pub fn compile(&self) -> Result<Filter, FilterError> {
        match self {
            FilterSource::Query(q) => Filter::parse(q),
            FilterSource::Structured(json) => Filter::from_structured(json),
        }
    }
}

/// Whether a compiled filter accepts every event (the empty query).
pub fn is_match_all(f: &Filter) -> bool {
    matches!(f.ir(), crate::filter::Ir::All)
}

/// Parses a `from`/`to` parameter in any time form of the core ([`crate::time`]): RFC
/// 3339, a date (a `to` date includes the whole day), epoch milliseconds, `now`, `now-7d`.
pub fn parse_range_time(s: &str, now_ms: i64, is_end: bool) -> Option<i64> {
    crate::time::parse_time_arg(s, now_ms, is_end).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_763_719_530_123;

    #[test]
    fn a_source_compiles_in_its_own_form() {
        let text = FilterSource::Query("action:create".into())
            .compile()
            .unwrap();
        let form = FilterSource::Structured(r#"{"actions":["CREATE"]}"#.into())
            .compile()
            .unwrap();
        assert!(!is_match_all(&text) && !is_match_all(&form));
        assert!(is_match_all(
            &FilterSource::Query(String::new()).compile().unwrap()
        ));
        let bad = FilterSource::Structured(r#"{"colours":["red"]}"#.into()).compile();
        assert_eq!(bad.unwrap_err().code, crate::filter::error::UNKNOWN_KEY);
    }

    #[test]
    fn range_times_use_the_filter_time_forms() {
        assert_eq!(parse_range_time("now", NOW, false), Some(NOW));
        assert_eq!(
            parse_range_time("now-7d", NOW, false),
            Some(NOW - 7 * 86_400_000)
        );
        assert_eq!(
            parse_range_time("1767261600000", NOW, true),
            Some(1_767_261_600_000)
        );
        let day = parse_range_time("2026-01-01", NOW, false).unwrap();
        assert_eq!(day, 1_767_225_600_000);
        assert_eq!(
            parse_range_time("2026-01-01", NOW, true),
            Some(day + 86_400_000 - 1)
        );
        for bad in ["", "yesterday", "now-7x", "1..2", "a b", "\""] {
            assert_eq!(parse_range_time(bad, NOW, false), None, "{bad}");
        }
    }
}
