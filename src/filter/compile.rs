//! Compiles the IR into a program: fields become slots, values are typed and checked,
//! regexes, sets, networks and case-folded patterns are built once.

use super::check::{check, literal_kind, regex};
use super::error::{self, FilterError};
use super::fields::{self, FieldType};
use super::ir::{Ir, Literal, Op, Preset, TimeVal};
use super::precheck::PreCheck;
use super::program::{Glob, Net, Node, PathTree, Pred, Program, Scalar, Slots};
use crate::time::{MAX_MS, MAX_OFFSET_MS, MIN_MS};

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
        stop_keys: tree.stop_keys(),
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

fn time_val(lit: &Literal) -> Result<TimeVal, FilterError> {
    match lit {
        Literal::Time(t) if (MIN_MS..=MAX_MS).contains(t) => Ok(TimeVal::Abs(*t)),
        Literal::Now(off) if off % 1000 == 0 && off.unsigned_abs() <= MAX_OFFSET_MS as u64 => {
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
