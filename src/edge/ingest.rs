//! `POST /v1/events`: read the body within limits, validate each event, and hand the valid
//! ones to the account store, which commits them before the answer is sent.

use std::io::Read;

use futures_util::StreamExt;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use worker::{Env, Request, Response};

use super::auth::Caller;
use super::error::{json_response, ApiError, ApiResult};
use crate::schema::{self, Violation};

/// Limits of one ingest request (configurable with Worker variables).
struct Limits {
    body: usize,
    events: usize,
    event: usize,
}

impl Limits {
    fn from_env(env: &Env) -> Self {
        Limits {
            body: super::var_usize(env, "MAX_BODY_BYTES", 10_000_000),
            events: super::var_usize(env, "MAX_EVENTS", 10_000),
            event: super::var_usize(env, "MAX_EVENT_BYTES", 1_000_000),
        }
    }
}

/// One record of the body: its place and either its JSON value or why it is not JSON.
struct Record {
    index: usize,
    line: usize,
    value: Result<Value, Violation>,
}

pub async fn handle(req: &mut Request, env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("ingest")?;
    let limits = Limits::from_env(env);
    let url = req
        .url()
        .map_err(|_| ApiError::bad_request("bad_request", "bad URL"))?;
    let atomic = url
        .query_pairs()
        .any(|(k, v)| k == "atomic" && (v == "true" || v == "1"));
    let media = media_type(req)?;
    let gzip = req
        .headers()
        .get("content-encoding")
        .ok()
        .flatten()
        .map(|v| v.trim().eq_ignore_ascii_case("gzip"))
        .unwrap_or(false);

    let raw = read_body(req, limits.body + limits.body / 10 + 1024).await?;
    let body = if gzip && raw.starts_with(&[0x1f, 0x8b]) {
        gunzip(&raw, limits.body)?
    } else if gzip && !looks_like_json(&raw) {
        return Err(ApiError::bad_request(
            "bad_gzip",
            "the body is marked Content-Encoding: gzip but is not gzip data",
        ));
    } else {
        raw
    };
    if body.len() > limits.body {
        return Err(ApiError::too_large(format!(
            "the decoded body is larger than {} bytes",
            limits.body
        )));
    }
    let records = match media {
        Media::Json => read_json(&body, &limits)?,
        Media::Ndjson => read_ndjson(&body, &limits)?,
    };
    if records.len() > limits.events {
        return Err(ApiError::too_large(format!(
            "the batch holds {} events; the limit is {}",
            records.len(),
            limits.events
        )));
    }
    if records.is_empty() {
        return Err(ApiError::bad_request(
            "empty_body",
            "the body holds no events",
        ));
    }

    let mut rejected = Vec::new();
    let mut rows = String::from("{\"rows\":[");
    let mut row_count = 0usize;
    for record in records {
        let value = match record.value {
            Ok(v) => v,
            Err(violation) => {
                rejected.push(rejection(record.index, record.line, None, vec![violation]));
                continue;
            }
        };
        let mut violations = schema::validate_value(&value, &schema::Options::default());
        let account = value
            .pointer("/auditResourceScope/accountIdentifier")
            .and_then(Value::as_str);
        if let Some(account) = account {
            if account != caller.account {
                violations.push(Violation::new(
                    "auditResourceScope.accountIdentifier",
                    "wrong_account",
                    format!("the event belongs to account `{account}`, not to the token's account"),
                ));
            }
        }
        let id = value
            .get("auditEventId")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let time = value
            .get("auditEventTime")
            .map(crate::event::parse_time_value);
        if violations.is_empty() {
            if id.is_empty() {
                violations.push(Violation::new(
                    "auditEventId",
                    "missing",
                    "auditEventId is required",
                ));
            }
            match time {
                Some(Ok(_)) => {}
                _ => violations.push(Violation::new(
                    "auditEventTime",
                    "bad_time",
                    "auditEventTime must be epoch milliseconds or RFC 3339",
                )),
            }
        }
        if !violations.is_empty() {
            let id = (!id.is_empty()).then(|| id.to_string());
            rejected.push(rejection(record.index, record.line, id, violations));
            continue;
        }
        let time = match time {
            Some(Ok(t)) => t,
            _ => continue,
        };
        if row_count > 0 {
            rows.push(',');
        }
        rows.push_str("{\"id\":");
        rows.push_str(&serde_json::to_string(id).unwrap_or_default());
        rows.push_str(",\"time\":");
        rows.push_str(&time.to_string());
        rows.push_str(",\"body\":");
        rows.push_str(&serde_json::to_string(&value).unwrap_or_default());
        rows.push('}');
        row_count += 1;
    }
    rows.push_str("]}");

    if atomic && !rejected.is_empty() {
        let n = rejected.len();
        return Err(ApiError::new(
            422,
            "invalid_events",
            format!("{n} event(s) are invalid; with atomic=true nothing was stored"),
        )
        .with_details(json!({"rejected": rejected})));
    }

    let committed: Value = if row_count == 0 {
        json!({"accepted": 0, "duplicates": 0, "firstSeq": null, "lastSeq": null})
    } else {
        let text = super::call_store(env, &caller.account, "ingest", &rows).await?;
        serde_json::from_str(&text).map_err(|e| ApiError::storage(e.to_string()))?
    };
    let answer = json!({
        "accepted": committed.get("accepted").cloned().unwrap_or(json!(0)),
        "duplicates": committed.get("duplicates").cloned().unwrap_or(json!(0)),
        "rejected": rejected,
        "firstSeq": committed.get("firstSeq").cloned().unwrap_or(Value::Null),
        "lastSeq": committed.get("lastSeq").cloned().unwrap_or(Value::Null),
    });
    Ok(json_response(200, &answer))
}

fn rejection(index: usize, line: usize, id: Option<String>, errors: Vec<Violation>) -> Value {
    let mut v = json!({"index": index, "line": line, "errors": errors});
    if let (Some(id), Some(obj)) = (id, v.as_object_mut()) {
        obj.insert("id".into(), Value::String(id));
    }
    v
}

enum Media {
    Json,
    Ndjson,
}

fn media_type(req: &Request) -> ApiResult<Media> {
    let header = req
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .unwrap_or_default();
    let essence = header
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Ok(Media::Json),
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => Ok(Media::Ndjson),
        _ => Err(ApiError::new(
            415,
            "unsupported_media_type",
            format!(
                "Content-Type must be application/json or application/x-ndjson (got `{header}`)"
            ),
        )),
    }
}

/// Reads the raw body, stopping with 413 as soon as it passes `max` bytes.
async fn read_body(req: &mut Request, max: usize) -> ApiResult<Vec<u8>> {
    if let Some(len) = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        if len > max {
            return Err(ApiError::too_large(format!(
                "the body is larger than {max} bytes"
            )));
        }
    }
    let mut stream = match req.stream() {
        Ok(s) => s,
        Err(_) => return Ok(Vec::new()),
    };
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request("bad_body", e.to_string()))?;
        if buf.len() + chunk.len() > max {
            return Err(ApiError::too_large(format!(
                "the body is larger than {max} bytes"
            )));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// Decompresses gzip, refusing to produce more than `max` bytes.
fn gunzip(raw: &[u8], max: usize) -> ApiResult<Vec<u8>> {
    let mut out = Vec::new();
    let decoder = flate2::read::MultiGzDecoder::new(raw);
    decoder
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| {
            ApiError::bad_request("bad_gzip", format!("the gzip body cannot be decoded: {e}"))
        })?;
    if out.len() > max {
        return Err(ApiError::too_large(format!(
            "the decoded body is larger than {max} bytes"
        )));
    }
    Ok(out)
}

fn looks_like_json(raw: &[u8]) -> bool {
    matches!(
        raw.iter().find(|b| !b.is_ascii_whitespace()),
        None | Some(b'[') | Some(b'{')
    )
}

/// Counts lines up to a byte offset, incrementally.
struct LineCounter<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LineCounter {
            bytes,
            pos: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, offset: usize) -> usize {
        if offset > self.pos {
            let end = offset.min(self.bytes.len());
            if let Some(slice) = self.bytes.get(self.pos..end) {
                self.line += memchr::memchr_iter(b'\n', slice).count();
            }
            self.pos = end;
        }
        self.line
    }
}

fn json_error(e: &serde_json::Error) -> ApiError {
    ApiError::bad_request("bad_json", format!("the body is not valid JSON: {e}"))
        .with_details(json!({"line": e.line(), "column": e.column()}))
}

fn too_big_event(index: usize, line: usize, max: usize) -> ApiError {
    ApiError::too_large(format!(
        "event {index} (line {line}) is larger than {max} bytes"
    ))
    .with_details(json!({"index": index, "line": line}))
}

/// A JSON array of events, one event object, or several concatenated objects.
fn read_json(body: &[u8], limits: &Limits) -> ApiResult<Vec<Record>> {
    let text = std::str::from_utf8(body)
        .map_err(|e| ApiError::bad_request("bad_json", format!("the body is not UTF-8: {e}")))?;
    let base = text.as_ptr() as usize;
    let mut lines = LineCounter::new(body);
    let first = text.bytes().find(|b| !b.is_ascii_whitespace());
    let raws: Vec<&RawValue> = if first == Some(b'[') {
        serde_json::from_str::<Vec<&RawValue>>(text).map_err(|e| json_error(&e))?
    } else {
        let mut out = Vec::new();
        for item in serde_json::Deserializer::from_str(text).into_iter::<&RawValue>() {
            out.push(item.map_err(|e| json_error(&e))?);
            if out.len() > limits.events {
                break;
            }
        }
        out
    };
    if raws.len() > limits.events {
        return Err(ApiError::too_large(format!(
            "the batch holds more than {} events",
            limits.events
        )));
    }
    let mut records = Vec::with_capacity(raws.len());
    for (index, raw) in raws.into_iter().enumerate() {
        let offset = (raw.get().as_ptr() as usize).saturating_sub(base);
        let line = lines.line_at(offset);
        if raw.get().len() > limits.event {
            return Err(too_big_event(index, line, limits.event));
        }
        let value = serde_json::from_str::<Value>(raw.get())
            .map_err(|e| Violation::new("", "bad_json", format!("invalid JSON: {e}")));
        records.push(Record { index, line, value });
    }
    Ok(records)
}

/// One event per line; blank lines are skipped, `\r\n` is tolerated, and a line that is not
/// JSON is rejected on its own.
fn read_ndjson(body: &[u8], limits: &Limits) -> ApiResult<Vec<Record>> {
    let mut records = Vec::new();
    let mut index = 0usize;
    for (n, line) in body.split(|b| *b == b'\n').enumerate() {
        let line_no = n + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if line.len() > limits.event {
            return Err(too_big_event(index, line_no, limits.event));
        }
        if index >= limits.events {
            return Err(ApiError::too_large(format!(
                "the batch holds more than {} events",
                limits.events
            )));
        }
        let value = serde_json::from_slice::<Value>(line).map_err(|e| {
            Violation::new(
                "",
                "bad_json",
                format!("invalid JSON at column {}: {e}", e.column()),
            )
        });
        records.push(Record {
            index,
            line: line_no,
            value,
        });
        index += 1;
    }
    Ok(records)
}
