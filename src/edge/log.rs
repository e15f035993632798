//! The verifiable log's endpoints (integrity.md): `GET /v1/log/keys`, `/v1/log/checkpoint`,
//! `/v1/log/checkpoints`, `/v1/log/proof/inclusion`, `/v1/log/proof/consistency` and
//! `GET /v1/evidence`. The Worker reads parameters; the account store proves and signs.

use std::collections::HashMap;

use serde_json::json;
use serde_json::value::RawValue;
use worker::{Env, Request, Response};

use super::auth::Caller;
use super::codes;
use super::config::Config;
use super::error::{bytes_response, json_response, text_response, ApiError, ApiResult};
use super::filtering::FilterSource;
use super::now_ms;
use super::query::{params, resolve_range};
use super::store::log::{LogRequest, Signed, MAX_EVIDENCE};
use super::store::{self, StoreRequest};

/// `GET /v1/log/keys` (no token): the verifier keys of the log's checkpoints.
pub fn keys(config: &Config) -> ApiResult<Response> {
    let keys: Vec<String> = config
        .log_signing_key()
        .map(|k| vec![k.verifier().to_string()])
        .unwrap_or_default();
    Ok(json_response(200, &json!({ "keys": keys })))
}

/// `GET /v1/log/checkpoint`: the latest signed checkpoint, as text.
pub async fn checkpoint(env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("read")?;
    let request = LogRequest::Checkpoint {
        account: caller.account.clone(),
        now: now_ms(),
    };
    let signed: Signed = ask(env, caller, request).await?;
    Ok(text_response(200, signed.note, "text/plain; charset=utf-8"))
}

/// `GET /v1/log/checkpoints?from=&to=`: the signed checkpoints with tree sizes in range.
pub async fn checkpoints(req: &Request, env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("read")?;
    let params = params(req)?;
    let from = number(&params, "from")?.unwrap_or(0);
    let to = number(&params, "to")?.unwrap_or(u64::MAX >> 1);
    if from > to {
        return Err(ApiError::bad_request(
            codes::BAD_RANGE,
            "`from` is larger than `to`",
        ));
    }
    let list: Vec<Signed> = ask(env, caller, LogRequest::Checkpoints { from, to }).await?;
    let checkpoints: Vec<_> = list
        .into_iter()
        .map(|s| json!({"treeSize": s.size, "signedAt": s.time, "checkpoint": s.note}))
        .collect();
    Ok(json_response(200, &json!({ "checkpoints": checkpoints })))
}

/// `GET /v1/log/proof/inclusion?seq=&treeSize=`.
pub async fn inclusion(req: &Request, env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("read")?;
    let params = params(req)?;
    let seq = required(&params, "seq")?;
    let size = required(&params, "treeSize")?;
    raw(ask(env, caller, LogRequest::Inclusion { seq, size }).await?)
}

/// `GET /v1/log/proof/consistency?first=&second=`.
pub async fn consistency(req: &Request, env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("read")?;
    let params = params(req)?;
    let first = required(&params, "first")?;
    let second = required(&params, "second")?;
    raw(ask(env, caller, LogRequest::Consistency { first, second }).await?)
}

/// `GET /v1/evidence?q=&from=&to=&limit=`: the matching events proved against one signed
/// checkpoint.
pub async fn evidence(req: &Request, env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("read")?;
    let params = params(req)?;
    let source = FilterSource::Query(params.get("q").cloned().unwrap_or_default());
    let now = now_ms();
    let (from, to) = resolve_range(&params, &source.compile()?, None, None, now)?;
    let limit = match number(&params, "limit")? {
        None => MAX_EVIDENCE,
        Some(n) if (1..=MAX_EVIDENCE as u64).contains(&n) => n as usize,
        Some(n) => {
            return Err(ApiError::bad_request(
                codes::BAD_PARAMETER,
                format!("`limit` must be from 1 to {MAX_EVIDENCE} (got {n})"),
            ))
        }
    };
    let request = LogRequest::Evidence {
        account: caller.account.clone(),
        filter: source,
        from,
        to,
        limit,
        now,
    };
    raw(ask(env, caller, request).await?)
}

async fn ask<R: serde::de::DeserializeOwned>(
    env: &Env,
    caller: &Caller,
    request: LogRequest,
) -> ApiResult<R> {
    store::call(env, &caller.account, &StoreRequest::Log(request)).await
}

/// The store's JSON answer, passed on as it is.
fn raw(body: Box<RawValue>) -> ApiResult<Response> {
    Ok(bytes_response(
        200,
        String::from(Box::<str>::from(body)).into_bytes(),
        "application/json",
    ))
}

/// A non-negative integer parameter, if given.
fn number(params: &HashMap<String, String>, name: &str) -> ApiResult<Option<u64>> {
    match params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            ApiError::bad_request(
                codes::BAD_PARAMETER,
                format!("`{name}` must be a non-negative integer (got `{v}`)"),
            )
        }),
    }
}

fn required(params: &HashMap<String, String>, name: &str) -> ApiResult<u64> {
    number(params, name)?
        .ok_or_else(|| ApiError::bad_request(codes::BAD_PARAMETER, format!("`{name}` is required")))
}
