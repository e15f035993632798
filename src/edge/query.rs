//! Query and export: `GET /v1/events`, `POST /v1/events/query`, `GET /v1/events/{id}`,
//! `GET /v1/stats`. The account store filters and pages; exports stream page by page.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use worker::{Env, Headers, Request, Response};

use super::auth::Caller;
use super::codes;
use super::error::{json_response, text_response, ApiError, ApiResult};
use super::filtering::{parse_range_time, Filter, FilterSource};
use super::now_ms;
use super::store::events::{EventRequest, Page, PageRequest, Position};
use super::store::stats::{Count, Counts, StatsBy, StatsRequest};
use super::store::tail::TailRequest;
use super::store::{self, StoreRequest};
use crate::convert::{Format, WriteOptions, Writer};
use crate::time::DAY_MS;
use crate::transform::{BoundTransform, Transform};

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
        "json" => Ok(Format::Json),
        "ndjson" | "csv" | "splunk_hec" | "sumo" | "ocsf" => {
            name.parse().map_err(|_| bad_format(name))
        }
        _ => Err(bad_format(name)),
    }
}

fn bad_format(name: &str) -> ApiError {
    ApiError::bad_request(
        codes::BAD_PARAMETER,
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
    filter: FilterSource,
    from: i64,
    to: i64,
    desc: bool,
    limit: Option<usize>,
    after: Option<Position>,
    format: Format,
    /// `transform=` (formats.md section 4), applied to every event answered.
    transform: Option<BoundTransform>,
    now: i64,
}

/// The header that carries the key of a `transform=` that pseudonymises (a header, not the
/// query string, so that the key stays out of URLs and their logs).
pub const PSEUDONYMIZE_KEY_HEADER: &str = "x-trailsift-pseudonymize-key";

/// The query's `transform=`, compiled and bound to the request's key.
fn transform(params: &HashMap<String, String>, req: &Request) -> ApiResult<Option<BoundTransform>> {
    let Some(text) = params.get("transform").filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
    let key = req.headers().get(PSEUDONYMIZE_KEY_HEADER).ok().flatten();
    let bound = Transform::from_json(text).and_then(|t| t.bind(key.as_deref().map(str::as_bytes)));
    Ok(Some(bound?))
}

pub(crate) fn params(req: &Request) -> ApiResult<HashMap<String, String>> {
    let url = req
        .url()
        .map_err(|_| ApiError::bad_request(codes::BAD_REQUEST, "bad URL"))?;
    let mut params = HashMap::new();
    for (name, value) in url.query_pairs().into_owned() {
        if params.contains_key(&name) {
            return Err(ApiError::bad_request(
                codes::BAD_PARAMETER,
                format!("`{name}` is given more than once"),
            ));
        }
        params.insert(name, value);
    }
    Ok(params)
}

/// Resolves `from`/`to` (with the filter's own time bounds as defaults) and checks the range.
pub(crate) fn resolve_range(
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
                codes::BAD_TIME,
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
        return Err(ApiError::bad_request(
            codes::BAD_RANGE,
            "`from` is after `to`",
        ));
    }
    if to.saturating_sub(from) > MAX_RANGE_MS {
        return Err(ApiError::bad_request(
            codes::RANGE_TOO_LONG,
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

fn decode_cursor(cursor: &str, desc: bool) -> ApiResult<Position> {
    let bad = || {
        ApiError::bad_request(
            codes::BAD_CURSOR,
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

/// Checks a query: its filter is compiled here once, for its time bounds and its errors;
/// the account object compiles it once per page it is sent.
fn build_query(
    req: &Request,
    params: &HashMap<String, String>,
    source: FilterSource,
    fallback_from: Option<&str>,
    fallback_to: Option<&str>,
) -> ApiResult<Query> {
    let now = now_ms();
    let filter = source.compile()?;
    let (from, to) = resolve_range(params, &filter, fallback_from, fallback_to, now)?;
    let desc = match params.get("order").map(String::as_str) {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(other) => {
            return Err(ApiError::bad_request(
                codes::BAD_PARAMETER,
                format!("`order` must be desc or asc (got `{other}`)"),
            ))
        }
    };
    let limit = match params.get("limit") {
        None => None,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Some(n),
            _ => {
                return Err(ApiError::bad_request(
                    codes::BAD_PARAMETER,
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
    let transform = transform(params, req)?;
    Ok(Query {
        filter: source,
        from,
        to,
        desc,
        limit,
        after,
        format,
        transform,
        now,
    })
}

/// The request for the next page of `q`, at most `limit` events after `after`.
fn page_request(q: &Query, after: Option<Position>, limit: usize) -> StoreRequest {
    StoreRequest::Page(PageRequest {
        filter: q.filter.clone(),
        from: q.from,
        to: q.to,
        desc: q.desc,
        limit,
        after,
        now: q.now,
    })
}

pub async fn events_get(req: &Request, env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("read")?;
    let params = params(req)?;
    let q = params.get("q").cloned().unwrap_or_default();
    let query = build_query(req, &params, FilterSource::Query(q), None, None)?;
    run(env, caller, query).await
}

pub async fn events_post(req: &mut Request, env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("read")?;
    let params = params(req)?;
    let bytes = req
        .bytes()
        .await
        .map_err(|e| ApiError::bad_request(codes::BAD_BODY, e.to_string()))?;
    let structured: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            codes::BAD_BODY,
            "the body must be a structured filter (a JSON object; `{}` selects every event)",
        ));
    } else {
        serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::bad_request(codes::BAD_JSON, format!("the body is not valid JSON: {e}"))
                .with_details(json!({"line": e.line(), "column": e.column()}))
        })?
    };
    if !structured.is_object() {
        return Err(ApiError::bad_request(
            codes::BAD_FILTER,
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
        req,
        &params,
        FilterSource::Structured(structured.to_string()),
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
        let page: Page = store::call(
            env,
            &caller.account,
            &page_request(&query, after, limit - found),
        )
        .await?;
        for ev in &page.events {
            let text = match &query.transform {
                None => Cow::Borrowed(ev.get()),
                Some(t) => match t.apply(&stored(ev.get())?) {
                    Some(shaped) => Cow::Owned(shaped.to_string()),
                    None => continue, // sampled out
                },
            };
            if found > 0 {
                out.push(',');
            }
            out.push_str(&text);
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
    after: Option<Position>,
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
        writer: Writer::new(
            query.format,
            WriteOptions {
                transform: query.transform.clone(),
                ..WriteOptions::default()
            },
            Vec::new(),
        ),
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

/// A stored event, read back.
fn stored(text: &str) -> ApiResult<Value> {
    serde_json::from_str(text).map_err(|e| ApiError::storage(e.to_string()))
}

async fn next_chunk(state: &mut ExportState) -> ApiResult<Vec<u8>> {
    let want = state.remaining.min(EXPORT_PAGE);
    if want > 0 {
        let page: Page = store::call(
            &state.env,
            &state.account,
            &page_request(&state.query, state.after, want),
        )
        .await?;
        for ev in &page.events {
            let value = stored(ev.get())?;
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
    let request = StoreRequest::Event(EventRequest {
        id: percent_decode(id),
    });
    let event: Box<RawValue> = store::call(env, &caller.account, &request).await?;
    Ok(text_response(
        200,
        Box::<str>::from(event).into(),
        "application/json",
    ))
}

/// The answer of `GET /v1/stats`.
#[derive(Serialize)]
struct StatsAnswer<'a> {
    by: &'a str,
    total: u64,
    counts: Vec<Count>,
    from: i64,
    to: i64,
    /// Open live-tail subscribers of the account.
    subscribers: u64,
}

pub async fn stats(req: &Request, env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("read")?;
    let params = params(req)?;
    let source = FilterSource::Query(params.get("q").cloned().unwrap_or_default());
    let now = now_ms();
    let filter = source.compile()?;
    let (from, to) = resolve_range(&params, &filter, None, None, now)?;
    let by_name = params.get("by").map_or("action", String::as_str);
    let by = StatsBy::from_name(by_name)?;
    let request = StoreRequest::Stats(StatsRequest {
        filter: source,
        by,
        from,
        to,
        now,
    });
    let subscribers = StoreRequest::Tail(TailRequest::Subscribers);
    let (counts, subscribers) = futures_util::future::join(
        store::call::<Counts>(env, &caller.account, &request),
        store::call::<u64>(env, &caller.account, &subscribers),
    )
    .await;
    let Counts { total, counts } = counts?;
    let answer = StatsAnswer {
        by: by_name,
        total,
        counts,
        from,
        to,
        subscribers: subscribers?,
    };
    Ok(json_response(200, &answer))
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
