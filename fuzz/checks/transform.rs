//! The transform compiler and its application (formats.md §4): no transform text panics;
//! a compiled one writes canonical JSON that compiles back to itself; it needs a key
//! exactly when it pseudonymises; applied to any event it answers the same twice, from a
//! parsed value and from borrowed nodes alike, and every writer (through the converter's
//! fast path or from values) writes the same bytes; a CSV scan finds the columns of the
//! transformed events.

use serde_json::Value;
use trailsift::convert::node::Node;
use trailsift::convert::{
    read_all, write_all, ColumnScan, ColumnSet, Converter, Format, ReadError, ReadOptions,
    WriteOptions, Writer,
};
use trailsift::transform::{Transform, CODES};

use super::input::Input;

const KEY: &[u8] = b"fuzz key";

/// The `transform` target: the first line is the transform, the rest NDJSON events.
pub fn check(input: &[u8]) {
    let input = Input::new(input);
    let (text, events) = match input.data.iter().position(|&b| b == b'\n') {
        Some(at) => input.data.split_at(at),
        None => (input.data, &b""[..]),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let transform = match Transform::from_json(text) {
        Ok(t) => t,
        Err(e) => {
            assert!(CODES.contains(&e.code), "{e:?}");
            return;
        }
    };
    let canonical = transform.to_json();
    let again = Transform::from_json(&canonical).unwrap_or_else(|e| panic!("{canonical}: {e:?}"));
    assert!(
        again == transform,
        "{text} as {canonical} as {}",
        again.to_json()
    );
    assert_eq!(again.to_json(), canonical);
    assert!(Transform::from_value(&transform.to_value()).is_ok_and(|t| t == transform));
    assert_eq!(transform.clone().bind(None).is_err(), transform.needs_key());
    let bound = transform.bind(Some(KEY)).expect("a key binds");

    let body = events.get(1..).unwrap_or_default();
    for line in body.split(|&b| b == b'\n') {
        let Ok(text) = std::str::from_utf8(line) else {
            continue;
        };
        let Ok(value) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        let applied = bound.apply(&value);
        assert_eq!(bound.apply(&value), applied, "twice on {text}");
        let mut node = Node::parse(text).expect("JSON");
        let kept = bound.apply_node(&mut node);
        assert_eq!(kept.then(|| node.to_value()), applied, "nodes of {text}");
    }

    let with = || WriteOptions {
        transform: Some(bound.clone()),
        csv_safety: input.head[1] & 0x80 != 0,
        ..WriteOptions::default()
    };
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for item in read_all(Some(Format::Ndjson), None, body, ReadOptions::default()) {
        match item {
            Ok(record) => values.push(record.value),
            Err(e) => errors.push(e),
        }
    }
    for format in Format::ALL {
        let writer = Writer::new(format, with(), Vec::new());
        let mut converter =
            Converter::new(Some(Format::Ndjson), None, ReadOptions::default(), writer)
                .expect("NDJSON is readable");
        let mut got: Vec<ReadError> = Vec::new();
        for chunk in input.chunks(body) {
            converter
                .push(chunk, &mut got)
                .expect("writing into memory");
        }
        let out = converter.finish(&mut got).expect("writing into memory");
        let expected = write_all(format, with(), &values).expect("writing into memory");
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&expected),
            "{format}"
        );
        assert_eq!(got, errors, "{format}");
    }

    // A whole input's CSV columns are those of the transformed events.
    let mut scan = ColumnScan::new(Some(Format::Ndjson), None, ReadOptions::default(), &with())
        .expect("NDJSON is readable");
    for chunk in input.chunks(body) {
        scan.push(chunk);
    }
    let mut set = ColumnSet::new();
    values
        .iter()
        .filter_map(|v| bound.apply(v))
        .for_each(|v| set.add(&v));
    assert_eq!(scan.finish(), set.finish(), "the columns of a scan");
}
