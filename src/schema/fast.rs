//! The fast check of one event from its JSON bytes, without building a `Value`.
//!
//! The plain JSON reader ([`crate::plain`]) walks the event once, borrowing its strings,
//! and every field of the schema is checked as it goes, measuring size and depth the way
//! [`super::check_value`] does. It only ever answers "valid": on any doubt (a violation, a
//! duplicate field, an unknown field in strict mode, a limit passed, JSON that is not
//! plain) it gives up and the caller falls back to the exact `Value` path, so reported
//! violations stay exactly the same.

use std::net::IpAddr;

use serde_json::Value;

use super::{Options, Violation};
use crate::plain::{same_key, Num, Plain, Text};
use crate::time::{parse_time, parse_time_value};

/// What the check learns of a valid event on the way: what a store needs to keep it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts<'a> {
    /// `auditEventId`.
    pub id: &'a str,
    /// `auditEventTime` in epoch milliseconds.
    pub time_ms: i64,
}

/// The facts of the event in `bytes` when it is certainly valid (`None`: not known); when
/// it is and `options.vocabulary` is set, its vocabulary warnings are appended to
/// `warnings`.
pub(crate) fn check<'a>(
    bytes: &'a [u8],
    options: &Options,
    warnings: &mut Vec<Violation>,
) -> Option<Facts<'a>> {
    let mut st = State {
        size: 0,
        max_size: options.max_size,
        max_depth: options.max_depth,
        strict: options.strict,
    };
    // One UTF-8 check of the whole event; the reader borrows strings from it.
    let text = std::str::from_utf8(bytes).ok()?;
    let mut p = Plain::new(text);
    let top = st.event(&mut p)?;
    if !p.at_end() || st.size > st.max_size {
        return None;
    }
    if options.account.as_deref().is_some_and(|a| a != top.account) {
        // The exact path reports it.
        return None;
    }
    if options.vocabulary {
        super::vocabulary_of(
            Some(top.module),
            Some(top.resource_type),
            Some(top.action),
            warnings,
        );
    }
    Some(Facts {
        id: top.id,
        time_ms: top.time_ms,
    })
}

struct State {
    size: usize,
    max_size: usize,
    max_depth: usize,
    strict: bool,
}

/// What the event's checks need at the end.
struct Found<'a> {
    id: &'a str,
    time_ms: i64,
    account: &'a str,
    module: &'a str,
    resource_type: &'a str,
    action: &'a str,
}

/// A value [`State::any`] read.
enum Seen {
    Object,
    Other,
}

/// The most string fields a schema object names.
const FIELDS: usize = 3;

impl State {
    /// Enters a container at `depth`.
    fn enter(&mut self, depth: usize) -> Option<()> {
        self.size += 2;
        (depth <= self.max_depth && self.size <= self.max_size).then_some(())
    }

    /// Counts one entry named `key` (its value is counted by whoever reads it).
    fn entry(&mut self, key: &str) -> Option<()> {
        self.size += 1 + key.len() + 3;
        (self.size <= self.max_size).then_some(())
    }

    /// Any value at `depth`, measured.
    fn any(&mut self, p: &mut Plain<'_>, depth: usize) -> Option<Seen> {
        Some(match p.peek()? {
            b'{' => {
                self.enter(depth)?;
                p.object(depth as u32, |p, key| {
                    self.entry(key)?;
                    self.any(p, depth + 1).map(drop)
                })?;
                Seen::Object
            }
            b'[' => {
                self.enter(depth)?;
                p.array(depth as u32, |p| {
                    self.any(p, depth + 1)?;
                    self.size += 1;
                    Some(())
                })?;
                Seen::Other
            }
            b'"' => {
                self.size += 2 + match p.text()? {
                    Text::Plain(s) => s.len(),
                    Text::Escaped(len) => len,
                };
                Seen::Other
            }
            b't' => {
                p.literal("true")?;
                self.size += 5;
                Seen::Other
            }
            b'f' => {
                p.literal("false")?;
                self.size += 5;
                Seen::Other
            }
            b'n' => {
                p.literal("null")?;
                self.size += 4;
                Seen::Other
            }
            _ => {
                p.number()?;
                self.size += 20;
                Seen::Other
            }
        })
    }

    /// A string value (escapes give up: the text is needed).
    fn string<'a>(&mut self, p: &mut Plain<'a>) -> Option<&'a str> {
        let s = p.string()?;
        self.size += s.len() + 2;
        Some(s)
    }

    /// A non-empty string value.
    fn text<'a>(&mut self, p: &mut Plain<'a>) -> Option<&'a str> {
        self.string(p).filter(|s| !s.is_empty())
    }

    /// An unknown field: an error in strict mode, else measured.
    fn unknown(&mut self, p: &mut Plain<'_>, depth: usize) -> Option<()> {
        if self.strict {
            return None;
        }
        self.any(p, depth).map(drop)
    }

    /// An object at `depth` whose fields `names` are strings; gives them in that order.
    fn strings<'a>(
        &mut self,
        p: &mut Plain<'a>,
        depth: usize,
        names: &[&str],
    ) -> Option<[Option<&'a str>; FIELDS]> {
        if p.peek()? != b'{' {
            return None;
        }
        self.enter(depth)?;
        let mut out = [None; FIELDS];
        let mut seen = 0u32;
        p.object(depth as u32, |p, key| {
            self.entry(key)?;
            match position(names, key) {
                Some(i) if i < FIELDS => {
                    see(&mut seen, i)?;
                    out[i] = Some(self.string(p)?);
                    Some(())
                }
                _ => self.unknown(p, depth + 1),
            }
        })?;
        Some(out)
    }

    /// `auditEventAuthor`: an object at depth 2 holding `principal`.
    fn author(&mut self, p: &mut Plain<'_>) -> Option<()> {
        if p.peek()? != b'{' {
            return None;
        }
        self.enter(2)?;
        let mut principal = false;
        p.object(2, |p, key| {
            self.entry(key)?;
            if key != "principal" {
                return self.unknown(p, 3);
            }
            if principal {
                return None;
            }
            principal = true;
            let [ptype, ident, _email] = self.strings(p, 3, &["type", "identifier", "email"])?;
            non_empty(ptype)?;
            non_empty(ident)
        })?;
        principal.then_some(())
    }

    /// `auditEventTime`: epoch milliseconds or RFC 3339, in range.
    fn time(&mut self, p: &mut Plain<'_>) -> Option<i64> {
        if p.peek()? == b'"' {
            let s = self.string(p)?;
            return parse_time(s).ok();
        }
        match p.number()? {
            Num::Int(n) => {
                self.size += 20;
                parse_time_value(&Value::Number(n)).ok()
            }
            Num::Other => None,
        }
    }

    /// The event object (depth 1).
    fn event<'a>(&mut self, p: &mut Plain<'a>) -> Option<Found<'a>> {
        if p.peek()? != b'{' {
            return None;
        }
        self.enter(1)?;
        let mut seen = 0u32;
        let (mut module, mut resource_type, mut action) = (None, None, None);
        let (mut id, mut time_ms, mut account) = (None, None, None);
        p.object(1, |p, key| {
            self.entry(key)?;
            let Some(i) = position(&super::TOP, key) else {
                return self.unknown(p, 2);
            };
            see(&mut seen, i)?;
            match i {
                0 => {
                    id = Some(self.text(p)?);
                    Some(())
                }
                1 => self.author(p),
                2 => {
                    module = Some(self.text(p)?);
                    Some(())
                }
                3 => {
                    let [rtype, ident, _] = self.strings(p, 2, &["type", "identifier"])?;
                    non_empty(ident)?;
                    non_empty(rtype)?;
                    resource_type = rtype;
                    Some(())
                }
                4 => {
                    let [acct, _org, _project] = self.strings(
                        p,
                        2,
                        &["accountIdentifier", "orgIdentifier", "projectIdentifier"],
                    )?;
                    non_empty(acct)?;
                    account = acct;
                    Some(())
                }
                5 => {
                    action = Some(self.text(p)?);
                    Some(())
                }
                6 => {
                    time_ms = Some(self.time(p)?);
                    Some(())
                }
                7 => match self.strings(p, 2, &["requestMethod", "clientIP"])? {
                    [Some(_), Some(ip), _] => {
                        (dotted_quad(ip) || ip.parse::<IpAddr>().is_ok()).then_some(())
                    }
                    _ => None,
                },
                // `auditEventMetadata`: any object.
                _ => match self.any(p, 2)? {
                    Seen::Object => Some(()),
                    _ => None,
                },
            }
        })?;
        // Every field but the HTTP request and the metadata is required.
        const REQUIRED: u32 = 0b0111_1111;
        (seen & REQUIRED == REQUIRED).then_some(())?;
        Some(Found {
            id: id?,
            time_ms: time_ms?,
            account: account?,
            module: module?,
            resource_type: resource_type?,
            action: action?,
        })
    }
}

/// Where `key` is in `names`.
#[inline(always)]
fn position(names: &[&str], key: &str) -> Option<usize> {
    let mut i = 0;
    while i < names.len() {
        if same_key(names[i], key) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Marks field `i` seen; a second time is a duplicate.
fn see(seen: &mut u32, i: usize) -> Option<()> {
    if *seen & (1 << i) != 0 {
        return None;
    }
    *seen |= 1 << i;
    Some(())
}

fn non_empty(s: Option<&str>) -> Option<()> {
    s.filter(|s| !s.is_empty()).map(drop)
}

/// A dotted-quad IPv4 address written the way the standard parser always accepts it (four
/// octets of one to three digits, at most 255, no leading zero). A quick yes for the
/// common case; anything else goes to `IpAddr`'s parser, which decides.
fn dotted_quad(s: &str) -> bool {
    let (mut dots, mut value, mut digits) = (0, 0u32, 0);
    for &b in s.as_bytes() {
        if b == b'.' {
            if digits == 0 || dots == 3 {
                return false;
            }
            dots += 1;
            (value, digits) = (0, 0);
        } else if b.is_ascii_digit() {
            if digits == 1 && value == 0 {
                return false;
            }
            value = value * 10 + u32::from(b - b'0');
            digits += 1;
            if value > 255 {
                return false;
            }
        } else {
            return false;
        }
    }
    dots == 3 && digits > 0
}

#[cfg(test)]
mod tests {
    use super::dotted_quad;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    proptest! {
        /// Its yes is always the standard parser's yes.
        #[test]
        fn dotted_quad_only_accepts_what_std_accepts(s in "[0-9.]{0,16}") {
            if dotted_quad(&s) {
                prop_assert!(s.parse::<Ipv4Addr>().is_ok(), "{s}");
            }
        }

        /// Every address as std writes it is a quick yes.
        #[test]
        fn dotted_quad_accepts_every_written_address(n in any::<u32>()) {
            prop_assert!(dotted_quad(&Ipv4Addr::from(n).to_string()));
        }
    }

    #[test]
    fn dotted_quad_leaves_the_rest_to_std() {
        for s in [
            "",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "256.1.1.1",
            "1..2.3",
            "1.2.3.",
            "::1",
            "1.2.3.4 ",
        ] {
            assert!(!dotted_quad(s), "{s}");
        }
        assert!(dotted_quad("0.0.0.0") && dotted_quad("255.255.255.255"));
    }
}
