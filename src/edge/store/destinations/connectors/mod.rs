//! The receivers' protocols, one file per type, and the one HTTP path they share: a
//! timeout through an abort signal, no redirects, failures classified as retryable
//! (connection errors, timeouts, 408, 429, 5xx, honouring `Retry-After`) or not (other
//! 4xx), and by the stage they happened at (connect, TLS, auth, HTTP).

pub mod gcs;
pub mod s3;
pub mod splunk_hec;
pub mod sumo;
pub mod webhook;

use std::cell::RefCell;
use std::collections::HashMap;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use worker::{Fetch, Headers, Method, Request, RequestInit, RequestRedirect};

use super::{BodyFormat, Credentials, Ctx, Row, Target};

/// Sent as `User-Agent` with every request.
pub const USER_AGENT: &str = concat!("trailsift/", env!("CARGO_PKG_VERSION"));
/// Bytes of an answer's body kept for error messages and checks.
const ANSWER_BYTES: usize = 16 * 1024;

/// Where a send failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// No connection, a dropped one, or no answer in time.
    Connect,
    /// The TLS handshake or certificate.
    Tls,
    /// The receiver refused the credentials (401, 403, or a token that could not be got).
    Auth,
    /// Any other answer that is not a success.
    Http,
}

/// A failed send.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub stage: Stage,
    pub status: Option<u16>,
    /// Worth trying again: a connection error, a timeout, 408, 429 or 5xx.
    pub retry: bool,
    /// What `Retry-After` asked for, in milliseconds from now.
    pub retry_after_ms: Option<i64>,
    pub message: String,
}

impl Failure {
    pub fn new(stage: Stage, retry: bool, message: impl Into<String>) -> Failure {
        Failure {
            stage,
            status: None,
            retry,
            retry_after_ms: None,
            message: message.into(),
        }
    }
}

/// The answer of `POST .../test`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<Stage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub message: String,
}

impl TestResult {
    fn from(result: Result<String, Failure>) -> TestResult {
        match result {
            Ok(message) => TestResult {
                ok: true,
                stage: None,
                status: None,
                message,
            },
            Err(f) => TestResult {
                ok: false,
                stage: Some(f.stage),
                status: f.status,
                message: f.message,
            },
        }
    }
}

/// One HTTP request to a receiver.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn new(method: Method, url: impl Into<String>) -> HttpRequest {
        HttpRequest {
            method,
            url: url.into(),
            headers: vec![("user-agent".into(), USER_AGENT.into())],
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> HttpRequest {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn body(mut self, body: Vec<u8>) -> HttpRequest {
        self.body = body;
        self
    }
}

/// A receiver's answer: its status and the start of its body.
#[derive(Debug, Clone)]
pub struct HttpAnswer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: String,
}

/// Sends one request and reads the start of the answer. Fails only when no answer came
/// (connection, TLS, timeout); any status is an answer.
pub async fn exchange(req: &HttpRequest, timeout_ms: i64) -> Result<HttpAnswer, Failure> {
    let headers = Headers::new();
    for (name, value) in &req.headers {
        headers
            .set(name, value)
            .map_err(|e| Failure::new(Stage::Http, false, format!("header {name}: {e}")))?;
    }
    let mut init = RequestInit::new();
    init.with_method(req.method.clone())
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if !matches!(req.method, Method::Get | Method::Head) {
        init.with_body(Some(js_sys::Uint8Array::from(req.body.as_slice()).into()));
    }
    let request = Request::new_with_init(&req.url, &init)
        .map_err(|e| Failure::new(Stage::Connect, false, format!("bad request: {e}")))?;
    let millis = u32::try_from(timeout_ms.max(1)).unwrap_or(u32::MAX);
    let signal = web_sys::AbortSignal::timeout_with_u32(millis);
    let timed_out = |signal: &web_sys::AbortSignal| {
        signal.aborted().then(|| {
            Failure::new(
                Stage::Connect,
                true,
                format!("no answer within {} s", timeout_ms / 1000),
            )
        })
    };
    let mut resp = match Fetch::Request(request)
        .send_with_signal(&worker::AbortSignal::from(signal.clone()))
        .await
    {
        Ok(resp) => resp,
        Err(e) => return Err(timed_out(&signal).unwrap_or_else(|| connect_failure(&e.to_string()))),
    };
    let status = resp.status_code();
    let retry_after = resp.headers().get("retry-after").ok().flatten();
    let mut body = Vec::new();
    if let Ok(mut stream) = resp.stream() {
        while body.len() < ANSWER_BYTES {
            match stream.next().await {
                Some(Ok(chunk)) => body.extend_from_slice(&chunk),
                Some(Err(e)) => {
                    return Err(
                        timed_out(&signal).unwrap_or_else(|| connect_failure(&e.to_string()))
                    )
                }
                None => break,
            }
        }
    }
    body.truncate(ANSWER_BYTES);
    Ok(HttpAnswer {
        status,
        retry_after,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// A failure before any answer: TLS when the runtime says so, else the connection.
fn connect_failure(message: &str) -> Failure {
    let lower = message.to_ascii_lowercase();
    let tls = ["tls", "ssl", "certificate", "handshake"]
        .iter()
        .any(|w| lower.contains(w));
    let stage = if tls { Stage::Tls } else { Stage::Connect };
    Failure::new(stage, true, format!("no answer: {message}"))
}

/// Sends one request; any answer but a 2xx is a [`Failure`] (see [`classify`]).
pub async fn send(req: &HttpRequest, timeout_ms: i64, now_ms: i64) -> Result<HttpAnswer, Failure> {
    let answer = exchange(req, timeout_ms).await?;
    match classify(&answer, now_ms) {
        None => Ok(answer),
        Some(f) => Err(f),
    }
}

/// `None` for a 2xx; else the failure an answer means: 408, 429 and 5xx are retried
/// (after `Retry-After` when given), other statuses are not; 401 and 403 are `auth`.
pub fn classify(answer: &HttpAnswer, now_ms: i64) -> Option<Failure> {
    let status = answer.status;
    if (200..300).contains(&status) {
        return None;
    }
    let retry = status == 408 || status == 429 || status >= 500;
    let stage = if status == 401 || status == 403 {
        Stage::Auth
    } else {
        Stage::Http
    };
    let snippet: String = answer.body.trim().chars().take(300).collect();
    let message = if snippet.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {snippet}")
    };
    Some(Failure {
        stage,
        status: Some(status),
        retry,
        retry_after_ms: answer
            .retry_after
            .as_deref()
            .and_then(|v| retry_after_ms(v, now_ms)),
        message,
    })
}

/// A `Retry-After` value (seconds, or an HTTP date) as milliseconds from `now_ms`.
pub fn retry_after_ms(value: &str, now_ms: i64) -> Option<i64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<i64>() {
        return Some(seconds.max(0).saturating_mul(1000));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some((at.timestamp_millis() - now_ms).max(0))
}

/// Splits a body of lines (one event each, every line ending in `\n`) into parts of at
/// most `max` bytes, at line ends; a line longer than `max` is a part by itself.
pub fn split_lines(body: &[u8], max: usize) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut end = 0;
    for line in body.split_inclusive(|b| *b == b'\n') {
        if end > start && end - start + line.len() > max {
            parts.extend(body.get(start..end));
            start = end;
        }
        end += line.len();
    }
    if end > start {
        parts.extend(body.get(start..end));
    }
    parts
}

/// A body as sent: gzip-compressed when the destination asks.
pub fn encode_body(body: &[u8], gzip: bool) -> Vec<u8> {
    if gzip {
        crate::convert::gzip::compress(body)
    } else {
        body.to_vec()
    }
}

/// What a connector needs to send for one destination.
pub struct Sender<'a> {
    pub id: &'a str,
    pub target: &'a Target,
    pub credentials: &'a Credentials,
    /// The destination's Splunk request channel.
    pub channel: &'a str,
    pub timeout_ms: i64,
    pub now_ms: i64,
    pub tokens: &'a RefCell<HashMap<String, (String, i64)>>,
}

impl<'a> Sender<'a> {
    pub fn new(ctx: &'a Ctx<'_>, row: &'a Row, credentials: &'a Credentials, now_ms: i64) -> Self {
        Sender {
            id: &row.id,
            target: &row.definition.target,
            credentials,
            channel: &row.channel,
            timeout_ms: ctx.config.destination_timeout_ms,
            now_ms,
            tokens: ctx.tokens,
        }
    }

    /// The credential `name`, or a failure saying it is missing.
    pub fn credential<'c>(
        &self,
        value: &'c Option<String>,
        name: &str,
    ) -> Result<&'c str, Failure> {
        value.as_deref().ok_or_else(|| {
            Failure::new(
                Stage::Auth,
                false,
                format!("the credential `{name}` is not set"),
            )
        })
    }
}

/// One batch to send.
pub struct Outgoing<'a> {
    /// `<destination id>:<firstSeq>-<lastSeq>` (the webhook's `X-Trailsift-Batch`).
    pub key: &'a str,
    /// The object name (S3, GCS).
    pub name: &'a str,
    /// The rendered body, not compressed.
    pub body: &'a [u8],
    pub format: BodyFormat,
    pub gzip: bool,
    /// Parts already confirmed by an earlier attempt (bodies sent as several requests).
    pub parts_done: usize,
}

/// Sends a batch. `on_part` hears of each part the receiver confirms (its count so far),
/// so that a retry starts after them.
pub async fn deliver(
    sender: &Sender<'_>,
    out: &Outgoing<'_>,
    on_part: &mut dyn FnMut(usize),
) -> Result<(), Failure> {
    match sender.target {
        Target::S3(config) => s3::deliver(sender, config, out).await,
        Target::Gcs(config) => gcs::deliver(sender, config, out).await,
        Target::SplunkHec(config) => splunk_hec::deliver(sender, config, out, on_part).await,
        Target::Sumo(config) => sumo::deliver(sender, config, out, on_part).await,
        Target::Webhook(config) => webhook::deliver(sender, config, out).await,
    }
}

/// Checks the connection and credentials without sending audit events.
pub async fn test(sender: &Sender<'_>) -> TestResult {
    TestResult::from(match sender.target {
        Target::S3(config) => s3::test(sender, config).await,
        Target::Gcs(config) => gcs::test(sender, config).await,
        Target::SplunkHec(config) => splunk_hec::test(sender, config).await,
        Target::Sumo(config) => sumo::test(sender, config).await,
        Target::Webhook(config) => webhook::test(sender, config).await,
    })
    .scrubbed(sender.credentials)
}

impl TestResult {
    fn scrubbed(mut self, credentials: &Credentials) -> TestResult {
        self.message = credentials.scrub(&self.message);
        self
    }
}

/// The content type of a body format.
pub fn content_type(format: BodyFormat) -> &'static str {
    match format {
        BodyFormat::Json => "application/json",
        _ => "application/x-ndjson",
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Percent-encodes everything but RFC 3986's unreserved characters (and `/` when
/// `keep_slash`), as SigV4 and URLs of object names want.
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, retry_after: Option<&str>, body: &str) -> HttpAnswer {
        HttpAnswer {
            status,
            retry_after: retry_after.map(str::to_string),
            body: body.into(),
        }
    }

    #[test]
    fn statuses_are_classified_for_retry_and_stage() {
        assert_eq!(classify(&answer(204, None, ""), 0), None);
        for (status, retry, stage) in [
            (408, true, Stage::Http),
            (429, true, Stage::Http),
            (500, true, Stage::Http),
            (503, true, Stage::Http),
            (400, false, Stage::Http),
            (404, false, Stage::Http),
            (413, false, Stage::Http),
            (401, false, Stage::Auth),
            (403, false, Stage::Auth),
            (301, false, Stage::Http),
        ] {
            let f = classify(&answer(status, None, "no"), 0).unwrap();
            assert_eq!(
                (f.retry, f.stage, f.status),
                (retry, stage, Some(status)),
                "{status}"
            );
            assert_eq!(f.message, format!("HTTP {status}: no"));
        }
        let f = classify(&answer(503, Some("7"), ""), 0).unwrap();
        assert_eq!(
            (f.retry_after_ms, f.message.as_str()),
            (Some(7000), "HTTP 503")
        );
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        assert_eq!(retry_after_ms("120", 0), Some(120_000));
        assert_eq!(retry_after_ms(" -3 ", 0), Some(0));
        let now = 1_445_412_470_000; // 2015-10-21T07:27:50Z
        assert_eq!(
            retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(10_000)
        );
        assert_eq!(
            retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", now + 60_000),
            Some(0)
        );
        assert_eq!(retry_after_ms("soon", 0), None);
    }

    #[test]
    fn bodies_split_at_line_ends_within_the_limit() {
        let body = b"aaaa\nbb\ncccccc\nd\n";
        let parts = split_lines(body, 8);
        assert_eq!(parts, [&b"aaaa\nbb\n"[..], b"cccccc\n", b"d\n"]);
        assert_eq!(parts.concat(), body);
        // A line over the limit goes alone; a body without a final newline keeps its tail.
        assert_eq!(
            split_lines(b"x\nyyyyyyyyyy\nz", 4),
            [&b"x\n"[..], b"yyyyyyyyyy\n", b"z"]
        );
        assert!(split_lines(b"", 4).is_empty());
        assert_eq!(split_lines(body, 1000), [&body[..]]);
    }

    #[test]
    fn uri_encoding_keeps_only_unreserved_characters() {
        assert_eq!(uri_encode("audit/a b$+~_.-", true), "audit/a%20b%24%2B~_.-");
        assert_eq!(uri_encode("a/b", false), "a%2Fb");
        assert_eq!(uri_encode("é", false), "%C3%A9");
    }
}
