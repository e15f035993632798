//! Query and export: `GET /v1/events`, `POST /v1/events/query`, `GET /v1/events/{id}`,
//! `GET /v1/stats`. The account store filters and pages; exports stream page by page.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use worker::{Env, Headers, Request, Response};

use super::auth::Caller;
use super::error::{json_response, text_response, ApiError, ApiResult};
use super::filtering::{self, parse_range_time, Filter};
use super::store::now_ms;
use crate::convert::{Format, WriteOptions, Writer};

use crate::time::DAY_MS;
/// The longest range one query may cover: two years (leap days included).
const MAX_RANGE_MS: i64 = 732 * DAY_MS;
const DEFAULT_RANGE_MS: i64 = 7 * DAY_MS;
const MAX_LIMIT: usize = 10_000;
/// Events fetched from the account store per export step.
const EXPORT_PAGE: usize = 1_000;

/// The output format of a query (`json` pages; the others are downloads).
fn parse_format(s: Option<&str>) -> ApiResult<Format> {
    let name = s.unwrap_or("json");
    match name {
        "" | "json" => Ok(Format::Json),
        "ndjson" | "csv" | "splunk_hec" | "sumo" | "ocsf" => {
            name.parse().map_err(|_| bad_format(name))
        }
        _ => Err(bad_format(name)),
    }
}

fn bad_format(name: &str) -> ApiError {
    ApiError::bad_request(
        "bad_parameter",
        format!("`format` must be one of json, ndjson, csv, splunk_hec, sumo, ocsf (got `{name}`)"),
    )
}

fn content_type(format: Format) -> &'static str {
    match format {
        Format::Json => "application/json",
        Format::Csv => "text/csv; charset=utf-8",
        _ => "application/x-ndjson",
    }
}

fn file_name(format: Format) -> String {
    let ext = match format {
        Format::Csv => "csv",
        Format::Json => "json",
        _ => "ndjson",
    };
    format!("trailsift-events-{}.{ext}", format.name())
}

/// A query, checked and resolved against "now".
struct Query {
    filter_json: Value,
    from: i64,
    to: i64,
    desc: bool,
    limit: Option<usize>,
    after: Option<(i64, i64)>,
    format: Format,
    now: i64,
}

fn params(req: &Request) -> ApiResult<HashMap<String, String>> {
    let url = req
        .url()
        .map_err(|_| ApiError::bad_request("bad_request", "bad URL"))?;
    Ok(url.query_pairs().into_owned().collect())
}

/// Resolves `from`/`to` (with the filter's own time bounds as defaults) and checks the range.
fn resolve_range(
    params: &HashMap<String, String>,
    filter: &Filter,
    fallback_from: Option<&str>,
    fallback_to: Option<&str>,
    now: i64,
) -> ApiResult<(i64, i64)> {
    let (filter_lo, filter_hi) = filter.time_bounds(now);
    let parse = |name: &str, text: &str, is_end: bool| {
        parse_range_time(text, now, is_end).ok_or_else(|| {
            ApiError::bad_request(
                "bad_time",
                format!("`{name}` is not a time (RFC 3339, a date, epoch milliseconds or now-7d): `{text}`"),
            )
        })
    };
    let from_text = params.get("from").map(String::as_str).or(fallback_from);
    let to_text = params.get("to").map(String::as_str).or(fallback_to);
    let to = match to_text.filter(|s| !s.is_empty()) {
        Some(t) => parse("to", t, true)?,
        None => filter_hi.unwrap_or(now),
    };
    let from = match from_text.filter(|s| !s.is_empty()) {
        Some(f) => parse("from", f, false)?,
        None => filter_lo.unwrap_or(to.saturating_sub(DEFAULT_RANGE_MS)),
    };
    if from > to {
        return Err(ApiError::bad_request("bad_range", "`from` is after `to`"));
    }
    if to.saturating_sub(from) > MAX_RANGE_MS {
        return Err(ApiError::bad_request(
            "range_too_long",
            "the time range is longer than 2 years",
        )
        .with_details(json!({"from": from, "to": to, "maxMs": MAX_RANGE_MS})));
    }
    Ok((from, to))
}

fn encode_cursor(desc: bool, t: i64, s: i64) -> String {
    let text = format!("{}:{t}:{s}", if desc { 'd' } else { 'a' });
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_cursor(cursor: &str, desc: bool) -> ApiResult<(i64, i64)> {
    let bad = || {
        ApiError::bad_request(
            "bad_cursor",
            "the cursor is not one this service made for this order",
        )
    };
    let bytes = cursor.as_bytes();
    if bytes.len() % 2 != 0 || bytes.len() > 200 {
        return Err(bad());
    }
    let mut raw = Vec::with_capacity(bytes.len() / 2);
    for pair in bytes.chunks(2) {
        let s = std::str::from_utf8(pair).map_err(|_| bad())?;
        raw.push(u8::from_str_radix(s, 16).map_err(|_| bad())?);
    }
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = text.split(':');
    let order = parts.next().ok_or_else(bad)?;
    let t = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let s = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    if parts.next().is_some() || (order == "d") != desc || !(order == "d" || order == "a") {
        return Err(bad());
    }
    Ok((t, s))
}

fn compile(filter_json: &Value) -> ApiResult<Filter> {
    let result = match filter_json.get("structured") {
        Some(s) if !s.is_null() => filtering::from_structured(s),
        _ => Filter::parse(
            filter_json
                .get("q")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        ),
    };
    result.map_err(|e| {
        let details = serde_json::to_value(&e).unwrap_or(Value::Null);
        ApiError::bad_request("bad_filter", e.message.clone()).with_details(details)
    })
}

fn build_query(
    params: &HashMap<String, String>,
    filter_json: Value,
    fallback_from: Option<&str>,
    fallback_to: Option<&str>,
) -> ApiResult<Query> {
    let now = now_ms();
    let filter = compile(&filter_json)?;
    let (from, to) = resolve_range(params, &filter, fallback_from, fallback_to, now)?;
    let desc = match params.get("order").map(String::as_str) {
        None | Some("") | Some("desc") => true,
        Some("asc") => false,
        Some(other) => {
            return Err(ApiError::bad_request(
                "bad_parameter",
                format!("`order` must be desc or asc (got `{other}`)"),
            ))
        }
    };
    let limit = match params.get("limit").filter(|s| !s.is_empty()) {
        None => None,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if n >= 1 => Some(n.min(MAX_LIMIT)),
            _ => {
                return Err(ApiError::bad_request(
                    "bad_parameter",
                    format!("`limit` must be a number from 1 to {MAX_LIMIT} (got `{l}`)"),
                ))
            }
        },
    };
    let after = match params.get("cursor").filter(|s| !s.is_empty()) {
        Some(c) => Some(decode_cursor(c, desc)?),
        None => None,
    };
    let format = parse_format(params.get("format").map(String::as_str))?;
    Ok(Query {
        filter_json,
        from,
        to,
        desc,
        limit,
        after,
        format,
        now,
    })
}

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
    next: Option<(i64, i64)>,
}

fn page_request(q: &Query, after: Option<(i64, i64)>, limit: usize) -> Value {
    let mut body = q.filter_json.clone();
    if let Some(obj) = body.as_object_mut() {
        obj.insert("from".into(), json!(q.from));
        obj.insert("to".into(), json!(q.to));
        obj.insert("order".into(), json!(if q.desc { "desc" } else { "asc" }));
        obj.insert("limit".into(), json!(limit));
        obj.insert("now".into(), json!(q.now));
        obj.insert(
            "after".into(),
            after.map_or(Value::Null, |(t, s)| json!([t, s])),
        );
    }
    body
}

pub async fn events_get(req: &Request, env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("read")?;
    let params = params(req)?;
    let q = params.get("q").cloned().unwrap_or_default();
    let query = build_query(&params, json!({"q": q}), None, None)?;
    run(env, caller, query).await
}

pub async fn events_post(req: &mut Request, env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("read")?;
    let params = params(req)?;
    let bytes = req
        .bytes()
        .await
        .map_err(|e| ApiError::bad_request("bad_body", e.to_string()))?;
    let structured: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::bad_request("bad_json", format!("the body is not valid JSON: {e}"))
                .with_details(json!({"line": e.line(), "column": e.column()}))
        })?
    };
    if !structured.is_object() {
        return Err(ApiError::bad_request(
            "bad_filter",
            "the body must be a structured filter (a JSON object)",
        ));
    }
    let from = structured
        .get("from")
        .and_then(Value::as_str)
        .map(str::to_string);
    let to = structured
        .get("to")
        .and_then(Value::as_str)
        .map(str::to_string);
    let query = build_query(
        &params,
        json!({"structured": structured}),
        from.as_deref(),
        to.as_deref(),
    )?;
    run(env, caller, query).await
}

async fn run(env: &Env, caller: &Caller, query: Query) -> ApiResult<Response> {
    if query.format == Format::Json {
        return json_page(env, caller, query).await;
    }
    export(env, caller, query).await
}

/// One page as `{"events": [...], "cursor": ...}`.
async fn json_page(env: &Env, caller: &Caller, query: Query) -> ApiResult<Response> {
    let limit = query.limit.unwrap_or(100);
    let mut out = String::from("{\"events\":[");
    let mut found = 0usize;
    let mut after = query.after;
    let mut more = true;
    while found < limit && more {
        let text = super::call_store_json(
            env,
            &caller.account,
            "query",
            &page_request(&query, after, limit - found),
        )
        .await?;
        let page: Page =
            serde_json::from_str(&text).map_err(|e| ApiError::storage(e.to_string()))?;
        for ev in &page.events {
            if found > 0 {
                out.push(',');
            }
            out.push_str(ev.get());
            found += 1;
        }
        more = page.next.is_some();
        after = page.next;
    }
    out.push_str("],\"cursor\":");
    match after.filter(|_| more) {
        Some((t, s)) => {
            out.push('"');
            out.push_str(&encode_cursor(query.desc, t, s));
            out.push('"');
        }
        None => out.push_str("null"),
    }
    out.push('}');
    Ok(text_response(200, out, "application/json"))
}

/// State of a streaming export between two pages.
struct ExportState {
    env: Env,
    account: String,
    query: Query,
    after: Option<(i64, i64)>,
    remaining: usize,
    done: bool,
    writer: Writer<Vec<u8>>,
}

/// A download of the whole range (or `limit` events) in a non-JSON format. Pages are fetched
/// from the account store one at a time, so the export is never held in memory.
async fn export(env: &Env, caller: &Caller, query: Query) -> ApiResult<Response> {
    let format = query.format;
    // Fetch the first page before answering, so that store errors still get a status.
    let state = ExportState {
        env: env.clone(),
        account: caller.account.clone(),
        remaining: query.limit.unwrap_or(usize::MAX),
        after: query.after,
        writer: Writer::new(query.format, WriteOptions::default(), Vec::new()),
        query,
        done: false,
    };
    let mut state = state;
    let first = next_chunk(&mut state).await?;
    let head = futures_util::stream::once(async move { Ok::<Vec<u8>, worker::Error>(first) });
    let rest = futures_util::stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        match next_chunk(&mut state).await {
            Ok(chunk) => Some((Ok::<Vec<u8>, worker::Error>(chunk), state)),
            Err(e) => {
                state.done = true;
                Some((Err(worker::Error::RustError(e.message)), state))
            }
        }
    });
    let stream = futures_util::StreamExt::chain(head, rest);
    let headers = Headers::new();
    let _ = headers.set("content-type", content_type(format));
    let _ = headers.set(
        "content-disposition",
        &format!("attachment; filename=\"{}\"", file_name(format)),
    );
    let resp = Response::from_stream(stream)?.with_headers(headers);
    Ok(resp)
}

async fn next_chunk(state: &mut ExportState) -> ApiResult<Vec<u8>> {
    let want = state.remaining.min(EXPORT_PAGE);
    if want > 0 {
        let text = super::call_store_json(
            &state.env,
            &state.account,
            "query",
            &page_request(&state.query, state.after, want),
        )
        .await?;
        let page: Page =
            serde_json::from_str(&text).map_err(|e| ApiError::storage(e.to_string()))?;
        for ev in &page.events {
            let value: Value =
                serde_json::from_str(ev.get()).map_err(|e| ApiError::storage(e.to_string()))?;
            state
                .writer
                .write(&value)
                .map_err(|e| ApiError::storage(format!("export: {e}")))?;
        }
        state.remaining = state.remaining.saturating_sub(page.events.len());
        state.after = page.next;
        state.done = page.next.is_none() || state.remaining == 0;
    } else {
        state.done = true;
    }
    if state.done {
        state
            .writer
            .end()
            .map_err(|e| ApiError::storage(format!("export: {e}")))?;
    }
    Ok(std::mem::take(state.writer.get_mut()))
}

pub async fn event_one(env: &Env, caller: &Caller, id: &str) -> ApiResult<Response> {
    caller.require("read")?;
    let id = percent_decode(id);
    let text = super::call_store_json(env, &caller.account, "get", &json!({"id": id})).await?;
    Ok(text_response(200, text, "application/json"))
}

pub async fn stats(req: &Request, env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("read")?;
    let params = params(req)?;
    let q = params.get("q").cloned().unwrap_or_default();
    let now = now_ms();
    let filter = compile(&json!({"q": q}))?;
    let (from, to) = resolve_range(&params, &filter, None, None, now)?;
    let by = params.get("by").cloned().unwrap_or_else(|| "action".into());
    let text = super::call_store_json(
        env,
        &caller.account,
        "stats",
        &json!({"q": q, "from": from, "to": to, "by": by, "now": now}),
    )
    .await?;
    let mut v: Value = serde_json::from_str(&text).map_err(|e| ApiError::storage(e.to_string()))?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert("from".into(), json!(from));
        obj.insert("to".into(), json!(to));
    }
    Ok(json_response(200, &v))
}

/// Decodes `%XX` escapes of a path segment (ids may hold any character).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes.get(i).copied().unwrap_or_default();
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = encode_cursor(true, 1_763_719_530_123, 42);
        assert_eq!(decode_cursor(&c, true).unwrap(), (1_763_719_530_123, 42));
        assert!(
            decode_cursor(&c, false).is_err(),
            "a desc cursor used for asc"
        );
        for bad in ["", "zz", "abc", "6431", &"00".repeat(200)] {
            assert!(decode_cursor(bad, true).is_err(), "{bad}");
        }
    }

    #[test]
    fn percent_decoding_keeps_bad_escapes() {
        assert_eq!(percent_decode("a%20b%2Fc"), "a b/c");
        assert_eq!(percent_decode("%zz%"), "%zz%");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
    }

    #[test]
    fn formats_by_name() {
        assert_eq!(parse_format(None).unwrap(), Format::Json);
        assert_eq!(parse_format(Some("splunk_hec")).unwrap(), Format::SplunkHec);
        assert!(parse_format(Some("hec")).is_err());
        assert!(parse_format(Some("xml")).is_err());
    }
}
