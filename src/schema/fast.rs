//! The fast check of one event from its JSON bytes, without building a `Value`.
//!
//! A serde visitor walks the event once, borrowing its strings, and checks every field of
//! the schema as it goes, measuring size and depth the way [`super::check_value`] does. It
//! only ever answers "valid": on any doubt (a violation, a duplicate field, an unknown field
//! in strict mode, a limit passed, JSON that does not parse) it gives up and the caller
//! falls back to the exact `Value` path, so reported violations stay exactly the same.

use std::fmt;
use std::net::IpAddr;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::{Options, Violation};
use crate::event::{parse_time, parse_time_value};

/// Whether the event in `bytes` is certainly valid; when it is and `options.vocabulary`
/// is set, its vocabulary warnings are appended to `warnings`.
pub(crate) fn is_valid(bytes: &[u8], options: &Options, warnings: &mut Vec<Violation>) -> bool {
    let mut st = State {
        size: 0,
        max_size: options.max_size,
        max_depth: options.max_depth,
        strict: options.strict,
    };
    // One UTF-8 check of the whole event is cheaper than serde_json's per string.
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let top = match de.deserialize_map(Top { st: &mut st }) {
        Ok(top) => top,
        Err(_) => return false,
    };
    if de.end().is_err() || st.size > st.max_size {
        return false;
    }
    if options.vocabulary {
        super::vocabulary_of(
            Some(top.module),
            Some(top.resource_type),
            Some(top.action),
            warnings,
        );
    }
    true
}

struct State {
    size: usize,
    max_size: usize,
    max_depth: usize,
    strict: bool,
}

impl State {
    /// Enters a container at `depth`.
    fn enter<E: de::Error>(&mut self, depth: usize) -> Result<(), E> {
        self.size += 2;
        if depth > self.max_depth || self.size > self.max_size {
            return Err(give_up());
        }
        Ok(())
    }

    /// Counts one entry named `key` (its value is counted by whoever reads it).
    fn entry(&mut self, key: &str) {
        self.size += 1 + key.len() + 3;
    }

    fn string(&mut self, s: &str) {
        self.size += s.len() + 2;
    }
}

fn give_up<E: de::Error>() -> E {
    E::custom("not certainly valid")
}

/// A key, borrowed from the input (a key with escapes gives up: rare, and it could spell a
/// known name).
struct Str<'de>(&'de str);

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Str<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Str(v))
    }
}

impl<'de> de::Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor)
    }
}

/// Reads a string value and counts it.
fn string<'de, A: MapAccess<'de>>(map: &mut A, st: &mut State) -> Result<&'de str, A::Error> {
    match map.next_value_seed(Measure {
        st,
        depth: 0,
        kind: Kind::Any,
    })? {
        Seen::Str(s) => Ok(s),
        _ => Err(give_up()),
    }
}

/// A non-empty string value.
fn text<'de, A: MapAccess<'de>>(map: &mut A, st: &mut State) -> Result<&'de str, A::Error> {
    let s = string(map, st)?;
    if s.is_empty() {
        return Err(give_up());
    }
    Ok(s)
}

/// Marks field `i` seen; a second time is a duplicate.
fn see<E: de::Error>(seen: &mut u32, i: usize) -> Result<(), E> {
    if *seen & (1 << i) != 0 {
        return Err(give_up());
    }
    *seen |= 1 << i;
    Ok(())
}

/// An unknown field: an error in strict mode, else measured.
fn unknown<'de, A: MapAccess<'de>>(
    map: &mut A,
    st: &mut State,
    depth: usize,
) -> Result<(), A::Error> {
    if st.strict {
        return Err(give_up());
    }
    map.next_value_seed(Measure {
        st,
        depth,
        kind: Kind::Any,
    })?;
    Ok(())
}

/// What [`Measure`] saw.
enum Seen<'de> {
    Object,
    Str(&'de str),
    /// The strings of a [`Kind::Strings`] object.
    Strings([Option<&'de str>; FIELDS]),
    Other,
}

/// What [`Measure`] expects.
#[derive(Clone, Copy)]
enum Kind {
    /// Anything.
    Any,
    /// The value of `auditEventTime`: epoch milliseconds or RFC 3339, in range.
    Time,
    /// An object whose fields `names` (at most [`FIELDS`]) are all strings; unknown fields
    /// are measured (or, strict, give up). Gives the strings found, in the order of
    /// `names`. With `nested` names, `names` has one field, an object with the string
    /// fields `nested`, and its strings are what is given (`auditEventAuthor.principal`).
    Strings(&'static [&'static str], &'static [&'static str]),
}

const FIELDS: usize = 3;

/// Any value below the event, measured (size and depth) and checked as `kind` says. (One
/// visitor for every value keeps the WebAssembly small.)
struct Measure<'s> {
    st: &'s mut State,
    /// The value's own depth.
    depth: usize,
    kind: Kind,
}

impl<'de> DeserializeSeed<'de> for Measure<'_> {
    type Value = Seen<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Seen<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl Measure<'_> {
    /// A value that is not a time: fine unless a time was expected.
    fn other<'de, E: de::Error>(self, size: usize) -> Result<Seen<'de>, E> {
        if !matches!(self.kind, Kind::Any) {
            return Err(give_up());
        }
        self.st.size += size;
        Ok(Seen::Other)
    }

    fn number<'de, E: de::Error>(self, v: Value) -> Result<Seen<'de>, E> {
        match self.kind {
            Kind::Any => {}
            Kind::Time if v.is_number() && parse_time_value(&v).is_ok() => {}
            _ => return Err(give_up()),
        }
        self.st.size += 20;
        Ok(Seen::Other)
    }

    fn string<E: de::Error>(self, s: &str) -> Result<(), E> {
        match self.kind {
            Kind::Any => {}
            Kind::Time if parse_time(s).is_ok() => {}
            _ => return Err(give_up()),
        }
        self.st.string(s);
        Ok(())
    }
}

impl<'de> Visitor<'de> for Measure<'_> {
    type Value = Seen<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Seen<'de>, E> {
        self.other(4)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Seen<'de>, E> {
        self.other(5)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seen<'de>, E> {
        self.number(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seen<'de>, E> {
        self.number(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Seen<'de>, E> {
        self.number(Value::from(v))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Seen<'de>, E> {
        self.string(v)?;
        Ok(Seen::Str(v))
    }
    /// A string with escapes: measured, but not handed out (the fields that need the text
    /// give up then).
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Seen<'de>, E> {
        self.string(v)?;
        Ok(Seen::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Seen<'de>, A::Error> {
        if !matches!(self.kind, Kind::Any) {
            return Err(give_up());
        }
        self.st.enter(self.depth)?;
        while seq
            .next_element_seed(Measure {
                st: self.st,
                depth: self.depth + 1,
                kind: Kind::Any,
            })?
            .is_some()
        {
            self.st.size += 1;
        }
        Ok(Seen::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Seen<'de>, A::Error> {
        let (names, nested) = match self.kind {
            Kind::Any => (&[][..], &[][..]),
            Kind::Time => return Err(give_up()),
            Kind::Strings(names, nested) => (names, nested),
        };
        self.st.enter(self.depth)?;
        if !names.is_empty() {
            return strings(map, self.st, self.depth, names, nested).map(Seen::Strings);
        }
        while let Some(Str(k)) = map.next_key::<Str<'de>>()? {
            self.st.entry(k);
            map.next_value_seed(Measure {
                st: self.st,
                depth: self.depth + 1,
                kind: Kind::Any,
            })?;
            if self.st.size > self.st.max_size {
                return Err(give_up());
            }
        }
        Ok(Seen::Object)
    }
}

/// The fields of a [`Kind::Strings`] object (entered already).
fn strings<'de, A: MapAccess<'de>>(
    mut map: A,
    st: &mut State,
    depth: usize,
    names: &'static [&'static str],
    nested: &'static [&'static str],
) -> Result<[Option<&'de str>; FIELDS], A::Error> {
    let mut out: [Option<&'de str>; FIELDS] = [None, None, None];
    let mut seen = 0u32;
    while let Some(Str(k)) = map.next_key::<Str<'de>>()? {
        st.entry(k);
        match names.iter().position(|n| *n == k) {
            Some(i) if i < FIELDS => {
                see(&mut seen, i)?;
                if nested.is_empty() {
                    out[i] = Some(string(&mut map, st)?);
                } else {
                    out = object(&mut map, st, depth + 1, nested, &[])?;
                }
            }
            _ => unknown(&mut map, st, depth + 1)?,
        }
    }
    Ok(out)
}

/// Reads a [`Kind::Strings`] object value at `depth`.
fn object<'de, A: MapAccess<'de>>(
    map: &mut A,
    st: &mut State,
    depth: usize,
    names: &'static [&'static str],
    nested: &'static [&'static str],
) -> Result<[Option<&'de str>; FIELDS], A::Error> {
    match map.next_value_seed(Measure {
        st,
        depth,
        kind: Kind::Strings(names, nested),
    })? {
        Seen::Strings(out) => Ok(out),
        _ => Err(give_up()),
    }
}

fn non_empty<E: de::Error>(s: Option<&str>) -> Result<(), E> {
    match s {
        Some(s) if !s.is_empty() => Ok(()),
        _ => Err(give_up()),
    }
}

/// What the event's checks need at the end.
struct Found<'de> {
    module: &'de str,
    resource_type: &'de str,
    action: &'de str,
}

/// The event object (depth 1).
struct Top<'s> {
    st: &'s mut State,
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = Found<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an event object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found<'de>, A::Error> {
        let st = self.st;
        st.enter(1)?;
        let mut seen = 0u32;
        let (mut module, mut resource_type, mut action) = (None, None, None);
        while let Some(Str(k)) = map.next_key::<Str<'de>>()? {
            st.entry(k);
            let i = match super::TOP.iter().position(|n| *n == k) {
                Some(i) => i,
                None => {
                    unknown(&mut map, st, 2)?;
                    continue;
                }
            };
            see(&mut seen, i)?;
            match i {
                0 => {
                    text(&mut map, st)?;
                }
                1 => {
                    let [ptype, ident, _email] = object(
                        &mut map,
                        st,
                        2,
                        &["principal"],
                        &["type", "identifier", "email"],
                    )?;
                    non_empty(ptype)?;
                    non_empty(ident)?;
                }
                2 => module = Some(text(&mut map, st)?),
                3 => {
                    let [rtype, ident, _] = object(&mut map, st, 2, &["type", "identifier"], &[])?;
                    non_empty(ident)?;
                    match rtype {
                        Some(t) if !t.is_empty() => resource_type = Some(t),
                        _ => return Err(give_up()),
                    }
                }
                4 => {
                    let [account, _org, _project] = object(
                        &mut map,
                        st,
                        2,
                        &["accountIdentifier", "orgIdentifier", "projectIdentifier"],
                        &[],
                    )?;
                    non_empty(account)?;
                }
                5 => action = Some(text(&mut map, st)?),
                6 => {
                    map.next_value_seed(Measure {
                        st: &mut *st,
                        depth: 2,
                        kind: Kind::Time,
                    })?;
                }
                7 => {
                    let [method, ip, _] =
                        object(&mut map, st, 2, &["requestMethod", "clientIP"], &[])?;
                    match (method, ip) {
                        (Some(_), Some(ip)) if ip.parse::<IpAddr>().is_ok() => {}
                        _ => return Err(give_up()),
                    }
                }
                _ => {
                    // `auditEventMetadata`: any object.
                    let seen = map.next_value_seed(Measure {
                        st: &mut *st,
                        depth: 2,
                        kind: Kind::Any,
                    })?;
                    if !matches!(seen, Seen::Object) {
                        return Err(give_up());
                    }
                }
            }
            if st.size > st.max_size {
                return Err(give_up());
            }
        }
        // Every field but the HTTP request and the metadata is required.
        const REQUIRED: u32 = 0b0111_1111;
        match (module, resource_type, action) {
            (Some(module), Some(resource_type), Some(action)) if seen & REQUIRED == REQUIRED => {
                Ok(Found {
                    module,
                    resource_type,
                    action,
                })
            }
            _ => Err(give_up()),
        }
    }
}
