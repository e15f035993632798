//! `trailsift filter` end to end (built with `--features cli`).
#![cfg(feature = "cli")]

mod common;

use common::{ids, trailsift};
use std::io::Write;

fn events() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/filter/events.ndjson"
    ))
    .unwrap()
}

const NOW: &[&str] = &["--now", "2026-02-01T00:00:00Z"];

#[test]
fn streams_matching_lines_unchanged() {
    let input = events();
    let (code, out, _) = trailsift(
        &[
            "filter",
            "-q",
            "-is:login time >= now-7d",
            NOW[0],
            NOW[1],
            "-",
        ],
        &input,
    );
    assert_eq!(code, 0);
    assert_eq!(ids(&out), ["e4", "e8"]);
    // The bytes are the original lines, not re-serialised JSON.
    let original: Vec<&[u8]> = input
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let got: Vec<&[u8]> = out
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(got, [original[3], original[7]]);
}

#[test]
fn counts_and_reads_gzip() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&events()).unwrap();
    let gz = gz.finish().unwrap();
    let (code, out, _) = trailsift(&["filter", "--count", "-q", "org:default"], &gz);
    assert_eq!(code, 0);
    assert_eq!(String::from_utf8_lossy(&out).trim(), "5");
}

#[test]
fn no_match_is_success() {
    let (code, out, _) = trailsift(&["filter", "-q", "action == \"NOPE\""], &events());
    assert_eq!((code, out.len()), (0, 0));
}

#[test]
fn bad_query_exits_2_with_caret() {
    let (code, out, err) = trailsift(&["filter", "-q", "acton == \"CREATE\""], &events());
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("error[unknown_field]"), "{err}");
    assert!(err.contains("did you mean \"action\""), "{err}");
    assert!(err.contains("1 | acton == \"CREATE\"\n  | ^^^^^"), "{err}");
}

#[test]
fn prints_compiled_forms() {
    let (code, out, _) = trailsift(
        &[
            "filter",
            "-q",
            "action:CREATE,UPDATE",
            "--print-query",
            "--print-ir",
        ],
        b"",
    );
    assert_eq!(code, 0);
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("action:\"CREATE\" or action:\"UPDATE\""),
        "{text}"
    );
    assert!(text.contains("\"op\":\"like\""), "{text}");
    let (code, out, _) = trailsift(
        &["filter", "-q", "action in {\"A\" \"B\"}", "--to-logpush"],
        b"",
    );
    assert_eq!(code, 0);
    assert_eq!(
        String::from_utf8_lossy(&out).trim(),
        r#"{"where":{"key":"auditAction","operator":"in","value":["A","B"]}}"#
    );
    let (code, _, err) = trailsift(&["filter", "-q", "ip:10.0.0.0/8", "--to-logpush"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("CIDR"), "{err}");
}

#[test]
fn structured_and_logpush_files() {
    let dir = std::env::temp_dir().join(format!("trailsift-filter-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let s = dir.join("form.json");
    std::fs::write(&s, r#"{"users": ["carol"], "excludeLoginEvents": true}"#).unwrap();
    let l = dir.join("logpush.json");
    std::fs::write(
        &l,
        r#"{"where": {"key": "auditModule", "operator": "eq", "value": "CORE"}}"#,
    )
    .unwrap();
    let (code, out, _) = trailsift(&["filter", "--structured", s.to_str().unwrap()], &events());
    assert_eq!((code, ids(&out)), (0, vec!["e5".to_string()]));
    let (code, out, _) = trailsift(
        &["filter", "-q", "is:login", "--logpush", l.to_str().unwrap()],
        &events(),
    );
    assert_eq!(
        (code, ids(&out)),
        (0, vec!["e6".to_string(), "e7".to_string()])
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn explain_reports_terms() {
    let (code, out, _) = trailsift(
        &["filter", "--explain", "-q", "action:create -is:system"],
        &events(),
    );
    assert_eq!(code, 0);
    let first: serde_json::Value =
        serde_json::from_slice(out.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(first["matched"], true);
    assert_eq!(first["terms"][0]["term"], "action:\"create\"");
    assert_eq!(first["terms"][1]["term"], "is:system");
    assert_eq!(first["terms"][1]["matched"], false);
}

/// Bad lines are reported with their line numbers, also past the first read buffer (the
/// filter searches whole buffers at once and counts lines only when it reports one).
#[test]
fn reports_bad_lines_by_number_across_buffers() {
    let one = events();
    let per_copy = one.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count();
    let copies = 3 * (1 << 20) / one.len() + 1;
    let mut input = Vec::new();
    for _ in 0..copies {
        input.extend_from_slice(&one);
    }
    // Blank lines and CRLF endings count as lines too.
    input.extend_from_slice(b"\n \r\n");
    let bad_line = copies * per_copy + 3;
    input.extend_from_slice(b"{\"auditAction\":\"create\",\n");
    input.extend_from_slice(&one[..one.len() - 1]);
    let (code, out, err) = trailsift(&["filter", "--count", "-q", "action:create"], &input);
    assert!(
        err.contains(&format!("line {bad_line}: invalid JSON")),
        "{err}"
    );
    assert!(err.contains("1 line(s) could not be read"), "{err}");
    let (_, once, _) = trailsift(&["filter", "--count", "-q", "action:create"], &one);
    let once: usize = String::from_utf8_lossy(&once).trim().parse().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out).trim(),
        ((copies + 1) * once).to_string()
    );
    assert_eq!(code, 1);
}

/// Regression: a missing file exited 1, the code for "some lines were bad"; usage and I/O
/// errors are 2 in every subcommand.
#[test]
fn a_missing_file_is_an_io_error() {
    for cmd in [
        &["filter", "-q", "action:create"][..],
        &["validate"],
        &["convert", "--to", "csv"],
    ] {
        let mut args = cmd.to_vec();
        args.push("/nonexistent/trailsift-input.ndjson");
        let (code, _, err) = trailsift(&args, b"");
        assert_eq!(code, 2, "{cmd:?}: {err}");
        assert!(err.contains("cannot open"), "{cmd:?}: {err}");
    }
}

/// Regression: the filter grew its line buffer without limit. A line over
/// `--max-line-bytes` is reported by number and skipped; the lines after it are read.
#[test]
fn a_line_over_the_limit_is_reported_and_skipped() {
    let one = events();
    let mut input = b"{\"auditAction\":\"create\",\"pad\":\"".to_vec();
    input.extend(std::iter::repeat_n(b'x', 5000));
    input.extend_from_slice(b"\"}\n");
    input.extend_from_slice(&one);
    let (code, out, err) = trailsift(
        &[
            "filter",
            "--count",
            "--max-line-bytes",
            "4096",
            "-q",
            "action:create",
        ],
        &input,
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("line 1: longer than 4096 bytes"), "{err}");
    let (_, once, _) = trailsift(&["filter", "--count", "-q", "action:create"], &one);
    assert_eq!(out, once);
}

/// Input of several blocks (the parallel path cuts 1 MiB ones) with bad lines, a line
/// over the limit, CRLF endings, blank lines and no final newline.
fn many_blocks() -> Vec<u8> {
    let mut input = Vec::new();
    for i in 0..40_000u32 {
        let line = match i % 97 {
            5 => "{\"auditAction\": \"LOGIN\", broken".to_string(),
            11 => format!("{{\"auditEventMetadata\":{{\"x\":\"{}\"}}}}", "y".repeat(3000)),
            17 => String::new(),
            _ => format!(
                "{{\"auditEventId\":\"e{i}\",\"auditAction\":\"{}\",\"auditEventAuthor\":{{\"principal\":{{\"type\":\"{}\"}}}}}}{}",
                ["LOGIN", "CREATE", "UPDATE"][i as usize % 3],
                ["USER", "SYSTEM"][i as usize % 2],
                if i % 13 == 0 { "\r" } else { "" }
            ),
        };
        input.extend_from_slice(line.as_bytes());
        input.push(b'\n');
    }
    input.pop();
    input
}

/// The parallel path gives the output, the bad lines (numbers and messages) and the exit
/// code of one thread, from a file and from stdin, plain, gzip and cut gzip, with
/// `--count`, `--explain` and a transform.
#[test]
fn any_number_of_threads_gives_the_same_output_and_errors() {
    let (dir, inputs) = common::plain_gzip_and_cut("threads", many_blocks(), |n| n / 2);
    // Sampling and pseudonyms: a transform with a key, dropping some events.
    let transform =
        r#"{"sample": 0.5, "pseudonymize": ["auditEventId"], "include": ["auditAction"]}"#;
    let (sample, key) = (dir.join("t.json"), dir.join("key"));
    std::fs::write(&sample, transform).unwrap();
    std::fs::write(&key, "k").unwrap();
    let (sample, key) = (sample.to_str().unwrap(), key.to_str().unwrap());
    for (name, path, bytes) in &inputs {
        let (name, path) = (*name, path.as_str());
        for (query, more) in [
            ("-is:login", &[][..]),
            ("action:create is:system", &[]),
            ("", &[]),
            ("-is:login", &["--count"]),
            ("-is:login", &["--explain"]),
            (
                "-is:login",
                &["--transform", sample, "--pseudonymize-key-file", key],
            ),
        ] {
            if !more.is_empty() && name != "plain.ndjson" {
                continue;
            }
            let run = |threads: &str, file: &str| {
                let mut args = vec!["filter", "--max-line-bytes", "2000", "--threads", threads];
                args.extend_from_slice(more);
                args.extend(["-q", query, file]);
                trailsift(&args, if file == "-" { bytes } else { b"" })
            };
            let one = run("1", path);
            assert_eq!(one.0, 1, "{name} {query} {more:?}: bad lines exit 1");
            assert!(one.2.contains("line 12: "), "{name} {query}: {}", one.2);
            for (threads, file) in [("2", path), ("3", path), ("3", "-")] {
                assert_eq!(
                    run(threads, file),
                    one,
                    "{name} {query} {more:?} {threads} {file}"
                );
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every NDJSON fixture, plain or gzip, from a file and from stdin: the same bytes, bad
/// lines and exit code with one thread and with two.
#[test]
fn fixtures_filter_the_same_with_one_thread_and_two() {
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures"
    ))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.to_string_lossy().into_owned();
            if path.is_dir() {
                dirs.push(path);
            } else if name.ends_with(".ndjson") || name.ends_with(".ndjson.gz") {
                files.push(name);
            }
        }
    }
    assert!(files.len() > 10, "fixtures found: {files:?}");
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for query in ["", "-is:login", "action:create,update -is:system"] {
            let run = |threads: &str, file: &str| {
                let args = ["filter", "--threads", threads, "-q", query, file];
                trailsift(&args, if file == "-" { &bytes } else { b"" })
            };
            let one = run("1", file);
            for (threads, from) in [("2", file.as_str()), ("2", "-")] {
                assert_eq!(run(threads, from), one, "{file} {query:?} {threads} {from}");
            }
        }
    }
}
