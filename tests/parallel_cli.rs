//! `trailsift convert` and `trailsift validate` with `--threads`: the same bytes on stdout
//! and stderr and the same exit code with one thread and four, from a file and from stdin,
//! on generated inputs of many blocks with bad records among them.

#[allow(dead_code)]
mod common;

use common::trailsift;

/// Generated events (several MiB: many blocks of the parallel path) with bad records
/// among them: not JSON, not an object, too long for `--max-record-bytes 3000`, missing
/// fields (rejected by validation), blank lines; some lines end in `\r\n`, the last has
/// no `\n`. Returns the input and the line numbers of the records that are not JSON.
fn input() -> (Vec<u8>, Vec<u64>) {
    let (code, events, _) = trailsift(&["gen", "--count", "9000", "--seed", "7"], b"");
    assert_eq!(code, 0);
    let mut out = Vec::new();
    let mut bad_json = Vec::new();
    let mut line = 0u64;
    for (i, event) in events
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let extra: Option<Vec<u8>> = match i % 211 {
            3 => Some(b"{\"auditAction\": \"LOGIN\", broken".to_vec()),
            50 => Some(b"[1, 2]".to_vec()),
            90 => Some(format!("{{\"auditEventId\":\"{}\"}}", "y".repeat(4000)).into_bytes()),
            120 => Some(b"{\"auditEventId\":\"no-fields\"}".to_vec()),
            160 => Some(Vec::new()),
            _ => None,
        };
        if let Some(extra) = extra {
            line += 1;
            if i % 211 == 3 {
                bad_json.push(line);
            }
            out.extend_from_slice(&extra);
            out.push(b'\n');
        }
        line += 1;
        out.extend_from_slice(event);
        if i % 13 == 0 {
            out.push(b'\r');
        }
        out.push(b'\n');
    }
    out.pop();
    assert!(out.len() > 4 << 20, "{} bytes: too few blocks", out.len());
    (out, bad_json)
}

#[test]
fn convert_and_validate_give_the_same_output_with_one_thread_and_four() {
    let (plain, bad_json) = input();
    let (dir, inputs) = common::plain_gzip_and_cut("parallel", plain, |n| n * 2 / 3);
    let commands: &[&[&str]] = &[
        &["convert", "--to=ndjson"],
        &["convert", "--max-record-bytes", "3000", "--to", "ndjson"],
        &["convert", "--max-record-bytes", "3000", "--to", "json"],
        &["convert", "--max-record-bytes", "3000", "--to", "csv"],
        &[
            "convert",
            "--max-record-bytes",
            "3000",
            "--to",
            "splunk_hec",
        ],
        &["convert", "--max-record-bytes", "3000", "--to", "sumo"],
        &["convert", "--to", "json", "--filter", "-is:login"],
        &["convert", "--to", "ndjson", "--stop-on-error"],
        &["validate"],
        &["validate", "--json", "--strict", "--vocabulary"],
    ];
    for (name, path, bytes) in &inputs {
        let (name, path) = (*name, path.as_str());
        for command in commands {
            // Every command on the plain file; gzip, whole and cut, for two of them.
            if name != "plain.ndjson" && command.len() > 2 {
                continue;
            }
            let run = |threads: &str, file: &str| {
                let mut args = command.to_vec();
                args.extend(["--threads", threads, file]);
                trailsift(&args, if file == "-" { bytes } else { b"" })
            };
            let one = run("1", path);
            assert_eq!(
                one.0, 1,
                "{name} {command:?}: bad records exit 1\n{}",
                one.2
            );
            let report = format!("{}{}", String::from_utf8_lossy(&one.1), one.2);
            // The first record that is not JSON, at its own line.
            let n = bad_json[0];
            let at = [format!("line {n}"), format!("\"line\":{n},")];
            assert!(
                at.iter().any(|a| report.contains(a)),
                "{name} {command:?}: no line {n}"
            );
            assert_eq!(run("4", path), one, "{name} {command:?}: 4 threads, file");
            // A CSV from stdin has no first pass: its own columns.
            let one = run("1", "-");
            assert_eq!(run("4", "-"), one, "{name} {command:?}: 4 threads, stdin");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
