//! Applying a compiled transform to one event, in place on its borrowed [`Node`] tree, in
//! the order of formats.md §4.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::compile::{Path, Pattern, Program, TimeFormat, Tree, TruncateIp};
use crate::convert::node::Node;
use crate::time::{format_ms, parse_time, parse_time_value};

/// What `redact` and `redactPatterns` write in place of a value or a match.
pub const REDACTED: &str = "[REDACTED]";

type Members<'a> = Vec<(Cow<'a, str>, Node<'a>)>;

/// Transforms `event`; false when `sample` drops it (the event is then left as it was).
pub(super) fn apply(p: &Program, key: Option<&Hmac<Sha256>>, event: &mut Node<'_>) -> bool {
    if let Some(below) = p.sample_below {
        if sample_point(event) >= below {
            return false;
        }
    }
    if let Node::Object(members) = event {
        if let Some(tree) = &p.include {
            project(tree, members, true);
        }
        if let Some(tree) = &p.exclude {
            project(tree, members, false);
        }
    }
    for path in p.redact.iter() {
        if let Some(v) = at_mut(event, path) {
            *v = Node::String(Cow::Borrowed(REDACTED));
        }
    }
    if !p.patterns.is_empty() {
        redact_strings(event, &p.patterns);
    }
    if let Some(key) = key {
        for path in p.pseudonymize.iter() {
            if let Some(v) = at_mut(event, path) {
                *v = Node::String(Cow::Owned(pseudonym(key, v)));
            }
        }
    }
    if p.truncate_ip.v4.is_some() || p.truncate_ip.v6.is_some() {
        let ip = member_mut(event, "auditHttpRequestInfo").and_then(|v| member_mut(v, "clientIP"));
        if let Some(Node::String(ip)) = ip {
            if let Some(short) = ip.parse().ok().and_then(|a| truncate(a, p.truncate_ip)) {
                *ip = Cow::Owned(short.to_string());
            }
        }
    }
    if let Some(format) = p.time_format {
        if let Some(time) = member_mut(event, "auditEventTime") {
            let ms = match time {
                Node::String(s) => parse_time(s).ok(),
                Node::Number(n) => parse_time_value(&Value::Number(n.clone())).ok(),
                _ => None,
            };
            if let Some(ms) = ms {
                *time = match format {
                    TimeFormat::EpochMs => Node::Number(ms.into()),
                    TimeFormat::Rfc3339 => Node::String(Cow::Owned(format_ms(ms))),
                };
            }
        }
    }
    true
}

/// The first 8 bytes of SHA-256 of the event's `auditEventId` (its UTF-8; the compact JSON
/// of an id that is not a string; nothing for an event without one), big-endian.
fn sample_point(event: &Node) -> u64 {
    let digest = match event.get("auditEventId") {
        Some(Node::String(id)) => Sha256::digest(id.as_bytes()),
        Some(other) => Sha256::digest(compact(other)),
        None => Sha256::digest(b""),
    };
    digest
        .first_chunk()
        .map_or(0, |head| u64::from_be_bytes(*head))
}

/// `"ps_"` and the lowercase hex of the first 16 bytes of HMAC-SHA256(key, value), the
/// value being a string's UTF-8 or any other value's compact JSON.
fn pseudonym(key: &Hmac<Sha256>, value: &Node) -> String {
    let mut mac = key.clone();
    match value {
        Node::String(s) => mac.update(s.as_bytes()),
        other => mac.update(&compact(other)),
    }
    let tag = mac.finalize().into_bytes();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(35);
    out.push_str("ps_");
    for b in tag.iter().take(16) {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// Compact JSON text of a value that is not a string (rare): through a `Value`, whose
/// writer every build has, so that builds without node writers (the npm package) need
/// none for this.
fn compact(v: &Node) -> Vec<u8> {
    v.to_value().to_string().into_bytes()
}

/// The member `key` of an object.
fn member_mut<'n, 'a>(node: &'n mut Node<'a>, key: &str) -> Option<&'n mut Node<'a>> {
    match node {
        Node::Object(members) => members.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

/// The value at `path`, going through objects only.
fn at_mut<'n, 'a>(node: &'n mut Node<'a>, path: &Path) -> Option<&'n mut Node<'a>> {
    path.iter().try_fold(node, |n, key| member_mut(n, key))
}

/// `include` (`keep`): keeps the members the tree names, whole or (objects) in part; an
/// object kept in part that ends up empty goes. `exclude`: removes the members the tree
/// names; an object that this empties goes (one already empty stays).
fn project(tree: &Tree, members: &mut Members, keep: bool) {
    members.retain_mut(|(k, v)| match tree.child(k) {
        None => !keep,
        Some(t) if t.whole => keep,
        Some(t) => match v {
            Node::Object(inner) if keep || !inner.is_empty() => {
                project(t, inner, keep);
                !inner.is_empty()
            }
            _ => !keep,
        },
    });
}

/// `redactPatterns` over every string value, one pattern after another.
fn redact_strings(node: &mut Node, patterns: &[Pattern]) {
    match node {
        Node::String(s) => {
            for p in patterns {
                if crate::filter::text_hit(s.as_bytes(), 0, &p.literal, p.anchor).is_none() {
                    continue;
                }
                if let Some(redacted) = redact_matches(&p.regex, s) {
                    *s = Cow::Owned(redacted);
                }
            }
        }
        Node::Array(items) => items.iter_mut().for_each(|n| redact_strings(n, patterns)),
        Node::Object(members) => members
            .iter_mut()
            .for_each(|(_, n)| redact_strings(n, patterns)),
        _ => {}
    }
}

/// `text` with every non-empty match replaced by [`REDACTED`]; `None` when nothing
/// matched. Empty matches hide nothing, so they are left out rather than filling the text
/// with markers.
fn redact_matches(regex: &regex_lite::Regex, text: &str) -> Option<String> {
    let mut out = String::new();
    let (mut last, mut from) = (0, 0);
    // `find_at` rather than `find_iter`: the same matches without the iterator's own
    // handling of empty ones (smaller in the npm package).
    while let Some(m) = regex.find_at(text, from) {
        if m.is_empty() {
            match text.get(m.end()..).and_then(|rest| rest.chars().next()) {
                Some(c) => from = m.end() + c.len_utf8(),
                None => break,
            }
            continue;
        }
        out.push_str(text.get(last..m.start())?);
        out.push_str(REDACTED);
        (last, from) = (m.end(), m.end());
    }
    if out.is_empty() {
        return None;
    }
    out.push_str(text.get(last..)?);
    Some(out)
}

/// The address with only its first bits kept, when its family has a prefix length. An
/// IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is an IPv4 address: its IPv4 part is
/// truncated and it stays mapped, so that `v4` alone leaves no IPv4 address whole.
fn truncate(ip: IpAddr, t: TruncateIp) -> Option<IpAddr> {
    let v4 = |a: Ipv4Addr, bits: u8| {
        let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
        Ipv4Addr::from(u32::from(a) & mask)
    };
    Some(match ip {
        IpAddr::V4(a) => IpAddr::V4(v4(a, t.v4?)),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(mapped) => IpAddr::V6(v4(mapped, t.v4?).to_ipv6_mapped()),
            None => {
                let mask = u128::MAX.checked_shl(128 - u32::from(t.v6?)).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_to_the_prefix() {
        let t = TruncateIp {
            v4: Some(24),
            v6: Some(48),
        };
        let cut = |s: &str, t| truncate(s.parse().unwrap(), t).map(|a| a.to_string());
        assert_eq!(cut("203.0.113.77", t).as_deref(), Some("203.0.113.0"));
        assert_eq!(
            cut("2001:db8:85a3:8d3:1319:8a2e:370:7348", t).as_deref(),
            Some("2001:db8:85a3::")
        );
        let all = TruncateIp {
            v4: Some(32),
            v6: Some(0),
        };
        assert_eq!(cut("203.0.113.77", all).as_deref(), Some("203.0.113.77"));
        assert_eq!(cut("2001:db8::1", all).as_deref(), Some("::"));
        let v6_only = TruncateIp {
            v4: None,
            v6: Some(64),
        };
        assert_eq!(cut("203.0.113.77", v6_only), None);
        let none = TruncateIp {
            v4: Some(0),
            v6: None,
        };
        assert_eq!(cut("10.1.2.3", none).as_deref(), Some("0.0.0.0"));
        // IPv4-mapped addresses are IPv4 addresses.
        assert_eq!(
            cut("::ffff:192.0.2.77", t).as_deref(),
            Some("::ffff:192.0.2.0")
        );
        assert_eq!(cut("::ffff:192.0.2.77", v6_only), None);
    }

    #[test]
    fn redacts_non_empty_matches() {
        let re = crate::filter::regex("(?i)bearer [a-z0-9._~+/-]+=*").unwrap();
        assert_eq!(
            redact_matches(&re, "Authorization: Bearer abc.def= and bearer x").as_deref(),
            Some("Authorization: [REDACTED] and [REDACTED]")
        );
        assert_eq!(redact_matches(&re, "nothing here"), None);
        let empty = crate::filter::regex("x*").unwrap();
        assert_eq!(redact_matches(&empty, "abc"), None);
        assert_eq!(
            redact_matches(&empty, "axxb").as_deref(),
            Some("a[REDACTED]b")
        );
        assert_eq!(redact_matches(&empty, "xx").as_deref(), Some("[REDACTED]"));
    }
}
