//! Import and export of Logpush-style JSON filters (section 5).

use serde_json::{json, Map, Value};

use super::error::{self, FilterError};
use super::fields::{self, FieldType};
use super::ir::{Ir, Literal, Op};
use super::parse;
use super::program::Net;
use super::MAX_DEPTH;

pub fn to_ir(json: &str) -> Result<Ir, FilterError> {
    let value: Value = serde_json::from_str(json).map_err(|e| {
        FilterError::new(
            error::BAD_LOGPUSH,
            format!("invalid Logpush filter JSON: {e}"),
        )
    })?;
    let Value::Object(map) = value else {
        return Err(bad(
            "a Logpush filter must be a JSON object {\"where\": ...}",
        ));
    };
    if let Some(k) = map.keys().find(|k| *k != "where") {
        return Err(FilterError::new(
            error::UNKNOWN_KEY,
            format!("unknown key {k:?} in the Logpush filter"),
        ));
    }
    match map.get("where") {
        None | Some(Value::Null) => Ok(Ir::All),
        Some(Value::Object(m)) if m.is_empty() => Ok(Ir::All),
        Some(w) => node(w, 0),
    }
}

fn bad(msg: impl Into<String>) -> FilterError {
    FilterError::new(error::BAD_LOGPUSH, msg)
}

fn node(v: &Value, depth: usize) -> Result<Ir, FilterError> {
    if depth > MAX_DEPTH {
        return Err(FilterError::new(
            error::TOO_DEEP,
            format!("the Logpush filter nests deeper than {MAX_DEPTH} levels"),
        ));
    }
    let Value::Object(m) = v else {
        return Err(bad("each Logpush condition must be a JSON object"));
    };
    if m.len() == 1 {
        for (kw, and) in [("and", true), ("or", false)] {
            if let Some(list) = m.get(kw) {
                let Value::Array(items) = list else {
                    return Err(bad(format!("{kw:?} must hold a list")));
                };
                let terms = items
                    .iter()
                    .map(|i| node(i, depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                if terms.is_empty() {
                    return Ok(if and { Ir::All } else { Ir::negate(Ir::All) });
                }
                return Ok(if and { Ir::and(terms) } else { Ir::or(terms) });
            }
        }
    }
    condition(m)
}

fn condition(m: &Map<String, Value>) -> Result<Ir, FilterError> {
    if let Some(k) = m
        .keys()
        .find(|k| !["key", "operator", "value"].contains(&k.as_str()))
    {
        return Err(FilterError::new(
            error::UNKNOWN_KEY,
            format!("unknown key {k:?} in a Logpush condition"),
        ));
    }
    let key = m
        .get("key")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("a condition needs a string \"key\""))?;
    let operator = m
        .get("operator")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("a condition needs a string \"operator\""))?;
    let value = m
        .get("value")
        .ok_or_else(|| bad("a condition needs a \"value\""))?;
    let (field, ty) = fields::resolve(key)
        .filter(|(_, t)| *t != FieldType::User)
        .ok_or_else(|| {
            FilterError::new(
                error::UNKNOWN_FIELD,
                format!(
                    "unknown field {key:?}, did you mean {:?}?",
                    fields::closest(key)
                ),
            )
        })?;
    let (op, negated) = match operator {
        "eq" => (Op::Eq, false),
        "!eq" => (Op::Ne, false),
        "lt" => (Op::Lt, false),
        "leq" => (Op::Le, false),
        "gt" => (Op::Gt, false),
        "geq" => (Op::Ge, false),
        "startsWith" => (Op::StartsWith, false),
        "endsWith" => (Op::EndsWith, false),
        "contains" => (Op::Contains, false),
        "!startsWith" => (Op::StartsWith, true),
        "!endsWith" => (Op::EndsWith, true),
        "!contains" => (Op::Contains, true),
        "in" | "!in" => {
            let Value::Array(items) = value else { return Err(bad(format!("{operator} needs a list value"))) };
            let values = items.iter().map(|v| literal(&field, ty, v)).collect::<Result<Vec<_>, _>>()?;
            return Ok(Ir::In { field, values, negated: operator == "!in" });
        }
        other => {
            return Err(bad(format!(
                "unknown operator {other:?}; Logpush operators are eq !eq lt leq gt geq startsWith endsWith !startsWith !endsWith contains !contains in !in"
            )))
        }
    };
    let value = literal(&field, ty, value)?;
    let cmp = Ir::Cmp { field, op, value };
    Ok(if negated { Ir::negate(cmp) } else { cmp })
}

fn literal(field: &str, ty: FieldType, v: &Value) -> Result<Literal, FilterError> {
    let mismatch = || {
        FilterError::new(
            error::TYPE_MISMATCH,
            format!("{v} is not a value for {}", fields::short_name(field)),
        )
    };
    Ok(match (ty, v) {
        (FieldType::Time, Value::Number(n)) => Literal::Time(n.as_i64().ok_or_else(mismatch)?),
        (FieldType::Time, Value::String(s)) => parse::parse_time_literal(s)
            .map(|(l, _)| l)
            .ok_or_else(|| FilterError::new(error::BAD_TIME, format!("{s:?} is not a time")))?,
        (FieldType::Ip, Value::String(s)) => match Net::parse(s) {
            Some(n) => Literal::Ip(n.text()),
            None => Literal::Str(s.clone()),
        },
        (FieldType::Any, Value::Number(n)) => Literal::Num(n.as_f64().ok_or_else(mismatch)?),
        (FieldType::Any, Value::Bool(b)) => Literal::Bool(*b),
        (_, Value::String(s)) => Literal::Str(s.clone()),
        _ => return Err(mismatch()),
    })
}

pub fn from_ir(ir: &Ir) -> Result<String, FilterError> {
    let w = match ir {
        Ir::All => json!({"and": []}),
        other => export(other)?,
    };
    Ok(json!({ "where": w }).to_string())
}

fn unsupported(what: &str) -> FilterError {
    FilterError::new(
        error::LOGPUSH_UNSUPPORTED,
        format!("Logpush filters cannot express {what}"),
    )
}

fn export(ir: &Ir) -> Result<Value, FilterError> {
    Ok(match ir {
        Ir::All => return Err(unsupported("an empty group ()")),
        Ir::And { terms } => {
            json!({"and": terms.iter().map(export).collect::<Result<Vec<_>, _>>()?})
        }
        Ir::Or { terms } => json!({"or": terms.iter().map(export).collect::<Result<Vec<_>, _>>()?}),
        Ir::Not { term } => match &**term {
            Ir::Cmp { field, op, value }
                if matches!(op, Op::StartsWith | Op::EndsWith | Op::Contains) =>
            {
                let name = match op {
                    Op::StartsWith => "!startsWith",
                    Op::EndsWith => "!endsWith",
                    _ => "!contains",
                };
                cond(field, name, value_json(field, value)?)?
            }
            _ => return Err(unsupported("negation (not/-) of this term")),
        },
        Ir::Cmp { field, op, value } => {
            let name = match op {
                Op::Eq => "eq",
                Op::Ne => "!eq",
                Op::Lt => "lt",
                Op::Le => "leq",
                Op::Gt => "gt",
                Op::Ge => "geq",
                Op::Contains => "contains",
                Op::StartsWith => "startsWith",
                Op::EndsWith => "endsWith",
                Op::Matches => return Err(unsupported("regular expressions (matches)")),
                Op::Like => {
                    return Err(unsupported(
                        "qualifier matches (case-insensitive field:value and * globs)",
                    ))
                }
            };
            cond(field, name, value_json(field, value)?)?
        }
        Ir::In {
            field,
            values,
            negated,
        } => {
            let vals = values
                .iter()
                .map(|v| value_json(field, v))
                .collect::<Result<Vec<_>, _>>()?;
            cond(
                field,
                if *negated { "!in" } else { "in" },
                Value::Array(vals),
            )?
        }
        Ir::Exists { .. } => return Err(unsupported("exists")),
        Ir::Text { .. } => return Err(unsupported("free-text terms")),
        Ir::Preset { preset } => {
            return Err(unsupported(&format!("the preset is:{}", preset.name())))
        }
    })
}

fn cond(field: &str, op: &str, value: Value) -> Result<Value, FilterError> {
    if field == fields::USER {
        return Err(unsupported("the user pseudo field (identifier or email)"));
    }
    Ok(json!({"key": field, "operator": op, "value": value}))
}

fn value_json(_field: &str, lit: &Literal) -> Result<Value, FilterError> {
    Ok(match lit {
        Literal::Str(s) => Value::String(s.clone()),
        Literal::Num(n) => json!(n),
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Time(t) => json!(t),
        Literal::Now(_) => return Err(unsupported("relative times (now-N)")),
        Literal::Ip(s) => {
            if Net::parse(s).is_some_and(|n| n.is_single()) {
                Value::String(s.clone())
            } else {
                return Err(unsupported("CIDR networks"));
            }
        }
    })
}
