//! Prints IR as canonical expression text; parsing the text gives the same IR.

use super::fields;
use super::ir::{Ir, Literal, Op};
use crate::time::format_ms;

pub fn print(ir: &Ir) -> String {
    match ir {
        Ir::All => String::new(),
        other => {
            let mut out = String::new();
            node(other, &mut out);
            out
        }
    }
}

fn node(ir: &Ir, out: &mut String) {
    match ir {
        Ir::All => out.push_str("()"),
        Ir::And { terms } => join(terms, " and ", out),
        Ir::Or { terms } => join(terms, " or ", out),
        Ir::Not { term } => {
            out.push_str("not ");
            grouped(term, out);
        }
        Ir::Cmp {
            field,
            op: Op::Like,
            value,
        } => {
            out.push_str(&fields::short_name(field));
            out.push(':');
            literal(value, out);
        }
        Ir::Cmp { field, op, value } => {
            out.push_str(&fields::short_name(field));
            out.push(' ');
            out.push_str(op.text());
            out.push(' ');
            literal(value, out);
        }
        Ir::In {
            field,
            values,
            negated,
        } => {
            out.push_str(&fields::short_name(field));
            out.push_str(if *negated { " not in {" } else { " in {" });
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                literal(v, out);
            }
            out.push('}');
        }
        Ir::Exists { field } => {
            out.push_str(&fields::short_name(field));
            out.push_str(" exists");
        }
        Ir::Text { text } => out.push_str(&quote(text)),
        Ir::Preset { preset } => {
            out.push_str("is:");
            out.push_str(preset.name());
        }
    }
}

fn join(terms: &[Ir], sep: &str, out: &mut String) {
    for (i, t) in terms.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        grouped(t, out);
    }
}

/// Parenthesises `and`/`or` so that the printed text keeps the tree's shape.
fn grouped(ir: &Ir, out: &mut String) {
    if matches!(ir, Ir::And { .. } | Ir::Or { .. }) {
        out.push('(');
        node(ir, out);
        out.push(')');
    } else {
        node(ir, out);
    }
}

pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

pub fn literal(lit: &Literal, out: &mut String) {
    match lit {
        Literal::Str(s) => out.push_str(&quote(s)),
        Literal::Num(n) => out.push_str(&serde_json::to_string(n).unwrap_or_default()),
        Literal::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Literal::Time(t) => out.push_str(&format_ms(*t)),
        Literal::Now(off) => out.push_str(&now_text(*off)),
        Literal::Ip(s) => out.push_str(s),
    }
}

/// `now`, `now-7d`, `now+90m`: the largest unit that divides the offset.
pub fn now_text(off: i64) -> String {
    if off == 0 {
        return "now".into();
    }
    let sign = if off < 0 { '-' } else { '+' };
    let abs = off.unsigned_abs();
    for (unit, ms) in [
        ("d", 86_400_000u64),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if abs % ms == 0 {
            return format!("now{sign}{}{unit}", abs / ms);
        }
    }
    format!("now{sign}{}s", abs / 1000)
}
