//! `POST /v1/events`: read the body within limits, validate each event, and hand the valid
//! ones to the account store, which commits them before the answer is sent.

use futures_util::StreamExt;
use serde_json::{json, Value};
use worker::{Env, Request, Response};

use super::auth::Caller;
use super::codes;
use super::config::Config;
use super::error::{json_response, ApiError, ApiResult};
use super::store::events::{Commit, Committed, Row};
use super::store::{self, StoreRequest};
use crate::convert::{is_gzip, ErrorCode, Format};
use crate::schema::{self, Accepted, BodyFault, IngestLimits, Report};

pub async fn handle(
    req: &mut Request,
    env: &Env,
    config: &Config,
    caller: &Caller,
) -> ApiResult<Response> {
    caller.require("ingest")?;
    let limits = &config.ingest;
    let atomic = match super::query::params(req)?.get("atomic").map(String::as_str) {
        None | Some("false" | "0" | "") => false,
        Some("true" | "1") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                codes::BAD_PARAMETER,
                format!("`atomic` must be true or false (got `{other}`)"),
            ))
        }
    };
    let media = media_type(req)?;
    let marked_gzip = content_encoding(req)?;

    let raw = read_body(req, limits.body + limits.body / 10 + 1024).await?;
    if marked_gzip && !is_gzip(&raw) && !looks_like_json(&raw) {
        return Err(ApiError::bad_request(
            "bad_gzip",
            "the body is marked Content-Encoding: gzip but is not gzip data",
        ));
    }
    let format = match media {
        Media::Json => Format::Json,
        Media::Ndjson => Format::Ndjson,
    };
    let mut rows: Vec<Row> = Vec::new();
    let ingested = schema::ingest(&raw, format, &caller.account, limits, &mut |ev| {
        rows.push(row(&ev))
    });
    drop(raw);
    let report = ingested.report;
    if let Some(fault) = ingested.fault {
        return Err(fault_error(fault, &report, limits));
    }
    if atomic && !report.rejected.is_empty() {
        let n = report.rejected.len();
        return Err(ApiError::new(
            422,
            "invalid_events",
            format!("{n} event(s) are invalid; with atomic=true nothing was stored"),
        )
        .with_details(json!({"rejected": report.rejected})));
    }

    let committed = if rows.is_empty() {
        Committed::default()
    } else {
        let request = StoreRequest::Commit(Commit {
            account: caller.account.clone(),
            rows,
        });
        store::call(env, &caller.account, &request).await?
    };
    let mut answer = json!({
        "accepted": committed.accepted,
        "duplicates": committed.duplicates,
        "rejected": report.rejected,
        "firstSeq": committed.first_seq,
        "lastSeq": committed.last_seq,
    });
    if !report.warnings.is_empty() {
        if let Some(obj) = answer.as_object_mut() {
            obj.insert("warnings".into(), json!(report.warnings));
        }
    }
    Ok(json_response(200, &answer))
}

/// The row the account store commits for a valid event.
fn row(ev: &Accepted) -> Row {
    // Validated JSON text on one line: it reads back as raw JSON.
    let body = String::from_utf8(ev.json.to_vec())
        .ok()
        .and_then(|text| serde_json::value::RawValue::from_string(text).ok())
        .unwrap_or_else(|| serde_json::value::to_raw_value(&Value::Null).unwrap_or_default());
    Row {
        id: ev.id.to_string(),
        time: ev.time_ms,
        body,
    }
}

/// The answer to a body refused as a whole: a record over the size limit, a body over
/// the decoded limit or too many events is 413, anything else 400.
fn fault_error(fault: BodyFault, report: &Report, limits: &IngestLimits) -> ApiError {
    match fault {
        BodyFault::Unreadable(e) => {
            let details =
                json!({"index": e.index, "line": e.line, "byte": e.byte, "code": e.code.as_str()});
            match e.code {
                ErrorCode::TooLarge => ApiError::too_large(format!(
                    "record {} (line {}): {}",
                    e.index, e.line, e.message
                )),
                ErrorCode::BadJson => ApiError::bad_request(
                    "bad_json",
                    format!("the body is not valid JSON: {}", e.message),
                ),
                code => ApiError::bad_request(code.as_str(), e.message),
            }
            .with_details(details)
        }
        BodyFault::TooManyEvents => ApiError::too_large(format!(
            "the batch holds more than {} events",
            limits.events
        )),
        BodyFault::Empty => ApiError::bad_request("empty_body", "the body holds no events"),
        // Not one record is JSON: the body is not what its Content-Type says.
        BodyFault::NoObject => {
            ApiError::bad_request("bad_json", "no record of the body is a JSON object")
                .with_details(json!({"rejected": report.rejected}))
        }
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

/// Whether the body is marked gzip. `identity`, an empty value or no header is plain; any
/// other coding (RFC 9110 section 8.4) or a list of codings is refused with 415, since the
/// body could not be read as the client meant it.
fn content_encoding(req: &Request) -> ApiResult<bool> {
    let Some(header) = req.headers().get("content-encoding").ok().flatten() else {
        return Ok(false);
    };
    match header.trim().to_ascii_lowercase().as_str() {
        "gzip" | "x-gzip" => Ok(true),
        // An empty value names no coding (some proxies drop the header instead).
        "identity" | "" => Ok(false),
        _ => Err(ApiError::new(
            415,
            codes::UNSUPPORTED_ENCODING,
            format!("Content-Encoding must be gzip or identity (got `{header}`)"),
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

fn looks_like_json(raw: &[u8]) -> bool {
    matches!(
        raw.iter().find(|b| !b.is_ascii_whitespace()),
        None | Some(b'[') | Some(b'{')
    )
}
