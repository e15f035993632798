//! The compiled form of a filter: what [`compile`](super::compile) builds from the IR and
//! the evaluators ([`eval`](super::eval) on values, [`line`](super::line) on raw lines) run.

use std::net::IpAddr;

use super::ir::{Op, TimeVal};
use super::lex::number;
use super::precheck::PreCheck;
use crate::plain::same_key;

/// Size over speed in the filter's hot paths: in every WebAssembly build (the npm package's
/// .wasm has a 250 kB gzipped budget, BENCHMARKS.md "npm package"), each fast path that
/// would be a second copy of code already there is left out, and the one copy serves.
/// Natively the faster copies are kept. Every place that makes this trade tests `SMALL`;
/// the answers are the same either way.
pub(super) const SMALL: bool = cfg!(target_arch = "wasm32");

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
    /// The tree's top-level keys as JSON text, for stopping a line early (`line::Stop`).
    pub(super) stop_keys: Vec<memchr::memmem::Finder<'static>>,
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

impl Glob {
    pub(super) fn new(pattern: &str) -> Glob {
        let lower = pattern.to_lowercase();
        Glob {
            number: number(pattern),
            star: lower.contains('*'),
            scalars: true,
            parts: lower.split('*').map(str::to_string).collect(),
        }
    }

    /// Matches a value, lowercasing it first (Unicode). An ASCII value is compared in
    /// place, ASCII case-insensitively (its Unicode lowercase is its ASCII lowercase): a
    /// qualifier tests a value on every line, and lowercasing it into a new string was a
    /// tenth of a broad filter's time. Not when [`SMALL`]: a second matcher.
    pub(super) fn matches_folded(&self, value: &str) -> bool {
        if !value.is_ascii() || SMALL {
            return self.matches_lower(&value.to_lowercase());
        }
        let same = |v: &[u8], part: &String| v.eq_ignore_ascii_case(part.as_bytes());
        let v = value.as_bytes();
        let (Some((first, rest)), true) = (self.parts.split_first(), self.star) else {
            return self.parts.first().is_some_and(|p| same(v, p));
        };
        let Some((last, middle)) = rest.split_last() else {
            return false;
        };
        if v.len() < first.len() + last.len() {
            return false;
        }
        let (head, v) = v.split_at(first.len());
        let (mut v, tail) = v.split_at(v.len() - last.len());
        if !same(head, first) || !same(tail, last) {
            return false;
        }
        for part in middle.iter().filter(|p| !p.is_empty()) {
            match v.windows(part.len()).position(|w| same(w, part)) {
                Some(i) => v = &v[i + part.len()..],
                None => return false,
            }
        }
        true
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

impl Program {
    pub fn fields(&self) -> Vec<String> {
        self.slots.iter().map(|p| p.join(".")).collect()
    }
    pub fn has_text(&self) -> bool {
        self.text
    }
}

/// The fields a program reads, as a tree of object keys.
#[derive(Debug, Clone, Default)]
pub(super) struct PathTree {
    pub(super) keys: Vec<(String, Child)>,
    /// Every slot at or below this tree, cleared when the tree is entered again
    /// (a duplicate key replaces the earlier object, as in `serde_json::Value`).
    pub(super) all: Vec<usize>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Child {
    pub(super) slot: Option<usize>,
    pub(super) sub: Option<PathTree>,
}

impl PathTree {
    pub(super) fn build(slots: &[Vec<String>]) -> PathTree {
        let mut root = PathTree::default();
        for (i, path) in slots.iter().enumerate() {
            let mut node = &mut root;
            for (depth, key) in path.iter().enumerate() {
                node.all.push(i);
                let pos = match node.keys.iter().position(|(k, _)| k == key) {
                    Some(p) => p,
                    None => {
                        node.keys.push((key.clone(), Child::default()));
                        node.keys.len() - 1
                    }
                };
                let child = &mut node.keys[pos].1;
                if depth + 1 == path.len() {
                    child.slot = Some(i);
                    break;
                }
                node = child.sub.get_or_insert_with(PathTree::default);
            }
        }
        root
    }

    pub(super) fn child(&self, key: &str) -> Option<&Child> {
        self.child_at(key).map(|(_, c)| c)
    }

    /// The child under `key` and its place among the keys.
    pub(super) fn child_at(&self, key: &str) -> Option<(usize, &Child)> {
        self.keys
            .iter()
            .position(|(k, _)| same_key(k, key))
            .and_then(|at| Some((at, &self.keys.get(at)?.1)))
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
        // ASCII values compared in place agree with lowercasing them first.
        for pattern in [
            "CODE_*",
            "*a*b*",
            "a*a",
            "a**b",
            "*",
            "",
            "x",
            "*@Example.com",
            "\u{212A}*",
        ] {
            let g = Glob::new(pattern);
            for value in [
                "code_push",
                "CODE_",
                "xaXbx",
                "BA",
                "a",
                "AA",
                "ab",
                "",
                "k",
                "Kelvin",
                "u@EXAMPLE.COM",
            ] {
                assert_eq!(
                    g.matches_folded(value),
                    g.matches_lower(&value.to_lowercase()),
                    "{pattern} on {value}"
                );
            }
        }
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
