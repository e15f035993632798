//! Conversion: readers (positions, errors, gzip, detection), writers, round trips.

use serde_json::{json, Value};
use trailsift::convert::gzip;
use trailsift::convert::{read_all, ErrorCode, Format, Item, ReadOptions, Reader};

fn read(format: Format, input: &[u8]) -> Vec<Item> {
    read_all(Some(format), None, input, ReadOptions::default())
}

/// (index, line, byte, id) of the records; (code, index, line, byte) of the errors.
type Oks = Vec<(u64, u64, u64, String)>;
type Errs = Vec<(&'static str, u64, u64, u64)>;

fn summary(items: &[Item]) -> (Oks, Errs) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for item in items {
        match item {
            Ok(r) => ok.push((
                r.index,
                r.line,
                r.byte,
                r.value
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            )),
            Err(e) => bad.push((e.code.as_str(), e.index, e.line, e.byte)),
        }
    }
    (ok, bad)
}

mod ndjson {
    use super::*;

    #[test]
    fn lines_crlf_blank_and_no_final_newline() {
        let input = b"{\"id\":\"a\"}\r\n\r\n  \n{\"id\":\"b\"}\n{\"id\":\"c\"}";
        let (ok, bad) = summary(&read(Format::Ndjson, input));
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(
            ok,
            vec![
                (0, 1, 0, "a".into()),
                (1, 4, 17, "b".into()),
                (2, 5, 28, "c".into())
            ]
        );
    }

    #[test]
    fn raw_bytes_are_the_line_without_its_ending() {
        let items = read(Format::Ndjson, b"{\"id\" : \"a\"}\r\n");
        let record = items[0].as_ref().unwrap();
        assert_eq!(record.raw.as_deref(), Some(&b"{\"id\" : \"a\"}"[..]));
    }

    #[test]
    fn bad_lines_are_positioned_and_the_rest_is_read() {
        let input = b"{\"id\":\"a\"}\n{\"id\":\n[1]\n{\"id\":\"\xff\"}\n{\"id\":\"e\"}\n";
        let items = read(Format::Ndjson, input);
        let (ok, bad) = summary(&items);
        assert_eq!(ok, vec![(0, 1, 0, "a".into()), (4, 5, 33, "e".into())]);
        assert_eq!(
            bad,
            vec![
                ("bad_json", 1, 2, 11),
                ("not_an_object", 2, 3, 18),
                ("bad_utf8", 3, 4, 22)
            ]
        );
        let msg = &items[1].as_ref().unwrap_err().message;
        assert!(msg.contains("line 2"), "{msg}");
    }

    #[test]
    fn a_cut_last_line_is_truncated() {
        let (ok, bad) = summary(&read(Format::Ndjson, b"{\"id\":\"a\"}\n{\"id\":\"b"));
        assert_eq!(ok.len(), 1);
        assert_eq!(bad, vec![("truncated", 1, 2, 11)]);
    }

    #[test]
    fn too_large_and_too_deep() {
        let opts = ReadOptions {
            max_record_bytes: 20,
            ..ReadOptions::default()
        };
        let long = format!("{{\"id\":\"{}\"}}\n{{\"id\":\"ok\"}}\n", "x".repeat(50));
        let mut reader = Reader::new(Format::Ndjson, opts).unwrap();
        let mut out = Vec::new();
        for c in long.as_bytes().chunks(3) {
            reader.push(c, &mut out);
        }
        reader.finish(&mut out);
        let (ok, bad) = summary(&out);
        assert_eq!(bad, vec![("too_large", 0, 1, 0)]);
        assert_eq!(ok, vec![(1, 2, 60, "ok".into())]);

        let deep = format!("{}{}\n", "{\"a\":".repeat(200), "}".repeat(200));
        let (_, bad) = summary(&read(Format::Ndjson, deep.as_bytes()));
        assert_eq!(bad, vec![("too_deep", 0, 1, 0)]);
    }
}

mod json_array {
    use super::*;

    const PRETTY: &str =
        "[\n  {\n    \"id\": \"a\",\n    \"n\": [1, 2]\n  },\n  {\"id\": \"b\"}\n]\n";

    #[test]
    fn pretty_array_positions_are_the_opening_brace() {
        let (ok, bad) = summary(&read(Format::Json, PRETTY.as_bytes()));
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(ok, vec![(0, 2, 4, "a".into()), (1, 6, 44, "b".into())]);
    }

    #[test]
    fn one_object_and_an_empty_array() {
        let (ok, bad) = summary(&read(Format::Json, b" {\"id\":\"x\"} "));
        assert!(bad.is_empty());
        assert_eq!(ok, vec![(0, 1, 1, "x".into())]);
        assert!(read(Format::Json, b"[ ]").is_empty());
        assert!(read(Format::Json, b"").is_empty());
    }

    #[test]
    fn strings_with_brackets_and_escapes() {
        let input = br#"[{"id":"a","s":"}]\"{["},{"id":"b"}]"#;
        let (ok, bad) = summary(&read(Format::Json, input));
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(ok.len(), 2);
    }

    #[test]
    fn bad_elements_are_reported_and_reading_goes_on() {
        let input = b"[{\"id\":\"a\"},{\"id\":},\n\"str\",{\"id\":\"d\"}]";
        let (ok, bad) = summary(&read(Format::Json, input));
        assert_eq!(ok, vec![(0, 1, 1, "a".into()), (3, 2, 27, "d".into())]);
        assert_eq!(
            bad,
            vec![("bad_json", 1, 1, 12), ("not_an_object", 2, 2, 21)]
        );
    }

    #[test]
    fn an_element_missing_its_closing_brace_is_cut_at_the_next_element() {
        let input = b"[\n{\"id\":\"a\",\"o\":{\"k\":1},\n{\"id\":\"b\"}\n]";
        let (ok, bad) = summary(&read(Format::Json, input));
        assert_eq!(bad, vec![("bad_json", 0, 2, 2)]);
        assert_eq!(ok, vec![(1, 3, 25, "b".into())]);
    }

    #[test]
    fn truncated_array() {
        let (ok, bad) = summary(&read(Format::Json, b"[{\"id\":\"a\"},{\"id\":\"b"));
        assert_eq!(ok.len(), 1);
        assert_eq!(bad[0], ("truncated", 1, 1, 12));
        assert_eq!(bad[1].0, "truncated");
    }

    #[test]
    fn too_deep_is_its_own_code() {
        let deep = format!("[{}{}]", "[".repeat(300), "]".repeat(300));
        let (_, bad) = summary(&read(Format::Json, deep.as_bytes()));
        assert_eq!(bad, vec![("too_deep", 0, 1, 1)]);
    }
}

mod gzip_input {
    use super::*;

    #[test]
    fn gzip_is_detected_and_read_in_chunks() {
        let gz = gzip::compress(b"{\"id\":\"a\"}\n{\"id\":\"b\"}\n");
        let mut reader = Reader::detecting(Some("events.ndjson.gz"), ReadOptions::default());
        let mut out = Vec::new();
        for c in gz.chunks(5) {
            reader.push(c, &mut out);
        }
        reader.finish(&mut out);
        assert_eq!(reader.is_gzip(), Some(true));
        let (ok, bad) = summary(&out);
        assert!(bad.is_empty());
        assert_eq!(ok.len(), 2);
    }

    #[test]
    fn truncated_gzip_keeps_the_good_records() {
        let text: String = (0..2000)
            .map(|i| format!("{{\"id\":\"e{i}\"}}\n"))
            .collect();
        let gz = gzip::compress(text.as_bytes());
        let cut = &gz[..gz.len() * 2 / 3];
        let items = read_all(None, None, cut, ReadOptions::default());
        let (ok, bad) = summary(&items);
        assert!(ok.len() > 100, "{}", ok.len());
        assert!(!bad.is_empty());
        assert!(
            bad.iter().all(|b| b.0 == "truncated" || b.0 == "bad_json"),
            "{bad:?}"
        );
        let gz_err = items
            .iter()
            .filter_map(|i| i.as_ref().err())
            .find(|e| e.message.contains("gzip"))
            .unwrap();
        assert_eq!(gz_err.code, ErrorCode::Truncated);
        assert!(gz_err.byte > 0 && gz_err.line > 100);
    }

    #[test]
    fn not_really_gzip() {
        let items = read_all(
            None,
            None,
            b"\x1f\x8bthis is not gzip",
            ReadOptions::default(),
        );
        let (_, bad) = summary(&items);
        assert_eq!(bad[0].0, "bad_gzip");
    }
}

mod detection {
    use super::*;

    #[test]
    fn detects_from_content() {
        for (input, format) in [
            (&b"[{\"id\":\"a\"}]"[..], Format::Json),
            (b"{\"id\":\"a\"}\n{\"id\":\"b\"}\n", Format::Ndjson),
            (b"{\n  \"id\": \"a\"\n}\n", Format::Json),
        ] {
            let mut reader = Reader::detecting(None, ReadOptions::default());
            let mut out = Vec::new();
            for c in input.chunks(1) {
                reader.push(c, &mut out);
            }
            reader.finish(&mut out);
            assert_eq!(reader.format(), Some(format));
            assert!(out.iter().all(|i| i.is_ok()), "{out:?}");
            assert!(!out.is_empty());
        }
    }

    #[test]
    fn ocsf_is_not_readable() {
        let err = Reader::new(Format::Ocsf, ReadOptions::default())
            .err()
            .unwrap();
        assert_eq!(err.code, ErrorCode::Unsupported);
    }

    #[test]
    fn envelopes_unwrap() {
        let hec = b"{\"time\":1.5,\"event\":{\"id\":\"a\"}}\n{\"time\":2,\"event\":{\"id\":\"b\"}}";
        let items = read_all(None, None, hec, ReadOptions::default());
        assert_eq!(summary(&items).0.len(), 2);
        assert_eq!(items[0].as_ref().unwrap().value, json!({"id": "a"}));
        let sumo = b"{\"event\":\"Harness-Audit-Event-a\",\"fields\":{\"id\":\"a\",\"x.y\":1}}\n";
        let items = read_all(None, None, sumo, ReadOptions::default());
        assert_eq!(
            items[0].as_ref().unwrap().value,
            json!({"id": "a", "x": {"y": 1}})
        );
    }
}
