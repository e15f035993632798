//! The raw-bytes fast path: decides on one JSON line, or on each line of a block, reading
//! only the fields the filter uses (and, for free text, the string values). Before
//! parsing, a literal pre-check rules out lines that cannot satisfy a required string or
//! time. Plain JSON (see [`crate::plain`]) is read here, its strings found by
//! [`crate::quotes`]; anything else by serde_json, skipping untouched values with
//! `IgnoredAny` and borrowing strings without escapes.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

use super::error::{self, FilterError};
use super::eval::{contains_folded, eval, Leaf, Source};
use super::precheck::next_escape;
use super::program::{Child, PathTree, Program, SMALL};
use crate::plain::{Num, Plain};
use crate::quotes::Quotes;
use memchr::memmem::Finder;

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
struct Slots<'s, 'de> {
    values: &'s [Option<Captured<'de>>],
    strings: &'s [&'de str],
}

impl Source for Slots<'_, '_> {
    fn leaf(&self, slot: usize) -> Option<Leaf<'_>> {
        self.values.get(slot)?.as_ref()?.leaf()
    }
    fn has_text(&self, needle: &str) -> bool {
        self.strings.iter().any(|s| contains_folded(s, needle))
    }
}

/// Calls `f` with `n` empty slots: on the stack for the filters most people write (a line
/// is read in well under a microsecond, and an allocation would be a good part of it).
fn with_slots<'de, R>(n: usize, f: impl FnOnce(&mut [Option<Captured<'de>>]) -> R) -> R {
    // Most filters read one to four fields: a short array costs less to make and drop
    // (per line) than a long one. Not when `SMALL`: each array is another copy of `f`.
    if n <= 4 && !SMALL {
        let mut values: [Option<Captured<'de>>; 4] = Default::default();
        f(&mut values[..n])
    } else if n <= 16 {
        let mut values: [Option<Captured<'de>>; 16] = Default::default();
        f(&mut values[..n])
    } else {
        f(&mut (0..n).map(|_| None).collect::<Vec<_>>())
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
    // The plain reader checks UTF-8 itself, only in strings that are not ASCII.
    if let Some(answer) = plain_matches(program, line, now_ms) {
        return Ok(answer);
    }
    let text = crate::plain::utf8(line).map_err(bad_json)?;
    if program.text {
        let v: Value = serde_json::from_str(text).map_err(bad_json)?;
        return Ok(program.eval_value(&v, now_ms));
    }
    with_slots(program.slots.len(), |values| {
        let mut de = serde_json::Deserializer::from_str(text);
        TreeSeed {
            tree: &program.tree,
            out: &mut *values,
        }
        .deserialize(&mut de)
        .map_err(bad_json)?;
        de.end().map_err(bad_json)?;
        let slots = Slots {
            values,
            strings: &[],
        };
        Ok(eval(&program.root, &slots, now_ms))
    })
}

/// The answer for a line of plain JSON (see [`crate::plain`]), read without serde_json;
/// `None` when the line is anything else.
fn plain_matches(program: &Program, line: &[u8], now_ms: i64) -> Option<bool> {
    with_slots(program.slots.len(), |values| {
        let mut strings = Vec::new();
        // Free text reads every string, so only a filter without it can stop early.
        let decide = |values: &[Option<Captured<'_>>]| {
            let slots = Slots {
                values,
                strings: &[],
            };
            eval(&program.root, &slots, now_ms)
        };
        // Not when `SMALL` (a line that is not JSON does not match whether or not it is
        // read to its end, so only the speed differs).
        let stop = (!program.text && !SMALL).then_some(Stop {
            keys: &program.stop_keys,
            decide: &decide,
        });
        let read = if SMALL {
            let mut kept = program.text.then_some(&mut strings);
            plain_fields(line, &program.tree, values, &mut kept, stop)?
        } else if program.text {
            plain_fields(line, &program.tree, values, &mut strings, stop)?
        } else {
            plain_fields(line, &program.tree, values, &mut NoStrings, stop)?
        };
        match read {
            Read::Stopped => return Some(false),
            Read::Whole(Some(answer)) => return Some(answer),
            Read::Whole(None) => {}
        }
        let slots = Slots {
            values,
            strings: &strings,
        };
        Some(eval(&program.root, &slots, now_ms))
    })
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
    let empty = || (0..n).map(|_| None).collect::<Vec<_>>();
    let mut values = empty();
    let (bytes, mut strings) = (text.as_bytes(), Vec::new());
    let read = if SMALL {
        plain_fields(bytes, tree, &mut values, &mut Some(&mut strings), None)
    } else {
        plain_fields(bytes, tree, &mut values, &mut strings, None)
    };
    if read.is_some() {
        return Ok(values);
    }
    let mut values = empty();
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

/// Where the string values of a line go as it is read: into a list for free text, or
/// nowhere. Chosen at compile time, so that reading without free text pays nothing for it
/// (except when `SMALL`: then one reader asks line by line).
trait Strings<'a> {
    /// Whether strings are kept (and so repeated keys matter: a repeated key replaces the
    /// earlier value and its strings, which the reader leaves to serde_json).
    fn kept(&self) -> bool;
    fn push(&mut self, s: &'a str);
}

/// Free text: every string value.
impl<'a> Strings<'a> for Vec<&'a str> {
    fn kept(&self) -> bool {
        true
    }
    fn push(&mut self, s: &'a str) {
        Vec::push(self, s);
    }
}

/// No free text.
struct NoStrings;

impl Strings<'_> for NoStrings {
    fn kept(&self) -> bool {
        false
    }
    fn push(&mut self, _: &str) {}
}

/// Free text or not, asked at run time: the one reader of `SMALL` builds, instead of a copy
/// for each of the two above.
impl<'a> Strings<'a> for Option<&mut Vec<&'a str>> {
    fn kept(&self) -> bool {
        self.is_some()
    }
    fn push(&mut self, s: &'a str) {
        if let Some(list) = self {
            list.push(s);
        }
    }
}

/// How far [`plain_fields`] read a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    /// To its end: the line is plain JSON. With the filter's answer when it was decided
    /// on the way (see [`Stop`]) and no member read came again after.
    Whole(Option<bool>),
    /// Up to the last member the filter reads, the answer being no (see [`Stop`]).
    Stopped,
}

/// Stopping early: once the top-level object has given every member the filter reads, a
/// line the filter rejects need not be read on, unless a member read may come again (a
/// repeated key replaces the value, as in `serde_json::Value`). Whether it may is a
/// search of the rest for a backslash (an escape could spell a key) and for each key as
/// JSON text: far cheaper than reading what follows. The rest is then not checked to be
/// JSON, as with a line the pre-check rules out: such a line is not a match either way.
#[derive(Clone, Copy)]
struct Stop<'p> {
    /// The top-level keys of the filter's fields, as JSON strings.
    keys: &'p [Finder<'static>],
    /// The filter's answer on the slots read.
    decide: &'p dyn Fn(&[Option<Captured<'_>>]) -> bool,
}

impl Stop<'_> {
    /// Whether no member the filter reads can come again in `rest`.
    fn last(&self, rest: &[u8]) -> bool {
        memchr::memchr(b'\\', rest).is_none() && self.keys.iter().all(|k| k.find(rest).is_none())
    }
}

impl PathTree {
    /// The top-level keys as JSON strings, for [`Stop`]; none when there are more than a
    /// `u64` of bits can follow, or when `SMALL` (never stopping early then).
    pub(super) fn stop_keys(&self) -> Vec<Finder<'static>> {
        if self.keys.len() >= 64 || SMALL {
            return Vec::new();
        }
        self.keys
            .iter()
            .map(|(k, _)| Finder::new(&serde_json::to_vec(k).unwrap_or_default()).into_owned())
            .collect()
    }
}

/// Reads one line of plain JSON (see [`crate::plain`]) to its end, capturing the slots of
/// `root` and keeping string values in `strings`; `None` when the line is anything else.
/// With `stop`, a line may be read only up to the last member the filter reads.
///
/// A reader that scans each string for its end waits for that search before it can read
/// on; here the strings' ends come from [`Quotes`] (found 64 bytes at a time, apart from
/// the reading), and only the bytes between strings are read one by one. The objects the
/// tree reads are read member by member; every other value is passed over by
/// [`skip`], one loop that still checks it all.
fn plain_fields<'a, S: Strings<'a>>(
    line: &'a [u8],
    root: &PathTree,
    out: &mut [Option<Captured<'a>>],
    strings: &mut S,
    stop: Option<Stop<'_>>,
) -> Option<Read> {
    let mut r = Reader {
        line,
        pos: 0,
        quotes: Quotes::new(line),
        strings,
        keys: Vec::new(),
        stop: stop.filter(|s| !s.keys.is_empty()),
        stopped: false,
        early: None,
    };
    r.value(None, Some(root), out, 0)?;
    if r.stopped {
        return Some(Read::Stopped);
    }
    skip_ws(line, &mut r.pos);
    (r.pos == line.len() && r.quotes.clean()).then_some(Read::Whole(r.early))
}

/// A line being read by [`plain_fields`].
struct Reader<'a, 's, S> {
    line: &'a [u8],
    /// The first byte not read yet.
    pos: usize,
    quotes: Quotes<'a>,
    strings: &'s mut S,
    /// The keys of the open objects, for free text (see `Strings::kept`).
    keys: Vec<(u32, &'a str)>,
    stop: Option<Stop<'s>>,
    /// Whether the line was left at the last member read (see [`Stop`]).
    stopped: bool,
    /// The answer once every top-level member read was seen, until one comes again.
    early: Option<bool>,
}

impl<'a, S: Strings<'a>> Reader<'a, '_, S> {
    /// Reads a value: captured when `slot` wants it, its slots read with `tree` when it is
    /// an object (and cleared when it is not).
    fn value(
        &mut self,
        slot: Option<usize>,
        tree: Option<&PathTree>,
        out: &mut [Option<Captured<'a>>],
        depth: u32,
    ) -> Option<()> {
        if let Some(tree) = tree {
            // Entering a tree again replaces what it read; a value that is not an object
            // clears it.
            tree.clear(out);
        }
        skip_ws(self.line, &mut self.pos);
        let v = match *self.line.get(self.pos)? {
            b'{' if tree.is_some() && slot.is_some() => {
                // A path both read and descended into: left to serde_json.
                return None;
            }
            b'{' if tree.is_some() => return self.object(tree, out, depth + 1),
            b'"' if slot.is_some() => {
                let text = read_string(self.line, &mut self.pos, &mut self.quotes)?;
                self.strings.push(text);
                Captured::Str(Cow::Borrowed(text))
            }
            b't' => self.literal("true", Captured::Bool(true))?,
            b'f' => self.literal("false", Captured::Bool(false))?,
            b'n' => self.literal("null", Captured::Null)?,
            b'-' | b'0'..=b'9' if slot.is_some() => {
                let mut p = Plain::at(self.line, self.pos);
                let n = p.number()?;
                self.pos = p.pos();
                match n {
                    Num::Int(n) => Captured::Num(n),
                    Num::Other => return None,
                }
            }
            _ => {
                skip(
                    self.line,
                    &mut self.pos,
                    &mut self.quotes,
                    self.strings,
                    &mut self.keys,
                    depth,
                )?;
                Captured::Other
            }
        };
        if let Some(s) = slot {
            *out.get_mut(s)? = Some(v);
        }
        Some(())
    }

    fn literal(&mut self, word: &str, v: Captured<'a>) -> Option<Captured<'a>> {
        let end = self.pos + word.len();
        (self.line.get(self.pos..end)? == word.as_bytes()).then(|| {
            self.pos = end;
            v
        })
    }

    /// Reads an object (at its `{`), its members' slots with `tree`.
    fn object(
        &mut self,
        tree: Option<&PathTree>,
        out: &mut [Option<Captured<'a>>],
        depth: u32,
    ) -> Option<()> {
        if depth > crate::plain::MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        skip_ws(self.line, &mut self.pos);
        if matches!(self.line.get(self.pos), Some(b'}')) {
            self.pos += 1;
            return Some(());
        }
        // The top-level members the filter reads not seen yet, one bit each (see `Stop`).
        let stop = self.stop.filter(|_| depth == 1);
        let mut unseen = stop.map_or(0, |s| u64::MAX >> (64 - s.keys.len()));
        loop {
            let key = read_key(self.line, &mut self.pos, &mut self.quotes)?;
            note_key(&*self.strings, &mut self.keys, depth, key)?;
            match tree.and_then(|t| t.child_at(key)) {
                Some((at, Child { slot, sub })) => {
                    self.value(*slot, sub.as_ref(), out, depth)?;
                    if let Some(stop) = stop {
                        if unseen == 0 {
                            // A member read came again: the answer waits for the end.
                            self.early = None;
                        } else {
                            unseen &= !(1 << at);
                            if unseen == 0 {
                                let answer = (stop.decide)(out);
                                if !answer && stop.last(self.line.get(self.pos..)?) {
                                    self.stopped = true;
                                    return Some(());
                                }
                                self.early = Some(answer);
                            }
                        }
                    }
                }
                // Most members passed over are strings: read here, without a call (not when
                // `SMALL`: a second copy of the reading).
                None if !SMALL && matches!(self.line.get(self.pos), Some(b'"')) => {
                    let text = read_string(self.line, &mut self.pos, &mut self.quotes)?;
                    self.strings.push(text);
                }
                None => skip(
                    self.line,
                    &mut self.pos,
                    &mut self.quotes,
                    self.strings,
                    &mut self.keys,
                    depth,
                )?,
            }
            skip_ws(self.line, &mut self.pos);
            match self.line.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => break,
                _ => return None,
            }
        }
        self.pos += 1;
        forget_keys(&*self.strings, &mut self.keys, depth);
        Some(())
    }
}

/// Passes over one value from `pos` on (whitespace first), checking all of it, keeping
/// its strings and keys for free text (see `Strings::kept`). One loop: its place in the
/// grammar is its place in the code, and its open containers are a count and bits (bit
/// `d - 1` for an array at depth `d` from here).
fn skip<'a, S: Strings<'a>>(
    line: &'a [u8],
    at: &mut usize,
    quotes: &mut Quotes<'a>,
    strings: &mut S,
    keys: &mut Vec<(u32, &'a str)>,
    base: u32,
) -> Option<()> {
    let mut pos = *at;
    let (mut depth, mut arrays) = (0u32, 0u64);
    'value: loop {
        skip_ws(line, &mut pos);
        let first = *line.get(pos)?;
        match first {
            b'"' => strings.push(read_string(line, &mut pos, quotes)?),
            b'{' | b'[' => {
                depth += 1;
                if base + depth > crate::plain::MAX_DEPTH {
                    return None;
                }
                pos += 1;
                skip_ws(line, &mut pos);
                let (object, end) = if first == b'{' {
                    (true, b'}')
                } else {
                    (false, b']')
                };
                if matches!(line.get(pos), Some(&b) if b == end) {
                    pos += 1;
                    depth -= 1;
                } else if object {
                    let name = read_key(line, &mut pos, quotes)?;
                    note_key(&*strings, keys, base + depth, name)?;
                    continue 'value;
                } else {
                    arrays |= 1 << (depth - 1);
                    continue 'value;
                }
            }
            b't' | b'f' | b'n' => {
                let word: &[u8] = match first {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                if line.get(pos..pos + word.len())? != word {
                    return None;
                }
                pos += word.len();
            }
            _ => {
                let mut p = Plain::at(line, pos);
                p.number()?;
                pos = p.pos();
            }
        }
        // After a value: close containers, then a comma and the next member or item.
        loop {
            if depth == 0 {
                *at = pos;
                return Some(());
            }
            skip_ws(line, &mut pos);
            let array = arrays & (1 << (depth - 1)) != 0;
            match *line.get(pos)? {
                b',' if array => {
                    pos += 1;
                    continue 'value;
                }
                b',' => {
                    pos += 1;
                    let name = read_key(line, &mut pos, quotes)?;
                    note_key(&*strings, keys, base + depth, name)?;
                    continue 'value;
                }
                b']' if array => arrays &= !(1 << (depth - 1)),
                b'}' if !array => forget_keys(&*strings, keys, base + depth),
                _ => return None,
            }
            pos += 1;
            depth -= 1;
        }
    }
}

/// Skips JSON's whitespace from `pos` on.
#[inline(always)]
fn skip_ws(line: &[u8], pos: &mut usize) {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = line.get(*pos) {
        *pos += 1;
    }
}

/// The string whose opening quote is at `pos`; `pos` moves past it.
#[inline(always)]
fn read_string<'a>(line: &'a [u8], pos: &mut usize, quotes: &mut Quotes<'a>) -> Option<&'a str> {
    if quotes.next_quote()? != *pos {
        return None;
    }
    let close = quotes.next_quote()?;
    let body = line.get(*pos + 1..close)?;
    *pos = close + 1;
    if quotes.ascii() {
        // SAFETY: `Quotes` saw every byte up to the closing quote, and none was outside
        // ASCII.
        Some(unsafe { std::str::from_utf8_unchecked(body) })
    } else {
        std::str::from_utf8(body).ok()
    }
}

/// A key and its colon, from `pos` on (whitespace first).
///
/// Here and in the reader, bytes are tested with `matches!` rather than `== Some(&b)`: at
/// opt-level "z" (the npm package) the `Option<&u8>` compare stays a call.
#[inline(always)]
fn read_key<'a>(line: &'a [u8], pos: &mut usize, quotes: &mut Quotes<'a>) -> Option<&'a str> {
    skip_ws(line, pos);
    if !matches!(line.get(*pos), Some(b'"')) {
        return None;
    }
    let name = read_string(line, pos, quotes)?;
    skip_ws(line, pos);
    if !matches!(line.get(*pos), Some(b':')) {
        return None;
    }
    *pos += 1;
    Some(name)
}

/// Notes a key of the object at `depth` while free text is read: `None` when the object
/// already had it (see `Strings::kept`).
#[inline(always)]
fn note_key<'a, S: Strings<'a>>(
    strings: &S,
    keys: &mut Vec<(u32, &'a str)>,
    depth: u32,
    name: &'a str,
) -> Option<()> {
    if strings.kept() {
        let mut same_object = keys.iter().rev().take_while(|(d, _)| *d == depth);
        if same_object.any(|(_, k)| *k == name) {
            return None;
        }
        keys.push((depth, name));
    }
    Some(())
}

/// Forgets the keys of the object at `depth` as it closes (see [`note_key`]).
#[inline(always)]
fn forget_keys<'a, S: Strings<'a>>(strings: &S, keys: &mut Vec<(u32, &'a str)>, depth: u32) {
    if strings.kept() {
        while keys.last().is_some_and(|(d, _)| *d == depth) {
            keys.pop();
        }
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
    out: &'o mut [Option<Captured<'de>>],
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
