//! Helpers shared by the integration tests that run the built CLI.

use std::io::Write;
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
