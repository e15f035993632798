//! Time: every form trailsift reads (event times, filter literals, `now`/`from`/`to`
//! arguments), how it writes times, and the range it accepts. All UTC.
//!
//! "Now" is always a parameter (`now_ms`): `SystemTime::now()` traps on
//! wasm32-unknown-unknown, so each adapter reads its host's clock and passes it in.
//!
//! ```
//! use trailsift::time::{format_ms, parse_time, parse_time_arg, DAY_MS};
//!
//! let t = parse_time("2026-11-21T12:15:30.123+02:00").unwrap();
//! assert_eq!(format_ms(t), "2026-11-21T10:15:30.123Z");
//! assert_eq!(parse_time("1795256130123"), Ok(1_795_256_130_123));
//! // Arguments also take dates and times relative to "now"; a date as the end of a range
//! // means the end of that day.
//! let now = 1_795_256_130_123;
//! assert_eq!(parse_time_arg("now-1d", now, false), Ok(now - DAY_MS));
//! let day = parse_time_arg("2026-11-21", now, false).unwrap();
//! assert_eq!(parse_time_arg("2026-11-21", now, true), Ok(day + DAY_MS - 1));
//! ```

use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, SecondsFormat, Timelike, Utc};
use serde_json::Value;

/// The earliest time accepted: 0000-01-01T00:00:00Z in epoch milliseconds.
pub const MIN_MS: i64 = -62_167_219_200_000;
/// The latest time accepted: 9999-12-31T23:59:59.999Z in epoch milliseconds.
pub const MAX_MS: i64 = 253_402_300_799_999;
pub const SECOND_MS: i64 = 1_000;
pub const MINUTE_MS: i64 = 60 * SECOND_MS;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
pub const DAY_MS: i64 = 24 * HOUR_MS;
pub const WEEK_MS: i64 = 7 * DAY_MS;
/// The largest offset of a relative time (`now-Nd`): about 35,000 years, far past the range
/// of times, small enough that `now ± offset` never overflows.
pub const MAX_OFFSET_MS: i64 = 1 << 50;

/// Why a time could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeError {
    /// Not a number, a string of digits or an RFC 3339 string.
    WrongType,
    /// A string that is none of the accepted forms.
    Unparseable(String),
    /// Outside [`MIN_MS`]..=[`MAX_MS`].
    OutOfRange,
}

impl TimeError {
    /// The stable code of every time error: `bad_time`.
    pub const CODE: &'static str = "bad_time";
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeError::WrongType => f.write_str(
                "expected epoch milliseconds (a number or a string of digits) or an RFC 3339 time",
            ),
            TimeError::Unparseable(s) => write!(
                f,
                "{s:?} is neither epoch milliseconds nor an RFC 3339 time"
            ),
            TimeError::OutOfRange => f.write_str("time out of range"),
        }
    }
}

impl std::error::Error for TimeError {}

/// Checks that `ms` lies in the accepted range.
pub fn check_range(ms: i64) -> Result<i64, TimeError> {
    if (MIN_MS..=MAX_MS).contains(&ms) {
        Ok(ms)
    } else {
        Err(TimeError::OutOfRange)
    }
}

/// Parses an event time written as a string: digits (epoch milliseconds) or RFC 3339 with
/// any offset. Returns UTC epoch milliseconds.
pub fn parse_time(s: &str) -> Result<i64, TimeError> {
    let t = s.trim();
    if let Some(ms) = parse_digits(t) {
        return ms;
    }
    parse_rfc3339(t).ok_or_else(|| TimeError::Unparseable(s.to_string()))?
}

/// A string of ASCII digits as epoch milliseconds (range checked); `None` when `t` is not
/// all digits.
fn parse_digits(t: &str) -> Option<Result<i64, TimeError>> {
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        t.parse::<i64>()
            .map_err(|_| TimeError::OutOfRange)
            .and_then(check_range),
    )
}

/// RFC 3339 with any offset (range checked); `None` when `t` is not RFC 3339.
fn parse_rfc3339(t: &str) -> Option<Result<i64, TimeError>> {
    let dt = DateTime::parse_from_rfc3339(t).ok()?;
    Some(check_range(dt.timestamp_millis()))
}

/// Parses the JSON value of `auditEventTime`: a number, a digit string or RFC 3339.
pub fn parse_time_value(v: &Value) -> Result<i64, TimeError> {
    match v {
        Value::Number(n) => {
            if let Some(ms) = n.as_i64() {
                check_range(ms)
            } else if let Some(f) = n.as_f64() {
                // Some producers write 1.763719530123E12; accept integral values only.
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    check_range(f as i64)
                } else {
                    Err(TimeError::Unparseable(n.to_string()))
                }
            } else {
                Err(TimeError::OutOfRange)
            }
        }
        Value::String(s) => parse_time(s),
        _ => Err(TimeError::WrongType),
    }
}

/// Reads a date written exactly `YYYY-MM-DD` as its midnight UTC in epoch milliseconds.
pub fn parse_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(0..4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, digits(5..7)?, digits(8..10)?)?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// A time as the filter language and every `now`/`from`/`to` argument write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// An instant: epoch milliseconds or RFC 3339.
    At(i64),
    /// A date `YYYY-MM-DD`: the whole UTC day starting at this midnight.
    Day(i64),
    /// `now`, `now-7d`, `now+1h`: an offset in milliseconds from "now".
    Now(i64),
}

impl Moment {
    /// The instant this moment names; a day is its midnight, or its last millisecond when
    /// `end` is set (a range ending on a date includes the whole day).
    pub fn resolve(self, now_ms: i64, end: bool) -> i64 {
        match self {
            Moment::At(t) => t,
            Moment::Day(t) if end => t + DAY_MS - 1,
            Moment::Day(t) => t,
            Moment::Now(off) => now_ms.saturating_add(off),
        }
    }
}

/// Parses a time in any form: `now`, `now±N<s|m|h|d|w>`, epoch milliseconds, a date
/// `YYYY-MM-DD` or RFC 3339 with an offset. `None` when it is none of them or out of range.
pub fn parse_moment(text: &str) -> Option<Moment> {
    if let Some(rest) = text
        .get(..3)
        .filter(|head| head.eq_ignore_ascii_case("now"))
        .and_then(|_| text.get(3..))
    {
        return parse_offset(rest).map(Moment::Now);
    }
    if let Some(ms) = parse_digits(text) {
        return ms.ok().map(Moment::At);
    }
    if text.len() == 10 {
        return parse_date(text)
            .and_then(|ms| check_range(ms).ok())
            .map(Moment::Day);
    }
    parse_rfc3339(text)?.ok().map(Moment::At)
}

/// The offset after `now`: empty, or a sign, up to 12 digits and a unit.
fn parse_offset(rest: &str) -> Option<i64> {
    if rest.is_empty() {
        return Some(0);
    }
    let sign: i64 = match rest.as_bytes()[0] {
        b'-' => -1,
        b'+' => 1,
        _ => return None,
    };
    let body = &rest[1..];
    let unit = body.chars().last()?;
    let num = &body[..body.len() - unit.len_utf8()];
    if num.is_empty() || num.len() > 12 || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = num.parse().ok()?;
    let unit_ms = match unit.to_ascii_lowercase() {
        's' => SECOND_MS,
        'm' => MINUTE_MS,
        'h' => HOUR_MS,
        'd' => DAY_MS,
        'w' => WEEK_MS,
        _ => return None,
    };
    let off = n.checked_mul(unit_ms)?.checked_mul(sign)?;
    (off.unsigned_abs() <= MAX_OFFSET_MS as u64).then_some(off)
}

/// Reads a `now`, `from` or `to` argument in any form of [`parse_moment`], resolved against
/// `now_ms`; a date is its midnight, or the end of that day when `end` is set. Every adapter
/// (CLI options, npm options, the Worker's query parameters, the page) reads times with it.
pub fn parse_time_arg(text: &str, now_ms: i64, end: bool) -> Result<i64, TimeError> {
    match parse_moment(text.trim()) {
        Some(m) => Ok(m.resolve(now_ms, end)),
        None => Err(TimeError::Unparseable(text.to_string())),
    }
}

/// The message for a time argument that could not be read.
pub fn arg_help(text: &str) -> String {
    format!(
        "{text:?} is not a time: use RFC 3339 (2026-01-01T10:00:00Z), a date (2026-01-01), \
         epoch milliseconds or now-7d"
    )
}

/// Formats epoch milliseconds as RFC 3339 UTC with milliseconds: `2026-11-21T10:15:30.123Z`.
pub fn format_ms(ms: i64) -> String {
    let mut s = String::with_capacity(24);
    push_rfc3339(&mut s, ms);
    s
}

/// Appends [`format_ms`] of `ms` to `out`. Years 0 to 9999 are written digit by digit (the
/// common case, without chrono's formatting machinery); others as chrono writes them.
pub fn push_rfc3339(out: &mut String, ms: i64) {
    let Some(dt) = DateTime::<Utc>::from_timestamp_millis(ms) else {
        out.push_str(&ms.to_string());
        return;
    };
    let year = dt.year();
    if !(0..=9999).contains(&year) {
        out.push_str(&dt.to_rfc3339_opts(SecondsFormat::Millis, true));
        return;
    }
    let digits = |out: &mut String, n: u32, width: u32| {
        for i in (0..width).rev() {
            let d = (n / 10u32.pow(i)) % 10;
            out.push(char::from(b'0' + d as u8));
        }
    };
    digits(out, year as u32, 4);
    out.push('-');
    digits(out, dt.month(), 2);
    out.push('-');
    digits(out, dt.day(), 2);
    out.push('T');
    digits(out, dt.hour(), 2);
    out.push(':');
    digits(out, dt.minute(), 2);
    out.push(':');
    digits(out, dt.second(), 2);
    out.push('.');
    digits(out, dt.timestamp_subsec_millis(), 3);
    out.push('Z');
}

/// RFC 3339 with milliseconds in the offset `offset_minutes` east of UTC (`Z` for 0);
/// `None` when the time or the offset is out of range, or the local year is not one of
/// RFC 3339's four digits.
pub fn format_with_offset(ms: i64, offset_minutes: i32) -> Option<String> {
    let dt = DateTime::from_timestamp_millis(ms)?;
    let off = FixedOffset::east_opt(offset_minutes.checked_mul(60)?)?;
    let local = dt.with_timezone(&off);
    (0..=9999)
        .contains(&local.year())
        .then(|| local.to_rfc3339_opts(SecondsFormat::Millis, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_time_forms() {
        assert_eq!(parse_time("1763719530123"), Ok(1_763_719_530_123));
        assert_eq!(
            parse_time("2026-11-21T10:05:30.123Z"),
            Ok(1_763_719_530_123 + 365 * DAY_MS)
        );
        assert_eq!(
            parse_time("2026-11-21T12:05:30.123+02:00"),
            parse_time("2026-11-21T10:05:30.123Z")
        );
        assert_eq!(
            parse_time_value(&json!(1763719530123u64)),
            Ok(1_763_719_530_123)
        );
        assert_eq!(
            parse_time_value(&json!(1.763719530123e12)),
            Ok(1_763_719_530_123)
        );
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("").is_err());
        // A date is not an event time (events carry instants).
        assert!(parse_time("2026-11-21").is_err());
        // No offset: not RFC 3339.
        assert!(parse_time("2026-11-21T10:05:30").is_err());
        assert_eq!(parse_time_value(&json!(true)), Err(TimeError::WrongType));
        assert_eq!(
            parse_time("99999999999999999999"),
            Err(TimeError::OutOfRange)
        );
        assert_eq!(parse_time("253402300800000"), Err(TimeError::OutOfRange));
    }

    #[test]
    fn moments() {
        assert_eq!(parse_moment("now"), Some(Moment::Now(0)));
        assert_eq!(parse_moment("NOW-7d"), Some(Moment::Now(-7 * DAY_MS)));
        assert_eq!(parse_moment("now+12H"), Some(Moment::Now(12 * HOUR_MS)));
        assert_eq!(parse_moment("now-1w"), Some(Moment::Now(-WEEK_MS)));
        assert_eq!(parse_moment("now-"), None);
        assert_eq!(parse_moment("now-7x"), None);
        assert_eq!(parse_moment("now-9999999999999d"), None);
        assert_eq!(
            parse_moment("2026-01-01"),
            Some(Moment::Day(1_767_225_600_000))
        );
        assert_eq!(parse_moment("2026-02-30"), None);
        assert_eq!(
            parse_moment("2026-01-01T02:00:00+02:00"),
            Some(Moment::At(1_767_225_600_000))
        );
        assert_eq!(
            parse_moment("1767225600000"),
            Some(Moment::At(1_767_225_600_000))
        );
        assert_eq!(parse_moment("2026-01-01T00:00:00"), None);
        assert_eq!(parse_moment(""), None);
    }

    #[test]
    fn arguments_resolve_against_now() {
        let now = 1_767_225_600_000;
        assert_eq!(parse_time_arg(" now-1d ", now, false), Ok(now - DAY_MS));
        assert_eq!(parse_time_arg("2026-01-01", 0, false), Ok(now));
        assert_eq!(parse_time_arg("2026-01-01", 0, true), Ok(now + DAY_MS - 1));
        assert!(parse_time_arg("yesterday", now, false).is_err());
    }

    /// Found by the `time` fuzz target: the last millisecond of 9999 two hours east of
    /// UTC was written `+10000-01-01T01:59:59.999+02:00`, which is not RFC 3339 and which
    /// `parse_time` (rightly) refuses.
    #[test]
    fn offsets_never_write_a_year_past_four_digits() {
        assert_eq!(format_with_offset(MAX_MS, 120), None);
        assert_eq!(format_with_offset(MIN_MS, -60), None);
        for (ms, minutes) in [(MAX_MS, -120), (MIN_MS, 60), (0, 90)] {
            let text = format_with_offset(ms, minutes).unwrap();
            assert_eq!(parse_time(&text), Ok(ms), "{text}");
        }
    }

    #[test]
    fn formats_utc_millis() {
        assert_eq!(format_ms(1_763_719_530_123), "2025-11-21T10:05:30.123Z");
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_ms(MIN_MS), "0000-01-01T00:00:00.000Z");
        assert_eq!(format_ms(MAX_MS), "9999-12-31T23:59:59.999Z");
        assert_eq!(format_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            format_with_offset(0, 90).as_deref(),
            Some("1970-01-01T01:30:00.000+01:30")
        );
        for ms in [MIN_MS, -1, 0, 1_763_719_530_123, MAX_MS] {
            assert_eq!(parse_time(&format_ms(ms)), Ok(ms));
        }
    }

    /// The digit-by-digit writer agrees with chrono's own formatting everywhere.
    #[test]
    fn fast_formatting_matches_chrono() {
        let mut values = vec![0, -1, -999, -1000, MIN_MS, MIN_MS - 1, MAX_MS, MAX_MS + 1];
        values.extend([i64::MIN, i64::MAX]);
        let mut ms: i64 = -62_135_596_800_000;
        while ms < MAX_MS {
            values.push(ms);
            ms += DAY_MS * 97 + 3_723_457;
        }
        for ms in values {
            let expected = DateTime::<Utc>::from_timestamp_millis(ms).map_or_else(
                || ms.to_string(),
                |dt| dt.to_rfc3339_opts(SecondsFormat::Millis, true),
            );
            assert_eq!(format_ms(ms), expected, "{ms}");
        }
    }
}
