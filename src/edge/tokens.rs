//! API tokens managed per account: `POST|GET /v1/tokens`, `DELETE /v1/tokens/{id}` (all
//! `admin`), and what a managed token looks like.
//!
//! A managed token is `ts_<account>_<secret>`: the account in clear, then 32 random bytes in
//! unpadded base64url (43 characters). The account is no secret (every event names it), and
//! carrying it lets the Worker ask the one object that keeps the token's digest
//! (`store::tokens`), with no Worker-wide index to keep in step with revocations. A token
//! can only be made with scopes its maker holds, so no token widens its maker's rights.

use base64::Engine;
use serde_json::{json, Map, Value};
use worker::{Env, Request, Response};

use super::auth::{token_digest, Caller};
use super::body_json;
use super::codes;
use super::error::{json_response, ApiError, ApiResult};
use super::now_ms;
use super::query::percent_decode;
use super::store::destinations::crypto::random_bytes;
use super::store::tokens::{NewToken, Revoked, TokenInfo, TokenList, TokenRequest};
use super::store::{self, StoreRequest};
use crate::time::{arg_help, parse_time_arg};

/// Every scope a token may have.
pub const SCOPES: &[&str] = &["ingest", "read", "admin"];
/// Characters of a token's secret: 32 bytes in unpadded base64url.
const SECRET_CHARS: usize = 43;
const PREFIX: &str = "ts_";
/// The longest account id a token can carry, and of a name or an owner.
const MAX_TEXT: usize = 128;

async fn call<R: serde::de::DeserializeOwned>(
    env: &Env,
    caller: &Caller,
    request: TokenRequest,
) -> ApiResult<R> {
    store::call(env, &caller.account, &StoreRequest::Tokens(request)).await
}

/// `POST /v1/tokens`: answers `201` with the token's listing and, this once, its secret.
pub async fn create(req: &mut Request, env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("admin")?;
    let now = now_ms();
    let spec = definition(&body_json(req).await?, caller, now)?;
    if !carriable(&caller.account) {
        return Err(ApiError::bad_request(
            codes::BAD_TOKEN,
            "this account's id cannot be carried in a token (1-128 letters, digits, `.`, `-`, `_`)",
        ));
    }
    let mut secret = [0u8; 32];
    random_bytes(&mut secret)?;
    let token = format!(
        "{PREFIX}{}_{}",
        caller.account,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    let mut id = [0u8; 8];
    random_bytes(&mut id)?;
    let new = NewToken {
        id: format!(
            "tok_{}",
            id.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
        digest: token_digest(&token),
        name: spec.name,
        owner: spec.owner,
        scopes: spec.scopes,
        created: now,
        expires: spec.expires,
    };
    let info: TokenInfo = call(env, caller, TokenRequest::Create(new)).await?;
    let mut body = serde_json::to_value(&info).unwrap_or(Value::Null);
    if let Some(obj) = body.as_object_mut() {
        obj.insert("token".into(), Value::String(token));
    }
    Ok(json_response(201, &body))
}

/// `GET /v1/tokens`: the account's managed tokens, without secrets.
pub async fn list(env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("admin")?;
    let list: TokenList = call(env, caller, TokenRequest::List).await?;
    Ok(json_response(200, &list))
}

/// `DELETE /v1/tokens/{id}`: the token stops working with the next request.
pub async fn revoke(env: &Env, caller: &Caller, id: &str) -> ApiResult<Response> {
    caller.require("admin")?;
    let id = percent_decode(id);
    let revoked: Revoked = call(env, caller, TokenRequest::Revoke { id }).await?;
    Ok(json_response(200, &revoked))
}

/// The account a presented token names, when it has the form of a managed token.
pub fn account_of(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(PREFIX)?;
    let split = rest.len().checked_sub(SECRET_CHARS + 1)?;
    let (account, secret) = (rest.get(..split)?, rest.get(split..)?);
    let secret = secret.strip_prefix('_')?;
    let base64url = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    (carriable(account) && secret.bytes().all(base64url)).then_some(account)
}

fn carriable(account: &str) -> bool {
    (1..=MAX_TEXT).contains(&account.len())
        && account
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
}

/// A token definition, checked.
#[derive(Debug, PartialEq)]
struct Spec {
    name: String,
    owner: String,
    scopes: Vec<String>,
    expires: Option<i64>,
}

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(codes::BAD_TOKEN, message).with_details(json!({"field": field}))
}

/// Reads a `POST /v1/tokens` body: `name`, `scopes`, optional `owner` (the maker's by
/// default) and `expiresAt` (any time form, in the future).
fn definition(body: &Value, caller: &Caller, now: i64) -> ApiResult<Spec> {
    let obj: &Map<String, Value> = body
        .as_object()
        .ok_or_else(|| bad("", "the body must be a JSON object"))?;
    let text = |field: &str, value: Option<&Value>| -> ApiResult<Option<String>> {
        match value {
            None => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= MAX_TEXT => {
                Ok(Some(s.trim().to_string()))
            }
            Some(_) => Err(bad(
                field,
                format!("`{field}` must be a string of 1-{MAX_TEXT} characters"),
            )),
        }
    };
    let name = text("name", obj.get("name"))?.ok_or_else(|| bad("name", "`name` is required"))?;
    let owner = text("owner", obj.get("owner"))?.unwrap_or_else(|| caller.owner.clone());
    let scopes = scopes(obj.get("scopes"))?;
    if let Some(missing) = scopes.iter().find(|s| !caller.has(s)) {
        return Err(ApiError::new(
            403,
            codes::FORBIDDEN,
            format!("a token cannot grant the `{missing}` scope its maker lacks"),
        ));
    }
    let expires = match obj.get("expiresAt") {
        None | Some(Value::Null) => None,
        Some(v) => Some(expiry(v, now)?),
    };
    Ok(Spec {
        name,
        owner,
        scopes,
        expires,
    })
}

fn scopes(value: Option<&Value>) -> ApiResult<Vec<String>> {
    let message = "`scopes` must be a non-empty array of `ingest`, `read`, `admin`";
    let list = value
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| bad("scopes", message))?;
    let mut out: Vec<String> = Vec::new();
    for scope in list {
        let scope = scope
            .as_str()
            .filter(|s| SCOPES.contains(s))
            .ok_or_else(|| bad("scopes", message))?;
        if !out.iter().any(|s| s == scope) {
            out.push(scope.to_string());
        }
    }
    Ok(out)
}

/// `expiresAt`: epoch milliseconds, or any time form of the filter language, after `now`.
fn expiry(value: &Value, now: i64) -> ApiResult<i64> {
    let at = match value {
        Value::Number(n) => n.as_i64().ok_or_else(|| {
            bad(
                "expiresAt",
                "`expiresAt` must be whole epoch milliseconds or a time",
            )
        })?,
        Value::String(s) => {
            parse_time_arg(s, now, false).map_err(|_| bad("expiresAt", arg_help(s)))?
        }
        _ => return Err(bad("expiresAt", "`expiresAt` must be a time")),
    };
    if at <= now {
        return Err(bad("expiresAt", "`expiresAt` must be in the future"));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin() -> Caller {
        Caller {
            account: "acct_a".into(),
            scopes: vec!["read".into(), "admin".into()],
            owner: "alice".into(),
            admitted: false,
        }
    }

    #[test]
    fn a_token_names_its_account_and_nothing_else_passes() {
        let secret = "A".repeat(SECRET_CHARS);
        assert_eq!(account_of(&format!("ts_acct_a_{secret}")), Some("acct_a"));
        let dashed = format!("ts_x.y-z_{}", "-_".repeat(21) + "Q");
        assert_eq!(account_of(&dashed), Some("x.y-z"));
        for bad in [
            String::new(),
            format!("ts__{secret}"),
            format!("ts_acct{secret}"),
            format!("ts_acct_a_{}", &secret[1..]),
            format!("ts_acct a_{secret}"),
            format!("ts_acct_a_{}+", &secret[1..]),
            format!("xx_acct_a_{secret}"),
            format!("ts_{}_{secret}", "a".repeat(MAX_TEXT + 1)),
            "ts_é_".to_string() + &"é".repeat(SECRET_CHARS),
        ] {
            assert_eq!(account_of(&bad), None, "{bad}");
        }
    }

    #[test]
    fn a_definition_takes_defaults_and_times_in_any_form() {
        let now = 1_700_000_000_000;
        let spec = definition(
            &json!({"name": " ci ", "scopes": ["read", "read"]}),
            &admin(),
            now,
        )
        .unwrap();
        assert_eq!(
            spec,
            Spec {
                name: "ci".into(),
                owner: "alice".into(),
                scopes: vec!["read".into()],
                expires: None
            }
        );
        for (given, want) in [
            (json!("now+1d"), now + 86_400_000),
            (json!(now + 5), now + 5),
            (json!("2100-01-01T00:00:00Z"), 4_102_444_800_000),
        ] {
            let body =
                json!({"name": "n", "scopes": ["admin"], "expiresAt": given, "owner": "bob"});
            let spec = definition(&body, &admin(), now).unwrap();
            assert_eq!((spec.expires, spec.owner.as_str()), (Some(want), "bob"));
        }
    }

    #[test]
    fn bad_definitions_name_their_field() {
        let now = 1_700_000_000_000;
        for (body, field) in [
            (json!({"scopes": ["read"]}), "name"),
            (json!({"name": "", "scopes": ["read"]}), "name"),
            (json!({"name": "n"}), "scopes"),
            (json!({"name": "n", "scopes": []}), "scopes"),
            (json!({"name": "n", "scopes": ["root"]}), "scopes"),
            (
                json!({"name": "n", "scopes": ["read"], "owner": 5}),
                "owner",
            ),
            (
                json!({"name": "n", "scopes": ["read"], "owner": null}),
                "owner",
            ),
            (json!({"name": null, "scopes": ["read"]}), "name"),
            (
                json!({"name": "n", "scopes": ["read"], "expiresAt": "soon"}),
                "expiresAt",
            ),
            (
                json!({"name": "n", "scopes": ["read"], "expiresAt": "now-1m"}),
                "expiresAt",
            ),
            (
                json!({"name": "n", "scopes": ["read"], "expiresAt": true}),
                "expiresAt",
            ),
            (json!([]), ""),
        ] {
            let e = definition(&body, &admin(), now).unwrap_err();
            assert_eq!(
                (e.status, e.code.as_str()),
                (400, codes::BAD_TOKEN),
                "{body}"
            );
            assert_eq!(e.details["field"], field, "{body}");
        }
    }

    #[test]
    fn a_token_cannot_grant_a_scope_its_maker_lacks() {
        let body = json!({"name": "n", "scopes": ["read", "ingest"]});
        let e = definition(&body, &admin(), 0).unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (403, codes::FORBIDDEN));
        assert!(e.message.contains("ingest"), "{}", e.message);
    }
}
