//! Property: any split of an input into chunks gives the same events and errors as one
//! chunk, for every reader, gzip included.

use proptest::prelude::*;
use trailsift::convert::gzip;
use trailsift::convert::{read_all, Format, Item, ReadOptions, Reader};

fn read_chunked(format: Option<Format>, input: &[u8], cuts: &[usize]) -> Vec<Item> {
    let mut reader = match format {
        Some(f) => Reader::new(f, small_limits()).unwrap(),
        None => Reader::detecting(None, small_limits()),
    };
    let mut out = Vec::new();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    points.sort_unstable();
    let mut start = 0;
    for p in points {
        reader.push(&input[start..p], &mut out);
        start = p;
    }
    reader.push(&input[start..], &mut out);
    reader.finish(&mut out);
    out
}

fn small_limits() -> ReadOptions {
    ReadOptions {
        max_record_bytes: 200,
        max_depth: 8,
        ..ReadOptions::default()
    }
}

/// Inputs built from pieces that exercise the edge cases: multi-byte UTF-8, escapes,
/// brackets in strings, CRLF, blank lines, broken records, deep and long records.
fn pieces(format: Format) -> Vec<&'static str> {
    match format {
        Format::Json | Format::SplunkHec => vec![
            "[", "]", ",", "\n", " ", "{\"id\":\"é€😀\"}", "{\"a\":\"}]\\\"[{\"}", "{\"id\":}",
            "\"str\"", "12", "{\"b\":\"\u{1}\"}", "{\"o\":{\"k\":[1,{\"z\":null}]}}", "{\"a\":1,", "{{{{{{{{{{1}}}}}}}}}}",
            "{\"event\":{\"id\":\"h\"}}", "{\"time\":1}", "\r\n",
            "{\"long\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
            "\u{feff}",
        ],
        Format::Csv => vec![
            "auditEventId,auditEventTime,x.y,auditEventMetadata\n", ",", "\n", "\r\n", "\"", "\"\"",
            "a", "é€😀", "2025-11-21T10:05:30.123Z", "{\"k\":1}", "5", "\u{1}", "\u{feff}",
            "\"quoted, with\nnewline\"", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        ],
        _ => vec![
            "\n", "\r\n", "  ", "{\"id\":\"é€😀\"}", "{\"id\":", "[1]", "{\"b\":\"\u{1}\"}", "{\"a\":\"x\\n\"}",
            "{\"event\":\"Harness-Audit-Event-1\",\"fields\":{\"a.b\":1,\"c\":\"d\"}}",
            "{\"event\":\"x\"}", "{{{{{{{{{{1}}}}}}}}}}",
            "{\"long\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
            "\u{feff}",
        ],
    }
}

fn input_strategy(format: Format) -> impl Strategy<Value = Vec<u8>> {
    let p = pieces(format);
    prop::collection::vec(prop::sample::select(p), 0..24).prop_map(|v| {
        // U+0001 stands for a byte that is not UTF-8.
        v.concat()
            .into_bytes()
            .into_iter()
            .map(|b| if b == 1 { 0xFF } else { b })
            .collect()
    })
}

fn check(format: Format, input: &[u8], cuts: &[usize]) -> Result<(), TestCaseError> {
    let whole = read_all(Some(format), None, input, small_limits());
    let chunked = read_chunked(Some(format), input, cuts);
    prop_assert_eq!(&whole, &chunked);
    // Byte by byte too.
    let cuts1: Vec<usize> = (0..input.len()).collect();
    prop_assert_eq!(&whole, &read_chunked(Some(format), input, &cuts1));
    // And gzip-compressed in chunks gives the same.
    let gz = gzip::compress(input);
    prop_assert_eq!(&whole, &read_chunked(Some(format), &gz, cuts));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn json_chunks(input in input_strategy(Format::Json), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        check(Format::Json, &input, &cuts)?;
    }

    #[test]
    fn ndjson_chunks(input in input_strategy(Format::Ndjson), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        check(Format::Ndjson, &input, &cuts)?;
    }

    #[test]
    fn hec_chunks(input in input_strategy(Format::SplunkHec), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        check(Format::SplunkHec, &input, &cuts)?;
    }

    #[test]
    fn sumo_chunks(input in input_strategy(Format::Sumo), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        check(Format::Sumo, &input, &cuts)?;
    }

    #[test]
    fn csv_chunks(input in input_strategy(Format::Csv), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        check(Format::Csv, &input, &cuts)?;
    }

    #[test]
    fn detection_chunks(input in input_strategy(Format::Ndjson), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        let whole = read_all(None, None, &input, small_limits());
        prop_assert_eq!(&whole, &read_chunked(None, &input, &cuts));
    }

    #[test]
    fn arbitrary_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..300), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        for f in [Format::Json, Format::Ndjson, Format::Csv, Format::SplunkHec, Format::Sumo] {
            let whole = read_all(Some(f), None, &input, small_limits());
            prop_assert_eq!(&whole, &read_chunked(Some(f), &input, &cuts));
        }
    }
}

/// The converter's NDJSON and JSON fast path (borrowed nodes, no `Value`) writes the same bytes and
/// reports the same errors as reading records and writing their values.
fn slow_and_fast(
    from: Option<Format>,
    input: &[u8],
    to: Format,
    cuts: &[usize],
) -> Result<(), TestCaseError> {
    use trailsift::convert::{Converter, WriteOptions, Writer};
    let items = read_all(from, None, input, small_limits());
    let mut slow = Writer::new(to, WriteOptions::default(), Vec::new());
    let mut slow_errors = Vec::new();
    for item in items {
        match item {
            Ok(r) => slow.write(&r.value).unwrap(),
            Err(e) => slow_errors.push(e),
        }
    }
    let slow = slow.finish().unwrap();
    let writer = Writer::new(to, WriteOptions::default(), Vec::new());
    let mut conv = Converter::new(from, None, small_limits(), writer).unwrap();
    let mut errors = Vec::new();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    points.sort_unstable();
    let mut start = 0;
    for p in points {
        conv.push(&input[start..p], &mut errors).unwrap();
        start = p;
    }
    conv.push(&input[start..], &mut errors).unwrap();
    let fast = conv.finish(&mut errors).unwrap();
    prop_assert_eq!(
        String::from_utf8_lossy(&slow),
        String::from_utf8_lossy(&fast)
    );
    prop_assert_eq!(slow_errors, errors);
    Ok(())
}

fn event_lines() -> impl Strategy<Value = Vec<u8>> {
    let pieces = vec![
        "{\"auditEventId\":\"a\",\"auditEventTime\":1763719530123,\"x\":{\"y\":[1,2.5,\"z\"]}}\n",
        "{\"auditEventId\":\"b\\u00e9\\\"\",\"auditEventTime\":\"2025-11-21T10:05:30Z\",\"auditEventMetadata\":{\"k\":null}}\n",
        "{\"auditEventId\":\"c\",\"auditEventId\":\"dup\",\"auditAction\":\"=1+1\",\"n\":-0.0,\"e\":1e400}\n",
        "{\"auditEventId\":\"\",\"auditResource\":{\"identifier\":\"a,b\\n\\\"c\\\"\"},\"t\":true}\n",
        "{bad json}\n", "[1,2]\n", "\n", "\r\n", "{\"s\":\"\u{1}\"}\n", "{\"auditEventId\":\"cut",
    ];
    prop::collection::vec(prop::sample::select(pieces), 0..12).prop_map(|v| {
        v.concat()
            .into_bytes()
            .into_iter()
            .map(|b| if b == 1 { 0xFF } else { b })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn converter_fast_path_equals_values(input in event_lines(), cuts in prop::collection::vec(any::<usize>(), 0..6), gz in any::<bool>()) {
        let input = if gz { gzip::compress(&input) } else { input };
        for to in [Format::Csv, Format::Json, Format::Ndjson, Format::Sumo] {
            slow_and_fast(Some(Format::Ndjson), &input, to, &cuts)?;
            slow_and_fast(None, &input, to, &cuts)?;
        }
    }

    #[test]
    fn converter_fast_path_equals_values_for_json(input in input_strategy(Format::Json), cuts in prop::collection::vec(any::<usize>(), 0..6), gz in any::<bool>()) {
        let input = if gz { gzip::compress(&input) } else { input };
        for to in [Format::Csv, Format::Json, Format::Ndjson] {
            slow_and_fast(Some(Format::Json), &input, to, &cuts)?;
            slow_and_fast(None, &input, to, &cuts)?;
        }
    }
}

/// Keys that make CSV columns hard: dots, empty, white space at the ends, the rest
/// column's name, fixed paths (whose cells only give back some values).
fn awkward_key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "a",
        "b",
        "a.b",
        "",
        " a",
        "b ",
        "(rest)",
        "auditModule",
        "auditEventTime",
        "auditResource",
        "type",
        "identifier",
        "auditEventMetadata",
        "principal",
    ])
    .prop_map(String::from)
}

fn awkward_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::json;
    let leaf = prop::sample::select(vec![
        json!(null),
        json!(true),
        json!(5),
        json!(-1.5),
        json!(1e300),
        json!(""),
        json!("a"),
        json!("=x"),
        json!("5"),
        json!("true"),
        json!(" "),
        json!("\"q\""),
        json!([]),
        json!({}),
        json!([1, "a"]),
        json!("2025-11-21T10:05:30Z"),
    ]);
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop::collection::vec((awkward_key(), inner), 0..4)
            .prop_map(|members| serde_json::Value::Object(members.into_iter().collect()))
    })
}

fn awkward_events() -> impl Strategy<Value = Vec<serde_json::Value>> {
    let event = prop::collection::vec((awkward_key(), awkward_value()), 0..6).prop_map(|members| {
        let mut map: serde_json::Map<String, serde_json::Value> = members.into_iter().collect();
        map.insert("auditEventId".into(), "id".into());
        serde_json::Value::Object(map)
    });
    prop::collection::vec(event, 1..6)
}

/// What reading an event back from CSV gives: a time that parses comes back as epoch
/// milliseconds (formats.md), everything else as it was.
fn as_csv_gives_back(mut event: serde_json::Value) -> serde_json::Value {
    if let Some(t) = event.get_mut("auditEventTime") {
        let is_time = t.is_string() || t.is_number();
        if let (true, Ok(ms)) = (is_time, trailsift::parse_time_value(t)) {
            *t = ms.into();
        }
    }
    event
}

fn csv_back(csv: &[u8]) -> Result<Vec<serde_json::Value>, TestCaseError> {
    let mut events = Vec::new();
    for item in read_all(Some(Format::Csv), None, csv, ReadOptions::default()) {
        match item {
            Ok(r) => events.push(r.value),
            Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
        }
    }
    Ok(events)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// CSV drops no field: a stream (first event's columns and the rest column) and a
    /// scanned whole input (a column for every field) both read back to the events, the
    /// scan finds the same columns from bytes (read as plain JSON where it can) as from
    /// values, and the converter's fast path writes the same bytes as values do.
    #[test]
    fn csv_keeps_every_field(events in awkward_events(), cut in 1usize..64) {
        use trailsift::convert::{write_all, ColumnScan, Converter, WriteOptions, Writer};
        let expected: Vec<_> = events.iter().cloned().map(as_csv_gives_back).collect();
        let unsafe_opts = |columns| WriteOptions { columns, csv_safety: false, ..WriteOptions::default() };

        let stream = write_all(Format::Csv, unsafe_opts(None), &events).unwrap();
        prop_assert_eq!(&csv_back(&stream)?, &expected);

        let mut by_value = ColumnScan::new(None, None, ReadOptions::default()).unwrap();
        for e in &events {
            by_value.add(e);
        }
        let columns = by_value.finish();
        let ndjson = write_all(Format::Ndjson, WriteOptions::default(), &events).unwrap();
        let mut by_bytes = ColumnScan::new(Some(Format::Ndjson), None, ReadOptions::default()).unwrap();
        for chunk in ndjson.chunks(cut) {
            by_bytes.push(chunk);
        }
        prop_assert_eq!(&by_bytes.finish(), &columns);
        let scanned = write_all(Format::Csv, unsafe_opts(Some(columns)), &events).unwrap();
        prop_assert_eq!(&csv_back(&scanned)?, &expected);

        let writer = Writer::new(Format::Csv, unsafe_opts(None), Vec::new());
        let mut conv = Converter::new(Some(Format::Ndjson), None, ReadOptions::default(), writer).unwrap();
        let mut errors = Vec::new();
        for chunk in ndjson.chunks(cut) {
            conv.push(chunk, &mut errors).unwrap();
        }
        let fast = conv.finish(&mut errors).unwrap();
        prop_assert!(errors.is_empty());
        prop_assert_eq!(String::from_utf8_lossy(&fast), String::from_utf8_lossy(&stream));
    }
}
