//! The raw-bytes fast path: decides on one JSON line, or on each line of a block, reading
//! only the fields the filter uses (and, for free text, the string values). Before
//! parsing, a literal pre-check rules out lines that cannot satisfy a required string or
//! time. Plain JSON is read by
//! [`crate::plain`]; anything else by serde_json, skipping untouched values with
//! `IgnoredAny` and borrowing strings without escapes.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

use super::error::{self, FilterError};
use super::eval::{contains_folded, eval, Leaf, Source};
use super::precheck::next_escape;
use super::program::{Child, PathTree, Program};
use crate::plain::{Num, Plain};

impl PathTree {
    /// Clears the slots at or below this tree (entering it again replaces them).
    fn clear(&self, out: &mut [Option<Captured<'_>>]) {
        for s in &self.all {
            if let Some(o) = out.get_mut(*s) {
                *o = None;
            }
        }
    }

    /// Fills the slots of this tree from an already parsed value.
    fn fill(&self, v: &Value, out: &mut [Option<Captured<'_>>]) {
        self.clear(out);
        let Some(map) = v.as_object() else { return };
        for (key, child) in &self.keys {
            let Some(val) = map.get(key) else { continue };
            if let Some(slot) = child.slot {
                if let Some(o) = out.get_mut(slot) {
                    *o = Some(Captured::from_value(val));
                }
            }
            if let Some(sub) = &child.sub {
                sub.fill(val, out);
            }
        }
    }
}

/// A field value as the filter reads it from a line.
#[derive(Debug, Clone, PartialEq)]
pub enum Captured<'de> {
    Str(Cow<'de, str>),
    Num(Number),
    Bool(bool),
    Null,
    /// An object or an array (the filter never looks inside).
    Other,
}

impl Captured<'_> {
    fn from_value(v: &Value) -> Captured<'static> {
        match v {
            Value::Null => Captured::Null,
            Value::Bool(b) => Captured::Bool(*b),
            Value::Number(n) => Captured::Num(n.clone()),
            Value::String(s) => Captured::Str(Cow::Owned(s.clone())),
            _ => Captured::Other,
        }
    }

    fn leaf(&self) -> Option<Leaf<'_>> {
        match self {
            Captured::Str(s) => Some(Leaf::Str(s)),
            Captured::Num(n) => Some(Leaf::Num(n)),
            Captured::Bool(b) => Some(Leaf::Bool(*b)),
            Captured::Null => None,
            Captured::Other => Some(Leaf::Other),
        }
    }
}

/// The fields read from one line; for programs with free text, also every string value.
struct Slots<'de> {
    values: Vec<Option<Captured<'de>>>,
    strings: Vec<&'de str>,
}

impl Slots<'_> {
    fn new(n: usize) -> Self {
        Slots {
            values: (0..n).map(|_| None).collect(),
            strings: Vec::new(),
        }
    }
}

impl Source for Slots<'_> {
    fn leaf(&self, slot: usize) -> Option<Leaf<'_>> {
        self.values.get(slot)?.as_ref()?.leaf()
    }
    fn has_text(&self, needle: &str) -> bool {
        self.strings.iter().any(|s| contains_folded(s, needle))
    }
}

pub fn matches_line(program: &Program, line: &[u8], now_ms: i64) -> Result<bool, FilterError> {
    if !program.precheck.is_empty()
        && literal_strings(line)
        && !program.precheck.may_match(line, now_ms)
    {
        return Ok(false);
    }
    parsed(program, line, now_ms)
}

/// The answer for a line, parsed (no pre-check).
fn parsed(program: &Program, line: &[u8], now_ms: i64) -> Result<bool, FilterError> {
    let text = crate::plain::utf8(line).map_err(bad_json)?;
    if !program.text {
        let slots = Slots {
            values: read_slots(&program.tree, program.slots.len(), text)?,
            strings: Vec::new(),
        };
        return Ok(eval(&program.root, &slots, now_ms));
    }
    let mut slots = Slots::new(program.slots.len());
    let mut strings = Some(Vec::new());
    if plain_read(&program.tree, text, &mut slots.values, &mut strings).is_some() {
        slots.strings = strings.unwrap_or_default();
        return Ok(eval(&program.root, &slots, now_ms));
    }
    let v: Value = serde_json::from_str(text).map_err(bad_json)?;
    Ok(program.eval_value(&v, now_ms))
}

pub(super) fn bad_json(e: serde_json::Error) -> FilterError {
    FilterError::new(
        error::BAD_JSON,
        format!("invalid JSON at column {}: {e}", e.column()),
    )
}

/// The values of the `n` slots of `tree` in a line: read by the plain reader when the line
/// is plain JSON, by serde_json otherwise. An error when the line is not JSON.
pub(super) fn read_slots<'a>(
    tree: &PathTree,
    n: usize,
    text: &'a str,
) -> Result<Vec<Option<Captured<'a>>>, FilterError> {
    let mut values = Slots::new(n).values;
    if plain_read(tree, text, &mut values, &mut None).is_some() {
        return Ok(values);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    TreeSeed {
        tree,
        out: &mut values,
    }
    .deserialize(&mut de)
    .map_err(bad_json)?;
    de.end().map_err(bad_json)?;
    Ok(values)
}

/// Reads a line of plain JSON (see [`crate::plain`]) without serde_json, collecting its
/// strings when `strings` is wanted; `None` when the line is anything else.
fn plain_read<'a>(
    tree: &PathTree,
    text: &'a str,
    out: &mut [Option<Captured<'a>>],
    strings: &mut Option<Vec<&'a str>>,
) -> Option<()> {
    let mut p = Plain::new(text);
    plain_tree(&mut p, tree, out, strings, 0)?;
    p.at_end().then_some(())
}

/// Reads one value, capturing the slots of `tree` when it is an object, and collecting
/// its string values into `strings` when that is wanted.
fn plain_tree<'a>(
    p: &mut Plain<'a>,
    tree: &PathTree,
    out: &mut [Option<Captured<'a>>],
    strings: &mut Option<Vec<&'a str>>,
    depth: u32,
) -> Option<()> {
    tree.clear(out);
    if p.peek()? != b'{' {
        return plain_skip(p, strings, depth);
    }
    let mut keys = Keys::new(strings.is_some());
    p.object(depth + 1, |p, key| {
        keys.add(key)?;
        match tree.child(key) {
            None => plain_skip(p, strings, depth + 1),
            Some(Child {
                slot: Some(slot),
                sub: None,
            }) => {
                let v = plain_leaf(p, strings, depth + 1)?;
                *out.get_mut(*slot)? = Some(v);
                Some(())
            }
            Some(Child {
                slot: None,
                sub: Some(sub),
            }) => plain_tree(p, sub, out, strings, depth + 1),
            // A path both read and descended into: left to serde_json.
            Some(_) => None,
        }
    })
}

fn plain_leaf<'a>(
    p: &mut Plain<'a>,
    strings: &mut Option<Vec<&'a str>>,
    depth: u32,
) -> Option<Captured<'a>> {
    Some(match p.peek()? {
        b'"' => {
            let s = p.string()?;
            if let Some(all) = strings {
                all.push(s);
            }
            Captured::Str(Cow::Borrowed(s))
        }
        b'{' | b'[' => {
            plain_skip(p, strings, depth)?;
            Captured::Other
        }
        b't' => p.literal("true").map(|()| Captured::Bool(true))?,
        b'f' => p.literal("false").map(|()| Captured::Bool(false))?,
        b'n' => p.literal("null").map(|()| Captured::Null)?,
        _ => match p.number()? {
            Num::Int(n) => Captured::Num(n),
            Num::Other => return None,
        },
    })
}

/// Skips a value, collecting its string values when `strings` is wanted.
fn plain_skip<'a>(p: &mut Plain<'a>, strings: &mut Option<Vec<&'a str>>, depth: u32) -> Option<()> {
    let Some(all) = strings else {
        return p.skip(depth);
    };
    match p.peek()? {
        b'{' => {
            let mut keys = Keys::new(true);
            p.object(depth + 1, |p, key| {
                keys.add(key)?;
                plain_skip(p, strings, depth + 1)
            })
        }
        b'[' => p.array(depth + 1, |p| plain_skip(p, strings, depth + 1)),
        b'"' => {
            all.push(p.string()?);
            Some(())
        }
        _ => p.skip(depth),
    }
}

/// The keys of one object, kept while free text collects strings: a repeated key replaces
/// the earlier value (and its strings), so the plain reader leaves such objects to serde_json.
struct Keys<'a> {
    seen: Option<Vec<&'a str>>,
}

impl<'a> Keys<'a> {
    fn new(wanted: bool) -> Self {
        Keys {
            seen: wanted.then(Vec::new),
        }
    }

    fn add(&mut self, key: &'a str) -> Option<()> {
        if let Some(seen) = &mut self.seen {
            if seen.contains(&key) {
                return None;
            }
            seen.push(key);
        }
        Some(())
    }
}

/// Whether every string in the line writes the text the pre-checks look for as itself:
/// the only escapes are `\"` and `\\` (which the pre-checks' texts never contain). A
/// `\u` escape can spell any character and `\/` a slash, so lines with them are parsed.
fn literal_strings(line: &[u8]) -> bool {
    next_escape(line, 0).is_none()
}

/// See [`super::Filter::decide_lines`].
pub fn decide_lines(
    program: &Program,
    block: &[u8],
    now_ms: i64,
    f: &mut dyn FnMut(Range<usize>, Result<bool, FilterError>),
) {
    let mut decide = |r: Range<usize>| match parsed(program, &block[r.clone()], now_ms) {
        Ok(false) => {}
        answer => f(r, answer),
    };
    if !program.precheck.is_empty() {
        return program.precheck.candidates(block, now_ms, &mut decide);
    }
    let mut start = 0;
    while start < block.len() {
        let end = memchr::memchr(b'\n', &block[start..]).map_or(block.len(), |i| start + i);
        if !block[start..end].iter().all(u8::is_ascii_whitespace) {
            decide(start..end);
        }
        start = end + 1;
    }
}

/// Walks one JSON value, capturing the slots of `tree` when it is an object.
struct TreeSeed<'t, 'o, 'de> {
    tree: &'t PathTree,
    out: &'o mut Vec<Option<Captured<'de>>>,
}

impl<'de> DeserializeSeed<'de> for TreeSeed<'_, '_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.tree.clear(self.out);
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TreeSeed<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match self.tree.child(&key) {
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
                Some(Child {
                    slot: Some(slot),
                    sub: None,
                }) => {
                    let v = map.next_value_seed(CaptureSeed)?;
                    if let Some(o) = self.out.get_mut(*slot) {
                        *o = Some(v);
                    }
                }
                Some(Child {
                    slot: None,
                    sub: Some(sub),
                }) => {
                    map.next_value_seed(TreeSeed {
                        tree: sub,
                        out: self.out,
                    })?;
                }
                Some(Child { slot, sub }) => {
                    // A path that is both read and descended into: parse it whole.
                    let v: Value = map.next_value()?;
                    if let Some(sub) = sub {
                        sub.fill(&v, self.out);
                    }
                    if let Some(o) = slot.and_then(|s| self.out.get_mut(s)) {
                        *o = Some(Captured::from_value(&v));
                    }
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Reads one leaf value: scalars are kept, objects and arrays are skipped.
struct CaptureSeed;

impl<'de> DeserializeSeed<'de> for CaptureSeed {
    type Value = Captured<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Captured<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CaptureSeed {
    type Value = Captured<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Captured<'de>, E> {
        Ok(Captured::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Captured<'de>, E> {
        Ok(Captured::Str(Cow::Owned(s.to_string())))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Captured<'de>, E> {
        Ok(Captured::Str(Cow::Owned(s)))
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Captured<'de>, E> {
        Ok(Captured::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Captured<'de>, E> {
        Ok(Captured::Num(n.into()))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Captured<'de>, E> {
        Ok(Captured::Num(n.into()))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Captured<'de>, E> {
        Ok(Number::from_f64(n).map_or(Captured::Null, Captured::Num))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Captured<'de>, E> {
        Ok(Captured::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Captured<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Captured::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Captured<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Captured::Other)
    }
}
