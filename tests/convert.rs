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

    /// Found by the `validate` fuzz target (its input, less the four choice bytes, is this
    /// gzip stream: a CSV row, then a corrupt deflate block). flate2 kept what it inflated
    /// in the call that failed, so with the input in one piece the row came after
    /// `bad_gzip` (at the reader's finish) and in small chunks before it.
    #[test]
    fn a_corrupt_stream_reports_the_same_errors_in_the_same_order_in_any_chunks() {
        let seed = std::fs::read("fuzz/seeds/validate/regress-csv-gzip-error-order").unwrap();
        let gz = &seed[4..];
        let whole = read_all(None, None, gz, ReadOptions::default());
        let (_, bad) = summary(&whole);
        assert!(bad.iter().any(|b| b.0 == "bad_gzip"), "{bad:?}");
        for size in (1..=100).chain([1000, 2047, 2048, 2049]) {
            let mut reader = Reader::detecting(None, ReadOptions::default());
            let mut out = Vec::new();
            for c in gz.chunks(size) {
                reader.push(c, &mut out);
            }
            reader.finish(&mut out);
            assert_eq!(summary(&out), summary(&whole), "chunks of {size}");
        }
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

    /// Found by the `read` fuzz target on its seed of validate/limits.ndjson.gz (format
    /// detected): content whose first line is longer than the sniff limit was NDJSON when
    /// one chunk brought the whole line and JSON when the chunks were small, so the same
    /// bytes gave different records and errors ("line longer than" or "record larger
    /// than"). Only the first `SNIFF_LIMIT` bytes decide now: an object that runs past
    /// them on its first line is NDJSON, so both records are read.
    #[test]
    fn a_first_line_past_the_sniff_limit_is_detected_the_same_in_any_chunks() {
        let long = "x".repeat(trailsift::input::SNIFF_LIMIT);
        let input = format!("{{\"auditEventId\":\"{long}\"}}\n{{\"auditEventId\":\"b\"}}\n");
        let mut formats = Vec::new();
        let mut results = Vec::new();
        for size in [input.len(), 1000, 7] {
            let mut reader = Reader::detecting(None, ReadOptions::default());
            let mut out = Vec::new();
            for chunk in input.as_bytes().chunks(size) {
                reader.push(chunk, &mut out);
            }
            reader.finish(&mut out);
            formats.push(reader.format());
            results.push(out);
        }
        assert_eq!(formats, [Some(Format::Ndjson); 3]);
        assert!(results.iter().all(|r| r == &results[0]), "{results:?}");
        assert_eq!(results[0].iter().filter(|r| r.is_ok()).count(), 2);
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

mod fixtures {
    use std::path::PathBuf;

    use super::*;
    use trailsift::convert::{write_all, ColumnSet, WriteOptions};

    pub fn dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/convert")
    }

    pub fn events() -> Vec<Value> {
        let bytes = std::fs::read(dir().join("input.ndjson")).unwrap();
        read(Format::Ndjson, &bytes)
            .into_iter()
            .map(|i| i.unwrap().value)
            .collect()
    }

    /// The columns of a whole-input scan of `events`.
    pub fn all_columns(events: &[Value]) -> Vec<String> {
        let mut set = ColumnSet::new();
        for e in events {
            set.add(e);
        }
        set.finish()
    }

    fn check_golden(name: &str, actual: &[u8]) {
        let path = dir().join(name);
        if std::env::var_os("TRAILSIFT_UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, actual).unwrap();
        }
        let expected = std::fs::read(&path).unwrap_or_default();
        assert!(
            expected == actual,
            "{name} differs from the golden file; got:\n{}",
            String::from_utf8_lossy(actual)
        );
    }

    #[test]
    fn golden_outputs() {
        let events = events();
        for (format, name) in [
            (Format::Json, "output.json"),
            (Format::Ndjson, "output.ndjson"),
            (Format::Csv, "output.stream.csv"),
            (Format::SplunkHec, "output.splunk_hec"),
            (Format::Sumo, "output.sumo"),
            (Format::Ocsf, "output.ocsf"),
        ] {
            let bytes = write_all(format, WriteOptions::default(), &events).unwrap();
            check_golden(name, &bytes);
        }
        for (safety, name) in [
            (true, "output.csv"),
            (false, "output.all-columns.unsafe.csv"),
        ] {
            let opts = WriteOptions {
                columns: Some(all_columns(&events)),
                csv_safety: safety,
                ..WriteOptions::default()
            };
            check_golden(name, &write_all(Format::Csv, opts, &events).unwrap());
        }
    }
}

mod round_trips {
    use super::fixtures::{all_columns, events};
    use super::*;
    use trailsift::convert::{write_all, WriteOptions};

    fn back(format: Format, bytes: &[u8]) -> Vec<Value> {
        read(format, bytes)
            .into_iter()
            .map(|i| i.unwrap_or_else(|e| panic!("{format}: {e}")).value)
            .collect()
    }

    fn through(format: Format, events: &[Value], opts: WriteOptions) -> Vec<Value> {
        back(format, &write_all(format, opts, events).unwrap())
    }

    #[test]
    fn every_readable_format_gives_the_events_back() {
        let events = events();
        for format in [
            Format::Json,
            Format::Ndjson,
            Format::SplunkHec,
            Format::Sumo,
        ] {
            assert_eq!(
                through(format, &events, WriteOptions::default()),
                events,
                "{format}"
            );
        }
        let csv_opts = WriteOptions {
            columns: Some(all_columns(&events)),
            csv_safety: false,
            ..WriteOptions::default()
        };
        assert_eq!(through(Format::Csv, &events, csv_opts.clone()), events);
    }

    #[test]
    fn chains_of_conversions() {
        let events = events();
        let csv_opts = WriteOptions {
            columns: Some(all_columns(&events)),
            csv_safety: false,
            ..WriteOptions::default()
        };
        // json -> ndjson -> csv -> splunk_hec -> sumo -> json
        let a = through(Format::Json, &events, WriteOptions::default());
        let b = through(Format::Ndjson, &a, WriteOptions::default());
        let c = through(Format::Csv, &b, csv_opts.clone());
        let d = through(Format::SplunkHec, &c, WriteOptions::default());
        let e = through(Format::Sumo, &d, WriteOptions::default());
        let f = through(Format::Json, &e, WriteOptions::default());
        assert_eq!(f, events);
        // csv -> json -> csv gives the same bytes.
        let csv1 = write_all(Format::Csv, csv_opts.clone(), &events).unwrap();
        let json = write_all(
            Format::Json,
            WriteOptions::default(),
            &back(Format::Csv, &csv1),
        )
        .unwrap();
        let csv2 = write_all(Format::Csv, csv_opts, &back(Format::Json, &json)).unwrap();
        assert_eq!(csv1, csv2);
    }

    #[test]
    fn digit_string_times_come_back_as_numbers_from_csv_and_sumo() {
        let event = json!({"auditEventId": "x", "auditEventTime": "1763719530123"});
        for format in [Format::Csv, Format::Sumo] {
            let got = through(
                format,
                std::slice::from_ref(&event),
                WriteOptions::default(),
            );
            assert_eq!(
                got[0]["auditEventTime"],
                json!(1763719530123u64),
                "{format}"
            );
        }
    }

    #[test]
    fn values_that_look_like_json_stay_strings() {
        let event = json!({"auditEventId": "123", "x": {"a": "5", "b": "true", "c": "", "d": "\"q\"", "e": " ", "f": 5, "g": [1], "h": {}}});
        let opts = WriteOptions {
            columns: Some(all_columns(std::slice::from_ref(&event))),
            csv_safety: false,
            ..WriteOptions::default()
        };
        let got = through(Format::Csv, std::slice::from_ref(&event), opts);
        assert_eq!(got[0], event);
    }
}

mod writers {
    use super::*;
    use trailsift::convert::batch::{BatchLimits, Batcher};
    use trailsift::convert::{stream_file_name, write_all, HecOptions, WriteOptions, Writer};

    fn ev(id: &str, t: i64) -> Value {
        json!({"auditEventId": id, "auditEventTime": t, "auditModule": "CORE",
               "auditAction": "CREATE", "auditResourceScope": {"accountIdentifier": "acct"}})
    }

    #[test]
    fn json_array_empty_and_streamed() {
        assert_eq!(
            write_all(Format::Json, WriteOptions::default(), []).unwrap(),
            b"[]\n"
        );
        let mut w = Writer::new(Format::Json, WriteOptions::default(), Vec::new());
        w.write(&json!({"a": 1})).unwrap();
        // Drain between events: the writer holds nothing.
        let first = std::mem::take(w.get_mut());
        w.write(&json!({"b": 2})).unwrap();
        let rest = w.finish().unwrap();
        assert_eq!([first, rest].concat(), b"[\n{\"a\":1},\n{\"b\":2}\n]\n");
    }

    #[test]
    fn csv_header_order_time_metadata_and_safety() {
        let event = json!({"auditAction": "=cmd", "auditEventTime": 1763719530123i64, "auditEventId": "a",
                           "auditEventMetadata": {"k": [1, 2]}, "zz": "+1"});
        let out = write_all(Format::Csv, WriteOptions::default(), [&event]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.split("\r\n");
        assert_eq!(
            lines.next().unwrap(),
            "auditEventId,auditEventTime,auditEventAuthor.principal.type,auditEventAuthor.principal.identifier,\
auditEventAuthor.principal.email,auditModule,auditResource.type,auditResource.identifier,\
auditResourceScope.accountIdentifier,auditResourceScope.orgIdentifier,auditResourceScope.projectIdentifier,\
auditAction,auditHttpRequestInfo.requestMethod,auditHttpRequestInfo.clientIP,auditEventMetadata,zz,(rest)"
        );
        assert_eq!(
            lines.next().unwrap(),
            "a,2025-11-21T10:05:30.123Z,,,,,,,,,,'=cmd,,,\"{\"\"k\"\":[1,2]}\",'+1,"
        );
        let opts = WriteOptions {
            csv_safety: false,
            columns: Some(vec!["auditAction".into(), "auditEventId".into()]),
            ..WriteOptions::default()
        };
        let out = write_all(Format::Csv, opts, [&event]).unwrap();
        assert_eq!(out, b"auditAction,auditEventId\r\n=cmd,a\r\n");
    }

    #[test]
    fn hec_envelope() {
        let out = write_all(
            Format::SplunkHec,
            WriteOptions::default(),
            [&ev("a", 1763719530123)],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"time\":1763719530.123,\"sourcetype\":\"harness:audit\",\"fields\":{\"account\":\"acct\",\"module\":\"CORE\",\"action\":\"CREATE\"},\"event\":{\"auditEventId\":\"a\",\"auditEventTime\":1763719530123,\"auditModule\":\"CORE\",\"auditAction\":\"CREATE\",\"auditResourceScope\":{\"accountIdentifier\":\"acct\"}}}\n"
        );
        let opts = WriteOptions {
            hec: HecOptions {
                host: Some("h".into()),
                source: Some("s".into()),
                sourcetype: Some("st".into()),
                index: Some("i".into()),
                fields: vec![],
            },
            ..WriteOptions::default()
        };
        let out = write_all(Format::SplunkHec, opts, [&ev("a", 5)]).unwrap();
        assert!(out.starts_with(b"{\"time\":0.005,\"host\":\"h\",\"source\":\"s\",\"sourcetype\":\"st\",\"index\":\"i\",\"event\":{"));
    }

    #[test]
    fn sumo_line() {
        let event = json!({"auditEventId": "x1", "auditEventTime": "1763719530123", "a": {"b": {"c": 1}, "d": []}});
        let out = write_all(Format::Sumo, WriteOptions::default(), [&event]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"event\":\"Harness-Audit-Event-x1\",\"fields\":{\"auditEventId\":\"x1\",\"auditEventTime\":1763719530123,\"a.b.c\":1,\"a.d\":[]}}\n"
        );
    }

    #[test]
    fn ocsf_mapping() {
        let event = json!({"auditEventId": "id1", "auditEventTime": 1763719530123i64,
            "auditEventAuthor": {"principal": {"type": "USER", "identifier": "alice", "email": "a@x"}},
            "auditModule": "CORE", "auditResource": {"type": "SECRET", "identifier": "s1"},
            "auditResourceScope": {"accountIdentifier": "acct"}, "auditAction": "DELETE",
            "auditHttpRequestInfo": {"requestMethod": "DELETE", "clientIP": "10.0.0.1"}});
        let out = write_all(Format::Ocsf, WriteOptions::default(), [&event]).unwrap();
        let o: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(o["class_uid"], 6003);
        assert_eq!(o["category_uid"], 6);
        assert_eq!(o["activity_id"], 4);
        assert_eq!(o["activity_name"], "Delete");
        assert_eq!(o["type_uid"], 600304);
        assert_eq!(o["time"], 1763719530123i64);
        assert_eq!(
            o["actor"]["user"],
            json!({"uid": "alice", "email_addr": "a@x", "type": "USER"})
        );
        assert_eq!(
            o["api"],
            json!({"operation": "DELETE", "service": {"name": "CORE"}})
        );
        assert_eq!(o["resources"], json!([{"type": "SECRET", "uid": "s1"}]));
        assert_eq!(o["src_endpoint"]["ip"], "10.0.0.1");
        assert_eq!(o["http_request"]["http_method"], "DELETE");
        assert_eq!(o["metadata"]["uid"], "id1");
        assert_eq!(o["metadata"]["product"]["name"], "Harness");
        assert_eq!(o["cloud"]["account"]["uid"], "acct");
        assert_eq!(o["unmapped"], event);
        for (action, id) in [("CREATE", 1), ("VIEW", 2), ("UPDATE", 3), ("START", 99)] {
            let e = json!({"auditAction": action});
            let out = write_all(Format::Ocsf, WriteOptions::default(), [&e]).unwrap();
            let o: Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(o["activity_id"], id, "{action}");
            assert_eq!(o["type_uid"], 600300 + id, "{action}");
        }
    }

    #[test]
    fn batches_respect_bytes_and_events() {
        let events: Vec<Value> = (0..50).map(|i| ev(&format!("e{i}"), 1000 + i)).collect();
        for format in [
            Format::Json,
            Format::Ndjson,
            Format::Sumo,
            Format::SplunkHec,
            Format::Csv,
        ] {
            let limits = BatchLimits {
                max_bytes: 1000,
                max_events: 7,
            };
            let mut b = Batcher::new(format, WriteOptions::default(), limits);
            let mut batches = Vec::new();
            for e in &events {
                batches.extend(b.push(e).unwrap());
            }
            batches.extend(b.finish().unwrap());
            let mut back = Vec::new();
            for batch in &batches {
                assert!(batch.body.len() <= 1000, "{format}: {}", batch.body.len());
                assert!(batch.count <= 7 && batch.count > 0);
                let items = read(format, &batch.body);
                assert_eq!(items.len(), batch.count);
                let times: Vec<i64> = items
                    .iter()
                    .map(|i| {
                        i.as_ref().unwrap().value["auditEventTime"]
                            .as_i64()
                            .unwrap()
                    })
                    .collect();
                assert_eq!(batch.min_time_ms, times.iter().min().copied());
                assert_eq!(batch.max_time_ms, times.iter().max().copied());
                back.extend(items.into_iter().map(|i| i.unwrap().value));
            }
            assert_eq!(back, events, "{format}");
        }
    }

    #[test]
    fn the_open_batch_reports_what_closing_it_would_give() {
        for format in [Format::Json, Format::Ndjson, Format::SplunkHec] {
            let limits = BatchLimits {
                max_bytes: 100_000,
                max_events: 100,
            };
            let mut b = Batcher::new(format, WriteOptions::default(), limits);
            assert_eq!((b.open_events(), b.open_bytes()), (0, 0));
            for i in 0..3 {
                assert!(b.push(&ev(&format!("e{i}"), i)).unwrap().is_none());
            }
            let (events, bytes) = (b.open_events(), b.open_bytes());
            let batch = b.finish().unwrap().unwrap();
            assert_eq!((events, bytes), (batch.count, batch.body.len()), "{format}");
            assert_eq!((b.open_events(), b.open_bytes()), (0, 0));
        }
    }

    #[test]
    fn raw_events_batch_like_their_values() {
        let events: Vec<Value> = (0..30).map(|i| ev(&format!("e{i}"), 1000 + i)).collect();
        for format in [
            Format::Json,
            Format::Ndjson,
            Format::SplunkHec,
            Format::Sumo,
        ] {
            let limits = BatchLimits {
                max_bytes: 700,
                max_events: 4,
            };
            let mut by_value = Batcher::new(format, WriteOptions::default(), limits);
            let mut by_text = Batcher::new(format, WriteOptions::default(), limits);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for (i, e) in events.iter().enumerate() {
                a.extend(by_value.push(e).unwrap());
                let text = serde_json::to_vec(e).unwrap();
                b.extend(by_text.push_raw(&text, Some(1000 + i as i64)).unwrap());
            }
            a.extend(by_value.finish().unwrap());
            b.extend(by_text.finish().unwrap());
            assert!(a.len() > 5, "{format}");
            assert_eq!(a, b, "{format}");
        }
    }

    #[test]
    fn an_event_larger_than_the_byte_limit_goes_alone() {
        let big = json!({"auditEventId": "big", "auditEventTime": 5, "pad": "x".repeat(3000)});
        let limits = BatchLimits {
            max_bytes: 1000,
            max_events: 100,
        };
        let mut b = Batcher::new(Format::Ndjson, WriteOptions::default(), limits);
        let mut batches = Vec::new();
        for e in [ev("a", 1), big.clone(), ev("c", 9)] {
            batches.extend(b.push(&e).unwrap());
        }
        batches.extend(b.finish().unwrap());
        assert_eq!(
            batches.iter().map(|b| b.count).collect::<Vec<_>>(),
            [1, 1, 1]
        );
        assert_eq!(batches[1].min_time_ms, Some(5));
        assert_eq!(
            batches[1].file_name("p/", 7, Format::Json, false),
            "p/5_5_7.json"
        );
    }

    #[test]
    fn stream_file_names() {
        assert_eq!(
            stream_file_name("audit/acct/", 1, 2, 3, Format::Json, false),
            "audit/acct/1_2_3.json"
        );
        assert_eq!(
            stream_file_name("", 1, 2, 3, Format::Ndjson, true),
            "1_2_3.ndjson.gz"
        );
    }
}

mod csv_reading {
    use super::*;

    #[test]
    fn quoted_fields_blank_lines_and_positions() {
        let input = b"auditEventId,auditEventTime,x.y\r\n\r\na,2025-11-21T10:05:30.123Z,\"multi\nline, \"\"q\"\"\"\r\nb,1763719530123,7\n";
        let items = read(Format::Csv, input);
        let (ok, bad) = summary(&items);
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(
            ok.iter().map(|o| (o.0, o.1, o.2)).collect::<Vec<_>>(),
            vec![(0, 3, 35), (1, 5, 83)]
        );
        let v = &items[0].as_ref().unwrap().value;
        assert_eq!(
            v,
            &json!({"auditEventId": "a", "auditEventTime": 1763719530123i64, "x": {"y": "multi\nline, \"q\""}})
        );
        assert_eq!(items[1].as_ref().unwrap().value["x"]["y"], 7);
    }

    #[test]
    fn unterminated_quote_at_the_end_is_truncated() {
        let input = b"auditEventId,auditAction\na,CREATE\nb,\"unterminated\n";
        let (ok, bad) = summary(&read(Format::Csv, input));
        assert_eq!(ok.len(), 1);
        assert_eq!(bad, vec![("truncated", 1, 3, 34)]);
    }

    #[test]
    fn unterminated_quote_in_the_middle_is_cut_at_the_size_limit() {
        let mut input = b"auditEventId,auditAction\nb,\"oops\n".to_vec();
        for i in 0..100 {
            input.extend(format!("e{i},CREATE\n").bytes());
        }
        let opts = ReadOptions {
            max_record_bytes: 200,
            ..ReadOptions::default()
        };
        let items = read_all(Some(Format::Csv), None, &input, opts);
        let (ok, bad) = summary(&items);
        assert_eq!(bad[0].0, "too_large");
        assert!(ok.len() > 70, "{}", ok.len());
    }

    /// Found by the `convert` fuzz target reading its CSV output back with no limit on
    /// the record size: `max_record_bytes + 1` overflowed, a panic in a debug build and, in
    /// a release build, a limit of 0 that made every row `too_large`.
    #[test]
    fn the_largest_record_limit_reads_rows() {
        let opts = ReadOptions {
            max_record_bytes: usize::MAX,
            ..ReadOptions::default()
        };
        let items = read_all(Some(Format::Csv), None, b"auditEventId\na\n", opts);
        assert_eq!(items.len(), 1);
        assert_eq!(
            items[0].as_ref().unwrap().value,
            json!({"auditEventId": "a"})
        );
    }

    #[test]
    fn bad_rows() {
        let input = b"auditEventId,auditAction\na,b,c\n\xff,x\nok,CREATE";
        let (ok, bad) = summary(&read(Format::Csv, input));
        assert_eq!(bad, vec![("bad_csv", 0, 2, 25), ("bad_utf8", 1, 3, 31)]);
        assert_eq!(ok.len(), 1);
    }

    #[test]
    fn detection_by_name_and_content() {
        let input = b"auditEventId,auditAction\na,CREATE\n";
        let items = read_all(None, None, input, ReadOptions::default());
        assert_eq!(items.len(), 1);
        let items = read_all(
            None,
            Some("x.csv.gz"),
            &gzip::compress(input),
            ReadOptions::default(),
        );
        assert_eq!(
            items[0].as_ref().unwrap().value,
            json!({"auditEventId": "a", "auditAction": "CREATE"})
        );
    }
}

mod records_iterator {
    use super::*;
    use trailsift::convert::Records;

    /// Hands out its bytes three at a time, then fails.
    struct Flaky(Vec<u8>, usize);

    impl std::io::Read for Flaky {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.1 >= self.0.len() {
                return Err(std::io::Error::other("disk gone"));
            }
            let n = buf.len().min(3).min(self.0.len() - self.1);
            buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }

    #[test]
    fn records_then_an_io_error() {
        let reader = Reader::detecting(None, ReadOptions::default());
        let items: Vec<Item> = Records::new(
            reader,
            Flaky(b"{\"id\":\"a\"}\n{\"id\":\"b\"}\n".to_vec(), 0),
        )
        .collect();
        let (ok, bad) = summary(&items);
        assert_eq!(ok.len(), 2);
        assert_eq!(bad, vec![("io", 2, 3, 22)]);
    }
}

mod converter {
    use super::*;
    use trailsift::convert::{Converter, WriteOptions, Writer};

    fn run(
        from: Option<Format>,
        name: Option<&str>,
        input: &[u8],
        to: Format,
        stop: bool,
    ) -> (String, Vec<&'static str>) {
        let writer = Writer::new(to, WriteOptions::default(), Vec::new());
        let mut conv = Converter::new(from, name, ReadOptions::default(), writer)
            .unwrap()
            .stop_on_error(stop)
            .with_predicate(Box::new(|v: &Value| v["keep"] != json!(false)));
        let mut errors = Vec::new();
        for c in input.chunks(7) {
            conv.push(c, &mut errors).unwrap();
        }
        let out = conv.finish(&mut errors).unwrap();
        (
            String::from_utf8(out).unwrap(),
            errors.iter().map(|e| e.code.as_str()).collect(),
        )
    }

    #[test]
    fn predicate_errors_and_stop_on_error_on_both_paths() {
        let ndjson = b"{\"id\":\"a\"}\n{\"id\":\"b\",\"keep\":false}\n{x}\n{\"id\":\"d\"}\n";
        let (out, errs) = run(Some(Format::Ndjson), None, ndjson, Format::Ndjson, false);
        assert_eq!(out, "{\"id\":\"a\"}\n{\"id\":\"d\"}\n");
        assert_eq!(errs, ["bad_json"]);
        let (out, errs) = run(None, Some("x.ndjson"), ndjson, Format::Ndjson, true);
        assert_eq!(out, "{\"id\":\"a\"}\n");
        assert_eq!(errs, ["bad_json"]);
        let json = b"[{\"id\":\"a\"},{\"id\":\"b\",\"keep\":false},{\"id\":},{\"id\":\"d\"}]";
        let (out, errs) = run(None, None, json, Format::Ndjson, false);
        assert_eq!(out, "{\"id\":\"a\"}\n{\"id\":\"d\"}\n");
        assert_eq!(errs, ["bad_json"]);
        let (out, _) = run(None, None, json, Format::Ndjson, true);
        assert_eq!(out, "{\"id\":\"a\"}\n");
    }

    /// Regression: a body whose format is only known at its end (one HEC envelope without
    /// a newline) was dropped when the held bytes were replayed.
    #[test]
    fn format_known_only_at_the_end() {
        let (out, errs) = run(
            None,
            None,
            b"{\"event\":{\"id\":\"h\"}}",
            Format::Ndjson,
            false,
        );
        assert_eq!(out, "{\"id\":\"h\"}\n");
        assert!(errs.is_empty());
    }

    #[test]
    fn gzip_ndjson_through_the_fast_path() {
        let gz = gzip::compress(b"{\"id\":\"a\"}\n{\"id\":\"b\"}\n");
        let (out, errs) = run(Some(Format::Ndjson), None, &gz, Format::Json, false);
        assert_eq!(out, "[\n{\"id\":\"a\"},\n{\"id\":\"b\"}\n]\n");
        assert!(errs.is_empty());
        let (_, errs) = run(
            Some(Format::Ndjson),
            None,
            &gz[..gz.len() - 4],
            Format::Json,
            false,
        );
        assert_eq!(errs, ["truncated"]);
    }
}

/// CSV never drops a field silently (issue 12): a whole input gets a column for every
/// field; a stream keeps what its header has no column for in the `(rest)` column.
mod csv_keeps_every_field {
    use super::fixtures::all_columns;
    use super::*;
    use trailsift::convert::batch::{BatchLimits, Batcher};
    use trailsift::convert::write::REST_COLUMN;
    use trailsift::convert::{write_all, ColumnScan, WriteOptions};

    fn unsafe_opts(columns: Option<Vec<String>>) -> WriteOptions {
        WriteOptions {
            columns,
            csv_safety: false,
            ..WriteOptions::default()
        }
    }

    fn back(csv: &[u8]) -> Vec<Value> {
        read(Format::Csv, csv)
            .into_iter()
            .map(|i| i.unwrap_or_else(|e| panic!("{e}")).value)
            .collect()
    }

    fn header(csv: &[u8]) -> Vec<String> {
        let text = String::from_utf8_lossy(csv);
        let line = text.split("\r\n").next().unwrap_or_default();
        line.split(',').map(str::to_string).collect()
    }

    /// Fields that no dotted column name can give back, values that a fixed column's cell
    /// cannot give back, and shapes that change from one event to the next.
    fn awkward_events() -> Vec<Value> {
        vec![
            json!({"auditEventId": "a", "auditEventTime": 1, "x": 5, "y": {"a": 1}}),
            json!({"auditEventId": "b", "auditEventTime": 2, "x": {"a": 1}, "y": 7,
                   "later": {"deep": {"er": [1, {"k": null}]}}}),
            json!({"auditEventId": "c", "a.b": 1, "": "empty key", " lead": 1, "trail ": 2,
                   "(rest)": "a field with the rest column's name", "n": {"(rest)": 3},
                   "auditResource": "not an object", "auditModule": 5,
                   "auditEventTime": true, "auditEventAuthor": {}}),
            json!({"auditEventId": "d", "auditEventTime": 1.5,
                   "auditResource": {"type": {"nested": "object"}, "identifier": "r", "extra": "e"},
                   "auditEventAuthor": {"principal": {"type": "USER", "identifier": "u", "more": [1]}},
                   "auditResourceScope": {}, "auditEventMetadata": "text"}),
            json!({"auditEventId": "e", "auditEventTime": "", "x": "=1+1", "y": {"a": {}}}),
        ]
    }

    #[test]
    fn a_stream_keeps_fields_of_later_events_in_the_rest_column() {
        let events = vec![
            json!({"auditEventId": "a", "auditEventTime": 1}),
            json!({"auditEventId": "b", "auditEventTime": 2, "later": {"x": "=1", "y": [1]}}),
        ];
        let csv = write_all(Format::Csv, unsafe_opts(None), &events).unwrap();
        assert_eq!(header(&csv).last().map(String::as_str), Some(REST_COLUMN));
        let text = String::from_utf8(csv.clone()).unwrap();
        assert!(
            text.ends_with(",\"{\"\"later\"\":{\"\"x\"\":\"\"=1\"\",\"\"y\"\":[1]}}\"\r\n"),
            "{text}"
        );
        assert_eq!(back(&csv), events);
    }

    #[test]
    fn a_scan_gives_fields_of_later_events_columns() {
        let events = vec![
            json!({"auditEventId": "a", "auditEventTime": 1}),
            json!({"auditEventId": "b", "auditEventTime": 2, "later": {"x": "=1", "y": [1]}}),
        ];
        let columns = all_columns(&events);
        assert_eq!(columns[FIXED_LEN..], ["later.x", "later.y"]);
        let csv = write_all(Format::Csv, unsafe_opts(Some(columns)), &events).unwrap();
        assert_eq!(back(&csv), events);
    }

    const FIXED_LEN: usize = trailsift::convert::write::FIXED_COLUMNS.len();

    #[test]
    fn awkward_fields_come_back_from_a_stream_and_from_a_scan() {
        let events = awkward_events();
        let stream = write_all(Format::Csv, unsafe_opts(None), &events).unwrap();
        assert_eq!(back(&stream), events, "stream");
        let columns = all_columns(&events);
        assert_eq!(
            columns[FIXED_LEN..],
            [
                "x",
                "y.a",
                "later.deep.er",
                "n.(rest)",
                "auditResource.extra",
                "auditEventAuthor.principal.more",
                REST_COLUMN
            ],
        );
        let scanned = write_all(Format::Csv, unsafe_opts(Some(columns)), &events).unwrap();
        assert_eq!(back(&scanned), events, "scan");
    }

    #[test]
    fn a_scan_adds_the_rest_column_only_when_a_field_needs_it() {
        let plain = [json!({"auditEventId": "a", "x": {"y": 1}})];
        assert!(!all_columns(&plain).iter().any(|c| c == REST_COLUMN));
        for odd in [
            json!({"a.b": 1}),
            json!({"auditModule": 5}),
            json!({"auditResource": "x"}),
            json!({"(rest)": 1}),
        ] {
            let columns = all_columns(&[plain[0].clone(), odd.clone()]);
            assert_eq!(
                columns.last().map(String::as_str),
                Some(REST_COLUMN),
                "{odd}"
            );
        }
    }

    #[test]
    fn a_projection_gets_nothing_added_unless_it_names_the_rest_column() {
        let events = awkward_events();
        let chosen = vec!["auditEventId".to_string(), "x".to_string()];
        let csv = write_all(Format::Csv, unsafe_opts(Some(chosen.clone())), &events).unwrap();
        assert_eq!(header(&csv), chosen);
        let with_rest = vec!["auditEventId".to_string(), REST_COLUMN.to_string()];
        let csv = write_all(Format::Csv, unsafe_opts(Some(with_rest)), &events).unwrap();
        assert_eq!(back(&csv), events);
    }

    #[test]
    fn batches_of_a_stream_keep_the_rest_column() {
        let events = awkward_events();
        let limits = BatchLimits {
            max_bytes: 100_000,
            max_events: 2,
        };
        let mut b = Batcher::new(Format::Csv, unsafe_opts(None), limits);
        let mut batches = Vec::new();
        for e in &events {
            batches.extend(b.push(e).unwrap());
        }
        batches.extend(b.finish().unwrap());
        assert_eq!(batches.len(), 3);
        let got: Vec<Value> = batches.iter().flat_map(|b| back(&b.body)).collect();
        assert_eq!(got, events);
    }

    /// The rows of a CSV as their cells' text (RFC 4180 unquoted), with csv-core.
    fn rows(csv: &[u8]) -> Vec<Vec<String>> {
        let mut reader = csv_core::Reader::new();
        let mut rows = Vec::new();
        let mut input = csv;
        let (mut out, mut ends) = (vec![0u8; 1 << 16], vec![0usize; 256]);
        loop {
            let (result, nin, _, nend) = reader.read_record(input, &mut out, &mut ends);
            input = &input[nin..];
            match result {
                csv_core::ReadRecordResult::Record => {
                    let mut start = 0;
                    let mut row = Vec::new();
                    for &end in &ends[..nend] {
                        row.push(String::from_utf8(out[start..end].to_vec()).unwrap());
                        start = end;
                    }
                    rows.push(row);
                }
                csv_core::ReadRecordResult::End => return rows,
                other => assert!(
                    matches!(other, csv_core::ReadRecordResult::InputEmpty),
                    "{other:?}"
                ),
            }
        }
    }

    #[test]
    fn spreadsheet_safety_covers_every_cell_and_the_rest_cell_is_json() {
        let mut events = awkward_events();
        events
            .push(json!({"auditEventId": "-f", "auditAction": "@a", "z": "+1", "w": {"v": "\tx"}}));
        let csv = write_all(Format::Csv, WriteOptions::default(), &events).unwrap();
        let rows = rows(&csv);
        assert_eq!(rows.len(), events.len() + 1);
        let rest = rows[0].iter().position(|c| c == REST_COLUMN).unwrap();
        for row in &rows {
            for cell in row {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{cell:?} in {row:?}"
                );
            }
            let cell = &row[rest];
            if row != &rows[0] && !cell.is_empty() {
                assert!(serde_json::from_str::<serde_json::Map<String, Value>>(cell).is_ok());
            }
        }
        // The dangerous texts are there, as text: a prefixed cell or inside the rest JSON.
        assert_eq!(rows[5][FIXED_LEN], "'=1+1");
        assert!(rows[6][rest].contains("\"+1\""), "{:?}", rows[6]);
    }

    #[test]
    fn a_rest_cell_that_is_not_an_object_is_a_bad_row() {
        let input = "auditEventId,(rest)\na,{\"x\":1}\nb,[1]\nc,\n".as_bytes();
        let (ok, bad) = summary(&read(Format::Csv, input));
        assert_eq!(ok.len(), 2);
        assert_eq!(bad, vec![("bad_csv", 1, 3, 30)]);
        let first = read(Format::Csv, input).remove(0).unwrap().value;
        assert_eq!(first, json!({"auditEventId": "a", "x": 1}));
    }

    #[test]
    fn the_scan_reads_bytes_as_the_converter_does() {
        let events = awkward_events();
        let ndjson = write_all(Format::Ndjson, WriteOptions::default(), &events).unwrap();
        for (format, bytes) in [
            (Some(Format::Ndjson), ndjson.clone()),
            (None, gzip::compress(&ndjson)),
            (
                Some(Format::Json),
                write_all(Format::Json, WriteOptions::default(), &events).unwrap(),
            ),
        ] {
            let mut scan = ColumnScan::new(
                format,
                None,
                ReadOptions::default(),
                &WriteOptions::default(),
            )
            .unwrap();
            for chunk in bytes.chunks(7) {
                scan.push(chunk);
            }
            assert_eq!(scan.finish(), all_columns(&events), "{format:?}");
        }
        assert!(WriteOptions::default().wants_column_scan(Format::Csv));
        assert!(!WriteOptions::default().wants_column_scan(Format::Ndjson));
        assert!(!unsafe_opts(Some(vec!["a".into()])).wants_column_scan(Format::Csv));
    }
}
