//! The Worker's configuration: every variable of `wrangler.toml` (and the token secret),
//! read once and parsed one way, by the Worker per request and by the account object once
//! per lifetime.

use worker::Env;

use super::auth::{self, TokenEntry};
use super::store::tail::Limits;
use crate::log::SigningKey;
use crate::schema::IngestLimits;
use crate::time::DAY_MS;

#[derive(Debug, Clone)]
pub struct Config {
    /// `TRAILSIFT_TOKENS`: a secret, or a plain variable in local runs.
    pub tokens: Vec<TokenEntry>,
    pub ingest: IngestLimits,
    /// Events older than this many days are deleted (`RETENTION_DAYS`).
    pub retention_days: i64,
    /// How often the retention alarm runs (`RETENTION_INTERVAL_SECONDS`), in milliseconds.
    pub retention_interval_ms: i64,
    /// Requests per minute per account (`RATE_LIMIT_REQUESTS_PER_MINUTE`); 0 disables.
    pub rate_limit_per_minute: u64,
    /// Failed authentications per minute per client address (`AUTH_FAILURES_PER_MINUTE`);
    /// 0 disables the limit.
    pub auth_failures_per_minute: u64,
    /// Live-tail subscribers: events one may have waiting (`TAIL_BUFFER_EVENTS`) and,
    /// for a WebSocket, events a second beyond those (`TAIL_EVENTS_PER_SECOND`).
    pub tail: Limits,
    /// Destinations may use plain `http` URLs (`ALLOW_HTTP_DESTINATIONS` is `true`).
    pub allow_http_destinations: bool,
    /// How long one request to a destination may take (`DESTINATION_TIMEOUT_SECONDS`), in
    /// milliseconds.
    pub destination_timeout_ms: i64,
    /// The key that seals destination credentials (`CREDENTIALS_KEY`, base64 of 32 bytes).
    pub credentials_key: Option<Secret>,
    /// The log's origin prefix and key name (`LOG_ORIGIN`, default `trailsift.local`).
    pub log_origin: String,
    /// The seed that signs the log's checkpoints (`LOG_SIGNING_KEY`, base64 of 32 bytes).
    pub log_signing_key: Option<Secret>,
    /// A checkpoint is signed on request at most this often
    /// (`LOG_CHECKPOINT_INTERVAL_SECONDS`, default 60; 0 signs whenever the tree grew).
    pub log_checkpoint_interval_ms: i64,
    /// Steps of the Worker and the account object that take longer than this many
    /// milliseconds are logged (`TRACE_SLOW_MS`; unset or 0 logs nothing): what was slow,
    /// for whom, and what else the object was doing. For soaks and stalls.
    pub trace_slow_ms: i64,
}

/// A secret configuration value: its `Debug` form never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The rate limit when its variable is unset or unreadable.
pub const DEFAULT_RATE_LIMIT: u64 = 6000;

/// The limit of failed authentications when its variable is unset or unreadable.
pub const DEFAULT_AUTH_FAILURES: u64 = 20;

impl Config {
    /// Reads `env` (a secret reads like a plain variable: both are strings).
    pub fn from_env(env: &Env) -> Config {
        Config::from_lookup(|name| env.var(name).ok().map(|v| v.to_string()))
    }

    /// Builds the configuration from a lookup of variables by name. A variable that is
    /// unset or unreadable takes its default; numbers may have surrounding spaces.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Config {
        let number = |name: &str| -> Option<u64> { var(name)?.trim().parse().ok() };
        let positive =
            |name: &str, default: u64| number(name).filter(|n| *n > 0).unwrap_or(default);
        let size = |name: &str, default: u64| {
            usize::try_from(positive(name, default)).unwrap_or(usize::MAX)
        };
        let signed = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        Config {
            tokens: auth::parse_tokens(&var("TRAILSIFT_TOKENS").unwrap_or_default()),
            ingest: IngestLimits {
                body: size("MAX_BODY_BYTES", 10_000_000),
                events: size("MAX_EVENTS", 10_000),
                event: size("MAX_EVENT_BYTES", 1_000_000),
            },
            retention_days: signed(positive("RETENTION_DAYS", 730)),
            retention_interval_ms: number("RETENTION_INTERVAL_SECONDS")
                .filter(|s| *s > 0)
                .map_or(DAY_MS, |s| signed(s).saturating_mul(1000)),
            rate_limit_per_minute: number("RATE_LIMIT_REQUESTS_PER_MINUTE")
                .unwrap_or(DEFAULT_RATE_LIMIT),
            auth_failures_per_minute: number("AUTH_FAILURES_PER_MINUTE")
                .unwrap_or(DEFAULT_AUTH_FAILURES),
            tail: Limits {
                buffer: size("TAIL_BUFFER_EVENTS", 10_000),
                rate: size("TAIL_EVENTS_PER_SECOND", 1000),
            },
            allow_http_destinations: var("ALLOW_HTTP_DESTINATIONS")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
            destination_timeout_ms: signed(positive("DESTINATION_TIMEOUT_SECONDS", 30))
                .saturating_mul(1000),
            credentials_key: var("CREDENTIALS_KEY")
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .map(Secret),
            log_origin: var("LOG_ORIGIN")
                .map(|o| o.trim().to_string())
                .filter(|o| !o.is_empty())
                .unwrap_or_else(|| DEFAULT_LOG_ORIGIN.to_string()),
            log_signing_key: var("LOG_SIGNING_KEY")
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .map(Secret),
            log_checkpoint_interval_ms: signed(
                number("LOG_CHECKPOINT_INTERVAL_SECONDS").unwrap_or(60),
            )
            .saturating_mul(1000),
            trace_slow_ms: signed(number("TRACE_SLOW_MS").unwrap_or(0)),
        }
    }

    /// The key that signs checkpoints, named `LOG_ORIGIN`; why not, when it is missing or
    /// malformed.
    pub fn log_signing_key(&self) -> Result<SigningKey, String> {
        let seed = self
            .log_signing_key
            .as_ref()
            .ok_or("LOG_SIGNING_KEY is not set: the log cannot sign checkpoints")?;
        SigningKey::from_base64_seed(&self.log_origin, &seed.0)
            .map_err(|e| format!("LOG_SIGNING_KEY or LOG_ORIGIN: {}", e.message))
    }

    /// The origin of an account's checkpoints: `<LOG_ORIGIN>/<account>`.
    pub fn log_origin_of(&self, account: &str) -> String {
        format!("{}/{account}", self.log_origin)
    }
}

/// The log's origin prefix when `LOG_ORIGIN` is unset.
pub const DEFAULT_LOG_ORIGIN: &str = "trailsift.local";

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Config {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn unset_variables_take_their_defaults() {
        let c = config(&[]);
        assert!(c.tokens.is_empty());
        assert_eq!(
            c.ingest,
            IngestLimits {
                body: 10_000_000,
                events: 10_000,
                event: 1_000_000
            }
        );
        assert_eq!(c.retention_days, 730);
        assert_eq!(c.retention_interval_ms, DAY_MS);
        assert_eq!(c.rate_limit_per_minute, DEFAULT_RATE_LIMIT);
        assert_eq!(c.auth_failures_per_minute, DEFAULT_AUTH_FAILURES);
        assert_eq!(
            c.tail,
            Limits {
                buffer: 10_000,
                rate: 1000
            }
        );
        assert!(!c.allow_http_destinations);
        assert_eq!(c.destination_timeout_ms, 30_000);
        assert_eq!(c.credentials_key, None);
        assert_eq!(c.log_origin, "trailsift.local");
        assert_eq!(c.log_checkpoint_interval_ms, 60_000);
        assert!(c.log_signing_key().is_err());
    }

    #[test]
    fn the_log_key_is_named_by_the_origin_and_never_shown() {
        let seed = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
        let c = config(&[
            ("LOG_ORIGIN", " logs.example.com "),
            ("LOG_SIGNING_KEY", seed),
            ("LOG_CHECKPOINT_INTERVAL_SECONDS", "0"),
        ]);
        let key = c.log_signing_key().unwrap();
        assert_eq!(key.name(), "logs.example.com");
        assert_eq!(c.log_origin_of("acme"), "logs.example.com/acme");
        assert_eq!(c.log_checkpoint_interval_ms, 0);
        assert!(!format!("{c:?}").contains(seed));
        assert!(config(&[("LOG_SIGNING_KEY", "c2hvcnQ=")])
            .log_signing_key()
            .is_err());
    }

    #[test]
    fn destination_settings_and_the_key_never_shown() {
        let c = config(&[
            ("ALLOW_HTTP_DESTINATIONS", " TRUE "),
            ("DESTINATION_TIMEOUT_SECONDS", "2"),
            ("CREDENTIALS_KEY", " a2V5 "),
        ]);
        assert!(c.allow_http_destinations);
        assert_eq!(c.destination_timeout_ms, 2000);
        assert_eq!(c.credentials_key, Some(Secret("a2V5".into())));
        assert!(!format!("{c:?}").contains("a2V5"));
        assert!(!config(&[("ALLOW_HTTP_DESTINATIONS", "yes")]).allow_http_destinations);
        assert_eq!(config(&[("CREDENTIALS_KEY", " ")]).credentials_key, None);
    }

    #[test]
    fn numbers_are_trimmed_and_bad_ones_fall_back() {
        let c = config(&[
            ("MAX_BODY_BYTES", " 2048 "),
            ("MAX_EVENTS", "0"),
            ("MAX_EVENT_BYTES", "lots"),
            ("RETENTION_DAYS", "-3"),
            ("RETENTION_INTERVAL_SECONDS", "2"),
            ("RATE_LIMIT_REQUESTS_PER_MINUTE", " 5 "),
            ("TAIL_BUFFER_EVENTS", "0"),
            ("TAIL_EVENTS_PER_SECOND", "50"),
        ]);
        assert_eq!(c.ingest.body, 2048);
        assert_eq!(c.ingest.events, 10_000, "0 is not a limit");
        assert_eq!(c.ingest.event, 1_000_000);
        assert_eq!(c.retention_days, 730);
        assert_eq!(c.retention_interval_ms, 2000);
        assert_eq!(c.rate_limit_per_minute, 5);
        assert_eq!(
            c.tail.buffer, 10_000,
            "a subscriber needs room for one event"
        );
        assert_eq!(c.tail.rate, 50);
    }

    #[test]
    fn a_rate_limit_of_zero_disables_it() {
        let c = config(&[("AUTH_FAILURES_PER_MINUTE", " 0 ")]);
        assert_eq!(c.auth_failures_per_minute, 0);
        assert_eq!(
            config(&[("AUTH_FAILURES_PER_MINUTE", "3")]).auth_failures_per_minute,
            3
        );
        assert_eq!(
            config(&[("RATE_LIMIT_REQUESTS_PER_MINUTE", "0")]).rate_limit_per_minute,
            0
        );
        assert_eq!(
            config(&[("RATE_LIMIT_REQUESTS_PER_MINUTE", "-1")]).rate_limit_per_minute,
            DEFAULT_RATE_LIMIT
        );
    }

    #[test]
    fn tokens_come_from_their_variable() {
        let c = config(&[(
            "TRAILSIFT_TOKENS",
            r#"[{"sha256": "00", "account": "acct_a", "scopes": ["read"], "owner": "bob"}]"#,
        )]);
        assert_eq!(c.tokens.len(), 1);
        assert_eq!(c.tokens[0].account, "acct_a");
        assert!(config(&[("TRAILSIFT_TOKENS", "not json")])
            .tokens
            .is_empty());
    }
}
