//! Regression: a gzip stream cut short at its end, read by every path — `trailsift filter`,
//! `convert` and `validate` (one thread and two) and the core functions behind them. Each
//! reports the break before the unterminated last line, both at that line's number.
//!
//! What broke: the format readers and the parallel path reported the break first, while
//! `LineReader::finish` (the npm filter and `NdjsonLines`, the viewer's reader) handed on
//! the last line first and reported the break after it.

#[allow(dead_code)]
mod common;

use std::ops::ControlFlow;

use common::trailsift;
use trailsift::convert::{gzip, read_all, ErrorCode, NdjsonLines, ReadOptions, Reader};
use trailsift::input::{LineEvent, LineReader};
use trailsift::parallel::{map_lines, Piece, Source};
use trailsift::schema::{Options, Validator};

/// The longest line of the viewer's reader here: the events fit, the last line does not.
const VIEWER_MAX_LINE: usize = 1000;

/// Two events, then a last line with no `\n` that is not JSON (and longer than
/// [`VIEWER_MAX_LINE`]); gzip without its 8-byte trailer but for two bytes, so that only
/// the end of the input shows the stream is cut short.
fn cut_gzip() -> Vec<u8> {
    let (code, mut text, _) = trailsift(&["gen", "--count", "2", "--seed", "1"], b"");
    assert_eq!(code, 0);
    assert!(text
        .split(|b| *b == b'\n')
        .all(|l| l.len() < VIEWER_MAX_LINE));
    text.extend_from_slice(b"{\"auditEventId\":\"last\", not json ");
    text.extend_from_slice(&b"y".repeat(2 * VIEWER_MAX_LINE));
    let mut gz = gzip::compress(&text);
    gz.truncate(gz.len() - 6);
    gz
}

/// The lines of `stderr` (or `stdout`) that name line 3, in order.
fn about_line_3(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with("line 3") || l.contains(": line 3"))
        .collect()
}

fn is_break(message: &str) -> bool {
    message.contains("gzip stream ends early")
}

#[test]
fn a_gzip_stream_cut_short_is_reported_before_its_last_line_on_every_path() {
    let gz = cut_gzip();
    let dir = std::env::temp_dir().join(format!("trailsift-cut-gzip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("cut.ndjson.gz");
    std::fs::write(&file, &gz).unwrap();
    let file = file.to_str().unwrap();

    // The CLI: each command names line 3 twice, the break first; the events before it
    // are kept.
    for threads in ["1", "2"] {
        let commands: [&[&str]; 3] = [
            &["filter", "-q", "", "--threads", threads, file],
            &["convert", "--to", "ndjson", "--threads", threads, file],
            &["validate", "--threads", threads, file],
        ];
        for args in commands {
            let (code, out, err) = trailsift(args, b"");
            assert_eq!(code, 1, "{args:?}: {err}");
            let out = String::from_utf8(out).unwrap();
            // `validate` reports on stdout, the others on stderr.
            let said = about_line_3(if args[0] == "validate" { &out } else { &err });
            assert_eq!(said.len(), 2, "{args:?}: {out}{err}");
            assert!(is_break(said[0]), "{args:?}: the break first: {said:?}");
            assert!(!is_break(said[1]), "{args:?}: then the last line: {said:?}");
            if args[0] != "validate" {
                assert_eq!(out.lines().count(), 2, "{args:?}: the two events: {out}");
            }
        }
    }

    // The line reader, ended in its two halves.
    let mut reader = LineReader::new(u64::MAX, VIEWER_MAX_LINE);
    let mut seen = Vec::new();
    let mut on = |ev: LineEvent| seen.push(line_of(&ev));
    reader.push(&gz, &mut on).unwrap();
    let broken = reader.end_input(&mut on).unwrap_err();
    assert_eq!(broken.code(), "truncated");
    let at_break = reader.position().0;
    reader.end_lines(&mut on);
    assert_eq!((at_break, seen), (3, vec![("block", 1), ("too_long", 3)]));

    // `filter`'s path: the pieces of the parallel cutter, on one thread and two.
    for threads in [1, 2] {
        let mut pieces = Vec::new();
        let reader = LineReader::new(u64::MAX, VIEWER_MAX_LINE);
        map_lines(
            Source::Bytes(&gz),
            reader,
            threads,
            &|_| (),
            &mut |piece, ()| {
                pieces.push(match piece {
                    Piece::Lines(ev) => line_of(&ev),
                    Piece::Broken { line, .. } => ("broken", line),
                });
                ControlFlow::Continue(())
            },
        )
        .unwrap();
        assert_eq!(
            pieces,
            [("block", 1), ("broken", 3), ("too_long", 3)],
            "{threads} threads"
        );
    }

    // `convert`'s path: the format reader.
    let errors: Vec<_> = read_all(None, None, &gz, ReadOptions::default())
        .into_iter()
        .filter_map(Result::err)
        .map(|e| (e.code, e.line, is_break(&e.message)))
        .collect();
    assert_eq!(
        errors,
        [
            (ErrorCode::Truncated, 3, true),
            (ErrorCode::BadJson, 3, false)
        ]
    );

    // `validate`'s path: the validation entry.
    let mut validator = Validator::new(
        Reader::detecting(None, ReadOptions::default()),
        Options::default(),
    );
    validator.push(&gz, &mut |_| {});
    validator.finish(&mut |_| {});
    let rejected: Vec<_> = validator
        .into_report()
        .rejected
        .iter()
        .map(|r| {
            (
                r.line,
                r.errors[0].code.clone(),
                is_break(&r.errors[0].message),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        [(3, "truncated".into(), true), (3, "bad_json".into(), false)]
    );

    // The viewer's reader (the page and the npm table): the break, then the long line.
    let mut viewer = NdjsonLines::new(Some("cut.ndjson.gz"), u64::MAX, VIEWER_MAX_LINE);
    let mut blocks = 0;
    viewer.push(&gz, &mut |_, _| blocks += 1);
    viewer.finish(&mut |_, _| blocks += 1);
    let errors: Vec<_> = viewer
        .take_errors()
        .into_iter()
        .map(|e| (e.code, e.line))
        .collect();
    assert_eq!(blocks, 1);
    assert_eq!(
        errors,
        [(ErrorCode::Truncated, 3), (ErrorCode::TooLarge, 3)]
    );

    std::fs::remove_dir_all(&dir).unwrap();
}

/// A line event as (kind, number of its first line).
fn line_of(ev: &LineEvent) -> (&'static str, u64) {
    match ev {
        LineEvent::Block { line, .. } => ("block", *line),
        LineEvent::TooLong { line, .. } => ("too_long", *line),
    }
}
