//! The structured filter of section 4 (the JSON a filter form produces), both ways:
//! [`to_ir`] reads one, [`from_ir`] writes the one a filter's IR came from.

use serde_json::{Map, Value};

use super::error::{self, FilterError};
use super::fields;
use super::ir::{Ir, Literal, Op, Preset};
use super::parse;
use super::print;
use crate::event::field;
use crate::time::format_ms;

/// List keys and the field each constrains, in the order their terms are ANDed.
pub(super) const LISTS: &[(&str, &str)] = &[
    ("users", fields::USER),
    ("organizations", field::ORG),
    ("projects", field::PROJECT),
    ("resourceTypes", field::RESOURCE_TYPE),
    ("resourceIdentifiers", field::RESOURCE_ID),
    ("actions", fields::ACTION),
    ("modules", field::MODULE),
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

/// Form slots in the order [`from_map`] ANDs their terms: the lists, then `from`, `to`,
/// `excludeLoginEvents`, `excludeSystemEvents`.
const FROM_SLOT: usize = LISTS.len();
const TO_SLOT: usize = FROM_SLOT + 1;
const LOGIN_SLOT: usize = FROM_SLOT + 2;
const SYSTEM_SLOT: usize = FROM_SLOT + 3;

/// The structured filter (JSON text) that reads back as exactly `ir`, or `None` when no
/// form field can hold any of it.
///
/// `ir` must be normalised (as [`super::Filter`] keeps it). The terms of a top-level
/// `and` fill the form while they are in the order [`to_ir`] writes them (the lists in
/// section 4 order, then `from`, `to`, the two presets), each field once; the first term
/// that does not fit, and every term after it, go to `query` as canonical text. A term
/// fits a list only as exact equality (`==`) on one string or a plain `in` set of two or
/// more strings, so a qualifier such as `action:CREATE` (case-insensitive) stays in the
/// query; `from` takes `time >= t`, `to` takes `time <= t` (an absolute time or
/// `now±n`); the presets take `not is:login` and `not is:system`. The empty filter is
/// the empty form `{}`. The answer is checked by reading it back: whatever it is,
/// `to_ir(answer)` equals `ir`.
pub fn from_ir(ir: &Ir) -> Option<String> {
    let terms: &[Ir] = match ir {
        Ir::All => return Some("{}".into()),
        Ir::And { terms } => terms,
        other => std::slice::from_ref(other),
    };
    let mut slots: Vec<(&str, Value)> = Vec::new();
    let mut next_slot = 0;
    let mut taken = 0;
    for term in terms {
        match slot_of(term) {
            Some((slot, key, value)) if slot >= next_slot => {
                slots.push((key, value));
                next_slot = slot + 1;
                taken += 1;
            }
            _ => break,
        }
    }
    if taken == 0 {
        return None;
    }
    let mut map = Map::new();
    for (key, value) in slots {
        map.insert(key.to_string(), value);
    }
    let rest = terms.get(taken..).unwrap_or_default();
    if !rest.is_empty() {
        let query = print::print(&Ir::and(rest.to_vec()));
        map.insert("query".into(), Value::String(query));
    }
    let json = Value::Object(map).to_string();
    let back = to_ir(&json).ok()?.normalize();
    (back == *ir).then_some(json)
}

/// The form slot, key and value of one term of a conjunction, if the form can hold it.
fn slot_of(term: &Ir) -> Option<(usize, &'static str, Value)> {
    match term {
        Ir::Cmp {
            field,
            op: Op::Eq,
            value: Literal::Str(s),
        } => {
            let (slot, key) = list_slot(field)?;
            Some((slot, key, Value::Array(vec![Value::String(s.clone())])))
        }
        Ir::In {
            field,
            values,
            negated: false,
        } if values.len() >= 2 => {
            let (slot, key) = list_slot(field)?;
            let items = values
                .iter()
                .map(|v| match v {
                    Literal::Str(s) => Some(Value::String(s.clone())),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            Some((slot, key, Value::Array(items)))
        }
        Ir::Cmp { field, op, value } if field == fields::TIME => {
            let (slot, key) = match op {
                Op::Ge => (FROM_SLOT, "from"),
                Op::Le => (TO_SLOT, "to"),
                _ => return None,
            };
            Some((slot, key, time_value(value)?))
        }
        Ir::Not { term } => match term.as_ref() {
            Ir::Preset {
                preset: Preset::Login,
            } => Some((LOGIN_SLOT, "excludeLoginEvents", Value::Bool(true))),
            Ir::Preset {
                preset: Preset::System,
            } => Some((SYSTEM_SLOT, "excludeSystemEvents", Value::Bool(true))),
            _ => None,
        },
        _ => None,
    }
}

fn list_slot(field: &str) -> Option<(usize, &'static str)> {
    LISTS
        .iter()
        .enumerate()
        .find(|(_, (_, f))| *f == field)
        .map(|(i, (key, _))| (i, *key))
}

/// A time bound as the form writes it: RFC 3339 in UTC with milliseconds, `now`,
/// `now-7d`; epoch milliseconds as a number when no text reads back the same.
fn time_value(lit: &Literal) -> Option<Value> {
    let text = match lit {
        Literal::Time(t) => format_ms(*t),
        Literal::Now(off) => print::now_text(*off),
        _ => return None,
    };
    match parse::parse_time_literal(&text) {
        Some((back, false)) if back == *lit => Some(Value::String(text)),
        _ => match lit {
            Literal::Time(t) => Some(Value::from(*t)),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::Filter;
    use serde_json::{json, Value};

    /// `to_structured` of the filter `S` compiles to, as JSON, after checking that it
    /// reads back as the same IR.
    fn form_of(f: &Filter) -> Option<Value> {
        let s = f.to_structured()?;
        let back = Filter::from_structured(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(back.ir(), f.ir(), "{s}");
        Some(serde_json::from_str(&s).unwrap())
    }

    fn from_form(s: Value) -> Option<Value> {
        form_of(&Filter::from_structured(&s.to_string()).unwrap())
    }

    fn from_query(q: &str) -> Option<Value> {
        form_of(&Filter::parse(q).unwrap())
    }

    #[test]
    fn every_key_maps_back() {
        let s = json!({
            "users": ["alice@example.com", "bob"],
            "organizations": ["default"],
            "projects": ["payments", "Payments"],
            "resourceTypes": ["SECRET"],
            "resourceIdentifiers": ["db_password"],
            "actions": ["CREATE", "UPDATE"],
            "modules": ["CORE"],
            "principalTypes": ["USER"],
            "from": "2026-11-01T00:00:00.000Z",
            "to": "now",
            "excludeLoginEvents": true,
            "excludeSystemEvents": true,
            "query": "resourceId starts_with \"prod-\""
        });
        let mut want = s.clone();
        // The query comes back as canonical text.
        want["query"] = json!("resource.identifier starts_with \"prod-\"");
        assert_eq!(from_form(s), Some(want));
    }

    #[test]
    fn empty_and_defaults() {
        assert_eq!(from_form(json!({})), Some(json!({})));
        assert_eq!(from_query(""), Some(json!({})));
        let s =
            json!({"users": [], "actions": null, "excludeLoginEvents": false, "modules": ["CORE"]});
        assert_eq!(from_form(s), Some(json!({"modules": ["CORE"]})));
    }

    #[test]
    fn to_as_a_date_is_the_whole_day() {
        let f = Filter::from_structured(r#"{"from": "2026-11-01", "to": "2026-11-01"}"#).unwrap();
        let form = form_of(&f).unwrap();
        assert_eq!(
            form,
            json!({"from": "2026-11-01T00:00:00.000Z", "to": "2026-11-01T23:59:59.999Z"})
        );
        let back = Filter::from_structured(&form.to_string()).unwrap();
        let late = json!({"auditEventTime": "2026-11-01T23:59:59.500Z"});
        let next = json!({"auditEventTime": "2026-11-02T00:00:00Z"});
        assert!(back.matches(&late, 0));
        assert!(!back.matches(&next, 0));
    }

    #[test]
    fn relative_and_numeric_times() {
        assert_eq!(
            from_form(json!({"from": "now-7d", "to": "NOW-90m"})),
            Some(json!({"from": "now-7d", "to": "now-90m"}))
        );
        assert_eq!(
            from_form(json!({"from": 1767261600000i64})),
            Some(json!({"from": "2026-01-01T10:00:00.000Z"}))
        );
        assert_eq!(
            from_query("time >= now-7d and time <= 2026-01-01"),
            Some(json!({"from": "now-7d", "to": "2026-01-01T00:00:00.000Z"}))
        );
        // `time:date` is the whole day: both bounds.
        assert_eq!(
            from_query("time:2026-01-01"),
            Some(json!({"from": "2026-01-01T00:00:00.000Z", "to": "2026-01-01T23:59:59.999Z"}))
        );
        // Strict bounds are not what the form writes.
        assert_eq!(from_query("time > now-7d"), None);
        assert_eq!(
            from_query("time >= now-7d and time < now"),
            Some(json!({"from": "now-7d", "query": "time < now"}))
        );
    }

    #[test]
    fn case_insensitive_qualifiers_stay_in_the_query() {
        assert_eq!(from_query("action:CREATE"), None);
        assert_eq!(from_query("action:create,update"), None);
        assert_eq!(
            from_query(r#"user == "alice" and action:CREATE"#),
            Some(json!({"users": ["alice"], "query": "action:\"CREATE\""}))
        );
        assert_eq!(
            from_query(r#"action == "CREATE" and -is:login"#),
            Some(json!({"actions": ["CREATE"], "excludeLoginEvents": true}))
        );
        assert_eq!(
            from_query(r#"action in {"CREATE", "UPDATE"} and module == "CORE""#),
            Some(json!({"actions": ["CREATE", "UPDATE"], "modules": ["CORE"]}))
        );
    }

    #[test]
    fn only_what_the_form_expresses_exactly() {
        for q in [
            r#"action != "CREATE""#,
            r#"action not in {"CREATE", "UPDATE"}"#,
            r#"action == "CREATE" or module == "CORE""#,
            r#"not action == "CREATE""#,
            r#"is:login"#,
            r#"id == "ev-1""#,
            r#""free text""#,
            r#"metadata.batchId == "b-7""#,
        ] {
            assert_eq!(from_query(q), None, "{q}");
        }
    }

    #[test]
    fn order_and_repeats_go_to_the_query() {
        // The form writes its terms in a fixed order; a term out of that order (or a
        // field given twice) starts the query so the IR stays the same.
        assert_eq!(
            from_query(r#"action == "X" and user == "a""#),
            Some(json!({"actions": ["X"], "query": "user == \"a\""}))
        );
        assert_eq!(
            from_query(r#"action == "X" and action == "Y" and module == "M""#),
            Some(json!({"actions": ["X"], "query": "action == \"Y\" and module == \"M\""}))
        );
        assert_eq!(
            from_form(json!({"actions": ["X"], "query": "user == \"a\" or is:login"})),
            Some(json!({"actions": ["X"], "query": "user == \"a\" or is:login"}))
        );
        // A query that starts with form terms in order fills the form.
        assert_eq!(
            from_form(json!({"users": ["a"], "query": "action == \"X\""})),
            Some(json!({"users": ["a"], "actions": ["X"]}))
        );
    }
}
