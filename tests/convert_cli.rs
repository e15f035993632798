//! `trailsift convert` end to end (built with `--features cli`).
#![cfg(feature = "cli")]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/convert")
        .join(name)
}

fn trailsift(args: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trailsift"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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
