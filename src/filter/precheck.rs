//! The literal pre-check of the raw fast path: before a line is parsed, rule it out when
//! it cannot hold a string (or a time) that a top-level term requires. On a block of lines
//! the searches of one term run over the whole block (`PreCheck::candidates`).
//!
//! The check is necessary, never sufficient: a line it keeps is parsed and evaluated; a
//! line it rules out cannot match. It reads lines whose only escapes are `\"` and `\\`
//! (see `line::literal_strings`), so every character the texts below hold is written in
//! the line as itself.

use std::ops::Range;

use memchr::memmem::{self, Finder};

use super::fields::{self, FieldType};
use super::ir::TimeVal;
use super::ir::{Ir, Literal, Op, Preset};
use crate::time::{MAX_MS, MIN_MS};

/// Necessary conditions, one per top-level ANDed term that requires a known string:
/// `==` and `in` on strings, qualifier matches (case-insensitive, globs that do not start
/// with `*`), presets, free text, and `or`s made only of such terms.
#[derive(Debug, Clone, Default)]
pub(super) struct PreCheck {
    terms: Vec<Required>,
}

/// One of the alternatives must hold.
#[derive(Debug, Clone)]
struct Required {
    alts: Vec<Alt>,
}

#[derive(Debug, Clone)]
enum Alt {
    /// A JSON-encoded string value (`"SECRET"`), found by itself, right after one of the
    /// keys and a colon (whitespace allowed around it).
    Value {
        finder: Box<Finder<'static>>,
        keys: Vec<Vec<u8>>,
    },
    /// One of the keys, found by itself, then a colon and one of the values: one search
    /// of the line for any number of values (`action:create,update`, `is:login`).
    Key { keys: Vec<Key>, values: Vec<Expect> },
    /// Free text anywhere in the line, ASCII case-insensitively.
    Text {
        /// Lowercase ASCII.
        folded: Vec<u8>,
        /// Where in `folded` the search anchors (its rarest byte).
        anchor: usize,
    },
}

/// An object key as JSON text (`"auditAction"`) and its finder.
#[derive(Debug, Clone)]
struct Key {
    json: Vec<u8>,
    finder: Finder<'static>,
}

/// The start of a value after a key.
#[derive(Debug, Clone, PartialEq)]
enum Expect {
    /// A whole JSON-encoded string (`"DELETE"`).
    Exact(Vec<u8>),
    /// The opening quote and the start of the value, lowercase ASCII, compared ASCII
    /// case-insensitively (with the closing quote when the pattern has no `*`).
    Folded(Vec<u8>),
    /// A time comparison: an integer (epoch milliseconds) must compare as asked; any
    /// other value may be a time that does.
    Time { op: Op, at: TimeVal },
}

/// What one term asks of the line, before alternatives on the same keys are grouped.
enum Want {
    Value { keys: Vec<String>, expect: Expect },
    Text(Vec<u8>),
}

impl PreCheck {
    pub(super) fn new(ir: &Ir) -> PreCheck {
        let terms: &[Ir] = match ir {
            Ir::And { terms } => terms,
            other => std::slice::from_ref(other),
        };
        let mut out = Vec::new();
        for t in terms {
            let mut wants = Vec::new();
            let ok = match t {
                Ir::Or { terms } => terms.iter().all(|t| wanted(t, &mut wants)),
                other => wanted(other, &mut wants),
            };
            if ok && !wants.is_empty() {
                out.push(Required { alts: group(wants) });
            }
        }
        PreCheck { terms: out }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether the line (whose only escapes are `\"` and `\\`) may match.
    pub(super) fn may_match(&self, line: &[u8], now: i64) -> bool {
        self.terms
            .iter()
            .all(|r| r.alts.iter().any(|a| a.may_match(line, now)))
    }

    /// The term whose searches run over whole blocks: values searched by themselves first
    /// (usually rarer than keys, which most lines hold), times last (a time range often
    /// holds most lines); then the fewest alternatives.
    fn lead(&self) -> Option<usize> {
        let rank = |a: &Alt| match a {
            Alt::Value { .. } | Alt::Text { .. } => 0,
            Alt::Key { values, .. } if values.iter().any(|v| matches!(v, Expect::Time { .. })) => 2,
            Alt::Key { .. } => 1,
        };
        (0..self.terms.len()).min_by_key(|&i| {
            let alts = &self.terms[i].alts;
            (alts.iter().map(rank).max(), alts.len())
        })
    }

    /// Whether the pre-check rules the line out: it has no escape but `\"` and `\\`, and
    /// [`PreCheck::may_match`] says no.
    pub(super) fn rules_out(&self, line: &[u8], now: i64) -> bool {
        !self.is_empty() && next_escape(line, 0).is_none() && !self.may_match(line, now)
    }

    /// Calls `f` with the range of each line of `block` (whole lines, `\n`-separated; the
    /// ranges leave the `\n` out) that has to be parsed: a line with an escape other than
    /// `\"` and `\\`, or one that [`PreCheck::may_match`] keeps; blank lines are left out.
    /// The searches of one term (the lead) run once over the whole block rather than once
    /// per line; the other terms are checked on the lines the lead finds.
    ///
    /// Natively, when the pre-check keeps more than [`KEEPS_MOST`] of the first sixteenth
    /// of the block, every other line of the block is handed on too, unchecked: reading a
    /// line that does not match stops after the fields the filter reads, and when nearly
    /// every line is read anyway the searches cost more than they save. A line so handed
    /// on that is not JSON must be reported only if [`PreCheck::rules_out`] does not rule
    /// it out.
    pub(super) fn candidates(&self, block: &[u8], now: i64, f: &mut dyn FnMut(Range<usize>)) {
        let Some(lead_at) = self.lead() else {
            return;
        };
        let lead = &self.terms[lead_at];
        let mut probes = Vec::new();
        for alt in &lead.alts {
            alt.any_probe(|p| {
                probes.push(p);
                false
            });
        }
        // The next hit of each search at or after `pos` (None: no more).
        let mut next: Vec<Option<usize>> = probes.iter().map(|p| p.next(block, 0, now)).collect();
        let mut escape = next_escape(block, 0);
        let mut pos = 0;
        // Natively (not `SMALL`), the bytes of the lines handed on, until the end of the
        // sample.
        let mut sampling = !super::program::SMALL;
        let (sample, mut kept) = (block.len() / 16, 0);
        loop {
            // The first hit, and the search that found it (none: an escape).
            let hit = next
                .iter()
                .enumerate()
                .filter_map(|(i, h)| Some((h.as_ref()?, i)));
            let (at, by) = match (hit.min(), escape) {
                (Some((&h, _)), Some(e)) if e < h => (e, None),
                (Some((&h, i)), _) => (h, Some(i)),
                (None, Some(e)) => (e, None),
                (None, None) => break,
            };
            let start = memchr::memrchr(b'\n', &block[pos..at]).map_or(pos, |i| pos + i + 1);
            let end = memchr::memchr(b'\n', &block[at..]).map_or(block.len(), |i| at + i);
            let line = &block[start..end];
            // A lead hit found in the block is checked again within its line (looking
            // around it may have crossed a line end): where it was found, else by every
            // search from there on; no earlier place in the line holds (whatever holds
            // within the line holds in the block).
            let again = |p: &Probe| p.next(line, at - start, now).is_some();
            let there = |p: &Probe| {
                p.holds_at(line, at - start, now)
                    .unwrap_or_else(|| again(p))
            };
            let parse = matches!(escape, Some(e) if e < end)
                || ((by.is_some_and(|i| there(&probes[i]))
                    || lead.alts.iter().any(|a| a.any_probe(|p| again(&p))))
                    && self.terms.iter().enumerate().all(|(i, r)| {
                        i == lead_at || r.alts.iter().any(|a| a.may_match(line, now))
                    }));
            if parse && !line.iter().all(u8::is_ascii_whitespace) {
                f(start..end);
                if sampling {
                    kept += line.len() + 1;
                }
            }
            pos = end + 1;
            if sampling && pos > sample {
                sampling = false;
                if kept as f64 > KEEPS_MOST * pos as f64 {
                    return every_line(block, pos, f);
                }
            }
            for (probe, hit) in probes.iter().zip(&mut next) {
                if matches!(*hit, Some(h) if h < pos) {
                    *hit = probe.next(block, pos, now);
                }
            }
            if matches!(escape, Some(e) if e < pos) {
                escape = next_escape(block, pos);
            }
        }
    }
}

/// The share of a block's bytes the pre-check keeps past which it is left out for the rest
/// of the block. Measured on bench/data/filter-100mb.ndjson (BENCHMARKS.md, "Broad
/// filters: the input pass and the pre-check"): where it keeps every line of a block
/// (`time >= 2026-01-02`, in a file sorted by time) leaving it out saves a sixth of the
/// time; where it keeps 57–62 % of the lines of every block, reading them all instead
/// cost as much or more for one query (`principal.type == "USER"`, +10 %) as it saved for
/// another (`resource.type:… or module:…`, −8 %).
const KEEPS_MOST: f64 = 0.75;

/// Hands on every line of `block` from `pos` on, but blank ones.
fn every_line(block: &[u8], mut pos: usize, f: &mut dyn FnMut(Range<usize>)) {
    while pos < block.len() {
        let end = memchr::memchr(b'\n', &block[pos..]).map_or(block.len(), |i| pos + i);
        if !block[pos..end].iter().all(u8::is_ascii_whitespace) {
            f(pos..end);
        }
        pos = end + 1;
    }
}

/// The position of the first backslash at or after `from` that does not start a `\"` or
/// `\\` escape (read from `from` on).
pub(super) fn next_escape(hay: &[u8], mut from: usize) -> Option<usize> {
    while let Some(i) = hay.get(from..).and_then(|rest| memchr::memchr(b'\\', rest)) {
        match hay.get(from + i + 1) {
            Some(b'"' | b'\\') => from += i + 2,
            _ => return Some(from + i),
        }
    }
    None
}

/// Adds what a term asks of the line; false when it asks nothing checkable.
fn wanted(t: &Ir, out: &mut Vec<Want>) -> bool {
    // Characters that JSON writes as themselves.
    let plain = |c: char| c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ';
    let exact = |field: &str, s: &str| Want::Value {
        keys: key_names(field),
        expect: Expect::Exact(serde_json::to_vec(s).unwrap_or_default()),
    };
    match t {
        Ir::Cmp {
            op: Op::Eq,
            value: Literal::Str(s),
            field,
        } if !is_ip(field) => out.push(exact(field, s)),
        Ir::In {
            values,
            negated: false,
            field,
        } if !is_ip(field) => {
            for lit in values {
                match lit {
                    Literal::Str(s) => out.push(exact(field, s)),
                    _ => return false,
                }
            }
        }
        Ir::Cmp {
            op: Op::Like,
            value: Literal::Str(p),
            field,
        } if matches!(
            fields::type_of_canonical(field),
            Some(FieldType::Str | FieldType::User)
        ) =>
        {
            let head = p.split('*').next().unwrap_or_default();
            // A glob that starts with `*` asks only for the key and a string, which nearly
            // every line has: searching costs more than it rules out.
            if !head.chars().all(plain) || head.is_empty() && p.starts_with('*') {
                return false;
            }
            let mut folded = format!("\"{}", head.to_ascii_lowercase()).into_bytes();
            if !p.contains('*') {
                folded.push(b'"');
            }
            out.push(Want::Value {
                keys: key_names(field),
                expect: Expect::Folded(folded),
            });
        }
        // Free text: a string holding the text means its bytes are in the line.
        Ir::Text { text } if !text.is_empty() && text.chars().all(plain) => {
            out.push(Want::Text(text.to_ascii_lowercase().into_bytes()));
        }
        Ir::Cmp {
            op: op @ (Op::Eq | Op::Lt | Op::Le | Op::Gt | Op::Ge),
            value: lit @ (Literal::Time(_) | Literal::Now(_)),
            field,
        } if field == fields::TIME => out.push(Want::Value {
            keys: key_names(field),
            expect: Expect::Time {
                op: *op,
                at: match lit {
                    Literal::Time(t) => TimeVal::Abs(*t),
                    Literal::Now(off) => TimeVal::Now(*off),
                    _ => return false,
                },
            },
        }),
        Ir::Preset {
            preset: Preset::System,
        } => out.push(exact(fields::PRINCIPAL_TYPE, "SYSTEM")),
        Ir::Preset {
            preset: Preset::Login,
        } => {
            for a in ["LOGIN", "LOGIN2FA", "UNSUCCESSFUL_LOGIN"] {
                out.push(exact(fields::ACTION, a));
            }
        }
        _ => return false,
    }
    true
}

/// The object keys a field's value follows: its last path component (`user`: the
/// principal's identifier or email).
fn key_names(field: &str) -> Vec<String> {
    if field == fields::USER {
        return vec!["identifier".into(), "email".into()];
    }
    vec![field.rsplit('.').next().unwrap_or(field).to_string()]
}

/// Turns the wants of one term into alternatives: values on the same keys share one
/// search for the key; a single exact value is searched for by itself (a value is
/// usually rarer than its key).
fn group(wants: Vec<Want>) -> Vec<Alt> {
    let mut alts = Vec::new();
    let mut by_keys: Vec<(Vec<String>, Vec<Expect>)> = Vec::new();
    for w in wants {
        match w {
            Want::Text(folded) => alts.push(Alt::Text {
                anchor: rarest(&folded),
                folded,
            }),
            Want::Value { keys, expect } => match by_keys.iter_mut().find(|(k, _)| *k == keys) {
                Some((_, values)) => values.push(expect),
                None => by_keys.push((keys, vec![expect])),
            },
        }
    }
    for (names, mut values) in by_keys {
        let json = |k: &str| serde_json::to_vec(k).unwrap_or_default();
        if let [Expect::Exact(value)] = values.as_slice() {
            alts.push(Alt::Value {
                finder: Box::new(Finder::new(value).into_owned()),
                keys: names.iter().map(|k| json(k)).collect(),
            });
            continue;
        }
        values.dedup();
        let keys = names
            .iter()
            .map(|k| {
                let json = json(k);
                Key {
                    finder: Finder::new(&json).into_owned(),
                    json,
                }
            })
            .collect();
        alts.push(Alt::Key { keys, values });
    }
    alts
}

impl Alt {
    fn may_match(&self, line: &[u8], now: i64) -> bool {
        self.any_probe(|p| p.next(line, 0, now).is_some())
    }

    /// Whether `f` holds for any of the searches that find this alternative's evidence.
    fn any_probe<'p>(&'p self, mut f: impl FnMut(Probe<'p>) -> bool) -> bool {
        match self {
            Alt::Value { finder, keys } => f(Probe::Value { finder, keys }),
            Alt::Key { keys, values } => keys.iter().any(|key| f(Probe::Key { key, values })),
            Alt::Text { folded, anchor } => {
                // Unicode lowercasing maps only two non-ASCII characters to ASCII letters
                // (KELVIN SIGN to `k`, LATIN CAPITAL LETTER I WITH DOT ABOVE to `i` and a
                // combining dot), so a line where the text is not found may still match
                // when it holds one of those and the text the letter.
                f(Probe::Text {
                    folded,
                    anchor: *anchor,
                }) || (folded.contains(&b'k') && f(Probe::Char(KELVIN)))
                    || (folded.contains(&b'i') && f(Probe::Char(DOTTED_I)))
            }
        }
    }
}

/// One search for an alternative's evidence, in a line or in a block of lines.
enum Probe<'p> {
    /// The value, right after one of the keys and a colon.
    Value {
        finder: &'p Finder<'static>,
        keys: &'p [Vec<u8>],
    },
    /// The key, then a colon and one of the values.
    Key { key: &'p Key, values: &'p [Expect] },
    /// Free text, ASCII case-insensitively.
    Text { folded: &'p [u8], anchor: usize },
    /// A character that lowercases into ASCII.
    Char(&'static [u8]),
}

impl Probe<'_> {
    /// Where in `hay`, at or after `from`, the first evidence is. Looking around a hit
    /// may cross into the lines before or after it (a false hit, never a missed one:
    /// whatever a line holds, the search finds in it).
    fn next(&self, hay: &[u8], from: usize, now: i64) -> Option<usize> {
        let rest = hay.get(from..)?;
        let at = match self {
            Probe::Value { finder, keys } => finder
                .find_iter(rest)
                .find(|&at| key_before(&hay[..from + at], keys)),
            Probe::Key { key, values } => key.finder.find_iter(rest).find(|&at| {
                let after = rest.get(at + key.json.len()..).unwrap_or_default();
                value_after(after, values, now)
            }),
            Probe::Text { folded, anchor } => text_hit(hay, from, folded, *anchor),
            Probe::Char(char) => memmem::find(rest, char),
        }?;
        Some(from + at)
    }

    /// Whether the evidence is at `at` in `hay`, looked at there without a search (`None`
    /// for free text, which is searched for).
    fn holds_at(&self, hay: &[u8], at: usize, now: i64) -> Option<bool> {
        let (head, rest) = hay.split_at_checked(at)?;
        match self {
            Probe::Value { finder, keys } => {
                Some(rest.starts_with(finder.needle()) && key_before(head, keys))
            }
            Probe::Key { key, values } => Some(match rest.strip_prefix(key.json.as_slice()) {
                Some(after) => value_after(after, values, now),
                None => false,
            }),
            Probe::Text { .. } | Probe::Char(_) => None,
        }
    }
}

/// Whether `before` (the text before a value) ends in one of the keys and a colon.
fn key_before(before: &[u8], keys: &[Vec<u8>]) -> bool {
    match trim_ws_end(before).split_last() {
        Some((b':', before)) => {
            let before = trim_ws_end(before);
            keys.iter().any(|k| before.ends_with(k))
        }
        _ => false,
    }
}

/// Whether `after` (the text after a key) is a colon and a value that may start as one
/// of `values` expects.
fn value_after(after: &[u8], values: &[Expect], now: i64) -> bool {
    match trim_ws_start(after).split_first() {
        Some((b':', value)) => {
            let value = trim_ws_start(value);
            values.iter().any(|v| v.starts(value, now))
        }
        _ => false,
    }
}

impl Expect {
    /// Whether `value` (the line from the start of a value on) may start as expected.
    fn starts(&self, value: &[u8], now: i64) -> bool {
        match self {
            Expect::Exact(json) => value.starts_with(json),
            Expect::Folded(folded) => folded_prefix(value, folded),
            Expect::Time { op, at } => match time_span(value) {
                Some((lo, hi)) => may_compare(*op, lo, hi, at.at(now)),
                None => true,
            },
        }
    }
}

/// Free text: where (from `from` on, relative to it) `folded` starts, ASCII
/// case-insensitively, searched for by its byte at `k`.
pub(crate) fn text_hit(hay: &[u8], from: usize, folded: &[u8], k: usize) -> Option<usize> {
    let Some(&anchor) = folded.get(k) else {
        return Some(0);
    };
    let rest = hay.get(from..)?;
    memchr::memchr2_iter(
        anchor.to_ascii_lowercase(),
        anchor.to_ascii_uppercase(),
        rest,
    )
    .find_map(|at| {
        let start = (from + at).checked_sub(k)?;
        hay.get(start..start + folded.len())
            .filter(|w| w.eq_ignore_ascii_case(folded))
            .map(|_| at)
    })
}

const KELVIN: &[u8] = "\u{212A}".as_bytes();
const DOTTED_I: &[u8] = "\u{130}".as_bytes();

/// Bounds on the time a value written as below stands for, as `parse_time_value` reads
/// it: an integer or a string of digits is that many epoch milliseconds (out of range:
/// no time at all); a string starting with a date and `T` (RFC 3339) is an instant on
/// that date in some offset, so within a day before its midnight UTC and two days after.
/// None for any other value.
fn time_span(value: &[u8]) -> Option<(i64, i64)> {
    const DAY: i64 = 86_400_000;
    // A number out of the range times have is no time at all (`lo > hi`).
    let exact = |t: i64| {
        Some(if (MIN_MS..=MAX_MS).contains(&t) {
            (t, t)
        } else {
            (1, 0)
        })
    };
    let Some(text) = value.strip_prefix(b"\"") else {
        return exact(leading_integer(value)?);
    };
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    if (1..=18).contains(&digits) && text.get(digits) == Some(&b'"') {
        return exact(decimal(&text[..digits]));
    }
    match text.get(10) {
        Some(b'T' | b't' | b' ') => {
            let date = std::str::from_utf8(&text[..10]).ok()?;
            let midnight = crate::time::parse_date(date)?;
            Some((midnight - DAY, midnight + 2 * DAY))
        }
        _ => None,
    }
}

/// Whether a time between `lo` and `hi` may compare with `at` as `op` asks (`lo > hi`:
/// no time).
fn may_compare(op: Op, lo: i64, hi: i64, at: i64) -> bool {
    lo <= hi
        && match op {
            Op::Lt => lo < at,
            Op::Le => lo <= at,
            Op::Gt => hi > at,
            Op::Ge => hi >= at,
            _ => lo <= at && at <= hi,
        }
}

/// The JSON integer `value` starts with (up to 18 digits, no leading zero, not followed by
/// a fraction or an exponent); None for anything else.
fn leading_integer(value: &[u8]) -> Option<i64> {
    let (negative, digits) = match value.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, value),
    };
    let len = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    if len == 0 || len > 18 || (len > 1 && digits[0] == b'0') {
        return None;
    }
    if let Some(b'.' | b'e' | b'E') = digits.get(len) {
        return None;
    }
    let n = decimal(&digits[..len]);
    Some(if negative { -n } else { n })
}

/// The value of at most 18 ASCII digits.
fn decimal(digits: &[u8]) -> i64 {
    digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0'))
}

/// Whether `value` starts with the lowercase ASCII `folded`, ASCII case-insensitively.
/// Reaching a non-ASCII byte first answers yes: it may be a character that lowercases to
/// ASCII (and is longer than what it lowercases to).
fn folded_prefix(value: &[u8], folded: &[u8]) -> bool {
    for (i, f) in folded.iter().enumerate() {
        match value.get(i) {
            None => return false,
            Some(v) if !v.is_ascii() => return true,
            Some(v) if v.to_ascii_lowercase() != *f => return false,
            Some(_) => {}
        }
    }
    true
}

/// Letters by how often they appear in audit events, rarest first (the free-text search
/// anchors on the rarest byte of the text).
const RARE_LETTERS: &[u8] = b"qjzxkvwyfbghpmulcdrtnsoiae";

pub(crate) fn rarest(text: &[u8]) -> usize {
    let rank = |b: u8| {
        if b.is_ascii_alphabetic() {
            RARE_LETTERS
                .iter()
                .position(|r| *r == b.to_ascii_lowercase())
                .unwrap_or(0)
                + 4
        } else if b.is_ascii_digit() {
            12
        } else {
            // Punctuation and spaces.
            2
        }
    };
    (0..text.len()).min_by_key(|&i| rank(text[i])).unwrap_or(0)
}

/// JSON's whitespace (not the form feed that `trim_ascii` also takes).
fn is_ws(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn trim_ws_end(b: &[u8]) -> &[u8] {
    &b[..b.len() - b.iter().rev().take_while(|c| is_ws(c)).count()]
}

fn trim_ws_start(b: &[u8]) -> &[u8] {
    &b[b.iter().take_while(|c| is_ws(c)).count()..]
}

fn is_ip(field: &str) -> bool {
    fields::type_of_canonical(field) == Some(FieldType::Ip)
}
