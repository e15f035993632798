//! Splunk HEC bodies: envelope objects one after another; each envelope's `event` is the
//! audit event. (The JSON reader splits the body; this unwraps each envelope.)

use serde_json::Value;

use crate::convert::ErrorCode;
use crate::event::json_kind;

/// The event of one envelope: its `event` object (or a string holding one).
pub(crate) fn unwrap(envelope: Value) -> Result<Value, (ErrorCode, String)> {
    let Value::Object(mut map) = envelope else {
        return Err((ErrorCode::NotAnObject, "expected an envelope object".into()));
    };
    match map.remove("event") {
        Some(event @ Value::Object(_)) => Ok(event),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(&text) {
            Ok(event @ Value::Object(_)) => Ok(event),
            _ => Err((
                ErrorCode::BadEnvelope,
                "the envelope's event is a string that is not an event object".into(),
            )),
        },
        Some(other) => Err((
            ErrorCode::BadEnvelope,
            format!(
                "the envelope's event is {}, not an object",
                json_kind(&other)
            ),
        )),
        None => Err((ErrorCode::BadEnvelope, "the envelope has no event".into())),
    }
}
