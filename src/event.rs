//! The audit event model and its time parsing (UTC only).

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::schema::{self, Violation};

/// A validated audit event.
///
/// The event keeps the JSON object it was read from (field order, unknown fields and
/// metadata included) so that every converter can round-trip it, and caches the parsed
/// `auditEventTime` as UTC epoch milliseconds. Accessors borrow from the object.
#[derive(Clone, PartialEq)]
pub struct AuditEvent {
    fields: Map<String, Value>,
    time_ms: i64,
}

impl AuditEvent {
    /// Validates a JSON value and wraps it. Every violation is reported.
    pub fn from_value(value: Value) -> Result<Self, Vec<Violation>> {
        let violations = schema::validate_value(&value, &schema::Options::default());
        if !violations.is_empty() {
            return Err(violations);
        }
        match value {
            Value::Object(fields) => {
                // Validation guarantees a parseable time.
                let time_ms = fields
                    .get("auditEventTime")
                    .and_then(|t| parse_time_value(t).ok())
                    .unwrap_or_default();
                Ok(AuditEvent { fields, time_ms })
            }
            _ => unreachable_object(),
        }
    }

    /// Parses and validates one event from JSON text.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Vec<Violation>> {
        let value: Value = crate::plain::utf8(bytes)
            .and_then(serde_json::from_str)
            .map_err(|e| {
                vec![Violation::new(
                    "",
                    "bad_json",
                    format!(
                        "invalid JSON at line {} column {}: {e}",
                        e.line(),
                        e.column()
                    ),
                )]
            })?;
        Self::from_value(value)
    }

    /// The event's `auditEventTime` as UTC epoch milliseconds.
    pub fn time_ms(&self) -> i64 {
        self.time_ms
    }

    /// The value at a dotted path (`auditResource.type`), if present.
    pub fn get(&self, path: &str) -> Option<&Value> {
        get_path(&self.fields, path)
    }

    fn str_at(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(Value::as_str)
    }

    pub fn id(&self) -> &str {
        self.str_at("auditEventId").unwrap_or_default()
    }
    pub fn principal_type(&self) -> &str {
        self.str_at("auditEventAuthor.principal.type")
            .unwrap_or_default()
    }
    pub fn principal_identifier(&self) -> &str {
        self.str_at("auditEventAuthor.principal.identifier")
            .unwrap_or_default()
    }
    pub fn principal_email(&self) -> Option<&str> {
        self.str_at("auditEventAuthor.principal.email")
    }
    pub fn module(&self) -> &str {
        self.str_at("auditModule").unwrap_or_default()
    }
    pub fn resource_type(&self) -> &str {
        self.str_at("auditResource.type").unwrap_or_default()
    }
    pub fn resource_identifier(&self) -> &str {
        self.str_at("auditResource.identifier").unwrap_or_default()
    }
    pub fn account(&self) -> &str {
        self.str_at("auditResourceScope.accountIdentifier")
            .unwrap_or_default()
    }
    pub fn org(&self) -> Option<&str> {
        self.str_at("auditResourceScope.orgIdentifier")
    }
    pub fn project(&self) -> Option<&str> {
        self.str_at("auditResourceScope.projectIdentifier")
    }
    pub fn action(&self) -> &str {
        self.str_at("auditAction").unwrap_or_default()
    }
    pub fn request_method(&self) -> Option<&str> {
        self.str_at("auditHttpRequestInfo.requestMethod")
    }
    pub fn client_ip(&self) -> Option<&str> {
        self.str_at("auditHttpRequestInfo.clientIP")
    }
    pub fn metadata(&self) -> Option<&Map<String, Value>> {
        self.get("auditEventMetadata").and_then(Value::as_object)
    }

    /// The whole event as a JSON object, exactly as read.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.fields
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.fields)
    }

    /// Compact JSON text of the event, fields in their original order.
    pub fn to_json(&self) -> String {
        // Serialising a Map of Values cannot fail.
        serde_json::to_string(&self.fields).unwrap_or_default()
    }
}

fn unreachable_object() -> Result<AuditEvent, Vec<Violation>> {
    Err(vec![Violation::new(
        "",
        "wrong_type",
        "an audit event must be a JSON object",
    )])
}

impl fmt::Debug for AuditEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl Serialize for AuditEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.fields.serialize(s)
    }
}

impl<'de> Deserialize<'de> for AuditEvent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        AuditEvent::from_value(value).map_err(|violations| {
            let text: Vec<String> = violations.iter().map(|v| v.to_string()).collect();
            serde::de::Error::custom(text.join("; "))
        })
    }
}

/// The value at a dotted path inside a JSON object.
pub fn get_path<'a>(fields: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut current = fields.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

/// What kind of JSON value `v` is, for messages: "null", "a boolean", "a number",
/// "a string", "an array" or "an object".
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Why a time could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeError {
    /// Not a number, a string of digits or an RFC 3339 string.
    WrongType,
    /// A string that is neither digits nor RFC 3339.
    Unparseable(String),
    /// Out of the range chrono can represent.
    OutOfRange,
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

/// The range of times accepted: years 0..=9999 in epoch milliseconds.
const MIN_MS: i64 = -62_167_219_200_000;
const MAX_MS: i64 = 253_402_300_799_999;

/// Parses an event time: a string of digits (epoch milliseconds) or RFC 3339 with any
/// offset. Returns UTC epoch milliseconds.
pub fn parse_time(s: &str) -> Result<i64, TimeError> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        let ms: i64 = t.parse().map_err(|_| TimeError::OutOfRange)?;
        return check_range(ms);
    }
    match DateTime::parse_from_rfc3339(t) {
        Ok(dt) => check_range(dt.timestamp_millis()),
        Err(_) => Err(TimeError::Unparseable(s.to_string())),
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
    let date = chrono::NaiveDate::from_ymd_opt(year, digits(5..7)?, digits(8..10)?)?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
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

fn check_range(ms: i64) -> Result<i64, TimeError> {
    if (MIN_MS..=MAX_MS).contains(&ms) {
        Ok(ms)
    } else {
        Err(TimeError::OutOfRange)
    }
}

/// Formats epoch milliseconds as RFC 3339 UTC with milliseconds: `2026-11-21T10:15:30.123Z`.
pub fn format_time_ms(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(dt) => dt.to_rfc3339_opts(SecondsFormat::Millis, true),
        None => ms.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn time_forms() {
        assert_eq!(parse_time("1763719530123"), Ok(1_763_719_530_123));
        assert_eq!(
            parse_time("2026-11-21T10:05:30.123Z"),
            Ok(1_763_719_530_123 + 365 * 86_400_000)
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
        assert_eq!(parse_time_value(&json!(true)), Err(TimeError::WrongType));
        assert_eq!(
            parse_time("99999999999999999999"),
            Err(TimeError::OutOfRange)
        );
    }

    #[test]
    fn formats_utc_millis() {
        assert_eq!(
            format_time_ms(1_763_719_530_123),
            "2025-11-21T10:05:30.123Z"
        );
        assert_eq!(format_time_ms(0), "1970-01-01T00:00:00.000Z");
    }
}
