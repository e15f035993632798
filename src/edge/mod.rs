//! The Cloudflare Worker (feature `worker`): routing, auth, ingest, query and export,
//! saved filters, and the per-account Durable Object that stores events.
//!
//! The Worker validates and routes; the account's Durable Object ([`store::AccountStore`])
//! commits. Audit logic (validation, filtering, formats) lives in the core modules.

pub mod auth;
pub mod error;
pub mod filtering;
mod filters;
mod ingest;
mod query;
pub mod ratelimit;
pub mod store;

use serde_json::{json, Value};
use wasm_bindgen::JsValue;
use worker::{event, Context, Env, Method, Request, RequestInit, Response};

use auth::Caller;
use error::{json_response, text_response, ApiError, ApiResult};

pub use store::AccountStore;

/// The binding name of the account Durable Object namespace in `wrangler.toml`.
pub const STORE_BINDING: &str = "ACCOUNT_STORE";
const OPENAPI: &str = include_str!("openapi.json");

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    Ok(match route(req, &env).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    })
}

async fn route(mut req: Request, env: &Env) -> ApiResult<Response> {
    let path = req.path();
    let method = req.method();
    let segments: Vec<&str> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .collect();
    match (method.clone(), segments.as_slice()) {
        (Method::Get, ["v1", "health"]) => Ok(json_response(
            200,
            &json!({"ok": true, "version": env!("CARGO_PKG_VERSION")}),
        )),
        (Method::Get, ["v1", "openapi.json"]) => {
            Ok(text_response(200, OPENAPI.to_string(), "application/json"))
        }
        (_, ["v1", ..]) => {
            let caller = authenticate(&req, env)?;
            admit(env, &caller).await?;
            let segments: Vec<String> = segments.iter().map(|s| s.to_string()).collect();
            let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
            match (method, segs.as_slice()) {
                (Method::Post, ["v1", "events"]) => ingest::handle(&mut req, env, &caller).await,
                (Method::Get, ["v1", "events"]) => query::events_get(&req, env, &caller).await,
                (Method::Post, ["v1", "events", "query"]) => {
                    query::events_post(&mut req, env, &caller).await
                }
                (Method::Get, ["v1", "events", id]) => query::event_one(env, &caller, id).await,
                (Method::Get, ["v1", "stats"]) => query::stats(&req, env, &caller).await,
                (Method::Get, ["v1", "filters"]) => filters::list(env, &caller).await,
                (Method::Post, ["v1", "filters"]) => filters::create(&mut req, env, &caller).await,
                (Method::Get, ["v1", "filters", id]) => filters::get(env, &caller, id).await,
                (Method::Put, ["v1", "filters", id]) => {
                    filters::update(&mut req, env, &caller, id).await
                }
                (Method::Delete, ["v1", "filters", id]) => filters::delete(env, &caller, id).await,
                (_, ["v1", "events"])
                | (_, ["v1", "events", "query"])
                | (_, ["v1", "events", _])
                | (_, ["v1", "stats"])
                | (_, ["v1", "filters"])
                | (_, ["v1", "filters", _]) => Err(ApiError::new(
                    405,
                    "method_not_allowed",
                    format!("{} is not allowed on {path}", req.method()),
                )),
                _ => Err(ApiError::not_found("endpoint")),
            }
        }
        _ => Err(ApiError::not_found("page")),
    }
}

fn authenticate(req: &Request, env: &Env) -> ApiResult<Caller> {
    let config = env
        .secret("TRAILSIFT_TOKENS")
        .map(|s| s.to_string())
        .or_else(|_| env.var("TRAILSIFT_TOKENS").map(|v| v.to_string()))
        .unwrap_or_default();
    let tokens = auth::parse_tokens(&config);
    let header = req.headers().get("authorization").ok().flatten();
    auth::authenticate(&tokens, header.as_deref())
}

/// Counts one request against the caller's account limit, in the account's store (which
/// sees every request of the account). Over the limit: `429 rate_limited`, before any work.
async fn admit(env: &Env, caller: &Caller) -> ApiResult<()> {
    let limit = ratelimit::parse_limit(
        env.var(ratelimit::LIMIT_VAR)
            .ok()
            .map(|v| v.to_string())
            .as_deref(),
    );
    if limit == 0 {
        return Ok(());
    }
    call_store(env, &caller.account, "ratelimit", "")
        .await
        .map(|_| ())
}

/// A numeric configuration variable, or its default.
pub(crate) fn var_usize(env: &Env, name: &str, default: usize) -> usize {
    env.var(name)
        .ok()
        .and_then(|v| v.to_string().trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// Sends one operation to the caller's account store and returns its JSON text.
pub(crate) async fn call_store(
    env: &Env,
    account: &str,
    op: &str,
    body: &str,
) -> ApiResult<String> {
    let namespace = env
        .durable_object(STORE_BINDING)
        .map_err(|e| ApiError::storage(format!("no account store binding: {e}")))?;
    let stub = namespace.get_by_name(account)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(JsValue::from_str(body)));
    let request = Request::new_with_init(&format!("https://store/{op}"), &init)?;
    let mut resp = stub.fetch_with_request(request).await?;
    let status = resp.status_code();
    let text = resp.text().await?;
    if status == 200 {
        Ok(text)
    } else {
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        Err(ApiError::from_body(status, &body))
    }
}

/// `call_store` with a JSON value as the request.
pub(crate) async fn call_store_json(
    env: &Env,
    account: &str,
    op: &str,
    body: &Value,
) -> ApiResult<String> {
    let text = serde_json::to_string(body).unwrap_or_default();
    call_store(env, account, op, &text).await
}
