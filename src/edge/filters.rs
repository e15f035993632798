//! Saved filters: `GET|POST /v1/filters`, `GET|PUT|DELETE /v1/filters/{id}`. The Worker
//! checks a definition (its fields and that its filter compiles); the account store applies
//! visibility (private to the owner, or the whole account) and keeps them.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use worker::{Env, Request, Response};

use super::auth::Caller;
use super::body_json;
use super::codes;
use super::error::{json_response, ApiError, ApiResult};
use super::filtering::FilterSource;
use super::query::percent_decode;
use super::store::filters::{
    Definition, Deleted, FilterList, FilterOp, FilterRequest, Patch, Requester, SavedFilter,
    Visibility,
};
use super::store::{self, StoreRequest};

async fn call<R: DeserializeOwned>(env: &Env, caller: &Caller, op: FilterOp) -> ApiResult<R> {
    let request = StoreRequest::Filters(FilterRequest {
        caller: Requester {
            owner: caller.owner.clone(),
            admin: caller.has("admin"),
        },
        op,
    });
    store::call(env, &caller.account, &request).await
}

pub async fn list(env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("read")?;
    let list: FilterList = call(env, caller, FilterOp::List).await?;
    Ok(json_response(200, &list))
}

pub async fn create(req: &mut Request, env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("read")?;
    let (id, definition) = new_filter(&body_json(req).await?)?;
    let saved: SavedFilter = call(env, caller, FilterOp::Create { id, definition }).await?;
    Ok(json_response(201, &saved))
}

pub async fn get(env: &Env, caller: &Caller, id: &str) -> ApiResult<Response> {
    caller.require("read")?;
    let id = percent_decode(id);
    let saved: SavedFilter = call(env, caller, FilterOp::Get { id }).await?;
    Ok(json_response(200, &saved))
}

pub async fn update(
    req: &mut Request,
    env: &Env,
    caller: &Caller,
    id: &str,
) -> ApiResult<Response> {
    caller.require("read")?;
    let body = body_json(req).await?;
    let id = percent_decode(id);
    let patch = match patch(&body, &id) {
        Ok(patch) => patch,
        Err(e) => {
            // A filter the caller may not change answers 404 or 403 whatever the body.
            call::<()>(env, caller, FilterOp::MayChange { id }).await?;
            return Err(e);
        }
    };
    let saved: SavedFilter = call(env, caller, FilterOp::Update { id, patch }).await?;
    Ok(json_response(200, &saved))
}

pub async fn delete(env: &Env, caller: &Caller, id: &str) -> ApiResult<Response> {
    caller.require("read")?;
    let id = percent_decode(id);
    let deleted: Deleted = call(env, caller, FilterOp::Delete { id }).await?;
    Ok(json_response(200, &deleted))
}

fn bad(message: &str) -> ApiError {
    ApiError::bad_request(codes::BAD_REQUEST, message)
}

const NAME_ERROR: &str = "`name` must be a non-empty string";
const FILTER_ERROR: &str = "a saved filter needs `query` or `structured`";
const ID_ERROR: &str = "`id` must be 1-64 characters of letters, digits, `-`, `_` or `.`";

/// A new filter from a `POST` body: its id if it gives one, and its definition.
fn new_filter(body: &Value) -> ApiResult<(Option<String>, Definition)> {
    let obj = object(body)?;
    let name = name(obj)?.ok_or_else(|| bad(NAME_ERROR))?;
    let visibility = visibility(obj)?.unwrap_or(Visibility::Private);
    let filter = filter(obj)?.ok_or_else(|| bad(FILTER_ERROR))?;
    let id = match obj.get("id") {
        None => None,
        Some(Value::String(s)) if valid_id(s) => Some(s.clone()),
        Some(_) => return Err(bad(ID_ERROR)),
    };
    let definition = Definition {
        name,
        visibility,
        filter,
    };
    Ok((id, definition))
}

/// The changes of a `PUT` body to filter `id`; what it leaves out stays as it is.
fn patch(body: &Value, id: &str) -> ApiResult<Patch> {
    if let Some(given) = body.get("id") {
        if given.as_str() != Some(id) {
            return Err(bad("`id` cannot be changed"));
        }
    }
    let obj = object(body)?;
    Ok(Patch {
        name: name(obj)?,
        visibility: visibility(obj)?,
        filter: filter(obj)?,
    })
}

fn object(body: &Value) -> ApiResult<&Map<String, Value>> {
    body.as_object()
        .ok_or_else(|| bad("a saved filter must be a JSON object"))
}

fn name(obj: &Map<String, Value>) -> ApiResult<Option<String>> {
    match obj.get("name") {
        None => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(bad(NAME_ERROR)),
    }
}

fn visibility(obj: &Map<String, Value>) -> ApiResult<Option<Visibility>> {
    match obj.get("visibility") {
        None => Ok(None),
        Some(v) => v
            .as_str()
            .and_then(Visibility::from_name)
            .map(Some)
            .ok_or_else(|| bad("`visibility` must be \"private\" or \"account\"")),
    }
}

/// The filter of a definition, `query` or `structured` (a `null` structured beside a
/// query counts as absent), checked to compile.
fn filter(obj: &Map<String, Value>) -> ApiResult<Option<FilterSource>> {
    let source = match (obj.get("query"), obj.get("structured")) {
        (Some(_), Some(s)) if !s.is_null() => {
            return Err(bad("give either `query` or `structured`, not both"))
        }
        (Some(Value::String(q)), _) => FilterSource::Query(q.clone()),
        (Some(_), _) => return Err(bad("`query` must be a string")),
        (None, Some(s)) if s.is_object() => FilterSource::Structured(s.to_string()),
        (None, Some(_)) => return Err(bad("`structured` must be an object")),
        (None, None) => return Ok(None),
    };
    source.compile()?;
    Ok(Some(source))
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(r: ApiResult<impl std::fmt::Debug>) -> String {
        let e = r.unwrap_err();
        format!("{} {}: {}", e.status, e.code, e.message)
    }

    #[test]
    fn a_new_filter_needs_a_name_and_a_filter_that_compiles() {
        let (id, def) = new_filter(&json!({"name": "n", "query": "action:create"})).unwrap();
        assert_eq!(id, None);
        assert_eq!(
            def,
            Definition {
                name: "n".into(),
                visibility: Visibility::Private,
                filter: FilterSource::Query("action:create".into())
            }
        );
        let (id, def) = new_filter(&json!({"id": "shared-1", "name": "n",
            "structured": {"actions": ["CREATE"]}, "visibility": "account"}))
        .unwrap();
        assert_eq!(id.as_deref(), Some("shared-1"));
        assert_eq!(def.visibility, Visibility::Account);
        assert_eq!(
            def.filter,
            FilterSource::Structured(r#"{"actions":["CREATE"]}"#.into())
        );
        assert_eq!(
            message(new_filter(&json!({"query": ""}))),
            format!("400 bad_request: {NAME_ERROR}")
        );
        assert_eq!(
            message(new_filter(&json!({"name": "n"}))),
            format!("400 bad_request: {FILTER_ERROR}")
        );
        let e = new_filter(&json!({"name": "n", "query": "action =="})).unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (400, codes::BAD_FILTER));
        assert_eq!(
            message(new_filter(&json!({"id": "../x", "name": "n", "query": ""}))),
            format!("400 bad_request: {ID_ERROR}")
        );
    }

    #[test]
    fn definition_errors_come_in_the_order_of_the_fields_checked() {
        // Several faults: the first field in the order name, visibility, filter, id wins.
        let all_bad = json!({"id": 5, "name": "", "visibility": "public", "query": 1});
        assert!(message(new_filter(&all_bad)).ends_with(NAME_ERROR));
        let no_name = json!({"id": 5, "visibility": "public", "query": 1});
        assert!(message(new_filter(&no_name)).ends_with(NAME_ERROR));
        let named = json!({"id": 5, "name": "n", "visibility": "public", "query": 1});
        assert!(message(new_filter(&named)).contains("`visibility`"));
        assert!(
            message(new_filter(&json!({"id": 5, "name": "n", "query": 1}))).contains("`query`")
        );
        assert!(message(new_filter(&json!([1]))).contains("JSON object"));
    }

    #[test]
    fn a_patch_changes_only_what_it_gives() {
        assert_eq!(patch(&json!({}), "f").unwrap(), Patch::default());
        assert_eq!(
            patch(&json!({"id": "f", "name": "renamed"}), "f").unwrap(),
            Patch {
                name: Some("renamed".into()),
                ..Patch::default()
            }
        );
        // A null structured beside a query is no structured filter; alone it is an error.
        assert_eq!(
            patch(&json!({"query": "", "structured": null}), "f")
                .unwrap()
                .filter,
            Some(FilterSource::Query(String::new()))
        );
        assert!(message(patch(&json!({"structured": null}), "f")).contains("`structured`"));
        assert!(message(patch(&json!({"query": "", "structured": {}}), "f")).contains("not both"));
        assert!(message(patch(&json!({"id": "g"}), "f")).contains("cannot be changed"));
        assert!(message(patch(&json!({"name": null}), "f")).ends_with(NAME_ERROR));
        let bad_form = patch(&json!({"structured": {"colours": ["red"]}}), "f").unwrap_err();
        assert_eq!(bad_form.code, codes::BAD_FILTER);
    }
}
