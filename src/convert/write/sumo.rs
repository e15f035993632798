//! The Sumo Logic writer: one line per event,
//! `{"event":"Harness-Audit-Event-<id>","fields":{<every leaf by dotted path>}}`, with
//! `auditEventTime` as a number (epoch milliseconds).

use std::io::{self, Write};

use serde_json::{Map, Value};

use super::{json_to, not_an_object};
use crate::convert::SUMO_EVENT_PREFIX;
use crate::event::field;
use crate::time::parse_time_value;

pub fn write(out: &mut dyn Write, event: &Value) -> io::Result<()> {
    let Value::Object(map) = event else {
        return Err(not_an_object());
    };
    let id = match map.get(field::ID) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let mut fields = Map::new();
    flatten(map, &mut String::new(), &mut fields);
    if let Some(time) = fields.get_mut(field::TIME) {
        if let Ok(ms) = parse_time_value(time) {
            *time = Value::from(ms);
        }
    }
    out.write_all(b"{\"event\":")?;
    json_to(out, &Value::String(format!("{SUMO_EVENT_PREFIX}{id}")))?;
    out.write_all(b",\"fields\":")?;
    json_to(out, &Value::Object(fields))?;
    out.write_all(b"}\n")
}

/// Every leaf of `map` under its dotted path; arrays and empty objects are leaves.
pub fn flatten(map: &Map<String, Value>, prefix: &mut String, out: &mut Map<String, Value>) {
    for (key, value) in map {
        let len = prefix.len();
        if !prefix.is_empty() {
            prefix.push('.');
        }
        prefix.push_str(key);
        match value {
            Value::Object(inner) if !inner.is_empty() => flatten(inner, prefix, out),
            leaf => {
                out.insert(prefix.clone(), leaf.clone());
            }
        }
        prefix.truncate(len);
    }
}
