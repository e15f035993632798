//! Sumo Logic lines: `{"event": "Harness-Audit-Event-<id>", "fields": {...}}`, one a
//! line; the dotted paths of `fields` are unflattened back into the event.

use serde_json::{Map, Value};

use crate::convert::ErrorCode;
use crate::event::json_kind;

/// The event of one Sumo line.
pub(crate) fn unwrap(line: Value) -> Result<Value, (ErrorCode, String)> {
    let Value::Object(mut map) = line else {
        return Err((ErrorCode::NotAnObject, "expected a Sumo line object".into()));
    };
    match map.remove("fields") {
        Some(Value::Object(fields)) => unflatten(fields).map(Value::Object),
        Some(other) => Err((
            ErrorCode::BadEnvelope,
            format!("the line's fields is {}, not an object", json_kind(&other)),
        )),
        None => Err((ErrorCode::BadEnvelope, "the line has no fields".into())),
    }
}

/// Rebuilds nested objects from dotted paths (`a.b.c` → `{"a":{"b":{"c":..}}}`), keeping
/// the order in which paths first appear.
pub fn unflatten(fields: Map<String, Value>) -> Result<Map<String, Value>, (ErrorCode, String)> {
    let mut root = Map::new();
    for (path, value) in fields {
        insert_path(&mut root, &path, value).map_err(|m| (ErrorCode::BadEnvelope, m))?;
    }
    Ok(root)
}

/// Inserts `value` at the dotted `path`, creating objects on the way.
pub(crate) fn insert_path(
    root: &mut Map<String, Value>,
    path: &str,
    value: Value,
) -> Result<(), String> {
    let mut parts = path.split('.').peekable();
    let mut current = root;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            if current.contains_key(part) {
                return Err(format!("field {path:?} is given twice"));
            }
            current.insert(part.to_string(), value);
            return Ok(());
        }
        let entry = current
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        current = match entry {
            Value::Object(m) => m,
            _ => {
                return Err(format!(
                    "field {path:?} is inside a field that is not an object"
                ))
            }
        };
    }
    Ok(())
}
