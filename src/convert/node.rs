//! A borrowed JSON tree for the conversion fast path.
//!
//! `serde_json::Value` with `preserve_order` hashes every key and allocates every string;
//! converting NDJSON to CSV or JSON needs neither. A [`Node`] keeps object members in a
//! vector (objects of audit events are small, so lookups are linear scans) and borrows
//! strings without escapes from the input. Serialising a node gives the same bytes as
//! serialising the `Value` parsed from the same text, duplicate keys included (the last
//! value wins, in the first one's place).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Number, Value};

use crate::plain::{Num, Plain};

/// A JSON value borrowing from its text.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl<'a> Node<'a> {
    /// Parses JSON text (serde_json's grammar and recursion limit).
    ///
    /// Plain text (no escapes, integers of up to 18 digits, shallow nesting) takes a
    /// hand-written parser; anything else, errors included, goes through serde_json, so the
    /// tree and the error are always serde_json's.
    pub fn parse(text: &'a str) -> Result<Node<'a>, serde_json::Error> {
        if let Some(node) = parse_plain(text) {
            return Ok(node);
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let node = Node::deserialize(&mut de)?;
        de.end()?;
        Ok(node)
    }

    /// Parses JSON bytes; strings are checked to be UTF-8 as they are read.
    pub fn parse_slice(bytes: &'a [u8]) -> Result<Node<'a>, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let node = Node::deserialize(&mut de)?;
        de.end()?;
        Ok(node)
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value at a dotted path (`auditResource.type`).
    pub fn get_path(&self, path: &str) -> Option<&Node<'a>> {
        let mut current = self;
        for part in path.split('.') {
            current = current.get(part)?;
        }
        Some(current)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Node::Object(_))
    }

    /// The owned `serde_json::Value`.
    pub fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::String(s) => Value::String(s.to_string()),
            Node::Array(items) => {
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.push(item.to_value());
                }
                Value::Array(values)
            }
            Node::Object(members) => {
                let mut map = Map::new();
                for (k, v) in members {
                    map.insert(k.to_string(), v.to_value());
                }
                Value::Object(map)
            }
        }
    }

    /// Compact JSON text, appended to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        // Serialising into a Vec cannot fail.
        let _ = serde_json::to_writer(out, self);
    }
}

/// A node borrowing the strings of a `Value` (for work done on nodes, such as
/// transforms, on events held as values). Here and in `to_value`, loops rather than
/// `collect`: each `collect` is its own copy of std's collecting code in the npm package.
impl<'a> From<&'a Value> for Node<'a> {
    fn from(v: &'a Value) -> Node<'a> {
        match v {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Number(n.clone()),
            Value::String(s) => Node::String(Cow::Borrowed(s)),
            Value::Array(items) => {
                let mut nodes = Vec::with_capacity(items.len());
                for item in items {
                    nodes.push(Node::from(item));
                }
                Node::Array(nodes)
            }
            Value::Object(map) => {
                let mut members = Vec::with_capacity(map.len());
                for (k, v) in map {
                    members.push((Cow::Borrowed(k.as_str()), Node::from(v)));
                }
                Node::Object(members)
            }
        }
    }
}

/// The hand-written parser of [`Node::parse`]: gives up (`None`) on anything it does not
/// read exactly as serde_json does.
fn parse_plain(text: &str) -> Option<Node<'_>> {
    let mut p = Plain::new(text);
    let node = plain_value(&mut p, 0)?;
    p.at_end().then_some(node)
}

fn plain_value<'a>(p: &mut Plain<'a>, depth: u32) -> Option<Node<'a>> {
    Some(match p.peek()? {
        b'{' => {
            let mut members: Vec<(Cow<'a, str>, Node<'a>)> = Vec::with_capacity(16);
            let mut sketch = 0u64;
            p.object(depth + 1, |p, key| {
                let value = plain_value(p, depth + 1)?;
                let bit = key_bit(key);
                let earlier = if sketch & bit != 0 {
                    members.iter_mut().find(|(k, _)| k == key)
                } else {
                    None
                };
                match earlier {
                    Some(slot) => slot.1 = value,
                    None => {
                        sketch |= bit;
                        members.push((Cow::Borrowed(key), value));
                    }
                }
                Some(())
            })?;
            Node::Object(members)
        }
        b'[' => {
            let mut items = Vec::new();
            p.array(depth + 1, |p| {
                items.push(plain_value(p, depth + 1)?);
                Some(())
            })?;
            Node::Array(items)
        }
        b'"' => Node::String(Cow::Borrowed(p.string()?)),
        b't' => p.literal("true").map(|()| Node::Bool(true))?,
        b'f' => p.literal("false").map(|()| Node::Bool(false))?,
        b'n' => p.literal("null").map(|()| Node::Null)?,
        _ => match p.number()? {
            Num::Int(n) => Node::Number(n),
            Num::Other => return None,
        },
    })
}

/// One bit of a 64-bit sketch of keys (by length and first byte): only a key whose bit is
/// set may repeat an earlier one.
fn key_bit(key: &str) -> u64 {
    1u64 << ((key.len() as u64)
        .wrapping_mul(31)
        .wrapping_add(u64::from(key.as_bytes().first().copied().unwrap_or(0)))
        & 63)
}

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Number(n) => n.serialize(s),
            Node::String(v) => s.serialize_str(v),
            Node::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Object(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k.as_ref(), v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

/// A key that borrows from the input when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node<'de>, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node<'de>, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node<'de>, E> {
        Ok(Number::from_f64(v).map_or(Node::Null, Node::Number))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        let mut members: Vec<(Cow<'de, str>, Node<'de>)> = Vec::with_capacity(8);
        // A 64-bit sketch of the keys seen (by length and first byte): only a key that may
        // repeat one is looked for among the members.
        let mut sketch = 0u64;
        while let Some(Key(key)) = map.next_key()? {
            let value: Node<'de> = map.next_value()?;
            let bit = key_bit(&key);
            if sketch & bit != 0 {
                if let Some(slot) = members.iter_mut().find(|(k, _)| *k == key) {
                    slot.1 = value;
                    continue;
                }
            }
            sketch |= bit;
            members.push((key, value));
        }
        Ok(Node::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// serde_json's reading of `text` as a Node (the slow path alone).
    fn serde_node(text: &str) -> Result<Node<'_>, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(text);
        let node = Node::deserialize(&mut de)?;
        de.end()?;
        Ok(node)
    }

    #[test]
    fn plain_parser_agrees_with_serde_json() {
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let texts = [
            r#"{"a":1,"b":[true,null,false],"c":{"d":{}},"a":3}"#,
            " { \"a\" : [ ] , \"b\":\t{ } }\r\n",
            r#"{"n":-0}"#,
            r#"{"n":01}"#,
            r#"{"n":-}"#,
            r#"{"n":1.5}"#,
            r#"{"n":1e3}"#,
            r#"{"n":-12345678901234567}"#,
            r#"{"n":123456789012345678}"#,
            r#"{"n":1234567890123456789}"#,
            r#"{"n":18446744073709551616}"#,
            r#"{"n":-9223372036854775809}"#,
            r#"{"s":"a\"b"}"#,
            r#"{"s":"\u00e9 long enough to pass eight bytes"}"#,
            "{\"s\":\"tab\there is raw\"}",
            "{\"s\":\"exactly8\"}",
            r#"{"s":"é and more than eight bytes of text"}"#,
            r#"{"":""}"#,
            r#"{"a":tru}"#,
            r#"{"a":true"#,
            r#"{"a" 1}"#,
            r#"{"a":1,}"#,
            r#"[1,]"#,
            r#"{} x"#,
            r#"{}{}"#,
            r#"nul"#,
            r#""unterminated"#,
            "",
            &deep,
        ];
        for text in texts {
            let plain = parse_plain(text);
            let serde = serde_node(text);
            if let Some(node) = &plain {
                assert_eq!(Some(node), serde.as_ref().ok(), "{text}");
                assert_eq!(
                    serde_json::to_string(node).ok(),
                    serde
                        .as_ref()
                        .ok()
                        .and_then(|n| serde_json::to_string(n).ok()),
                    "{text}"
                );
            }
            let both = Node::parse(text);
            assert_eq!(both.is_ok(), serde.is_ok(), "{text}");
            if let (Err(a), Err(b)) = (&both, &serde) {
                assert_eq!(a.to_string(), b.to_string(), "{text}");
            }
        }
        // The plain parser does read the common forms itself.
        assert!(parse_plain(r#"{"a":[1,-2,"x"],"b":{"c":null}}"#).is_some());
        assert!(parse_plain(r#"{"s":"a\"b"}"#).is_none());
    }

    #[test]
    fn serialises_like_value() {
        for text in [
            r#"{"a":1,"b":[true,null,-2.5e10,"x\"y\u00e9"],"c":{"d":{}},"a":3}"#,
            r#"{"big":18446744073709551615,"neg":-9223372036854775808,"f":0.1}"#,
            r#"[]"#,
        ] {
            let node = Node::parse(text).unwrap();
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&node).unwrap(), value.to_string());
            assert_eq!(node.to_value(), value);
            assert_eq!(Node::from(&value), node);
        }
        let node = Node::parse(r#"{"a":{"b":"c"}}"#).unwrap();
        assert_eq!(node.get_path("a.b").and_then(Node::as_str), Some("c"));
        assert!(Node::parse("{} x").is_err());
    }
}
