//! `POST /v1/events`: read the body within limits, validate each event, and hand the valid
//! ones to the account store, which commits them before the answer is sent.

use std::io::Read;

use futures_util::StreamExt;
use serde_json::{json, Value};
use worker::{Env, Request, Response};

use super::auth::Caller;
use super::config::Config;
use super::error::{json_response, ApiError, ApiResult};
use super::store::events::{Commit, Committed, Row};
use super::store::{self, StoreRequest};
use crate::convert::Item;
use crate::convert::{ErrorCode, Format, ReadError, ReadOptions, Reader};
use crate::schema::{self, Rejected, Violation, Warning};

pub async fn handle(
    req: &mut Request,
    env: &Env,
    config: &Config,
    caller: &Caller,
) -> ApiResult<Response> {
    caller.require("ingest")?;
    let limits = &config.ingest;
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
    let format = match media {
        Media::Json => Format::Json,
        Media::Ndjson => Format::Ndjson,
    };
    let opts = ReadOptions {
        max_record_bytes: limits.event,
        keep_raw: false,
        ..ReadOptions::default()
    };
    // Feed the reader in slices so that only one slice's events are held as JSON values.
    let mut reader =
        Reader::new(format, opts).map_err(|e| ApiError::bad_request("bad_request", e.message))?;
    let mut batch = Batch::new(caller.account.clone(), format, limits.event);
    let mut items = Vec::new();
    for slice in body.chunks(READ_SLICE) {
        reader.push(slice, &mut items);
        batch.take_all(&mut items)?;
        if batch.seen > limits.events {
            return Err(too_many(limits.events));
        }
    }
    reader.finish(&mut items);
    batch.take_all(&mut items)?;
    drop(body);
    if batch.seen > limits.events {
        return Err(too_many(limits.events));
    }
    if batch.seen == 0 {
        return Err(ApiError::bad_request(
            "empty_body",
            "the body holds no events",
        ));
    }
    if batch.parsed == 0 {
        // Not one record is JSON: the body is not what its Content-Type says.
        return Err(
            ApiError::bad_request("bad_json", "no record of the body is a JSON object")
                .with_details(json!({"rejected": batch.rejected})),
        );
    }
    let Batch {
        rejected,
        warnings,
        rows,
        ..
    } = batch;

    if atomic && !rejected.is_empty() {
        let n = rejected.len();
        return Err(ApiError::new(
            422,
            "invalid_events",
            format!("{n} event(s) are invalid; with atomic=true nothing was stored"),
        )
        .with_details(json!({"rejected": rejected})));
    }

    let committed = if rows.is_empty() {
        Committed::default()
    } else {
        let request = StoreRequest::Commit(Commit { rows });
        store::call(env, &caller.account, &request).await?
    };
    let mut answer = json!({
        "accepted": committed.accepted,
        "duplicates": committed.duplicates,
        "rejected": rejected,
        "firstSeq": committed.first_seq,
        "lastSeq": committed.last_seq,
    });
    if !warnings.is_empty() {
        if let Some(obj) = answer.as_object_mut() {
            obj.insert("warnings".into(), json!(warnings));
        }
    }
    Ok(json_response(200, &answer))
}

/// Bytes of decoded body handed to the reader at a time.
const READ_SLICE: usize = 64 * 1024;

fn too_many(max: usize) -> ApiError {
    ApiError::too_large(format!("the batch holds more than {max} events"))
}

/// The events of one request as they are read: rejections, warnings and the rows for the
/// account store.
struct Batch {
    account: String,
    format: Format,
    max_event: usize,
    options: schema::Options,
    seen: usize,
    /// Records that were JSON objects (valid or not).
    parsed: usize,
    rejected: Vec<Rejected>,
    warnings: Vec<Warning>,
    rows: Vec<Row>,
}

impl Batch {
    fn new(account: String, format: Format, max_event: usize) -> Self {
        Batch {
            account,
            format,
            max_event,
            options: schema::Options::default(),
            seen: 0,
            parsed: 0,
            rejected: Vec::new(),
            warnings: Vec::new(),
            rows: Vec::new(),
        }
    }

    fn take_all(&mut self, items: &mut Vec<Item>) -> ApiResult<()> {
        for item in items.drain(..) {
            self.seen += 1;
            self.take(item)?;
        }
        Ok(())
    }

    fn take(&mut self, item: Item) -> ApiResult<()> {
        let record = match item {
            Ok(r) => {
                self.parsed += 1;
                r
            }
            Err(e) => {
                record_error(&e, self.format, self.max_event)?;
                self.rejected.push(Rejected {
                    index: e.index,
                    line: e.line,
                    id: None,
                    errors: vec![Violation::new("", e.code.as_str(), e.message)],
                });
                return Ok(());
            }
        };
        let value = record.value;
        let mut violations = schema::validate_value(&value, &self.options);
        for w in schema::vocabulary_warnings(&value) {
            self.warnings.push(Warning {
                index: record.index,
                line: record.line,
                path: w.path,
                code: w.code,
                message: w.message,
            });
        }
        let account = value
            .pointer("/auditResourceScope/accountIdentifier")
            .and_then(Value::as_str);
        if let Some(account) = account {
            if account != self.account {
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
            .and_then(|t| crate::event::parse_time_value(t).ok());
        if violations.is_empty() && (id.is_empty() || time.is_none()) {
            // Unreachable after validation; kept so that nothing unvalidated is stored.
            violations.push(Violation::new(
                "auditEventId",
                "missing",
                "auditEventId and auditEventTime are required",
            ));
        }
        let Some(time) = time.filter(|_| violations.is_empty()) else {
            self.rejected.push(Rejected {
                index: record.index,
                line: record.line,
                id: (!id.is_empty()).then(|| id.to_string()),
                errors: violations,
            });
            return Ok(());
        };
        let body = serde_json::value::to_raw_value(&value)
            .map_err(|e| ApiError::bad_request("bad_json", e.to_string()))?;
        self.rows.push(Row {
            id: id.to_string(),
            time,
            body,
        });
        Ok(())
    }
}

/// Errors of the whole body (not of one event) end the request: a record over the size
/// limit is 413, a broken gzip stream or JSON text is 400. Other record errors are
/// rejections of that record.
fn record_error(e: &ReadError, format: Format, max_event: usize) -> ApiResult<()> {
    let details =
        json!({"index": e.index, "line": e.line, "byte": e.byte, "code": e.code.as_str()});
    match e.code {
        ErrorCode::TooLarge => Err(ApiError::too_large(format!(
            "event {} (line {}) is larger than {max_event} bytes",
            e.index, e.line
        ))
        .with_details(details)),
        ErrorCode::BadJson if format == Format::Json => Err(ApiError::bad_request(
            "bad_json",
            format!("the body is not valid JSON: {}", e.message),
        )
        .with_details(details)),
        ErrorCode::Truncated | ErrorCode::BadGzip | ErrorCode::Io | ErrorCode::Unsupported => {
            Err(ApiError::bad_request(e.code.as_str(), e.message.clone()).with_details(details))
        }
        _ => Ok(()),
    }
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
