//! The literal pre-check of the raw fast path: before a line is parsed, rule it out when
//! it cannot hold a string that a top-level term requires.
//!
//! The check is necessary, never sufficient: a line it keeps is parsed and evaluated; a
//! line it rules out cannot match. It reads lines whose only escapes are `\"` and `\\`
//! (see `fast::literal_strings`), so every character the texts below hold is written in
//! the line as itself.

use memchr::memmem::Finder;

use super::fields::{self, FieldType};
use super::ir::{Ir, Literal, Op, Preset};

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
    pub(super) fn may_match(&self, line: &[u8]) -> bool {
        self.terms
            .iter()
            .all(|r| r.alts.iter().any(|a| a.may_match(line)))
    }
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
            if !head.chars().all(plain) {
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
    fn may_match(&self, line: &[u8]) -> bool {
        match self {
            Alt::Value { finder, keys } => finder.find_iter(line).any(|pos| {
                let before = trim_ws_end(line.get(..pos).unwrap_or_default());
                match before.split_last() {
                    Some((b':', rest)) => {
                        let rest = trim_ws_end(rest);
                        keys.iter().any(|k| rest.ends_with(k))
                    }
                    _ => false,
                }
            }),
            Alt::Key { keys, values } => keys.iter().any(|key| {
                key.finder.find_iter(line).any(|pos| {
                    let rest = line.get(pos + key.json.len()..).unwrap_or_default();
                    match trim_ws_start(rest).split_first() {
                        Some((b':', value)) => {
                            let value = trim_ws_start(value);
                            values.iter().any(|v| v.starts(value))
                        }
                        _ => false,
                    }
                })
            }),
            Alt::Text { folded, anchor } => text_may_match(line, folded, *anchor),
        }
    }
}

impl Expect {
    /// Whether `value` (the line from the start of a value on) may start as expected.
    fn starts(&self, value: &[u8]) -> bool {
        match self {
            Expect::Exact(json) => value.starts_with(json),
            Expect::Folded(folded) => folded_prefix(value, folded),
        }
    }
}

/// Free text: `folded` anywhere in the line, ASCII case-insensitively. Unicode
/// lowercasing maps only two non-ASCII characters to ASCII letters (KELVIN SIGN to `k`,
/// LATIN CAPITAL LETTER I WITH DOT ABOVE to `i` and a combining dot), so a line where the
/// text is not found may still match when it holds one of those and the text the letter.
fn text_may_match(line: &[u8], folded: &[u8], k: usize) -> bool {
    let Some(&anchor) = folded.get(k) else {
        return true;
    };
    let found = memchr::memchr2_iter(
        anchor.to_ascii_lowercase(),
        anchor.to_ascii_uppercase(),
        line,
    )
    .any(|at| {
        at >= k
            && line
                .get(at - k..at - k + folded.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(folded))
    });
    found
        || (folded.contains(&b'k') && memchr::memmem::find(line, KELVIN).is_some())
        || (folded.contains(&b'i') && memchr::memmem::find(line, DOTTED_I).is_some())
}

const KELVIN: &[u8] = "\u{212A}".as_bytes();
const DOTTED_I: &[u8] = "\u{130}".as_bytes();

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

fn rarest(text: &[u8]) -> usize {
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

fn trim_ws_end(mut b: &[u8]) -> &[u8] {
    while let Some((last, rest)) = b.split_last() {
        if matches!(last, b' ' | b'\t' | b'\r' | b'\n') {
            b = rest;
        } else {
            break;
        }
    }
    b
}

fn trim_ws_start(mut b: &[u8]) -> &[u8] {
    while let Some((first, rest)) = b.split_first() {
        if matches!(first, b' ' | b'\t' | b'\r' | b'\n') {
            b = rest;
        } else {
            break;
        }
    }
    b
}

fn is_ip(field: &str) -> bool {
    fields::type_of_canonical(field) == Some(FieldType::Ip)
}
