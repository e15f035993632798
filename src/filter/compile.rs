//! Compiles the IR into a program: fields become slots, values are typed and checked,
//! regexes, sets, networks and case-folded patterns are built once.

use std::net::IpAddr;

use super::error::{self, FilterError};
use super::fast::PathTree;
use super::fields::{self, FieldType};
use super::ir::{Ir, Literal, Op, Preset};
use super::precheck::PreCheck;

/// The compiled form of a filter.
#[derive(Debug, Clone)]
pub struct Program {
    pub(super) root: Node,
    /// Canonical paths read, one per slot, split at dots.
    pub(super) slots: Vec<Vec<String>>,
    /// Whether any free-text term is present (it reads every string).
    pub(super) text: bool,
    /// Strings a line must hold to match, checked before it is parsed.
    pub(super) precheck: PreCheck,
    /// The slots as a tree of object keys, for the fast path.
    pub(super) tree: PathTree,
}

#[derive(Debug, Clone)]
pub(super) enum Node {
    All,
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// A comparison on one field, or on either of two for `user`.
    Test {
        slots: Slots,
        pred: Pred,
        negated: bool,
    },
    Exists(Slots),
    /// Lowercased needle.
    Text(String),
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Slots {
    One(usize),
    Either(usize, usize),
}

/// A positive predicate on a present, non-null value.
#[derive(Debug, Clone)]
pub(super) enum Pred {
    Eq(Scalar),
    In(Vec<Scalar>),
    Ord(Op, Scalar),
    Contains(String),
    StartsWith(String),
    EndsWith(String),
    Regex(Box<regex_lite::Regex>),
    Like(Glob),
    Time(Op, TimeVal),
    TimeIn(Vec<TimeVal>),
    Ip(Vec<Net>),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Scalar {
    Str(String),
    Num(f64),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum TimeVal {
    Abs(i64),
    Now(i64),
}

impl TimeVal {
    pub(super) fn at(self, now_ms: i64) -> i64 {
        match self {
            TimeVal::Abs(t) => t,
            TimeVal::Now(off) => now_ms.saturating_add(off),
        }
    }
}

/// A case-insensitive glob: lowercased parts between `*`s.
#[derive(Debug, Clone)]
pub(super) struct Glob {
    pub(super) parts: Vec<String>,
    pub(super) star: bool,
    /// The pattern as a number when it is one, so that `metadata.count:5` matches `5.0`.
    pub(super) number: Option<f64>,
    /// Whether numbers and booleans match by their JSON text (metadata fields).
    pub(super) scalars: bool,
}

/// An IP network (a single address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Net {
    /// Parses `10.0.0.0/8`, `10.1.2.3`, `2001:db8::/32`, `::1`.
    pub fn parse(s: &str) -> Option<Net> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|n| *n <= max)?
            }
            Some(_) => return None,
            None => max,
        };
        Some(Net { addr, prefix })
    }

    pub fn is_single(&self) -> bool {
        self.prefix == if self.addr.is_ipv4() { 32 } else { 128 }
    }

    /// Canonical text: the address as given, with `/prefix` unless it is a single address.
    pub fn text(&self) -> String {
        if self.is_single() {
            self.addr.to_string()
        } else {
            format!("{}/{}", self.addr, self.prefix)
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

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

pub fn literal_kind(lit: &Literal) -> String {
    match lit {
        Literal::Str(s) => format!(
            "the string {}",
            serde_json::to_string(s).unwrap_or_default()
        ),
        Literal::Num(n) => format!("the number {n}"),
        Literal::Bool(b) => format!("the boolean {b}"),
        Literal::Time(_) | Literal::Now(_) => "a time".into(),
        Literal::Ip(s) => format!("the IP {s}"),
    }
}

struct Compiler {
    slots: Vec<Vec<String>>,
    text: bool,
}

pub fn compile(ir: &Ir) -> Result<Program, FilterError> {
    let mut c = Compiler {
        slots: Vec::new(),
        text: false,
    };
    let root = c.node(ir)?;
    let tree = PathTree::build(&c.slots);
    Ok(Program {
        root,
        slots: c.slots,
        text: c.text,
        precheck: PreCheck::new(ir),
        tree,
    })
}

impl Compiler {
    fn slot(&mut self, path: &str) -> usize {
        let parts: Vec<String> = path.split('.').map(str::to_string).collect();
        if let Some(i) = self.slots.iter().position(|p| *p == parts) {
            return i;
        }
        self.slots.push(parts);
        self.slots.len() - 1
    }

    fn field(&mut self, field: &str) -> Result<(Slots, FieldType), FilterError> {
        let ty = fields::type_of_canonical(field).ok_or_else(|| {
            FilterError::new(
                error::UNKNOWN_FIELD,
                format!(
                    "unknown field {field:?} in IR, did you mean {:?}?",
                    fields::closest(field)
                ),
            )
        })?;
        let slots = if ty == FieldType::User {
            Slots::Either(
                self.slot(fields::PRINCIPAL_ID),
                self.slot(fields::PRINCIPAL_EMAIL),
            )
        } else {
            Slots::One(self.slot(field))
        };
        Ok((slots, ty))
    }

    fn node(&mut self, ir: &Ir) -> Result<Node, FilterError> {
        Ok(match ir {
            Ir::All => Node::All,
            Ir::And { terms } => Node::And(
                terms
                    .iter()
                    .map(|t| self.node(t))
                    .collect::<Result<_, _>>()?,
            ),
            Ir::Or { terms } => Node::Or(
                terms
                    .iter()
                    .map(|t| self.node(t))
                    .collect::<Result<_, _>>()?,
            ),
            Ir::Not { term } => Node::Not(Box::new(self.node(term)?)),
            Ir::Exists { field } => Node::Exists(self.field(field)?.0),
            Ir::Text { text } => {
                self.text = true;
                Node::Text(text.to_lowercase())
            }
            Ir::Preset { preset } => match preset {
                Preset::Login => Node::Test {
                    slots: Slots::One(self.slot(fields::ACTION)),
                    pred: Pred::In(
                        ["LOGIN", "LOGIN2FA", "UNSUCCESSFUL_LOGIN"]
                            .iter()
                            .map(|s| Scalar::Str(s.to_string()))
                            .collect(),
                    ),
                    negated: false,
                },
                Preset::System => Node::Test {
                    slots: Slots::One(self.slot(fields::PRINCIPAL_TYPE)),
                    pred: Pred::Eq(Scalar::Str("SYSTEM".into())),
                    negated: false,
                },
            },
            Ir::Cmp { field, op, value } => {
                let (slots, ty) = self.field(field)?;
                check(field, ty, *op, value).map_err(|(c, m)| FilterError::new(c, m))?;
                let negated = *op == Op::Ne;
                let pred = pred(ty, *op, value)?;
                Node::Test {
                    slots,
                    pred,
                    negated,
                }
            }
            Ir::In {
                field,
                values,
                negated,
            } => {
                let (slots, ty) = self.field(field)?;
                if values.is_empty() {
                    return Err(FilterError::new(
                        error::EMPTY_SET,
                        "an in set needs at least one value",
                    ));
                }
                for v in values {
                    check(field, ty, Op::Eq, v).map_err(|(c, m)| FilterError::new(c, m))?;
                }
                let pred = match ty {
                    FieldType::Time => {
                        Pred::TimeIn(values.iter().map(time_val).collect::<Result<_, _>>()?)
                    }
                    FieldType::Ip => Pred::Ip(values.iter().map(net).collect::<Result<_, _>>()?),
                    _ => Pred::In(values.iter().map(scalar).collect::<Result<_, _>>()?),
                };
                Node::Test {
                    slots,
                    pred,
                    negated: *negated,
                }
            }
        })
    }
}

fn pred(ty: FieldType, op: Op, value: &Literal) -> Result<Pred, FilterError> {
    let text = || match value {
        Literal::Str(s) => s.clone(),
        _ => String::new(),
    };
    Ok(match op {
        Op::Contains => Pred::Contains(text()),
        Op::StartsWith => Pred::StartsWith(text()),
        Op::EndsWith => Pred::EndsWith(text()),
        Op::Matches => Pred::Regex(Box::new(regex(&text())?)),
        Op::Like => {
            let mut g = Glob::new(&text());
            // Only metadata values may be numbers or booleans matched by their text.
            g.scalars = ty == FieldType::Any;
            Pred::Like(g)
        }
        Op::Eq | Op::Ne => match ty {
            FieldType::Time => Pred::Time(Op::Eq, time_val(value)?),
            FieldType::Ip => Pred::Ip(vec![net(value)?]),
            _ => Pred::Eq(scalar(value)?),
        },
        Op::Lt | Op::Le | Op::Gt | Op::Ge => match ty {
            FieldType::Time => Pred::Time(op, time_val(value)?),
            _ => Pred::Ord(op, scalar(value)?),
        },
    })
}

/// Compiles a regular expression (linear time, no backreferences or lookaround); also
/// used by the parser to report a bad pattern at its span.
pub fn regex(pattern: &str) -> Result<regex_lite::Regex, FilterError> {
    regex_lite::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| FilterError::new(error::BAD_REGEX, format!("invalid regular expression: {e}")))
}

fn scalar(lit: &Literal) -> Result<Scalar, FilterError> {
    match lit {
        Literal::Str(s) => Ok(Scalar::Str(s.clone())),
        Literal::Num(n) if n.is_finite() => Ok(Scalar::Num(*n)),
        Literal::Bool(b) => Ok(Scalar::Bool(*b)),
        other => Err(FilterError::new(
            error::TYPE_MISMATCH,
            format!(
                "expected a string, number or boolean, found {}",
                literal_kind(other)
            ),
        )),
    }
}

/// Earliest and latest times a filter can name (years 0..=9999).
pub const MIN_MS: i64 = -62_167_219_200_000;
pub const MAX_MS: i64 = 253_402_300_799_999;

fn time_val(lit: &Literal) -> Result<TimeVal, FilterError> {
    match lit {
        Literal::Time(t) if (MIN_MS..=MAX_MS).contains(t) => Ok(TimeVal::Abs(*t)),
        Literal::Now(off) if off % 1000 == 0 && off.unsigned_abs() <= 1 << 50 => {
            Ok(TimeVal::Now(*off))
        }
        other => Err(FilterError::new(
            error::BAD_TIME,
            format!("{} is not a time the filter can use", literal_kind(other)),
        )),
    }
}

fn net(lit: &Literal) -> Result<Net, FilterError> {
    match lit {
        Literal::Ip(s) => Net::parse(s).filter(|n| n.text() == *s).ok_or_else(|| {
            FilterError::new(
                error::BAD_IP,
                format!("{s:?} is not a canonical IP address or CIDR"),
            )
        }),
        other => Err(FilterError::new(
            error::TYPE_MISMATCH,
            format!("expected an IP, found {}", literal_kind(other)),
        )),
    }
}

impl Glob {
    pub(super) fn new(pattern: &str) -> Glob {
        let lower = pattern.to_lowercase();
        Glob {
            number: if super::parse::is_number(pattern) {
                pattern.parse().ok()
            } else {
                None
            },
            star: lower.contains('*'),
            scalars: true,
            parts: lower.split('*').map(str::to_string).collect(),
        }
    }

    /// Matches a value that is already lowercased.
    pub(super) fn matches_lower(&self, value: &str) -> bool {
        if !self.star {
            return self.parts.first().is_some_and(|p| p == value);
        }
        let (first, rest) = match self.parts.split_first() {
            Some(x) => x,
            None => return false,
        };
        let (last, middle) = match rest.split_last() {
            Some(x) => x,
            None => return false,
        };
        let Some(mut v) = value.strip_prefix(first.as_str()) else {
            return false;
        };
        if v.len() < last.len() {
            return false;
        }
        let tail_start = v.len() - last.len();
        if !v.is_char_boundary(tail_start) || &v[tail_start..] != last.as_str() {
            return false;
        }
        v = &v[..tail_start];
        for part in middle {
            match v.find(part.as_str()) {
                Some(i) => v = &v[i + part.len()..],
                None => return false,
            }
        }
        true
    }
}

/// Bounds on `auditEventTime` from time comparisons ANDed at the top level.
pub fn time_bounds(ir: &Ir, now_ms: i64) -> (Option<i64>, Option<i64>) {
    let terms: &[Ir] = match ir {
        Ir::And { terms } => terms,
        other => std::slice::from_ref(other),
    };
    let (mut lo, mut hi): (Option<i64>, Option<i64>) = (None, None);
    let mut raise = |v: i64| lo = Some(lo.map_or(v, |l| l.max(v)));
    let mut lower = |v: i64| hi = Some(hi.map_or(v, |h| h.min(v)));
    for t in terms {
        let Ir::Cmp { field, op, value } = t else {
            continue;
        };
        if field != fields::TIME {
            continue;
        }
        let Ok(tv) = time_val(value) else { continue };
        let v = tv.at(now_ms);
        match op {
            Op::Ge => raise(v),
            Op::Gt => raise(v.saturating_add(1)),
            Op::Le => lower(v),
            Op::Lt => lower(v.saturating_sub(1)),
            Op::Eq => {
                raise(v);
                lower(v);
            }
            _ => {}
        }
    }
    (lo, hi)
}

impl Program {
    pub fn fields(&self) -> Vec<String> {
        self.slots.iter().map(|p| p.join(".")).collect()
    }
    pub fn has_text(&self) -> bool {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let g = Glob::new("CODE_*");
        assert!(g.matches_lower("code_push"));
        assert!(g.matches_lower("code_"));
        assert!(!g.matches_lower("xcode_"));
        let g = Glob::new("*a*b*");
        assert!(g.matches_lower("xaxbx"));
        assert!(!g.matches_lower("ba"));
        let g = Glob::new("a*a");
        assert!(!g.matches_lower("a"));
        assert!(g.matches_lower("aa"));
    }

    #[test]
    fn networks() {
        let n = Net::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.200.1.1".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.0.0.1".parse().unwrap()));
        let n = Net::parse("2001:db8::/32").unwrap();
        assert!(n.contains("2001:db8:1::5".parse().unwrap()));
        assert!(Net::parse("0.0.0.0/0")
            .unwrap()
            .contains("1.2.3.4".parse().unwrap()));
        assert!(Net::parse("10.0.0.0/33").is_none());
        assert!(Net::parse("foo").is_none());
    }
}
