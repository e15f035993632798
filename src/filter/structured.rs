//! The structured filter of section 4 (the JSON a filter form produces).

use serde_json::{Map, Value};

use super::error::{self, FilterError};
use super::fields;
use super::ir::{Ir, Literal, Op, Preset};
use super::parse;

/// List keys and the field each constrains, in the order their terms are ANDed.
const LISTS: &[(&str, &str)] = &[
    ("users", fields::USER),
    ("organizations", "auditResourceScope.orgIdentifier"),
    ("projects", "auditResourceScope.projectIdentifier"),
    ("resourceTypes", "auditResource.type"),
    ("resourceIdentifiers", "auditResource.identifier"),
    ("actions", fields::ACTION),
    ("modules", "auditModule"),
    ("principalTypes", fields::PRINCIPAL_TYPE),
];

const OTHER_KEYS: &[&str] = &[
    "from",
    "to",
    "excludeLoginEvents",
    "excludeSystemEvents",
    "query",
];

pub fn to_ir(json: &str) -> Result<Ir, FilterError> {
    let value: Value = serde_json::from_str(json).map_err(|e| {
        FilterError::new(
            error::BAD_STRUCTURED,
            format!("invalid structured filter JSON: {e}"),
        )
    })?;
    let Value::Object(map) = value else {
        return Err(FilterError::new(
            error::BAD_STRUCTURED,
            "a structured filter must be a JSON object",
        ));
    };
    from_map(&map)
}

fn from_map(map: &Map<String, Value>) -> Result<Ir, FilterError> {
    for key in map.keys() {
        if !LISTS.iter().any(|(k, _)| k == key) && !OTHER_KEYS.contains(&key.as_str()) {
            let known: Vec<&str> = LISTS
                .iter()
                .map(|(k, _)| *k)
                .chain(OTHER_KEYS.iter().copied())
                .collect();
            return Err(FilterError::new(
                error::UNKNOWN_KEY,
                format!(
                    "unknown key {key:?} in the structured filter; known keys: {}",
                    known.join(", ")
                ),
            ));
        }
    }
    let mut terms = Vec::new();
    for (key, field) in LISTS {
        let values = match map.get(*key) {
            None | Some(Value::Null) => continue,
            Some(Value::Array(items)) => items,
            Some(_) => return Err(shape(key, "a list of strings")),
        };
        let mut lits = Vec::with_capacity(values.len());
        for v in values {
            match v {
                Value::String(s) => lits.push(Literal::Str(s.clone())),
                _ => return Err(shape(key, "a list of strings")),
            }
        }
        match lits.len() {
            0 => {}
            1 => terms.push(Ir::Cmp {
                field: field.to_string(),
                op: Op::Eq,
                value: lits.remove(0),
            }),
            _ => terms.push(Ir::In {
                field: field.to_string(),
                values: lits,
                negated: false,
            }),
        }
    }
    for (key, op) in [("from", Op::Ge), ("to", Op::Le)] {
        let lit = match map.get(key) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => match parse::parse_time_literal(s) {
                Some((Literal::Time(t), true)) if op == Op::Le => Literal::Time(t + 86_400_000 - 1),
                Some((lit, _)) => lit,
                None => {
                    return Err(FilterError::new(
                        error::BAD_TIME,
                        format!("{key}: {s:?} is not a time: use RFC 3339, a date, epoch milliseconds or now-7d"),
                    ))
                }
            },
            Some(Value::Number(n)) => match n.as_i64() {
                Some(ms) => Literal::Time(ms),
                None => return Err(FilterError::new(error::BAD_TIME, format!("{key}: {n} is not epoch milliseconds"))),
            },
            Some(_) => return Err(shape(key, "a time string or epoch milliseconds")),
        };
        terms.push(Ir::Cmp {
            field: fields::TIME.to_string(),
            op,
            value: lit,
        });
    }
    for (key, preset) in [
        ("excludeLoginEvents", Preset::Login),
        ("excludeSystemEvents", Preset::System),
    ] {
        match map.get(key) {
            None | Some(Value::Null) | Some(Value::Bool(false)) => {}
            Some(Value::Bool(true)) => terms.push(Ir::negate(Ir::Preset { preset })),
            Some(_) => return Err(shape(key, "true or false")),
        }
    }
    match map.get("query") {
        None | Some(Value::Null) => {}
        Some(Value::String(q)) => {
            let ir = parse::parse(q).map_err(|mut e| {
                e.message = format!("in \"query\": {}", e.message);
                e
            })?;
            terms.push(ir);
        }
        Some(_) => return Err(shape("query", "a string")),
    }
    Ok(Ir::and(terms))
}

fn shape(key: &str, want: &str) -> FilterError {
    FilterError::new(error::BAD_STRUCTURED, format!("{key:?} must be {want}"))
}
