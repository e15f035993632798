//! Evaluates a compiled program over an event, whichever way its fields were read.

use std::net::IpAddr;

use serde_json::{Number, Value};

use super::ir::TimeVal;
use super::ir::{Ir, Op};
use super::print;
use super::program::{Node, Pred, Program, Scalar, Slots};
use super::TermResult;
use crate::time::{parse_time, parse_time_value};

/// A present, non-null field value.
#[derive(Debug, Clone, Copy)]
pub(super) enum Leaf<'a> {
    Str(&'a str),
    Num(&'a Number),
    Bool(bool),
    /// A time already read (a table's time column): only time predicates apply to it, as
    /// they are the only ones the compiler gives a time field.
    Time(i64),
    /// An object or array.
    Other,
}

impl<'a> Leaf<'a> {
    pub(super) fn of(v: &'a Value) -> Option<Leaf<'a>> {
        match v {
            Value::Null => None,
            Value::String(s) => Some(Leaf::Str(s)),
            Value::Number(n) => Some(Leaf::Num(n)),
            Value::Bool(b) => Some(Leaf::Bool(*b)),
            _ => Some(Leaf::Other),
        }
    }
}

/// Where the evaluator reads field values from.
pub(super) trait Source {
    fn leaf(&self, slot: usize) -> Option<Leaf<'_>>;
    /// Whether any string value of the event contains `needle` (lowercased),
    /// case-insensitively.
    fn has_text(&self, needle: &str) -> bool;
    /// Whether `pred` holds for the value in `slot`; `None` when there is no value. A
    /// source that keeps each distinct value once answers from its answers per value.
    fn test(&self, slot: usize, pred: &Pred, now: i64) -> Option<bool> {
        self.leaf(slot).map(|l| test(pred, l, now))
    }
}

/// An event held as a `serde_json::Value`.
pub(super) struct ValueSource<'a> {
    pub(super) event: &'a Value,
    pub(super) slots: &'a [Vec<String>],
}

impl Source for ValueSource<'_> {
    fn leaf(&self, slot: usize) -> Option<Leaf<'_>> {
        let path = self.slots.get(slot)?;
        let mut cur = self.event;
        for part in path {
            cur = cur.as_object()?.get(part.as_str())?;
        }
        Leaf::of(cur)
    }

    fn has_text(&self, needle: &str) -> bool {
        any_string(self.event, needle)
    }
}

pub(super) fn any_string(v: &Value, needle: &str) -> bool {
    match v {
        Value::String(s) => contains_folded(s, needle),
        Value::Array(a) => a.iter().any(|x| any_string(x, needle)),
        Value::Object(m) => m.values().any(|x| any_string(x, needle)),
        _ => false,
    }
}

/// Case-insensitive (Unicode lowercase) containment; `needle` is already lowercased.
pub(super) fn contains_folded(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if hay.is_ascii() && needle.is_ascii() {
        let (h, n) = (hay.as_bytes(), needle.as_bytes());
        if n.len() > h.len() {
            return false;
        }
        return h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    hay.to_lowercase().contains(needle)
}

impl Program {
    pub(super) fn eval_value(&self, event: &Value, now_ms: i64) -> bool {
        let src = ValueSource {
            event,
            slots: &self.slots,
        };
        eval(&self.root, &src, now_ms)
    }
}

pub(super) fn eval(node: &Node, src: &dyn Source, now: i64) -> bool {
    match node {
        Node::All => true,
        Node::And(ts) => ts.iter().all(|t| eval(t, src, now)),
        Node::Or(ts) => ts.iter().any(|t| eval(t, src, now)),
        Node::Not(t) => !eval(t, src, now),
        Node::Exists(slots) => match *slots {
            Slots::One(a) => src.leaf(a).is_some(),
            Slots::Either(a, b) => src.leaf(a).is_some() || src.leaf(b).is_some(),
        },
        Node::Text(needle) => src.has_text(needle),
        Node::Test {
            slots,
            pred,
            negated,
        } => {
            let (a, b) = match *slots {
                Slots::One(a) => (src.test(a, pred, now), None),
                Slots::Either(a, b) => (src.test(a, pred, now), src.test(b, pred, now)),
            };
            if a.is_none() && b.is_none() {
                return false;
            }
            // Positive: any present value satisfies. Negated (`!=`, `not in`): none does.
            let hit = a == Some(true) || b == Some(true);
            hit != *negated
        }
    }
}

pub(super) fn test(pred: &Pred, leaf: Leaf<'_>, now: i64) -> bool {
    match pred {
        Pred::Eq(s) => scalar_eq(s, leaf),
        Pred::In(set) => set.iter().any(|s| scalar_eq(s, leaf)),
        Pred::Ord(op, s) => match (s, leaf) {
            (Scalar::Str(v), Leaf::Str(x)) => ord(*op, x.cmp(v.as_str())),
            (Scalar::Num(v), Leaf::Num(x)) => match x.as_f64().and_then(|x| x.partial_cmp(v)) {
                Some(o) => ord(*op, o),
                None => false,
            },
            _ => false,
        },
        Pred::Contains(v) => matches!(leaf, Leaf::Str(x) if x.contains(v.as_str())),
        Pred::StartsWith(v) => matches!(leaf, Leaf::Str(x) if x.starts_with(v.as_str())),
        Pred::EndsWith(v) => matches!(leaf, Leaf::Str(x) if x.ends_with(v.as_str())),
        Pred::Regex(re) => matches!(leaf, Leaf::Str(x) if re.is_match(x)),
        Pred::Like(g) => match leaf {
            Leaf::Str(x) => g.matches_folded(x),
            Leaf::Num(_) | Leaf::Bool(_) if !g.scalars => false,
            Leaf::Num(n) => match &g.number {
                Some(v) => n.as_f64() == Some(*v),
                None => g.matches_lower(&n.to_string()),
            },
            Leaf::Bool(b) => g.matches_lower(if b { "true" } else { "false" }),
            Leaf::Time(_) | Leaf::Other => false,
        },
        Pred::Time(op, tv) => match leaf_time(leaf) {
            Some(t) => ord(*op, t.cmp(&tv.at(now))),
            None => false,
        },
        Pred::TimeIn(set) => match leaf_time(leaf) {
            Some(t) => set.iter().any(|tv: &TimeVal| tv.at(now) == t),
            None => false,
        },
        Pred::Ip(nets) => match leaf {
            Leaf::Str(x) => match x.parse::<IpAddr>() {
                Ok(ip) => nets.iter().any(|n| n.contains(ip)),
                Err(_) => false,
            },
            _ => false,
        },
    }
}

fn scalar_eq(s: &Scalar, leaf: Leaf<'_>) -> bool {
    match (s, leaf) {
        (Scalar::Str(v), Leaf::Str(x)) => v == x,
        (Scalar::Num(v), Leaf::Num(x)) => x.as_f64() == Some(*v),
        (Scalar::Bool(v), Leaf::Bool(x)) => *v == x,
        _ => false,
    }
}

fn ord(op: Op, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        Op::Lt => o == Less,
        Op::Le => o != Greater,
        Op::Gt => o == Greater,
        Op::Ge => o != Less,
        _ => o == Equal,
    }
}

fn leaf_time(leaf: Leaf<'_>) -> Option<i64> {
    match leaf {
        Leaf::Time(t) => Some(t),
        Leaf::Str(s) => parse_time(s).ok(),
        Leaf::Num(n) => parse_time_value(&Value::Number(n.clone())).ok(),
        _ => None,
    }
}

/// Walks the IR and the compiled nodes side by side, recording each leaf term.
pub(super) fn explain(
    ir: &Ir,
    program: &Program,
    event: &Value,
    now: i64,
    out: &mut Vec<TermResult>,
) {
    let src = ValueSource {
        event,
        slots: &program.slots,
    };
    walk(ir, &program.root, &src, now, out);
}

fn walk(ir: &Ir, node: &Node, src: &dyn Source, now: i64, out: &mut Vec<TermResult>) {
    match (ir, node) {
        (Ir::And { terms }, Node::And(nodes)) | (Ir::Or { terms }, Node::Or(nodes)) => {
            for (t, n) in terms.iter().zip(nodes) {
                walk(t, n, src, now, out);
            }
        }
        (Ir::Not { term }, Node::Not(n)) => walk(term, n, src, now, out),
        (Ir::All, _) => {}
        _ => out.push(TermResult {
            term: print::print(ir),
            matched: eval(node, src, now),
        }),
    }
}
