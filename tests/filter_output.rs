//! `trailsift filter`'s output against the library's answers line by line: the matching
//! lines' bytes, unchanged, from a file (read in place, its lines numbered only when one
//! is bad), standard input and gzip, on one thread and two (built with `--features cli`).
#![cfg(feature = "cli")]

#[allow(dead_code)]
mod common;

use common::trailsift;
use trailsift::filter::Filter;

/// Events of every kind the output path meets: matching runs and gaps, a line longer than
/// the 1 MiB blocks the input is cut into, CRLF endings, blank lines, bad lines, `"type"`
/// in values and nested keys, and a last line without its `\n` (`last` says whether it
/// matches `QUERY`).
fn input(last: &str) -> Vec<u8> {
    let mut input = Vec::new();
    for i in 0..9_000u32 {
        let line = match i % 101 {
            7 => "{\"auditAction\":\"CREATE\", broken".to_string(),
            13 | 14 => String::new(),
            // Longer than a block, and matching: it goes out in one piece.
            50 if i < 101 => format!(
                "{{\"auditAction\":\"CREATE\",\"auditEventMetadata\":{{\"pad\":\"{}\"}}}}",
                "p".repeat(1_300_000)
            ),
            _ => format!(
                "{{\"auditEventId\":\"e{i}\",\"auditAction\":\"{}\",\"auditResource\":{{\"type\":\"{}\",\"labels\":{{\"type\":\"SECRET\"}}}},\"note\":\"type SECRET\"}}{}",
                ["LOGIN", "CREATE", "UPDATE", "DELETE"][i as usize % 4],
                ["SECRET", "PIPELINE", "type"][i as usize % 3],
                if i % 11 == 0 { "\r" } else { "" }
            ),
        };
        input.extend_from_slice(line.as_bytes());
        input.push(b'\n');
    }
    input.extend_from_slice(last.as_bytes());
    input
}

const QUERY: &str = "action:create,update or resource.type:SECRET";

/// The output the library's answers call for: every line that matches, with a `\n`, and
/// the numbers of the lines that are not JSON.
fn expected(input: &[u8]) -> (Vec<u8>, Vec<usize>) {
    let filter = Filter::parse(QUERY).unwrap();
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    for (i, line) in input.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match filter.matches_line(line, 0) {
            Ok(true) => {
                out.extend_from_slice(line);
                out.push(b'\n');
            }
            Ok(false) => {}
            Err(_) => bad.push(i + 1),
        }
    }
    (out, bad)
}

#[test]
fn matching_lines_go_out_unchanged_from_a_file_stdin_and_gzip() {
    let dir = std::env::temp_dir().join(format!("trailsift-filter-output-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for last in [
        "{\"auditAction\":\"UPDATE\"}",
        "{\"auditAction\":\"LOGIN\"}",
        "",
    ] {
        let input = input(last);
        let (want, bad) = expected(&input);
        assert!(want.len() > 2_000_000, "the long line matches");
        assert!(bad.len() > 50);
        let plain = dir.join("in.ndjson");
        let gz = dir.join("in.ndjson.gz");
        std::fs::write(&plain, &input).unwrap();
        std::fs::write(&gz, trailsift::convert::gzip::compress(&input)).unwrap();
        let (plain, gz) = (plain.to_str().unwrap(), gz.to_str().unwrap());
        for (file, threads) in [
            (plain, "1"),
            (plain, "2"),
            ("-", "1"),
            ("-", "2"),
            (gz, "2"),
        ] {
            let args = ["filter", "--threads", threads, "-q", QUERY, file];
            let stdin: &[u8] = if file == "-" { &input } else { b"" };
            let (code, out, err) = trailsift(&args, stdin);
            assert_eq!(code, 1, "{file} {threads}: bad lines exit 1: {err}");
            assert!(out == want, "{file} {threads} {last:?}: output differs");
            for n in &bad[..10] {
                assert!(
                    err.contains(&format!("line {n}: invalid JSON")),
                    "{file} {threads}: {err}"
                );
            }
            assert!(
                err.contains(&format!("{} line(s) could not be read", bad.len())),
                "{err}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
