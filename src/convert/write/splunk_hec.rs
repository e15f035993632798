//! The Splunk HEC writer: one envelope per event, `\n` between them, as
//! `/services/collector/event` accepts.

use std::io::{self, Write};

use serde_json::{Map, Value};

use super::{json_to, not_an_object};
use crate::event::field;
use crate::event::get_path;
use crate::time::parse_time_value;

/// The envelope's options.
#[derive(Debug, Clone)]
pub struct HecOptions {
    pub host: Option<String>,
    pub source: Option<String>,
    /// Default `harness:audit`.
    pub sourcetype: Option<String>,
    pub index: Option<String>,
    /// Indexed fields: (name, dotted path in the event). Default: `account`
    /// (`auditResourceScope.accountIdentifier`), `module` (`auditModule`) and `action`
    /// (`auditAction`). A field the event lacks is left out; an empty list writes no
    /// `fields`.
    pub fields: Vec<(String, String)>,
}

impl Default for HecOptions {
    fn default() -> Self {
        HecOptions {
            host: None,
            source: None,
            sourcetype: Some("harness:audit".into()),
            index: None,
            fields: [
                ("account", field::ACCOUNT),
                ("module", field::MODULE),
                ("action", field::ACTION),
            ]
            .iter()
            .map(|(n, p)| (n.to_string(), p.to_string()))
            .collect(),
        }
    }
}

pub fn write(out: &mut dyn Write, event: &Value, opts: &HecOptions) -> io::Result<()> {
    let Value::Object(map) = event else {
        return Err(not_an_object());
    };
    out.write_all(b"{")?;
    let mut first = true;
    if let Some(ms) = map.get(field::TIME).and_then(|t| parse_time_value(t).ok()) {
        let secs = ms.div_euclid(1000);
        let frac = ms.rem_euclid(1000);
        write!(out, "\"time\":{secs}.{frac:03}")?;
        first = false;
    }
    for (key, value) in [
        ("host", &opts.host),
        ("source", &opts.source),
        ("sourcetype", &opts.sourcetype),
        ("index", &opts.index),
    ] {
        if let Some(v) = value {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            write!(out, "\"{key}\":")?;
            json_to(out, &Value::String(v.clone()))?;
        }
    }
    let mut fields = Map::new();
    for (name, path) in &opts.fields {
        if let Some(v) = get_path(map, path) {
            // HEC indexed field values are strings.
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            fields.insert(name.clone(), Value::String(text));
        }
    }
    if !fields.is_empty() {
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        out.write_all(b"\"fields\":")?;
        json_to(out, &Value::Object(fields))?;
    }
    if !first {
        out.write_all(b",")?;
    }
    out.write_all(b"\"event\":")?;
    json_to(out, event)?;
    out.write_all(b"}\n")
}
