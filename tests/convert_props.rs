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
