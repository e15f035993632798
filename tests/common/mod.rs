//! Helpers shared by the integration tests that run the built CLI.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Runs the built `trailsift` with `args` and `stdin`; returns (exit code, stdout, stderr).
pub fn trailsift(args: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trailsift"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run trailsift");
    let mut input = child.stdin.take().expect("stdin is piped");
    // Written from another thread: a command writes output while it reads a large input,
    // and would wait for this side to read it. A command that fails early (a bad query, a
    // usage error) may not read its input.
    let out = std::thread::scope(|scope| {
        scope.spawn(move || {
            let _ = input.write_all(stdin);
        });
        child.wait_with_output().expect("wait for trailsift")
    });
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `auditEventId`s of NDJSON output, in order (the output must be UTF-8 JSON lines).
pub fn ids(out: &[u8]) -> Vec<String> {
    String::from_utf8(out.to_vec())
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["auditEventId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// An input file: its name, path and bytes.
pub type InputFile = (&'static str, String, Vec<u8>);

/// One input as the three files the parallel paths are checked on, written to a fresh
/// folder named for `what`: `plain.ndjson`, `all.ndjson.gz` (gzip) and `cut.ndjson.gz` (that
/// gzip cut to `cut(its length)` bytes). Answers the folder and each file's name, path and
/// bytes.
pub fn plain_gzip_and_cut(
    what: &str,
    plain: Vec<u8>,
    cut: impl Fn(usize) -> usize,
) -> (PathBuf, Vec<InputFile>) {
    let gz = trailsift::convert::gzip::compress(&plain);
    let short = gz[..cut(gz.len())].to_vec();
    let dir = std::env::temp_dir().join(format!("trailsift-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = [
        ("plain.ndjson", plain),
        ("all.ndjson.gz", gz),
        ("cut.ndjson.gz", short),
    ]
    .into_iter()
    .map(|(name, bytes)| {
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        (name, path.to_str().unwrap().to_string(), bytes)
    })
    .collect();
    (dir, files)
}
