//! The type rules of the filter language: which operators and values each field type
//! takes, and regular expressions. The parser applies them at a span, the compiler to IR.

use super::error::{self, FilterError};
use super::fields::{self, FieldType};
use super::ir::{Literal, Op};

/// Why a value or operator does not fit a field: (code, message).
pub type Mismatch = (&'static str, String);

/// Checks that `op` and `lit` fit a field of type `ty` (shared by the parser, which
/// attaches a span, and by IR compilation).
pub fn check(field: &str, ty: FieldType, op: Op, lit: &Literal) -> Result<(), Mismatch> {
    let name = fields::short_name(field);
    let kind = literal_kind(lit);
    let bad_value = |want: &str| {
        Err((
            error::TYPE_MISMATCH,
            format!("{name} {} expects {want}, found {kind}", op.text()),
        ))
    };
    let bad_op = |what: &str| {
        Err((
            error::TYPE_MISMATCH,
            format!("{} does not apply to {what} field {name}", op_name(op)),
        ))
    };
    let string_op = matches!(
        op,
        Op::Contains | Op::StartsWith | Op::EndsWith | Op::Matches | Op::Like
    );
    match ty {
        FieldType::Str | FieldType::User => match lit {
            Literal::Str(_) => Ok(()),
            _ => bad_value("a string (quote it)"),
        },
        FieldType::Time => {
            if string_op {
                return bad_op("the time");
            }
            match lit {
                Literal::Time(_) | Literal::Now(_) => Ok(()),
                _ => bad_value("a time"),
            }
        }
        FieldType::Ip => match op {
            Op::Eq | Op::Ne => match lit {
                Literal::Ip(_) => Ok(()),
                _ => bad_value("an IP address or CIDR"),
            },
            Op::Lt | Op::Le | Op::Gt | Op::Ge => bad_op("the IP"),
            _ => match lit {
                Literal::Str(_) => Ok(()),
                _ => bad_value("a string"),
            },
        },
        FieldType::Any => match (op, lit) {
            (_, Literal::Str(_)) => Ok(()),
            (_, Literal::Num(_) | Literal::Bool(_)) if !string_op => Ok(()),
            _ if string_op => bad_value("a string"),
            _ => bad_value("a string, number or boolean"),
        },
    }
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Like => "a qualifier match",
        Op::Lt | Op::Le | Op::Gt | Op::Ge => "ordering",
        other => other.text(),
    }
}

/// A number as a message shows it: whole numbers without a fraction. Written by serde_json
/// (the package links its float writer anyway, not the standard library's).
fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        (n as i64).to_string()
    } else {
        serde_json::to_string(&n).unwrap_or_default()
    }
}

pub fn literal_kind(lit: &Literal) -> String {
    match lit {
        Literal::Str(s) => format!(
            "the string {}",
            serde_json::to_string(s).unwrap_or_default()
        ),
        Literal::Num(n) => format!("the number {}", number_text(*n)),
        Literal::Bool(b) => format!("the boolean {b}"),
        Literal::Time(_) | Literal::Now(_) => "a time".into(),
        Literal::Ip(s) => format!("the IP {s}"),
    }
}

/// Compiles a regular expression (linear time, no backreferences or lookaround); also
/// used by the parser to report a bad pattern at its span.
pub fn regex(pattern: &str) -> Result<regex_lite::Regex, FilterError> {
    regex_lite::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| FilterError::new(error::BAD_REGEX, format!("invalid regular expression: {e}")))
}
