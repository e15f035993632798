//! Saved filters: `GET|POST /v1/filters`, `GET|PUT|DELETE /v1/filters/{id}`.
//! The account store applies visibility (private to the owner, or the whole account).

use serde_json::{json, Value};
use worker::{Env, Request, Response};

use super::auth::Caller;
use super::error::{text_response, ApiError, ApiResult};
use super::query::percent_decode;

fn who(caller: &Caller) -> Value {
    json!({"owner": caller.owner, "admin": caller.has("admin")})
}

async fn body_json(req: &mut Request) -> ApiResult<Value> {
    let bytes = req
        .bytes()
        .await
        .map_err(|e| ApiError::bad_request("bad_body", e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request("bad_json", format!("the body is not valid JSON: {e}"))
            .with_details(json!({"line": e.line(), "column": e.column()}))
    })
}

async fn call(
    env: &Env,
    caller: &Caller,
    op: &str,
    body: Value,
    status: u16,
) -> ApiResult<Response> {
    let text = super::call_store_json(env, &caller.account, op, &body).await?;
    Ok(text_response(status, text, "application/json"))
}

pub async fn list(env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("read")?;
    call(env, caller, "filters/list", who(caller), 200).await
}

pub async fn create(req: &mut Request, env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("read")?;
    let mut body = who(caller);
    let def = body_json(req).await?;
    if let Some(obj) = body.as_object_mut() {
        obj.insert("filter".into(), def);
    }
    call(env, caller, "filters/create", body, 201).await
}

pub async fn get(env: &Env, caller: &Caller, id: &str) -> ApiResult<Response> {
    caller.require("read")?;
    let mut body = who(caller);
    if let Some(obj) = body.as_object_mut() {
        obj.insert("id".into(), json!(percent_decode(id)));
    }
    call(env, caller, "filters/get", body, 200).await
}

pub async fn update(
    req: &mut Request,
    env: &Env,
    caller: &Caller,
    id: &str,
) -> ApiResult<Response> {
    caller.require("read")?;
    let def = body_json(req).await?;
    let mut body = who(caller);
    if let Some(obj) = body.as_object_mut() {
        obj.insert("id".into(), json!(percent_decode(id)));
        obj.insert("filter".into(), def);
    }
    call(env, caller, "filters/update", body, 200).await
}

pub async fn delete(env: &Env, caller: &Caller, id: &str) -> ApiResult<Response> {
    caller.require("read")?;
    let mut body = who(caller);
    if let Some(obj) = body.as_object_mut() {
        obj.insert("id".into(), json!(percent_decode(id)));
    }
    call(env, caller, "filters/delete", body, 200).await
}
