//! `trailsift validate` and `trailsift gen`, run as built binaries.
//!
//! Golden files: every input in tests/fixtures/validate/ with a `<input>.args` file is
//! validated with those arguments and stdout must equal `<input>.expected.json` exactly.
//! `UPDATE_GOLDEN=1 cargo test --features cli --test validate` rewrites the expectations.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trailsift"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/validate")
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = bin();
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run trailsift");
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(bytes) = stdin {
            // A usage error exits before reading stdin: a broken pipe is expected then.
            let _ = input.write_all(bytes);
        }
    }
    child.wait_with_output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("validate");
    fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn golden_reports() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut checked = 0;
    let mut entries: Vec<_> = fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for args_file in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "args"))
    {
        let input = args_file.with_extension("");
        let expected_file = PathBuf::from(format!("{}.expected.json", input.display()));
        let args_text = fs::read_to_string(args_file).unwrap();
        let mut args: Vec<&str> = vec!["validate"];
        args.extend(args_text.split_whitespace());
        let input_s = input.to_str().unwrap();
        args.push(input_s);
        let out = run(&args, None);
        let got = stdout(&out);
        let report: Value = serde_json::from_str(&got).expect("--json prints JSON");
        let rejected = report["rejected"].as_array().unwrap().len();
        assert_eq!(code(&out), if rejected > 0 { 1 } else { 0 }, "{input_s}");
        if update {
            fs::write(&expected_file, &got).unwrap();
        }
        let expected = fs::read_to_string(&expected_file)
            .unwrap_or_else(|_| panic!("missing {}", expected_file.display()));
        assert_eq!(got, expected, "report of {input_s} differs");
        checked += 1;
    }
    assert!(checked >= 4, "fixtures found: {checked}");
}

#[test]
fn fixtures_cover_every_code() {
    let mut seen = std::collections::BTreeSet::new();
    for name in ["invalid.ndjson", "invalid.json", "limits.ndjson.gz"] {
        let text = fs::read_to_string(fixtures().join(format!("{name}.expected.json"))).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        for r in v["rejected"].as_array().unwrap() {
            for e in r["errors"].as_array().unwrap() {
                seen.insert(e["code"].as_str().unwrap().to_string());
            }
        }
        for w in v["warnings"].as_array().unwrap() {
            seen.insert(w["code"].as_str().unwrap().to_string());
        }
    }
    for c in [
        "missing",
        "wrong_type",
        "empty",
        "bad_time",
        "bad_ip",
        "unknown_field",
        "too_deep",
        "too_large",
        "too_many_errors",
        "bad_json",
        "not_an_object",
        "unknown_module",
        "unknown_action",
    ] {
        assert!(seen.contains(c), "no fixture shows {c}: {seen:?}");
    }
}

#[test]
fn report_positions_in_ndjson_and_json() {
    let out = run(
        &[
            "validate",
            "--json",
            fixtures().join("invalid.ndjson").to_str().unwrap(),
        ],
        None,
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &v["rejected"][0];
    assert_eq!(first["index"], 1);
    assert_eq!(first["line"], 2);
    assert_eq!(first["id"], "ev-2");
    assert_eq!(first["errors"][0]["path"], "auditResource.identifier");
    assert_eq!(first["errors"][0]["code"], "missing");
    // The bad JSON line is rejected and the lines after it still validated.
    let bad: Vec<&Value> = v["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["errors"][0]["code"] == "bad_json")
        .collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0]["line"], 8);
    assert_eq!(bad[0]["index"], 7);
    assert!(v["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "ev-13" && r["line"] == 13 && r["index"] == 11));

    let out = run(
        &[
            "validate",
            "--json",
            fixtures().join("invalid.json").to_str().unwrap(),
        ],
        None,
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v["rejected"][0];
    assert_eq!(r["index"], 1);
    assert_eq!(r["id"], "ev-21");
    // Element 1 of the pretty-printed array starts on the line of its `{`.
    let text = fs::read_to_string(fixtures().join("invalid.json")).unwrap();
    let line = text.lines().position(|l| l.contains("\"ev-21\"")).unwrap() as u64; // the `{` is the line before the id, 1-based = position
    assert_eq!(r["line"], line);
    assert_eq!(v["valid"], 2);
}

#[test]
fn exit_codes() {
    let f = fixtures();
    let ok = run(
        &["validate", f.join("seed001.ndjson").to_str().unwrap()],
        None,
    );
    assert_eq!(code(&ok), 0, "{}", stdout(&ok));
    assert_eq!(stdout(&ok), "1 event: 1 valid, 0 rejected, 0 warnings\n");
    let bad = run(
        &["validate", f.join("invalid.json").to_str().unwrap()],
        None,
    );
    assert_eq!(code(&bad), 1);
    let missing = run(&["validate", "/nonexistent/events.ndjson"], None);
    assert_eq!(code(&missing), 2);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot open"));
    let usage = run(&["validate"], None);
    assert_eq!(code(&usage), 2);
    let usage = run(&["validate", "--frobnicate", "x"], None);
    assert_eq!(code(&usage), 2);
}

#[test]
fn human_report() {
    let out = run(
        &[
            "validate",
            "--vocabulary",
            fixtures().join("invalid.ndjson").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(
        text.contains(
            "line 2 (id \"ev-2\"): auditResource.identifier: required field is missing [missing]"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "line 1: warning: auditModule: \"WIDGETS\" is not a known module [unknown_module]"
        ),
        "{text}"
    );
    assert!(
        text.ends_with("12 events: 3 valid, 9 rejected, 2 warnings\n"),
        "{text}"
    );
}

#[test]
fn stdin_gzip_and_single_object() {
    let f = fixtures();
    let plain = fs::read(f.join("invalid.ndjson")).unwrap();
    let expected = run(
        &[
            "validate",
            "--json",
            f.join("invalid.ndjson").to_str().unwrap(),
        ],
        None,
    );

    let from_stdin = run(&["validate", "--json", "-"], Some(&plain));
    assert_eq!(stdout(&from_stdin), stdout(&expected));

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    // Detected by magic bytes, whatever the name.
    let path = tmp("events.data");
    fs::write(&path, &gz).unwrap();
    let out = run(&["validate", "--json", path.to_str().unwrap()], None);
    assert_eq!(stdout(&out), stdout(&expected));
    let path = tmp("events.ndjson.gz");
    fs::write(&path, &gz).unwrap();
    let out = run(&["validate", "--json", path.to_str().unwrap()], None);
    assert_eq!(stdout(&out), stdout(&expected));

    // One pretty-printed object.
    let v: Value =
        serde_json::from_str(&fs::read_to_string(f.join("seed001.json")).unwrap()).unwrap();
    let one = serde_json::to_string_pretty(&v[0]).unwrap();
    let out = run(&["validate", "--json", "-"], Some(one.as_bytes()));
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        "{\"valid\":1,\"rejected\":[],\"warnings\":[]}\n"
    );
}

#[test]
fn strict_mode_rejects_unknown_fields_only_when_asked() {
    let line = br#"{"auditEventId":"e","auditEventAuthor":{"principal":{"type":"USER","identifier":"u"}},"auditModule":"CORE","auditResource":{"type":"SECRET","identifier":"s"},"auditResourceScope":{"accountIdentifier":"a"},"auditAction":"CREATE","auditEventTime":1,"newField":true}"#;
    let out = run(&["validate", "--json", "-"], Some(line));
    assert_eq!(code(&out), 0);
    let out = run(&["validate", "--json", "--strict", "-"], Some(line));
    assert_eq!(code(&out), 1);
    assert_eq!(
        stdout(&out),
        "{\"valid\":0,\"rejected\":[{\"index\":0,\"line\":1,\"id\":\"e\",\"errors\":[{\"path\":\"newField\",\"code\":\"unknown_field\",\"message\":\"unknown field \\\"newField\\\" (strict mode)\"}]}],\"warnings\":[]}\n"
    );
}

#[test]
fn oversized_event_is_rejected_not_fatal() {
    let big = format!(
        "{{\"auditEventId\":\"big\",\"auditEventMetadata\":{{\"blob\":\"{}\"}}}}\n{}\n",
        "x".repeat(1_100_000),
        fs::read_to_string(fixtures().join("seed001.ndjson"))
            .unwrap()
            .trim()
    );
    let out = run(&["validate", "--json", "-"], Some(big.as_bytes()));
    assert_eq!(code(&out), 1);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], 1);
    assert_eq!(v["rejected"][0]["errors"][0]["code"], "too_large");
}

#[test]
fn gen_output_validates_and_is_deterministic() {
    let a = run(&["gen", "--count", "300", "--seed", "9"], None);
    let b = run(&["gen", "--count", "300", "--seed", "9"], None);
    assert_eq!(code(&a), 0);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.stdout.iter().filter(|c| **c == b'\n').count(), 300);
    let out = run(
        &["validate", "--strict", "--vocabulary", "--json", "-"],
        Some(&a.stdout),
    );
    assert_eq!(
        stdout(&out),
        "{\"valid\":300,\"rejected\":[],\"warnings\":[]}\n"
    );
    assert_eq!(code(&out), 0);
}

#[test]
fn gen_accounts_and_range() {
    let out = run(
        &[
            "gen",
            "--count",
            "50",
            "--seed",
            "2",
            "--accounts",
            "acct_a,acct_b",
            "--from",
            "2025-03-01",
            "--to",
            "2025-03-02T00:00:00Z",
        ],
        None,
    );
    assert_eq!(code(&out), 0);
    for line in stdout(&out).lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let acct = v["auditResourceScope"]["accountIdentifier"]
            .as_str()
            .unwrap();
        assert!(acct == "acct_a" || acct == "acct_b", "{acct}");
        let t = trailsift::parse_time_value(&v["auditEventTime"]).unwrap();
        assert!((1_740_787_200_000..=1_740_873_600_000).contains(&t), "{t}");
    }
    let bad = run(&["gen", "--from", "someday"], None);
    assert_eq!(code(&bad), 2);
    let backwards = run(&["gen", "--from", "2025-03-02", "--to", "2025-03-01"], None);
    assert_eq!(code(&backwards), 2);
}

/// Regression: `trailsift validate export.txt` on CSV content rejected every line as
/// `bad_json`, while the npm `validate` detected CSV. The content decides the format; the
/// name only hints.
#[test]
fn csv_content_is_detected_whatever_the_name() {
    let events = run(&["gen", "--count", "3", "--seed", "5"], None);
    let csv = run(
        &["convert", "--from", "ndjson", "--to", "csv", "-", "-"],
        Some(&events.stdout),
    );
    assert_eq!(code(&csv), 0);
    let dir = std::env::temp_dir().join(format!("trailsift-validate-csv-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("export.txt");
    fs::write(&path, &csv.stdout).unwrap();
    let out = run(&["validate", "--json", path.to_str().unwrap()], None);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["valid"], 3, "{report}");
    assert_eq!(report["rejected"], Value::Array(vec![]));
    assert_eq!(code(&out), 0);
    // The same bytes on stdin, gzipped and plain, give the same report.
    let gz = trailsift::convert::gzip::compress(&csv.stdout);
    for input in [&csv.stdout, &gz] {
        let again = run(&["validate", "--json", "-"], Some(input));
        assert_eq!(again.stdout, out.stdout);
    }
    fs::remove_dir_all(&dir).unwrap();
}
