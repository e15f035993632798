//! The live tail's HTTP side: `GET /v1/stream` (a WebSocket upgrade, or Server-Sent Events)
//! and `POST /v1/stream/tickets`. The Worker authenticates (a bearer token, or a one-use
//! ticket for browsers, which cannot set headers on a WebSocket or an `EventSource`), checks
//! the query and forwards the request, `Upgrade` header and all, to the account's object,
//! which keeps the subscription (`store::tail`).

use std::collections::HashMap;

use serde_json::json;
use wasm_bindgen::JsCast;
use worker::{Env, Method, Request, RequestInit, Response};

use super::auth::{self, Caller};
use super::codes;
use super::config::Config;
use super::error::{json_response, ApiError, ApiResult};
use super::filtering::Filter;
use super::now_ms;
use super::store::tail::{Grant, Subscribe, TailRequest, Ticket, Transport, SUBSCRIBE_HEADER};
use super::store::{self, StoreRequest, BINDING};

/// How long a ticket may wait for its use.
const TICKET_SECONDS: i64 = 60;
/// Random bytes of a ticket's secret.
const TICKET_BYTES: u32 = 32;
/// The longest `q` of a subscription: it is kept in the socket's attachment (at most 16 KiB
/// in workerd, and UTF-16 may take two bytes a character) to survive hibernation.
pub const MAX_QUERY_BYTES: usize = 4096;

/// `POST /v1/stream/tickets`: a ticket that stands for the caller's account and scopes, once,
/// for [`TICKET_SECONDS`]. The object keeps only its digest.
pub async fn ticket(env: &Env, caller: &Caller) -> ApiResult<Response> {
    caller.require("read")?;
    let secret = random_hex(TICKET_BYTES)?;
    let issue = TailRequest::Issue(Ticket {
        digest: auth::token_digest(&secret),
        scopes: caller.scopes.clone(),
        owner: caller.owner.clone(),
        expires: now_ms() + TICKET_SECONDS * 1000,
    });
    store::call::<()>(env, &caller.account, &StoreRequest::Tail(issue)).await?;
    let ticket = format!("{}.{secret}", hex(caller.account.as_bytes()));
    Ok(json_response(
        200,
        &json!({"ticket": ticket, "expiresInSeconds": TICKET_SECONDS}),
    ))
}

/// `GET /v1/stream`: checks who asks and what, then hands the request to the account's
/// object, whose answer (`101` with the socket, or the event stream) goes back as it is.
pub async fn subscribe(req: Request, env: &Env, config: &Config) -> ApiResult<Response> {
    let url = req
        .url()
        .map_err(|_| ApiError::bad_request(codes::BAD_REQUEST, "bad URL"))?;
    let params: HashMap<String, String> = url.query_pairs().into_owned().collect();
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let caller = match (header("authorization"), params.get("ticket")) {
        (None, Some(ticket)) => redeem(env, ticket).await?,
        _ => auth::identify(&req, env, config).await?,
    };
    super::admit(env, config, &caller).await?;
    caller.require("read")?;
    let upgrade = header("upgrade").unwrap_or_default();
    let accept = header("accept").unwrap_or_default();
    let transport = if upgrade.eq_ignore_ascii_case("websocket") {
        Transport::WebSocket
    } else if accept.contains("text/event-stream") {
        Transport::Sse
    } else {
        return Err(ApiError::bad_request(
            codes::BAD_REQUEST,
            "a live tail is a WebSocket (Upgrade: websocket) or Server-Sent Events (Accept: text/event-stream)",
        ));
    };
    let q = params.get("q").cloned().unwrap_or_default();
    if q.len() > MAX_QUERY_BYTES {
        return Err(ApiError::bad_request(
            codes::BAD_PARAMETER,
            format!(
                "`q` is {} bytes long; a live tail's query may have at most {MAX_QUERY_BYTES}",
                q.len()
            ),
        ));
    }
    Filter::parse(&q)?;
    // A browser that reconnects sends the last id it saw, with the URL it first used.
    let after = match header("last-event-id") {
        Some(id) => Some(parse_seq("Last-Event-ID", &id)?),
        None => params
            .get("after")
            .map(|a| parse_seq("after", a))
            .transpose()?,
    };
    let sub = Subscribe {
        q,
        after,
        transport,
    };
    forward(req, env, &caller.account, &sub).await
}

/// Sends the subscription to the account's object as the original request (its upgrade
/// headers included, its credentials not), with the checked [`Subscribe`] in a header.
async fn forward(req: Request, env: &Env, account: &str, sub: &Subscribe) -> ApiResult<Response> {
    // A copy: the incoming request's headers cannot be changed.
    let headers = req.headers().clone();
    headers.delete("authorization")?;
    let text =
        serde_json::to_string(sub).map_err(|e| ApiError::storage(format!("encoding: {e}")))?;
    headers.set(SUBSCRIBE_HEADER, &text)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let inner = Request::new_with_init(&format!("https://store{}", store::tail::PATH), &init)?;
    let stub = env
        .durable_object(BINDING)
        .map_err(|e| ApiError::storage(format!("no account store binding: {e}")))?
        .get_by_name(account)?;
    Ok(stub.fetch_with_request(inner).await?)
}

/// A sequence number to resume after (`0` sends every stored match).
fn parse_seq(name: &str, text: &str) -> ApiResult<i64> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| {
            ApiError::bad_request(
                codes::BAD_PARAMETER,
                format!("`{name}` must be a sequence number (got `{text}`)"),
            )
        })
}

/// The caller a ticket stands for. The ticket names its account; the account's object
/// takes it (so it works once) and says which scopes it carries.
async fn redeem(env: &Env, ticket: &str) -> ApiResult<Caller> {
    let (account, secret) = ticket
        .split_once('.')
        .and_then(|(a, s)| Some((String::from_utf8(unhex(a)?).ok()?, s)))
        .filter(|(a, s)| !a.is_empty() && !s.is_empty())
        .ok_or_else(ApiError::unauthorized)?;
    let request = StoreRequest::Tail(TailRequest::Redeem {
        digest: auth::token_digest(secret),
        now: now_ms(),
    });
    let grant: Grant = store::call(env, &account, &request).await?;
    Ok(Caller {
        account,
        scopes: grant.scopes,
        owner: grant.owner,
        admitted: false,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `n` random bytes from the platform's CSPRNG (`crypto.getRandomValues`), as hex.
fn random_hex(n: u32) -> ApiResult<String> {
    let fail = || ApiError::storage("no random numbers from crypto.getRandomValues");
    let crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into()).map_err(|_| fail())?;
    let fill = js_sys::Reflect::get(&crypto, &"getRandomValues".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or_else(fail)?;
    let bytes = js_sys::Uint8Array::new_with_length(n);
    fill.call1(&crypto, &bytes).map_err(|_| fail())?;
    Ok(hex(&bytes.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        let account = "acct_ä.b";
        assert_eq!(unhex(&hex(account.as_bytes())).unwrap(), account.as_bytes());
        for bad in ["a", "zz", "0g", "é0"] {
            assert_eq!(unhex(bad), None, "{bad}");
        }
        assert_eq!(unhex(""), Some(Vec::new()));
    }

    #[test]
    fn sequence_numbers_are_whole_and_not_negative() {
        assert_eq!(parse_seq("after", " 42 ").unwrap(), 42);
        assert_eq!(parse_seq("after", "0").unwrap(), 0);
        for bad in ["", "-1", "1.5", "x", "99999999999999999999"] {
            let e = parse_seq("after", bad).unwrap_err();
            assert_eq!(
                (e.status, e.code.as_str()),
                (400, codes::BAD_PARAMETER),
                "{bad}"
            );
        }
    }
}
