//! Traces of slow steps (`TRACE_SLOW_MS`, off when 0): the Worker's calls to an account
//! object, the object's requests (how long each waited before it ran, how long it ran, what
//! else was in flight) and its alarm runs. Used by soaks to find where time goes.

use worker::{Env, Headers};

use super::AccountStore;
use crate::edge::now_ms;

/// When tracing, the Worker's send time and the account travel with each store request, so
/// that the object can tell how long a request waited before it ran.
pub(super) const HEADER: &str = "x-trailsift-trace";

/// `TRACE_SLOW_MS` read on its own (the Worker's side of tracing; the object reads it
/// through its `Config`).
pub(crate) fn slow_ms(env: &Env) -> i64 {
    env.var("TRACE_SLOW_MS")
        .ok()
        .and_then(|v| v.to_string().trim().parse().ok())
        .unwrap_or(0)
}

/// The header a traced store call carries (none when tracing is off).
pub(super) fn call_headers(
    slow_ms: i64,
    sent: i64,
    account: &str,
) -> worker::Result<Option<Headers>> {
    if slow_ms <= 0 {
        return Ok(None);
    }
    let headers = Headers::new();
    headers.set(HEADER, &format!("{sent} {account}"))?;
    Ok(Some(headers))
}

/// Logs a store call that took at least `slow_ms`.
pub(super) fn call(slow_ms: i64, account: &str, kind: &str, status: u16, sent: i64) {
    let took = now_ms() - sent;
    if slow_ms > 0 && took >= slow_ms {
        worker::console_log!(
            "trace: slow store call: {account} {kind} {status} {took} ms (sent at {sent})"
        );
    }
}

impl AccountStore {
    /// Logs a request that waited or ran at least `TRACE_SLOW_MS`: `trace` is the Worker's
    /// send time and the account.
    pub(super) fn trace_request(&self, trace: &str, kind: &str, started: i64) {
        let slow = self.config.trace_slow_ms;
        let (sent, account) = trace.split_once(' ').unwrap_or((trace, ""));
        let waited = sent.parse::<i64>().map_or(0, |sent| started - sent);
        let ran = now_ms() - started;
        if slow > 0 && (waited >= slow || ran >= slow) {
            worker::console_log!(
                "trace: slow store request: {account} {kind} waited {waited} ms, ran {ran} ms; {} other requests in flight, alarm {}",
                self.busy.get(),
                if self.delivering.get() { "delivering" } else { "idle" }
            );
        }
    }

    /// Logs an alarm run that started at `started` and took at least `TRACE_SLOW_MS`.
    pub(super) fn trace_alarm(&self, started: i64) {
        let took = now_ms() - started;
        if self.config.trace_slow_ms > 0 && took >= self.config.trace_slow_ms {
            let id: String = self.state.id().to_string().chars().take(8).collect();
            worker::console_log!(
                "trace: slow alarm: object {id} ran {took} ms with {} requests in flight",
                self.busy.get()
            );
        }
    }
}
