//! Failed authentication, limited per client address (`CF-Connecting-IP`): at most
//! `AUTH_FAILURES_PER_MINUTE` a minute, then `429 too_many_auth_failures` with `Retry-After`
//! for every request from that address, whatever its token.
//!
//! One small Durable Object per address ([`AuthGuard`]) counts the failures, since it sees
//! those of every isolate; it keeps its bucket in memory only (an evicted guard forgets,
//! which errs towards letting a client in, never towards locking one out). Asking it on
//! every request would add a round trip to each call, so the Worker asks only when an
//! authentication fails, and each isolate remembers the addresses the guard refused until
//! their wait is over: a refused address is turned away before its token is looked at.

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::json;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

use super::codes;
use super::config::Config;
use super::error::{json_response, ApiError};
use super::now_ms;
use super::ratelimit::TokenBucket;

/// The binding name of the guard namespace in `wrangler.toml`.
pub const BINDING: &str = "AUTH_GUARD";

/// Addresses an isolate remembers as refused; beyond this it forgets them all (the guards
/// still count, so a client refused again is remembered again).
const REMEMBERED: usize = 10_000;

thread_local! {
    /// Refused addresses and until when (epoch milliseconds), in this isolate.
    static REFUSED: RefCell<HashMap<String, i64>> = RefCell::new(HashMap::new());
}

/// The answer to an address over its limit for `seconds` more.
pub fn too_many(seconds: u64) -> ApiError {
    ApiError::new(
        429,
        codes::TOO_MANY_AUTH_FAILURES,
        format!("too many failed authentications from this address; retry after {seconds} seconds"),
    )
    .with_details(json!({"retryAfterSeconds": seconds}))
}

/// The client address of a request (`CF-Connecting-IP`, set by the platform).
pub fn client(req: &Request) -> String {
    req.headers()
        .get("cf-connecting-ip")
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// `429` when this isolate knows `client` is refused at `now`.
pub fn refused(client: &str, now: i64) -> Option<ApiError> {
    let until = REFUSED.with(|r| r.borrow().get(client).copied())?;
    if until <= now {
        REFUSED.with(|r| r.borrow_mut().remove(client));
        return None;
    }
    Some(too_many(
        u64::try_from(until - now)
            .unwrap_or(0)
            .div_ceil(1000)
            .max(1),
    ))
}

/// Counts a failed authentication of `client`; answers the error to send: `401`, or `429`
/// once the address is over its limit.
pub async fn failed(env: &Env, config: &Config, client: &str, now: i64) -> ApiError {
    if config.auth_failures_per_minute == 0 {
        return ApiError::unauthorized();
    }
    match count(env, client).await {
        Some(seconds) => {
            REFUSED.with(|r| {
                let mut r = r.borrow_mut();
                if r.len() >= REMEMBERED {
                    r.clear();
                }
                let until = now.saturating_add(i64::try_from(seconds).unwrap_or(0) * 1000);
                r.insert(client.to_string(), until);
            });
            too_many(seconds)
        }
        None => ApiError::unauthorized(),
    }
}

/// Asks the guard of `client` to count a failure: the seconds to wait when it is over the
/// limit. A guard that cannot be asked counts nothing (the failure is still a 401).
async fn count(env: &Env, client: &str) -> Option<u64> {
    let stub = env.durable_object(BINDING).ok()?.get_by_name(client).ok()?;
    let mut resp = stub.fetch_with_str("https://guard/").await.ok()?;
    if resp.status_code() != 429 {
        return None;
    }
    let body: serde_json::Value = resp.json().await.ok()?;
    Some(ApiError::from_body(429, &body).retry_after().unwrap_or(1))
}

/// The failure count of one client address.
#[durable_object]
pub struct AuthGuard {
    per_minute: u64,
    bucket: RefCell<TokenBucket>,
}

impl DurableObject for AuthGuard {
    fn new(_state: State, env: Env) -> Self {
        AuthGuard {
            per_minute: Config::from_env(&env).auth_failures_per_minute,
            bucket: RefCell::new(TokenBucket::new()),
        }
    }

    /// Every request is one failure: `200`, or `429` with the wait.
    async fn fetch(&self, _req: Request) -> worker::Result<Response> {
        Ok(
            match self.bucket.borrow_mut().take(self.per_minute, now_ms()) {
                Ok(()) => json_response(200, &json!({})),
                Err(seconds) => too_many(seconds).into_response(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_address_is_remembered_until_its_wait_is_over() {
        REFUSED.with(|r| r.borrow_mut().insert("203.0.113.9".into(), 10_500));
        let e = refused("203.0.113.9", 1_000).unwrap();
        assert_eq!(
            (e.status, e.code.as_str()),
            (429, codes::TOO_MANY_AUTH_FAILURES)
        );
        assert_eq!(e.retry_after(), Some(10));
        assert!(refused("203.0.113.10", 1_000).is_none());
        assert!(refused("203.0.113.9", 10_500).is_none());
        assert!(
            refused("203.0.113.9", 1_000).is_none(),
            "forgotten once over"
        );
    }
}
