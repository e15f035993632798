//! `trailsift convert` end to end (built with `--features cli`).
#![cfg(feature = "cli")]

#[allow(dead_code)]
mod common;

use common::trailsift;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/convert")
        .join(name)
}

#[test]
fn list_shows_every_format() {
    let (code, out, _) = trailsift(&["convert", "--list"], b"");
    assert_eq!(code, 0);
    let text = String::from_utf8(out).unwrap();
    for name in ["json", "ndjson", "csv", "splunk_hec", "sumo", "ocsf"] {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{text}"
        );
    }
}

#[test]
fn golden_outputs_from_the_command_line() {
    let input = fixture("input.ndjson");
    let input = input.to_str().unwrap();
    for (to, golden) in [
        ("json", "output.json"),
        ("csv", "output.csv"),
        ("splunk_hec", "output.splunk_hec"),
        ("sumo", "output.sumo"),
        ("ocsf", "output.ocsf"),
    ] {
        let (code, out, err) = trailsift(&["convert", "--to", to, input, "-"], b"");
        assert_eq!(code, 0, "{err}");
        assert_eq!(out, std::fs::read(fixture(golden)).unwrap(), "{to}");
    }
    let (code, out, _) = trailsift(
        &[
            "convert",
            "--to",
            "csv",
            "--all-columns",
            "--no-csv-safety",
            input,
        ],
        b"",
    );
    assert_eq!(code, 0);
    assert_eq!(
        out,
        std::fs::read(fixture("output.all-columns.unsafe.csv")).unwrap()
    );
}

#[test]
fn stdin_detection_gzip_and_back() {
    let ndjson = std::fs::read(fixture("input.ndjson")).unwrap();
    let (code, gz, _) = trailsift(&["convert", "--to", "json", "--gzip"], &ndjson);
    assert_eq!(code, 0);
    assert_eq!(&gz[..2], &[0x1f, 0x8b]);
    // Gzip JSON array in, format detected from the bytes.
    let (code, back, err) = trailsift(&["convert", "--to", "ndjson"], &gz);
    assert_eq!(code, 0, "{err}");
    assert_eq!(back, ndjson);
}

#[test]
fn projection_columns() {
    let ndjson = std::fs::read(fixture("input.ndjson")).unwrap();
    let (code, out, _) = trailsift(
        &[
            "convert",
            "--from",
            "ndjson",
            "--to",
            "csv",
            "--columns",
            "auditAction,auditEventId",
        ],
        &ndjson,
    );
    assert_eq!(code, 0);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "auditAction,auditEventId\r\nCREATE,ev-0001\r\nSTART,ev-0002\r\nDELETE,ev-0003\r\nUPDATE,ev-0004\r\n"
    );
}

#[test]
fn hec_options() {
    let (code, out, _) = trailsift(
        &["convert", "--from", "ndjson", "--to", "splunk_hec", "--hec-host", "h1", "--hec-index",
          "audit", "--hec-sourcetype", "st", "--hec-fields", "acct=auditResourceScope.accountIdentifier"],
        b"{\"auditEventId\":\"a\",\"auditEventTime\":1500,\"auditResourceScope\":{\"accountIdentifier\":\"x\"}}\n",
    );
    assert_eq!(code, 0);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "{\"time\":1.500,\"host\":\"h1\",\"sourcetype\":\"st\",\"index\":\"audit\",\"fields\":{\"acct\":\"x\"},\"event\":{\"auditEventId\":\"a\",\"auditEventTime\":1500,\"auditResourceScope\":{\"accountIdentifier\":\"x\"}}}\n"
    );
}

#[test]
fn bad_records_are_reported_with_positions_and_the_rest_converted() {
    let input = b"{\"auditEventId\":\"a\"}\n{oops}\n{\"auditEventId\":\"c\"}\n";
    let (code, out, err) = trailsift(&["convert", "--from", "ndjson", "--to", "ndjson"], input);
    assert_eq!(code, 1);
    assert_eq!(out, b"{\"auditEventId\":\"a\"}\n{\"auditEventId\":\"c\"}\n");
    assert!(err.contains("line 2, byte 21, record 1"), "{err}");
    assert!(err.contains("[bad_json]"), "{err}");
    let (code, out, _) = trailsift(
        &[
            "convert",
            "--from",
            "ndjson",
            "--to",
            "ndjson",
            "--stop-on-error",
        ],
        input,
    );
    assert_eq!(code, 1);
    assert_eq!(out, b"{\"auditEventId\":\"a\"}\n");
}

/// The summary counts every record, also a last one with no newline after it (read only at
/// the end of the input), on the parallel (NDJSON) and the one-thread (JSON) paths.
#[test]
fn the_summary_counts_a_last_record_read_at_the_end() {
    for (from, input) in [
        (
            "ndjson",
            &b"{\"auditEventId\":\"a\"}\n{oops}\n{\"auditEventId\":\"c\"}"[..],
        ),
        (
            "json",
            &b"[{\"auditEventId\":\"a\"}, 7, {\"auditEventId\":\"c\"}]"[..],
        ),
    ] {
        let (code, _, err) = trailsift(&["convert", "--from", from, "--to", "ndjson"], input);
        assert_eq!(code, 1, "{from}: {err}");
        assert!(err.contains("2 records converted, 1 bad"), "{from}: {err}");
    }
}

#[test]
fn usage_errors() {
    let (code, _, err) = trailsift(&["convert", "--from", "ocsf", "--to", "json"], b"");
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = trailsift(&["convert", "--to", "xml"], b"");
    assert_eq!(code, 2);
    let (code, _, err) = trailsift(&["convert"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("--to"), "{err}");
}

/// Large NDJSON with bad lines, a line far over the limit and a last line without ending:
/// the CLI writes what the core's converter writes and reports the same errors.
#[test]
fn the_cli_converts_as_the_core_converter_does() {
    use trailsift::convert::{ColumnScan, Converter, Format, ReadOptions, WriteOptions, Writer};
    let mut input = Vec::new();
    for i in 0..60_000u32 {
        match i % 5000 {
            17 => input.extend_from_slice(b"{broken\n"),
            18 => input.extend_from_slice(b"\r\n\n"),
            19 => input.extend_from_slice(b"[1]\n"),
            _ => input.extend(
                format!(
                    "{{\"auditEventId\":\"e{i}\",\"auditEventTime\":{},\"auditAction\":\"CREATE\",\"n\":{{\"k\":{i}}}}}\n",
                    1_763_719_530_123u64 + u64::from(i)
                )
                .bytes(),
            ),
        }
        if i == 30_000 {
            // A line far over the limit, longer than the pieces the input is cut into.
            input.extend(std::iter::repeat_n(b'x', 9 << 20));
            input.push(b'\n');
        }
    }
    input.extend_from_slice(b"{\"auditEventId\":\"last\"}");
    let dir = std::env::temp_dir().join(format!("trailsift-threads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("in.ndjson");
    std::fs::write(&path, &input).unwrap();
    for to in [Format::Csv, Format::Json, Format::Ndjson] {
        let opts = ReadOptions {
            max_record_bytes: 1 << 20,
            keep_raw: false,
            ..ReadOptions::default()
        };
        // From a file, CSV gets the columns of a first pass.
        let mut write_opts = WriteOptions::default();
        if write_opts.wants_column_scan(to) {
            let mut scan = ColumnScan::new(
                Some(Format::Ndjson),
                None,
                opts.clone(),
                &WriteOptions::default(),
            )
            .unwrap();
            scan.push(&input);
            write_opts.columns = Some(scan.finish());
        }
        let writer = Writer::new(to, write_opts, Vec::new());
        let mut conv = Converter::new(Some(Format::Ndjson), None, opts, writer).unwrap();
        let mut errors = Vec::new();
        for c in input.chunks(1 << 16) {
            conv.push(c, &mut errors).unwrap();
        }
        let expected = conv.finish(&mut errors).unwrap();
        let (code, out, err) =
            trailsift(&["convert", "--to", to.name(), path.to_str().unwrap()], b"");
        assert_eq!(code, 1);
        assert!(
            out == expected,
            "{to}: output differs ({} vs {} bytes)",
            out.len(),
            expected.len()
        );
        let expected_errors: Vec<String> = errors
            .iter()
            .take(50)
            .map(|e| {
                format!(
                    "trailsift convert: line {}, byte {}, record {}: {} [{}]",
                    e.line, e.byte, e.index, e.message, e.code
                )
            })
            .collect();
        let got: Vec<&str> = err.lines().filter(|l| l.contains(", record ")).collect();
        assert_eq!(got, expected_errors, "{to}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn filter_selects_events_on_every_path() {
    let input = fixture("input.ndjson");
    let input = input.to_str().unwrap();
    // NDJSON fast path, JSON via detection from stdin, CSV input.
    let (code, out, err) = trailsift(
        &[
            "convert",
            "--to",
            "csv",
            "--columns",
            "auditEventId",
            "--filter",
            "action:CREATE,UPDATE",
            input,
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, b"auditEventId\r\nev-0001\r\nev-0004\r\n");
    let json = std::fs::read(fixture("output.json")).unwrap();
    let (code, out, _) = trailsift(
        &[
            "convert",
            "--to",
            "ndjson",
            "--filter",
            "resource.type == \"SERVICE\" or action == \"START\"",
        ],
        &json,
    );
    assert_eq!(code, 0);
    assert_eq!(common::ids(&out), ["ev-0002", "ev-0003"]);
    let csv = std::fs::read(fixture("output.all-columns.unsafe.csv")).unwrap();
    let (code, out, _) = trailsift(
        &[
            "convert",
            "--from",
            "csv",
            "--to",
            "csv",
            "--columns",
            "auditEventId",
            "--filter",
            "time >= now-2s",
            "--now",
            "2025-11-21T10:05:34Z",
        ],
        &csv,
    );
    assert_eq!(code, 0);
    assert_eq!(out, b"auditEventId\r\nev-0003\r\nev-0004\r\n");
    let (code, _, err) = trailsift(
        &["convert", "--to", "json", "--filter", "action ==", input],
        b"",
    );
    assert_eq!(code, 2);
    assert!(err.contains('^'), "{err}");
}

/// The events of NDJSON output (or input), parsed.
fn events_of(ndjson: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8(ndjson.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Writes `bytes` to a scratch file named `name`; returns its path.
fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trailsift-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Regression (issue 12): `convert --to csv` took its extra columns from the first event
/// only, so a field that first appeared in a later event was dropped without a word (exit
/// 0). Failed before the fix: `later.x` of the second event was missing from the CSV, from a
/// file and from stdin alike.
#[test]
fn csv_keeps_a_field_that_first_appears_in_a_later_event() {
    let input = b"{\"auditEventId\":\"a\",\"auditEventTime\":1}\n\
{\"auditEventId\":\"b\",\"auditEventTime\":2,\"later\":{\"x\":\"=1\"}}\n";
    let path = scratch("later-field.ndjson", input);
    let from_file = [
        "convert",
        "--to",
        "csv",
        "--no-csv-safety",
        path.to_str().unwrap(),
        "-",
    ];
    let from_stdin = [
        "convert",
        "--from",
        "ndjson",
        "--to",
        "csv",
        "--no-csv-safety",
    ];
    for (args, stdin) in [(&from_file[..], &b""[..]), (&from_stdin[..], &input[..])] {
        let (code, csv, err) = trailsift(args, stdin);
        assert_eq!(code, 0, "{err}");
        assert!(
            String::from_utf8_lossy(&csv).contains("=1"),
            "{args:?}: the later field is missing:\n{}",
            String::from_utf8_lossy(&csv)
        );
        let (code, back, err) = trailsift(&["convert", "--from", "csv", "--to", "ndjson"], &csv);
        assert_eq!(code, 0, "{err}");
        assert_eq!(events_of(&back), events_of(input), "{args:?}");
    }
}

/// From a file every unknown field gets a column (two passes); from stdin the columns are
/// the first event's and the final `(rest)` column keeps the rest. Reading either CSV back
/// (safety off) gives the events exactly.
#[test]
fn csv_from_a_file_and_from_stdin_round_trip() {
    let input = std::fs::read(fixture("input.ndjson")).unwrap();
    let path = fixture("input.ndjson");
    let (code, file_csv, err) = trailsift(
        &[
            "convert",
            "--to",
            "csv",
            "--no-csv-safety",
            path.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    let header = |csv: &[u8]| {
        String::from_utf8_lossy(csv)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        header(&file_csv).ends_with(",ticket.id,ticket.tags,retries"),
        "{}",
        header(&file_csv)
    );
    let (code, stream_csv, err) = trailsift(
        &[
            "convert",
            "--from",
            "ndjson",
            "--to",
            "csv",
            "--no-csv-safety",
        ],
        &input,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        header(&stream_csv).ends_with(",auditEventMetadata,(rest)"),
        "{}",
        header(&stream_csv)
    );
    for csv in [file_csv, stream_csv] {
        let (code, back, err) = trailsift(&["convert", "--from", "csv", "--to", "ndjson"], &csv);
        assert_eq!(code, 0, "{err}");
        assert_eq!(events_of(&back), events_of(&input));
    }
}

/// A projection is what the user asked for: no `(rest)` column, from a file or stdin.
#[test]
fn chosen_columns_get_nothing_added() {
    let path = fixture("input.ndjson");
    let input = std::fs::read(&path).unwrap();
    let args = [
        "convert",
        "--to",
        "csv",
        "--columns",
        "auditEventId,ticket.id",
    ];
    let (code, from_file, _) = trailsift(&[&args[..], &[path.to_str().unwrap()]].concat(), b"");
    assert_eq!(code, 0);
    let (code, from_stdin, _) = trailsift(&[&args[..], &["--from", "ndjson"]].concat(), &input);
    assert_eq!(code, 0);
    let expected =
        "auditEventId,ticket.id\r\nev-0001,\r\nev-0002,\"'=HYPERLINK(\"\"http://x\"\")\"\r\n\
ev-0003,\"\"\"-5\"\"\"\r\nev-0004,\r\n";
    assert_eq!(String::from_utf8(from_file).unwrap(), expected);
    assert_eq!(String::from_utf8(from_stdin).unwrap(), expected);
}

/// A pipe can be read once: it is converted as a stream (the rest column), never scanned
/// and then found empty; `--all-columns` says it cannot.
#[test]
fn a_pipe_is_a_stream() {
    let input = std::fs::read(fixture("input.ndjson")).unwrap();
    let (code, csv, err) = trailsift(&["convert", "--to", "csv", "/dev/stdin"], &input);
    assert_eq!(code, 0, "{err}");
    let text = String::from_utf8(csv).unwrap();
    assert!(text.lines().next().unwrap().ends_with(",(rest)"), "{text}");
    assert_eq!(text.lines().count(), 5, "{text}");
    let (code, _, err) = trailsift(
        &["convert", "--to", "csv", "--all-columns", "/dev/stdin"],
        &input,
    );
    assert_eq!(code, 2);
    assert!(err.contains("--all-columns needs an input file"), "{err}");
}

/// The first pass looks only at the events the filter keeps.
#[test]
fn the_scan_follows_the_filter() {
    let path = fixture("input.ndjson");
    let (code, csv, err) = trailsift(
        &[
            "convert",
            "--to",
            "csv",
            "--filter",
            "action:CREATE",
            path.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    let text = String::from_utf8(csv).unwrap();
    assert!(
        text.lines()
            .next()
            .unwrap()
            .ends_with(",auditEventMetadata"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 2, "{text}");
}

/// `--transform` with `--pseudonymize-key-file` gives the golden bytes of the core's
/// fixtures (tests/fixtures/transform), in `convert` and in `filter`'s output; a bad
/// transform or a missing key is a usage error (exit 2) naming the code.
#[test]
fn transform_options_give_the_golden_bytes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transform");
    let input = dir.join("input.ndjson");
    for case in ["spec_example", "pseudonymize", "all_but_sample", "sample"] {
        let at = dir.join(case);
        let expected = std::fs::read(at.join("expected.ndjson")).unwrap();
        let transform = at.join("transform.json");
        let mut args = vec!["--transform", transform.to_str().unwrap()];
        let key = at.join("key");
        if key.exists() {
            args.extend(["--pseudonymize-key-file", key.to_str().unwrap()]);
        }
        let mut convert = vec!["convert", "--to", "ndjson"];
        convert.extend(&args);
        convert.push(input.to_str().unwrap());
        let (code, out, err) = trailsift(&convert, b"");
        assert_eq!(code, 0, "{case}: {err}");
        assert_eq!(out, expected, "{case}: convert");
        let mut filter = vec!["filter", "-q", ""];
        filter.extend(&args);
        filter.push(input.to_str().unwrap());
        let (code, out, err) = trailsift(&filter, b"");
        assert_eq!(code, 0, "{case}: {err}");
        assert_eq!(out, expected, "{case}: filter");
    }
    let missing_key = dir.join("pseudonymize/transform.json");
    for cmd in ["convert", "filter"] {
        let mut args = vec![cmd, "--transform", missing_key.to_str().unwrap()];
        if cmd == "convert" {
            args.extend(["--to", "ndjson"]);
        }
        args.push(input.to_str().unwrap());
        let (code, _, err) = trailsift(&args, b"");
        assert_eq!(code, 2, "{cmd}: {err}");
        assert!(err.contains("[missing_key]"), "{cmd}: {err}");
    }
    let bad = dir.join("error_bad_regex/transform.json");
    let (code, _, err) = trailsift(
        &[
            "convert",
            "--to",
            "ndjson",
            "--transform",
            bad.to_str().unwrap(),
            input.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("[bad_regex]") && err.contains("redactPatterns"),
        "{err}"
    );
}
