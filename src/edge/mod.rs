//! The Cloudflare Worker (feature `worker`): routing, auth, ingest, query and export,
//! saved filters, live tail, streaming destinations, and the per-account Durable Object
//! that stores events and delivers them.
//!
//! The Worker validates and routes; the account's Durable Object ([`store::AccountStore`])
//! commits and delivers. Audit logic (validation, filtering, formats) lives in the core modules.

pub mod auth;
pub mod codes;
pub mod config;
mod destinations;
pub mod error;
pub mod filtering;
mod filters;
pub mod guard;
mod ingest;
mod log;
mod query;
pub mod ratelimit;
pub mod store;
mod stream;
mod tokens;

use serde_json::{json, Value};
use worker::{event, Context, Env, Method, Request, Response};

use auth::Caller;
use config::Config;
use error::{json_response, text_response, ApiError, ApiResult};
use store::StoreRequest;

pub use guard::AuthGuard;
pub use store::AccountStore;

const OPENAPI: &str = include_str!("openapi.json");

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let slow_ms = store::trace_slow_ms(&env);
    let started = now_ms();
    let what = (slow_ms > 0).then(|| format!("{} {}", req.method().as_ref(), req.path()));
    let resp = match route(req, &env).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    };
    let took = now_ms() - started;
    if let Some(what) = what.filter(|_| took >= slow_ms) {
        worker::console_log!(
            "trace: slow request: {what} {} in {took} ms (started at {started})",
            resp.status_code()
        );
    }
    Ok(resp)
}

async fn route(mut req: Request, env: &Env) -> ApiResult<Response> {
    let path = req.path();
    let method = req.method();
    let segments: Vec<&str> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .collect();
    // workers-rs reads a method it does not know (`QUERY`) as GET: refuse it instead.
    let raw = req.inner().method();
    if !raw.eq_ignore_ascii_case(method.as_ref()) {
        return Err(match allowed(&segments) {
            Some(allow) => ApiError::method_not_allowed(&raw, &path, allow),
            None => ApiError::not_found("endpoint"),
        });
    }
    match (method.clone(), segments.as_slice()) {
        (Method::Get, ["v1", "health"]) => Ok(json_response(
            200,
            &json!({"ok": true, "version": env!("CARGO_PKG_VERSION"), "wasmMemoryBytes": wasm_memory_bytes()}),
        )),
        (Method::Get, ["v1", "openapi.json"]) => {
            Ok(text_response(200, OPENAPI.to_string(), "application/json"))
        }
        // Authenticated by a bearer token or a ticket (browsers cannot set the header).
        (Method::Get, ["v1", "stream"]) => {
            stream::subscribe(req, env, &Config::from_env(env)).await
        }
        (Method::Get, ["v1", "log", "keys"]) => log::keys(&Config::from_env(env)),
        (_, ["v1", ..]) => {
            let config = Config::from_env(env);
            let caller = auth::identify(&req, env, &config).await?;
            admit(env, &config, &caller).await?;
            let segments: Vec<String> = segments.iter().map(|s| s.to_string()).collect();
            let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
            match (method, segs.as_slice()) {
                (Method::Post, ["v1", "events"]) => {
                    ingest::handle(&mut req, env, &config, &caller).await
                }
                (Method::Get, ["v1", "events"]) => query::events_get(&req, env, &caller).await,
                (Method::Post, ["v1", "events", "query"]) => {
                    query::events_post(&mut req, env, &caller).await
                }
                (Method::Get, ["v1", "events", id]) => query::event_one(env, &caller, id).await,
                (Method::Get, ["v1", "stats"]) => query::stats(&req, env, &caller).await,
                (Method::Get, ["v1", "log", "checkpoint"]) => log::checkpoint(env, &caller).await,
                (Method::Get, ["v1", "log", "checkpoints"]) => {
                    log::checkpoints(&req, env, &caller).await
                }
                (Method::Get, ["v1", "log", "proof", "inclusion"]) => {
                    log::inclusion(&req, env, &caller).await
                }
                (Method::Get, ["v1", "log", "proof", "consistency"]) => {
                    log::consistency(&req, env, &caller).await
                }
                (Method::Get, ["v1", "evidence"]) => log::evidence(&req, env, &caller).await,
                (Method::Get, ["v1", "filters"]) => filters::list(env, &caller).await,
                (Method::Post, ["v1", "filters"]) => filters::create(&mut req, env, &caller).await,
                (Method::Get, ["v1", "filters", id]) => filters::get(env, &caller, id).await,
                (Method::Put, ["v1", "filters", id]) => {
                    filters::update(&mut req, env, &caller, id).await
                }
                (Method::Delete, ["v1", "filters", id]) => filters::delete(env, &caller, id).await,
                (Method::Post, ["v1", "stream", "tickets"]) => stream::ticket(env, &caller).await,
                (Method::Get, ["v1", "destinations"]) => destinations::list(env, &caller).await,
                (Method::Post, ["v1", "destinations"]) => {
                    destinations::create(&mut req, env, &config, &caller).await
                }
                (Method::Get, ["v1", "destinations", id]) => {
                    destinations::get(env, &caller, id).await
                }
                (Method::Patch, ["v1", "destinations", id]) => {
                    destinations::update(&mut req, env, &config, &caller, id).await
                }
                (Method::Delete, ["v1", "destinations", id]) => {
                    destinations::delete(env, &caller, id).await
                }
                (Method::Post, ["v1", "destinations", id, "test"]) => {
                    destinations::test(env, &caller, id).await
                }
                (Method::Post, ["v1", "destinations", id, "flush"]) => {
                    destinations::flush(env, &caller, id).await
                }
                (Method::Get, ["v1", "destinations", id, "status"]) => {
                    destinations::status(env, &caller, id).await
                }
                (Method::Post, ["v1", "destinations", id, "replay"]) => {
                    destinations::replay(&mut req, env, &caller, id).await
                }
                (Method::Delete, ["v1", "destinations", id, "dead-letters", batch]) => {
                    destinations::discard(env, &caller, id, batch).await
                }
                (Method::Get, ["v1", "tokens"]) => tokens::list(env, &caller).await,
                (Method::Post, ["v1", "tokens"]) => tokens::create(&mut req, env, &caller).await,
                (Method::Delete, ["v1", "tokens", id]) => tokens::revoke(env, &caller, id).await,
                (method, segs) => Err(match allowed(segs) {
                    Some(allow) => ApiError::method_not_allowed(method.as_ref(), &path, allow),
                    None => ApiError::not_found("endpoint"),
                }),
            }
        }
        _ => Err(ApiError::not_found("page")),
    }
}

/// The methods a `/v1` path allows, for `405` answers and their `Allow` header; `None` for
/// a path that is not an endpoint.
fn allowed(segs: &[&str]) -> Option<&'static str> {
    Some(match segs {
        ["v1", "health" | "openapi.json"] => "GET",
        ["v1", "events"] => "GET, POST",
        ["v1", "events", "query"] => "POST",
        ["v1", "events", _] => "GET",
        ["v1", "stats"] => "GET",
        ["v1", "stream"] => "GET",
        ["v1", "stream", "tickets"] => "POST",
        ["v1", "log", "keys" | "checkpoint" | "checkpoints"] => "GET",
        ["v1", "log", "proof", "inclusion" | "consistency"] => "GET",
        ["v1", "evidence"] => "GET",
        ["v1", "filters"] => "GET, POST",
        ["v1", "filters", _] => "GET, PUT, DELETE",
        ["v1", "destinations"] => "GET, POST",
        ["v1", "destinations", _] => "GET, PATCH, DELETE",
        ["v1", "destinations", _, "test" | "flush" | "replay"] => "POST",
        ["v1", "destinations", _, "status"] => "GET",
        ["v1", "destinations", _, "dead-letters", _] => "DELETE",
        ["v1", "tokens"] => "GET, POST",
        ["v1", "tokens", _] => "DELETE",
        _ => return None,
    })
}

/// Counts one request against the caller's account limit, in the account's store (which
/// sees every request of the account). Over the limit: `429 rate_limited`, before any work.
pub(crate) async fn admit(env: &Env, config: &Config, caller: &Caller) -> ApiResult<()> {
    if config.rate_limit_per_minute == 0 || caller.admitted {
        return Ok(());
    }
    store::call(env, &caller.account, &StoreRequest::Admit).await
}

/// A request body that must be JSON.
pub(crate) async fn body_json(req: &mut Request) -> ApiResult<Value> {
    let bytes = req
        .bytes()
        .await
        .map_err(|e| ApiError::bad_request(codes::BAD_BODY, e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(codes::BAD_JSON, format!("the body is not valid JSON: {e}"))
            .with_details(json!({"line": e.line(), "column": e.column()}))
    })
}

/// The size of the WebAssembly memory of the isolate that answers, which never shrinks
/// (for soaks: whether the Worker's own memory grows).
fn wasm_memory_bytes() -> u64 {
    #[cfg(target_arch = "wasm32")]
    let pages = core::arch::wasm32::memory_size(0) as u64;
    #[cfg(not(target_arch = "wasm32"))]
    let pages = 0;
    pages * 65_536
}

/// Epoch milliseconds from the host clock.
pub(crate) fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}
