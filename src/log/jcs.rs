//! RFC 8785 (JSON Canonicalization Scheme) bytes of a `serde_json::Value`: the log's leaves.
//!
//! Object members sorted by the UTF-16 code units of their names, strings with only the
//! escapes JSON requires (`\"`, `\\`, `\b \f \n \r \t`, `\u00xx` for other controls),
//! numbers as ECMAScript writes a double (`ryu-js`), no whitespace. Written over `Value`
//! rather than through `serde_json_canonicalizer` (the tests' oracle): that crate buffers
//! every member and parses each name again, and canonicalizes an event about 3.5 times
//! slower than this walk (every ingested event is canonicalized once).

use std::cmp::Ordering;

use serde_json::{Number, Value};

/// The canonical bytes of `value`. Events come from serde_json's parser, whose nesting
/// limit bounds the recursion.
pub fn canonical_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_unstable_by(|a, b| utf16_order(a.0, b.0));
            out.push(b'{');
            for (i, (name, item)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(name, out);
                out.push(b':');
                write_value(item, out);
            }
            out.push(b'}');
        }
    }
}

/// The order of the strings' UTF-16 code units, from their UTF-8 bytes: the same as the
/// bytes' order except that U+E000..U+FFFF (lead bytes EE, EF) come after the
/// supplementary characters (lead bytes F0..F4), whose surrogates are D800..DFFF. At the
/// first difference both bytes start a character or both continue one of equal length.
fn utf16_order(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match a.iter().zip(b).find(|(x, y)| x != y) {
        None => a.len().cmp(&b.len()),
        Some((&x, &y)) if x >= 0xEE && y >= 0xEE && (x >= 0xF0) != (y >= 0xF0) => y.cmp(&x),
        Some((x, y)) => x.cmp(y),
    }
}

/// Every number is a double; integers a double holds exactly print as themselves.
fn write_number(n: &Number, out: &mut Vec<u8>) {
    const EXACT: u64 = 1 << 53;
    if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= EXACT) {
        out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
    } else if let Some(f) = n.as_f64().filter(|f| f.is_finite()) {
        out.extend_from_slice(ryu_js::Buffer::new().format_finite(f).as_bytes());
    } else {
        // Not reachable: serde_json numbers are finite doubles or 64-bit integers.
        out.extend_from_slice(b"null");
    }
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn json() -> impl Strategy<Value = Value> {
        let text = "[ -~\u{0}-\u{1f}\u{7f}-\u{ff}\u{2028}\u{e000}-\u{e00f}\u{fb33}\u{1f600}-\u{1f60f}]{0,8}";
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            text.prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((text, inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn sorts_names_by_utf16_code_units(a in "[a-c\u{7f}-\u{81}\u{e000}\u{fb33}\u{ffff}\u{10000}\u{1f600}]{0,4}", b in "[a-c\u{7f}-\u{81}\u{e000}\u{fb33}\u{ffff}\u{10000}\u{1f600}]{0,4}") {
            prop_assert_eq!(utf16_order(&a, &b), a.encode_utf16().cmp(b.encode_utf16()));
        }

        #[test]
        fn agrees_with_serde_json_canonicalizer(value in json()) {
            let oracle = serde_json_canonicalizer::to_vec(&value).unwrap();
            prop_assert_eq!(canonical_json(&value), oracle);
        }

        #[test]
        fn is_json_that_reads_back_to_the_same_canonical_bytes(value in json()) {
            let bytes = canonical_json(&value);
            let again: Value = serde_json::from_slice(&bytes).unwrap();
            prop_assert_eq!(canonical_json(&again), bytes);
        }
    }
}
