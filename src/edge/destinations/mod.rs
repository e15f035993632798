//! Streaming destinations: `GET|POST /v1/destinations`, `GET|PATCH|DELETE
//! /v1/destinations/{id}`, and `.../test`, `.../flush`, `.../status`, `.../replay`,
//! `.../dead-letters/{batch}` (`admin` scope). The Worker checks definitions
//! ([`validate`]); the account's Durable Object keeps them and delivers.

pub mod validate;

use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use worker::{Env, Request, Response};

use super::auth::Caller;
use super::config::Config;
use super::error::{json_response, ApiError, ApiResult};
use super::query::percent_decode;
use super::store::destinations::connectors::TestResult;
use super::store::destinations::{
    Deleted, Destination, DestinationList, DestinationRequest, DestinationStatus, Flushed, Replayed,
};
use super::store::{self, StoreRequest};
use super::{body_json, codes};
use validate::Rules;

async fn call<R: DeserializeOwned>(
    env: &Env,
    caller: &Caller,
    op: DestinationRequest,
) -> ApiResult<R> {
    caller.require("admin")?;
    store::call(
        env,
        &caller.account,
        &StoreRequest::Destinations(Box::new(op)),
    )
    .await
}

fn rules(config: &Config) -> Rules {
    Rules {
        allow_http: config.allow_http_destinations,
        log_key: config.log_signing_key().is_ok(),
    }
}

pub async fn list(env: &Env, caller: &Caller) -> ApiResult<Response> {
    let list: DestinationList = call(env, caller, DestinationRequest::List).await?;
    Ok(json_response(200, &list))
}

pub async fn create(
    req: &mut Request,
    env: &Env,
    config: &Config,
    caller: &Caller,
) -> ApiResult<Response> {
    caller.require("admin")?;
    let checked = validate::new_destination(&body_json(req).await?, rules(config))?;
    let op = DestinationRequest::Create {
        id: checked.id,
        definition: checked.definition,
        credentials: checked.credentials.unwrap_or_default(),
        start_after_seq: checked.start_after_seq,
    };
    let made: Destination = call(env, caller, op).await?;
    Ok(json_response(201, &made))
}

pub async fn get(env: &Env, caller: &Caller, id: &str) -> ApiResult<Response> {
    let id = percent_decode(id);
    let found: Destination = call(env, caller, DestinationRequest::Get { id }).await?;
    Ok(json_response(200, &found))
}

pub async fn update(
    req: &mut Request,
    env: &Env,
    config: &Config,
    caller: &Caller,
    id: &str,
) -> ApiResult<Response> {
    caller.require("admin")?;
    let body = body_json(req).await?;
    let id = percent_decode(id);
    let current: Destination =
        call(env, caller, DestinationRequest::Get { id: id.clone() }).await?;
    let checked = validate::patched(&current, &body, rules(config))?;
    let op = DestinationRequest::Update {
        id,
        base_updated: current.updated,
        definition: checked.definition,
        credentials: checked.credentials,
        status: Some(checked.status),
    };
    let changed: Destination = call(env, caller, op).await?;
    Ok(json_response(200, &changed))
}

pub async fn delete(env: &Env, caller: &Caller, id: &str) -> ApiResult<Response> {
    let id = percent_decode(id);
    let deleted: Deleted = call(env, caller, DestinationRequest::Delete { id }).await?;
    Ok(json_response(200, &deleted))
}

pub async fn status(env: &Env, caller: &Caller, id: &str) -> ApiResult<Response> {
    let id = percent_decode(id);
    let status: DestinationStatus = call(env, caller, DestinationRequest::Status { id }).await?;
    Ok(json_response(200, &status))
}

pub async fn test(env: &Env, caller: &Caller, id: &str) -> ApiResult<Response> {
    let id = percent_decode(id);
    let result: TestResult = call(env, caller, DestinationRequest::Test { id }).await?;
    Ok(json_response(200, &result))
}

pub async fn flush(env: &Env, caller: &Caller, id: &str) -> ApiResult<Response> {
    let id = percent_decode(id);
    let flushed: Flushed = call(env, caller, DestinationRequest::Flush { id }).await?;
    Ok(json_response(200, &flushed))
}

pub async fn replay(
    req: &mut Request,
    env: &Env,
    caller: &Caller,
    id: &str,
) -> ApiResult<Response> {
    caller.require("admin")?;
    let bytes = req
        .bytes()
        .await
        .map_err(|e| ApiError::bad_request(codes::BAD_BODY, e.to_string()))?;
    let batches = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let body: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::bad_request(codes::BAD_JSON, format!("the body is not valid JSON: {e}"))
        })?;
        match body.get("batches") {
            None | Some(Value::Null) => None,
            Some(list) => Some(serde_json::from_value::<Vec<String>>(list.clone()).map_err(
                |_| {
                    ApiError::bad_request(
                        codes::BAD_REQUEST,
                        "`batches` must be a list of batch names",
                    )
                    .with_details(json!({"field": "batches"}))
                },
            )?),
        }
    };
    let id = percent_decode(id);
    let replayed: Replayed = call(env, caller, DestinationRequest::Replay { id, batches }).await?;
    Ok(json_response(200, &replayed))
}

pub async fn discard(env: &Env, caller: &Caller, id: &str, batch: &str) -> ApiResult<Response> {
    let op = DestinationRequest::Discard {
        id: percent_decode(id),
        batch: percent_decode(batch),
    };
    let deleted: Deleted = call(env, caller, op).await?;
    Ok(json_response(200, &deleted))
}
