//! The per-account Durable Object, split by concern: events (commit, query pages, one
//! event, retention), stats, saved filters, live tail, streaming destinations, and the
//! one alarm that serves retention and delivery. Each concern keeps its tables, its
//! messages and its handlers in its own module; this one holds the object, the request it
//! takes, its dispatch, schema setup and transactions, and [`call`], the Worker's one way
//! to ask.
//!
//! A request is one [`StoreRequest`] as JSON; the answer is the reply its variant names,
//! or an error body with its status. Every write of one request happens without an
//! intervening `await`, so the runtime commits it atomically, and the answer leaves the
//! object only once the write is durable.

pub mod alarm;
pub mod destinations;
pub mod events;
pub mod filters;
pub mod log;
pub(crate) mod sql;
pub mod stats;
pub mod tail;
pub mod tokens;
mod trace;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use worker::{
    durable_object, DurableObject, Env, Method, Request, RequestInit, Response, ScheduledTime,
    State, Storage, WebSocket, WebSocketIncomingMessage,
};

use super::codes;
use super::config::Config;
use super::error::{ApiError, ApiResult};
use super::now_ms;
use super::ratelimit::TokenBucket;

/// The binding name of the account Durable Object namespace in `wrangler.toml`.
pub const BINDING: &str = "ACCOUNT_STORE";

/// Every table and index, concern by concern.
const SCHEMA: &[&[&str]] = &[
    events::SCHEMA,
    filters::SCHEMA,
    destinations::SCHEMA,
    alarm::SCHEMA,
    tail::SCHEMA,
    log::SCHEMA,
    tokens::SCHEMA,
];

/// An alarm this long overdue is looked at again: it may have been dropped.
const ALARM_GRACE_MS: i64 = 60_000;

/// One operation of the account object; each variant's type says what it answers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreRequest {
    /// Takes one request from the account's rate budget: answers `null`, or
    /// `429 rate_limited`.
    Admit,
    Commit(events::Commit),
    Page(events::PageRequest),
    Event(events::EventRequest),
    Stats(stats::StatsRequest),
    Filters(filters::FilterRequest),
    Tail(tail::TailRequest),
    /// Boxed: a destination's definition is much larger than the other messages.
    Destinations(Box<destinations::DestinationRequest>),
    Log(log::LogRequest),
    Tokens(tokens::TokenRequest),
}

impl StoreRequest {
    /// The variant's name, for traces.
    fn kind(&self) -> &'static str {
        match self {
            StoreRequest::Admit => "admit",
            StoreRequest::Commit(_) => "commit",
            StoreRequest::Page(_) => "page",
            StoreRequest::Event(_) => "event",
            StoreRequest::Stats(_) => "stats",
            StoreRequest::Filters(_) => "filters",
            StoreRequest::Tail(_) => "tail",
            StoreRequest::Destinations(_) => "destinations",
            StoreRequest::Log(_) => "log",
            StoreRequest::Tokens(_) => "tokens",
        }
    }
}

/// Sends `request` to the account's object and reads its answer as `R`, the reply its
/// variant names. An error answer comes back as the same [`ApiError`].
pub async fn call<R: DeserializeOwned>(
    env: &Env,
    account: &str,
    request: &StoreRequest,
) -> ApiResult<R> {
    let namespace = env
        .durable_object(BINDING)
        .map_err(|e| ApiError::storage(format!("no account store binding: {e}")))?;
    let stub = namespace.get_by_name(account)?;
    let body = encode(request)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
    let slow_ms = trace::slow_ms(env);
    let sent = now_ms();
    if let Some(headers) = trace::call_headers(slow_ms, sent, account)? {
        init.with_headers(headers);
    }
    let mut resp = stub
        .fetch_with_request(Request::new_with_init("https://store/", &init)?)
        .await?;
    let status = resp.status_code();
    let bytes = resp.bytes().await?;
    trace::call(slow_ms, account, request.kind(), status, sent);
    if status == 200 {
        serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::storage(format!("an unreadable answer of the account store: {e}"))
        })
    } else {
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Err(ApiError::from_body(status, &body))
    }
}

pub(crate) use trace::slow_ms as trace_slow_ms;

/// A message or reply as JSON.
fn encode<T: Serialize + ?Sized>(value: &T) -> ApiResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| ApiError::storage(format!("encoding: {e}")))
}

#[durable_object]
pub struct AccountStore {
    state: State,
    config: Config,
    ready: Cell<bool>,
    /// When the alarm is set for, as far as this instance knows.
    alarm_at: Cell<Option<i64>>,
    /// An alarm run is delivering.
    delivering: Cell<bool>,
    /// OAuth tokens of GCS destinations, by destination id, with their expiry.
    tokens: RefCell<HashMap<String, (String, i64)>>,
    /// Destination credentials opened for sending, by destination id.
    opened: RefCell<HashMap<String, (String, destinations::Credentials)>>,
    /// The account's request budget (in memory: the object sees every request of its
    /// account; a restarted object starts with a full bucket).
    limiter: RefCell<TokenBucket>,
    tail: tail::Tail,
    /// Requests being answered now (for traces: what else the object was doing).
    busy: Cell<u32>,
}

impl DurableObject for AccountStore {
    fn new(state: State, env: Env) -> Self {
        let config = Config::from_env(&env);
        AccountStore {
            tail: tail::Tail::new(&state, config.tail),
            state,
            config,
            ready: Cell::new(false),
            alarm_at: Cell::new(None),
            delivering: Cell::new(false),
            tokens: RefCell::new(HashMap::new()),
            opened: RefCell::new(HashMap::new()),
            limiter: RefCell::new(TokenBucket::new()),
            busy: Cell::new(0),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        if req.path() == tail::PATH {
            // A subscription: the forwarded request (a WebSocket upgrade has no body).
            let answer = self.sql().and_then(|sql| {
                let header = req.headers().get(tail::SUBSCRIBE_HEADER).ok().flatten();
                let sub = serde_json::from_str(header.as_deref().unwrap_or_default())
                    .map_err(|e| ApiError::bad_request(codes::BAD_REQUEST, e.to_string()))?;
                self.tail.subscribe(&sql, sub)
            });
            return Ok(answer.unwrap_or_else(ApiError::into_response));
        }
        let trace = req.headers().get(trace::HEADER).ok().flatten();
        let started = now_ms();
        self.busy.set(self.busy.get() + 1);
        let mut kind = "unreadable";
        let answer = match req.bytes().await {
            Ok(bytes) => match serde_json::from_slice::<StoreRequest>(&bytes) {
                Ok(request) => {
                    kind = request.kind();
                    self.dispatch(request).await
                }
                Err(e) => Err(ApiError::bad_request(codes::BAD_REQUEST, e.to_string())),
            },
            Err(e) => Err(ApiError::from(e)),
        };
        self.busy.set(self.busy.get().saturating_sub(1));
        if let Some(trace) = trace {
            self.trace_request(&trace, kind, started);
        }
        Ok(match answer {
            Ok(body) => super::error::bytes_response(200, body, "application/json"),
            Err(e) => e.into_response(),
        })
    }

    /// Retention when it is due, then delivery; never fails (an alarm that fails is
    /// retried only a few times, then dropped), and always set again.
    async fn alarm(&self) -> worker::Result<Response> {
        let now = now_ms();
        if !self.delivering.replace(true) {
            if let Ok(sql) = self.sql() {
                let _ = alarm::run_retention(&sql, &self.config, now);
                let _ = log::run_alarm(&self.state.storage(), &sql, &self.config, now);
                destinations::delivery::run(&self.ctx(sql), now).await;
            }
            self.delivering.set(false);
        }
        self.rearm().await;
        self.trace_alarm(now);
        Response::ok("alarm ran")
    }

    /// Subscribers only listen; what they send is ignored.
    async fn websocket_message(
        &self,
        _ws: WebSocket,
        _message: WebSocketIncomingMessage,
    ) -> worker::Result<()> {
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        _code: usize,
        _reason: String,
        _was_clean: bool,
    ) -> worker::Result<()> {
        self.tail.closed(&ws);
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, _error: worker::Error) -> worker::Result<()> {
        self.tail.closed(&ws);
        Ok(())
    }
}

impl AccountStore {
    /// The one place a request meets the concern that answers it.
    async fn dispatch(&self, request: StoreRequest) -> ApiResult<Vec<u8>> {
        if let StoreRequest::Tokens(tokens::TokenRequest::Authenticate { digest, now }) = &request {
            // Anyone may present a token naming any account: looking it up must not make
            // an object that was never used keep state (tables, an alarm).
            if !self.has_tables()? {
                return Err(ApiError::unauthorized());
            }
            // One round trip: the holder's request is taken from the account's budget here.
            let holder = tokens::authenticate(&self.sql()?, digest, *now)?;
            self.admit()?;
            return Ok(holder);
        }
        self.ensure_alarm().await;
        match request {
            StoreRequest::Admit => {
                self.admit()?;
                encode(&())
            }
            StoreRequest::Commit(commit) => {
                let sql = self.sql()?;
                let bytes: usize = commit.rows.iter().map(|r| r.body.get().len()).sum();
                let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
                let listening = self.tail.listening(&sql);
                let (committed, bodies) = self.in_transaction({
                    let sql = sql.clone();
                    move || {
                        let account = commit.account.clone();
                        let stored = events::commit(&sql, commit, listening)?;
                        let committed = stored.committed;
                        // The tree grows in the same transaction: leaf i is always seq i + 1.
                        let first = committed.first_seq.unwrap_or(0);
                        log::append(&sql, &account, first, &stored.leaves)?;
                        destinations::on_commit(&sql, committed.last_seq, bytes, now_ms())?;
                        Ok((committed, stored.bodies))
                    }
                })?;
                // Before any await: the subscribers see the commits in their order.
                if let Some(first) = committed.first_seq {
                    self.tail.after_commit(first, &bodies);
                }
                if committed.accepted > 0 {
                    self.alarm_earlier().await;
                }
                encode(&committed)
            }
            StoreRequest::Page(page) => events::page(&self.sql()?, &page),
            StoreRequest::Event(event) => events::event(&self.sql()?, &event),
            StoreRequest::Stats(stats) => encode(&stats::count(&self.sql()?, &stats)?),
            StoreRequest::Filters(request) => filters::handle(&self.sql()?, request),
            StoreRequest::Tail(request) => self.tail.handle(&self.sql()?, request),
            StoreRequest::Log(request) => {
                let sql = self.sql()?;
                let config = self.config.clone();
                // A checkpoint signed on request is kept atomically with nothing else.
                self.in_transaction(move || log::handle(&sql, &config, request))
            }
            StoreRequest::Tokens(request) => tokens::handle(&self.sql()?, request),
            StoreRequest::Destinations(request) => {
                let answer = destinations::handle(&self.ctx(self.sql()?), *request).await;
                self.alarm_earlier().await;
                answer
            }
        }
    }

    fn ctx(&self, sql: worker::SqlStorage) -> destinations::Ctx<'_> {
        destinations::Ctx {
            sql,
            storage: self.state.storage(),
            config: &self.config,
            tokens: &self.tokens,
            opened: &self.opened,
        }
    }

    /// Takes one request from the account's budget.
    fn admit(&self) -> ApiResult<()> {
        self.limiter
            .borrow_mut()
            .take(self.config.rate_limit_per_minute, now_ms())
            .map_err(ApiError::rate_limited)
    }

    /// The account's SQLite storage, its tables made on first use.
    fn sql(&self) -> ApiResult<worker::SqlStorage> {
        let sql = self.state.storage().sql();
        if !self.ready.get() {
            for stmt in SCHEMA.iter().flat_map(|concern| concern.iter()) {
                sql.exec(stmt, None)
                    .map_err(|e| ApiError::storage(format!("schema: {e}")))?;
            }
            self.ready.set(true);
        }
        Ok(sql)
    }

    /// Whether this object has ever made its tables (asked without making them).
    fn has_tables(&self) -> ApiResult<bool> {
        if self.ready.get() {
            return Ok(true);
        }
        let sql = self.state.storage().sql();
        let stmt = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tokens'";
        Ok(sql::rows(&sql, stmt, vec![])?.next().is_some())
    }

    /// Runs `f` inside the storage's synchronous transaction (see [`transaction`]).
    fn in_transaction<T: 'static>(
        &self,
        f: impl FnOnce() -> ApiResult<T> + 'static,
    ) -> ApiResult<T> {
        transaction(&self.state.storage(), f)
    }

    /// Sets the alarm to the earliest time retention or delivery is due.
    async fn rearm(&self) {
        let Ok(sql) = self.sql() else {
            return;
        };
        let now = now_ms();
        let Ok(due) = alarm::next_due(&sql, &self.config, now) else {
            return;
        };
        let at = ScheduledTime::new(js_sys::Date::new(&JsValue::from_f64(due as f64)));
        if self.state.storage().set_alarm(at).await.is_ok() {
            self.alarm_at.set(Some(due));
        }
    }

    /// Brings the alarm forward when something is due before it (a commit, a changed
    /// destination).
    async fn alarm_earlier(&self) {
        if self.alarm_at.get().is_some_and(|at| at <= now_ms()) {
            // Due already (or running): nothing can come before it.
            return;
        }
        let Ok(sql) = self.sql() else {
            return;
        };
        let Ok(due) = alarm::next_due(&sql, &self.config, now_ms()) else {
            return;
        };
        if self.alarm_at.get().is_none_or(|at| due < at) {
            self.rearm().await;
        }
    }

    /// Every request makes sure an alarm is set: one this instance has not seen, or one
    /// long overdue (the platform drops an alarm that keeps failing), is looked up and set
    /// again when it is missing.
    async fn ensure_alarm(&self) {
        let now = now_ms();
        if self
            .alarm_at
            .get()
            .is_some_and(|at| at > now - ALARM_GRACE_MS)
        {
            return;
        }
        match self.state.storage().get_alarm().await {
            Ok(Some(at)) => self.alarm_at.set(Some(at)),
            Ok(None) => self.rearm().await,
            Err(_) => {}
        }
    }
}

/// Runs `f` inside the storage's synchronous transaction: when it fails, none of its
/// writes are kept (an error rolls the transaction back).
pub(crate) fn transaction<T: 'static>(
    storage: &Storage,
    f: impl FnOnce() -> ApiResult<T> + 'static,
) -> ApiResult<T> {
    let raw: &JsValue = storage.as_raw().as_ref();
    let func = js_sys::Reflect::get(raw, &JsValue::from_str("transactionSync"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let Some(func) = func else {
        return f();
    };
    let slot: Rc<RefCell<Option<ApiResult<T>>>> = Rc::new(RefCell::new(None));
    let out = Rc::clone(&slot);
    let callback = Closure::once(move || -> Result<JsValue, JsValue> {
        let result = f();
        let failed = result.is_err();
        *out.borrow_mut() = Some(result);
        if failed {
            Err(JsValue::from_str("rolled back"))
        } else {
            Ok(JsValue::UNDEFINED)
        }
    });
    let called = func.call1(raw, callback.as_ref().unchecked_ref());
    let result = slot.borrow_mut().take();
    match (result, called) {
        (Some(result), _) => result,
        (None, Err(e)) => Err(ApiError::storage(format!(
            "the transaction failed: {}",
            e.as_string().unwrap_or_default()
        ))),
        (None, Ok(_)) => Err(ApiError::storage("the transaction did not run")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::filtering::FilterSource;
    use serde_json::json;

    /// The object reads what the Worker writes, variant by variant.
    fn round_trip(request: &StoreRequest) -> StoreRequest {
        serde_json::from_slice(&encode(request).unwrap()).unwrap()
    }

    #[test]
    fn a_commit_keeps_each_event_text_as_it_was_written() {
        let body = r#"{"auditEventId":"e\"1","n":[1.5,{"k":null}]}"#;
        let request = StoreRequest::Commit(events::Commit {
            account: "acme".into(),
            rows: vec![events::Row {
                id: "e\"1".into(),
                time: 1_700_000_000_000,
                body: serde_json::value::RawValue::from_string(body.into()).unwrap(),
            }],
        });
        let StoreRequest::Commit(back) = round_trip(&request) else {
            panic!("not a commit");
        };
        assert_eq!(back.rows.len(), 1);
        assert_eq!(back.rows[0].id, "e\"1");
        assert_eq!(back.rows[0].time, 1_700_000_000_000);
        assert_eq!(back.rows[0].body.get(), body);
    }

    #[test]
    fn requests_read_back_as_written() {
        let page = StoreRequest::Page(events::PageRequest {
            filter: FilterSource::Structured(r#"{"actions":["CREATE"]}"#.into()),
            from: -5,
            to: 10,
            desc: true,
            limit: 3,
            after: Some((9, 2)),
            now: 11,
        });
        assert_eq!(
            serde_json::to_value(round_trip(&page)).unwrap(),
            serde_json::to_value(&page).unwrap()
        );
        assert_eq!(
            serde_json::to_value(&page).unwrap()["page"]["filter"],
            json!({"structured": "{\"actions\":[\"CREATE\"]}"})
        );
        let admit = serde_json::to_value(round_trip(&StoreRequest::Admit)).unwrap();
        assert_eq!(admit, json!("admit"));
    }

    #[test]
    fn a_request_the_object_does_not_know_is_refused() {
        for bad in [r#""compact""#, r#"{"page":{}}"#, "[]", ""] {
            assert!(serde_json::from_str::<StoreRequest>(bad).is_err(), "{bad}");
        }
    }
}
