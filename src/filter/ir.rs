//! The canonical filter IR that text, structured and Logpush filters all compile to.
//!
//! The IR serialises to JSON without loss. It is kept normalised: `and`/`or` hold at
//! least two terms and never a direct child of their own kind, so printing and parsing a
//! filter gives back the same IR.

use serde::{Deserialize, Serialize};

/// One node of a filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Ir {
    /// Matches every event (the empty query).
    All,
    And {
        terms: Vec<Ir>,
    },
    Or {
        terms: Vec<Ir>,
    },
    Not {
        term: Box<Ir>,
    },
    /// `field op value`. `field` is a canonical path (`auditAction`,
    /// `auditEventMetadata.batchId`) or `user`.
    Cmp {
        field: String,
        op: Op,
        value: Literal,
    },
    /// `field in {..}`, or `field not in {..}` when `negated`.
    In {
        field: String,
        values: Vec<Literal>,
        #[serde(default)]
        negated: bool,
    },
    /// `field exists`.
    Exists {
        field: String,
    },
    /// A free-text term: any string value of the event contains it, case-insensitively.
    Text {
        text: String,
    },
    /// `is:login`, `is:system`.
    Preset {
        preset: Preset,
    },
}

/// Comparison operators. `like` is the qualifier match: case-insensitive equality where
/// `*` matches any run of characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    StartsWith,
    EndsWith,
    Matches,
    Like,
}

impl Op {
    /// The operator as written in expression text (`like` prints as a qualifier).
    pub fn text(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Contains => "contains",
            Op::StartsWith => "starts_with",
            Op::EndsWith => "ends_with",
            Op::Matches => "matches",
            Op::Like => ":",
        }
    }
}

/// A typed value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Literal {
    Str(String),
    Num(f64),
    Bool(bool),
    /// UTC epoch milliseconds.
    Time(i64),
    /// Relative to the evaluation's "now": offset in milliseconds (`now-7d` is
    /// `-604800000`), a whole number of seconds.
    Now(i64),
    /// An IP address or CIDR network in canonical text (`10.0.0.0/8`, `2001:db8::1`).
    Ip(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    Login,
    System,
}

impl Preset {
    pub const ALL: [Preset; 2] = [Preset::Login, Preset::System];

    pub fn name(self) -> &'static str {
        match self {
            Preset::Login => "login",
            Preset::System => "system",
        }
    }
}

impl Ir {
    /// `and` of terms, normalised: nested `and`s are flattened, `all` terms dropped.
    pub fn and(terms: Vec<Ir>) -> Ir {
        let mut out = Vec::with_capacity(terms.len());
        for t in terms {
            match t {
                Ir::And { terms } => out.extend(terms),
                Ir::All => {}
                other => out.push(other),
            }
        }
        match out.len() {
            0 => Ir::All,
            1 => out.pop().unwrap_or(Ir::All),
            _ => Ir::And { terms: out },
        }
    }

    /// `or` of terms, normalised: nested `or`s are flattened; an `all` term makes it `all`.
    pub fn or(terms: Vec<Ir>) -> Ir {
        let mut out = Vec::with_capacity(terms.len());
        for t in terms {
            match t {
                Ir::Or { terms } => out.extend(terms),
                Ir::All => return Ir::All,
                other => out.push(other),
            }
        }
        match out.len() {
            0 => Ir::All,
            1 => out.pop().unwrap_or(Ir::All),
            _ => Ir::Or { terms: out },
        }
    }

    pub fn negate(term: Ir) -> Ir {
        Ir::Not {
            term: Box::new(term),
        }
    }

    /// Normalises a tree built by hand or read from JSON (see [`Ir::and`], [`Ir::or`]).
    pub fn normalize(self) -> Ir {
        match self {
            Ir::And { terms } => Ir::and(terms.into_iter().map(Ir::normalize).collect()),
            Ir::Or { terms } => Ir::or(terms.into_iter().map(Ir::normalize).collect()),
            Ir::Not { term } => Ir::negate(term.normalize()),
            other => other,
        }
    }

    /// Whether the tree nests deeper than `limit`, checked without recursion so that a
    /// hostile tree cannot exhaust the stack.
    pub fn deeper_than(&self, limit: usize) -> bool {
        let mut stack: Vec<(&Ir, usize)> = vec![(self, 1)];
        while let Some((node, d)) = stack.pop() {
            if d > limit {
                return true;
            }
            match node {
                Ir::And { terms } | Ir::Or { terms } => {
                    stack.extend(terms.iter().map(|t| (t, d + 1)))
                }
                Ir::Not { term } => stack.push((term, d + 1)),
                _ => {}
            }
        }
        false
    }

    /// Takes a tree apart without recursion (dropping a deep tree recurses per level).
    pub fn dismantle(self) {
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            match node {
                Ir::And { terms } | Ir::Or { terms } => stack.extend(terms),
                Ir::Not { term } => stack.push(*term),
                _ => {}
            }
        }
    }

    /// Nesting depth (a leaf is 1).
    pub fn depth(&self) -> usize {
        match self {
            Ir::And { terms } | Ir::Or { terms } => {
                1 + terms.iter().map(Ir::depth).max().unwrap_or(0)
            }
            Ir::Not { term } => 1 + term.depth(),
            _ => 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
/// A time value of a comparison: absolute, or relative to "now".
pub enum TimeVal {
    Abs(i64),
    Now(i64),
}

impl TimeVal {
    pub fn at(self, now_ms: i64) -> i64 {
        match self {
            TimeVal::Abs(t) => t,
            TimeVal::Now(off) => now_ms.saturating_add(off),
        }
    }
}
