//! `trailsift tail` against a scripted Server-Sent Events server on loopback: what it asks
//! for, how it resumes, how it ends. (Against the real Worker: tests/edge/tail.test.mjs.)
#![cfg(feature = "cli")]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::thread;

/// Answers one connection after another with the scripted `(status, body)`, closing each
/// after its body; returns each request's head (request line and headers, lower-cased names).
fn serve(script: Vec<(u16, &'static str)>) -> (String, thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = thread::spawn(move || {
        let mut heads = Vec::new();
        for (status, body) in script {
            let (mut conn, _) = listener.accept().unwrap();
            heads.push(read_head(&conn));
            let kind = if status == 200 {
                "text/event-stream"
            } else {
                "application/json"
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {status} X\r\ncontent-type: {kind}\r\nconnection: close\r\n\r\n{body}"
            );
        }
        heads
    });
    (url, handle)
}

fn read_head(conn: &TcpStream) -> String {
    let mut reader = BufReader::new(conn);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            return head;
        }
        let line = match line.split_once(':') {
            Some((name, value)) => format!("{}:{value}", name.to_ascii_lowercase()),
            None => line,
        };
        head.push_str(&line);
    }
}

fn tail(args: &[&str], token: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trailsift"));
    cmd.arg("tail").args(args).env_remove("TRAILSIFT_TOKEN");
    if let Some(token) = token {
        cmd.env("TRAILSIFT_TOKEN", token);
    }
    cmd.output().unwrap()
}

#[test]
fn resumes_after_a_broken_connection_and_after_dropped_events() {
    let (url, server) = serve(vec![
        (200, ": hello\n\nid: 1\ndata: {\"n\":1}\n\nid: 2\ndata: {\"n\":2}\n\n"),
        (200, "id: 3\ndata: {\"n\":3}\n\nevent: dropped\ndata: {\"dropped\":7}\n\nid: 11\ndata: {\"n\":11}\n\n"),
        (200, "id: 4\ndata: {\"n\":4}\n\n"),
    ]);
    let out = tail(&[&url, "-q", "action:create", "--limit", "4"], Some("tok"));
    let heads = server.join().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Nothing after the notice on the old connection: the events it dropped come first.
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n"
    );
    assert!(
        heads[0].starts_with("GET /v1/stream?q=action%3Acreate HTTP/1.1"),
        "{}",
        heads[0]
    );
    assert!(heads[0].contains("authorization: Bearer tok\r\n"));
    assert!(heads[0].contains("accept: text/event-stream\r\n"));
    assert!(!heads[0].contains("last-event-id"));
    assert!(heads[1].contains("last-event-id: 2\r\n"), "{}", heads[1]);
    assert!(heads[2].contains("last-event-id: 3\r\n"), "{}", heads[2]);
}

#[test]
fn after_starts_from_a_sequence_number() {
    let (url, server) = serve(vec![(200, "id: 8\ndata: {}\n\n")]);
    let out = tail(&[&url, "--after", "7", "--limit", "1"], Some("tok"));
    let heads = server.join().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(heads[0].contains("last-event-id: 7\r\n"), "{}", heads[0]);
}

#[test]
fn refusals_and_usage_errors_exit_2() {
    let body = r#"{"error":{"code":"bad_filter","message":"unknown field"}}"#;
    let (url, server) = serve(vec![(400, body)]);
    let out = tail(&[&url, "-q", "acton:x"], Some("tok"));
    server.join().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 400 bad_filter: unknown field"));

    let out = tail(&["http://127.0.0.1:9"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TRAILSIFT_TOKEN"));
    let out = tail(&["ftp://example.invalid"], Some("tok"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_worker_that_stays_away_ends_with_2_after_the_retries() {
    // A port that was free a moment ago: every connection is refused.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = tail(
        &[&format!("http://127.0.0.1:{port}"), "--retries", "2"],
        Some("tok"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("giving up after 2 failed attempts"));
}

#[test]
fn a_message_that_is_not_an_event_exits_1() {
    let (url, server) = serve(vec![(200, "id: 1\ndata: {oops\n\nid: 2\ndata: {}\n\n")]);
    let out = tail(&[&url, "--limit", "1"], Some("tok"));
    server.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "{}\n");
}
