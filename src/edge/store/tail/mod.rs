//! The object's live tail: subscribers over hibernatable WebSockets and Server-Sent Events,
//! each with its filter; the fan-out after every commit; resuming after a sequence number;
//! and the one-use tickets browsers subscribe with.
//!
//! A subscriber has a cursor: the last sequence number it has been given or passed over. A
//! *live* subscriber's cursor is the account's last sequence number, and each commit offers
//! it the new events that match. A subscriber that resumes from an older sequence number
//! *catches up* from storage first, at its own pace, and turns live when it has read the
//! last stored event; commits pass it by meanwhile (it reads them from storage), so nothing
//! is missed and nothing is sent twice. Reading the last stored event and turning live
//! happen without an `await` in between, so no commit can slip in.
//!
//! Nothing is buffered without bound. An SSE subscriber has a queue of at most
//! [`Limits::buffer`] matching sequence numbers that its response stream drains as fast as
//! the client reads; a live event that finds the queue full is counted, and the count goes
//! out as one `dropped` notice in its place. A WebSocket gives no such signal (workerd has
//! no `bufferedAmount` and takes every `send`), so each socket has a budget instead:
//! [`Limits::buffer`] events at once, refilled at [`Limits::rate`] a second; live events
//! beyond it are dropped and counted the same way, and catching up waits for the budget.
//!
//! A WebSocket subscriber's query (and, while it catches up, its cursor) lives in the
//! socket's attachment, so it survives the object's hibernation. Each distinct query is
//! compiled once while subscribers hold it, and subscribers with the same query share it.
//!
//! The fan-out works on the commit's own events, in memory (no reading back from
//! storage), and only when a live subscriber exists; each distinct filter is decided on
//! the whole batch at once by the core ([`batch::decide`]), which reads each event's
//! fields once for all of them. A subscriber whose filter matches nothing costs nothing
//! more.

mod sse;
mod tickets;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use worker::worker_sys::DurableObjectState;
use worker::{Delay, Response, SqlStorage, SqlStorageValue, State, WebSocket, WebSocketPair};

use super::encode;
use super::events::{keeps, last_seq};
use super::sql::{self, int, text};
use crate::edge::error::{ApiError, ApiResult};
use crate::edge::filtering::Filter;
use crate::edge::now_ms;
use crate::filter::batch;
use sse::SseSub;
pub use tickets::{Grant, Ticket, SCHEMA};

/// The path of a subscription forwarded to the object; its [`Subscribe`] travels as JSON in
/// [`SUBSCRIBE_HEADER`] (a WebSocket upgrade has no body).
pub const PATH: &str = "/stream";
pub const SUBSCRIBE_HEADER: &str = "x-trailsift-subscribe";

/// Stored rows read per statement.
const CHUNK: i64 = 500;
/// Stored rows a WebSocket catch-up reads before it lets other work in.
const CATCH_UP_ROWS: usize = 20_000;
/// The WebSocket readyState of an open socket.
const OPEN: u16 = 1;

/// The tail's typed messages.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TailRequest {
    /// Keeps a ticket until it is redeemed or expires. Answers `null`.
    Issue(Ticket),
    /// Takes the ticket with this digest, once. Answers [`Grant`], or `401 unauthorized`
    /// for a ticket that is unknown, used or expired.
    Redeem { digest: String, now: i64 },
    /// Answers the number of open subscribers (a `u64`).
    Subscribers,
}

/// A subscription the Worker has checked: its query, where it resumes, its transport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscribe {
    pub q: String,
    /// The sequence number after which events are sent; `None` starts with the next commit.
    pub after: Option<i64>,
    pub transport: Transport,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    WebSocket,
    Sse,
}

/// How much a subscriber may have outstanding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Events an SSE subscriber may have waiting, and a WebSocket may be sent at once.
    pub buffer: usize,
    /// Events a second a WebSocket may be sent once its `buffer` is spent.
    pub rate: usize,
}

/// What a WebSocket keeps across hibernation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Attachment {
    id: String,
    q: String,
    /// The cursor while the subscriber catches up; `None` once it is live.
    #[serde(default)]
    cursor: Option<i64>,
}

/// The text of a `dropped` notice.
fn dropped_json(n: u64) -> String {
    format!("{{\"dropped\":{n}}}")
}

/// The live tail of one account object.
pub struct Tail {
    inner: Rc<Inner>,
}

struct Inner {
    state: DurableObjectState,
    /// For catching up from a timer, outside any request.
    sql: SqlStorage,
    limits: Limits,
    /// WebSocket subscribers by id, once [`Inner::load`] has read them from the sockets.
    sockets: RefCell<HashMap<String, Socket>>,
    loaded: Cell<bool>,
    /// SSE subscribers; each response stream owns its own, so a closed one is gone here.
    streams: RefCell<Vec<Weak<RefCell<SseSub>>>>,
    /// The compiled filter of each query some subscriber holds, by its text.
    queries: RefCell<HashMap<String, Weak<Filter>>>,
    /// Whether a catch-up of WebSockets is scheduled.
    pump_due: Cell<bool>,
}

struct Socket {
    ws: WebSocket,
    id: String,
    q: String,
    filter: Rc<Filter>,
    cursor: i64,
    live: bool,
    budget: Budget,
    dropped: u64,
    dead: bool,
}

impl Tail {
    pub fn new(state: &State, limits: Limits) -> Tail {
        Tail {
            inner: Rc::new(Inner {
                state: JsValue::from(state.as_raw()).unchecked_into(),
                sql: state.storage().sql(),
                limits: Limits {
                    buffer: limits.buffer.max(1),
                    rate: limits.rate.max(1),
                },
                sockets: RefCell::new(HashMap::new()),
                loaded: Cell::new(false),
                streams: RefCell::new(Vec::new()),
                queries: RefCell::new(HashMap::new()),
                pump_due: Cell::new(false),
            }),
        }
    }

    /// Answers a [`TailRequest`] as JSON.
    pub fn handle(&self, sql: &SqlStorage, request: TailRequest) -> ApiResult<Vec<u8>> {
        match request {
            TailRequest::Issue(ticket) => {
                tickets::issue(sql, &ticket, now_ms())?;
                encode(&())
            }
            TailRequest::Redeem { digest, now } => encode(&tickets::redeem(sql, &digest, now)?),
            TailRequest::Subscribers => {
                self.inner.load(|| head(sql))?;
                encode(&self.inner.subscribers())
            }
        }
    }

    /// Opens a subscription: a WebSocket the object accepts with hibernation, or an SSE
    /// response. The Worker checked the query; one that does not compile is `400`.
    pub fn subscribe(&self, sql: &SqlStorage, sub: Subscribe) -> ApiResult<Response> {
        let filter = self.inner.compile(&sub.q)?;
        let head = head(sql)?;
        let cursor = sub.after.unwrap_or(head);
        let live = cursor >= head;
        match sub.transport {
            Transport::WebSocket => {
                self.inner.load(|| Ok(head))?;
                self.inner.subscribe_ws(sql, sub.q, filter, cursor, live)
            }
            Transport::Sse => {
                let sub = SseSub::new(filter, cursor, live, &self.inner.limits);
                let sub = Rc::new(RefCell::new(sub));
                self.inner.streams.borrow_mut().push(Rc::downgrade(&sub));
                Ok(sse::response(sub, sql.clone()))
            }
        }
    }

    /// Whether a commit about to be made has live subscribers to offer its events to
    /// (then the commit keeps its events' text for [`Tail::after_commit`]).
    pub fn listening(&self, sql: &SqlStorage) -> bool {
        self.inner.load(|| last_seq(sql)).is_ok() && self.inner.has_live()
    }

    /// Offers the events of a commit to the live subscribers: `bodies[i]`, as stored, is
    /// the event with sequence number `first + i`.
    pub fn after_commit(&self, first: i64, bodies: &[String]) {
        self.inner.fan_out(first, bodies, now_ms());
    }

    /// A socket closed or failed: it is no subscriber any more.
    pub fn closed(&self, ws: &WebSocket) {
        if let Ok(Some(att)) = ws.deserialize_attachment::<Attachment>() {
            self.inner.sockets.borrow_mut().remove(&att.id);
        }
        // Answer the client's close; a socket already closed refuses, which is fine.
        let _ = ws.close(Some(1000), Some("closed"));
    }
}

impl Inner {
    /// Reads the WebSocket subscribers from their sockets, once per lifetime of the object
    /// (the sockets survive hibernation; this memory does not). A live one was offered
    /// every commit before, so its cursor is `head`, the last sequence number before
    /// whatever the caller is about to offer.
    fn load(self: &Rc<Self>, head: impl FnOnce() -> ApiResult<i64>) -> ApiResult<()> {
        if self.loaded.get() {
            return Ok(());
        }
        let head = head()?;
        let sockets = self
            .state
            .get_websockets()
            .map_err(|e| ApiError::storage(format!("sockets: {e:?}")))?;
        let mut catching_up = false;
        {
            let mut known = self.sockets.borrow_mut();
            for ws in sockets.into_iter().map(WebSocket::from) {
                let att = ws.deserialize_attachment::<Attachment>().ok().flatten();
                let filter = att.as_ref().and_then(|a| self.compile(&a.q).ok());
                let (Some(att), Some(filter)) = (att, filter) else {
                    let _ = ws.close(Some(1011), Some("unreadable subscription"));
                    continue;
                };
                if ws.as_ref().ready_state() != OPEN || known.contains_key(&att.id) {
                    continue;
                }
                catching_up |= att.cursor.is_some();
                let socket = Socket {
                    ws,
                    id: att.id,
                    q: att.q,
                    filter,
                    cursor: att.cursor.unwrap_or(head),
                    live: att.cursor.is_none(),
                    budget: Budget::full(&self.limits),
                    dropped: 0,
                    dead: false,
                };
                known.insert(socket.id.clone(), socket);
            }
        }
        self.loaded.set(true);
        if catching_up {
            self.schedule_pump(0);
        }
        Ok(())
    }

    /// The compiled filter of query `q`: the one subscribers of `q` share, if any does.
    fn compile(&self, q: &str) -> ApiResult<Rc<Filter>> {
        let mut queries = self.queries.borrow_mut();
        if let Some(filter) = queries.get(q).and_then(Weak::upgrade) {
            return Ok(filter);
        }
        let filter = Rc::new(Filter::parse(q)?);
        queries.retain(|_, f| f.strong_count() > 0);
        queries.insert(q.to_string(), Rc::downgrade(&filter));
        Ok(filter)
    }

    /// Whether any subscriber takes commits as they happen.
    fn has_live(&self) -> bool {
        let streams = self.streams.borrow();
        let live_stream = streams
            .iter()
            .filter_map(Weak::upgrade)
            .any(|s| s.borrow().live);
        live_stream || self.sockets.borrow().values().any(|s| s.live)
    }

    fn subscribers(&self) -> u64 {
        let mut sockets = self.sockets.borrow_mut();
        sockets.retain(|_, s| s.ws.as_ref().ready_state() == OPEN);
        let mut streams = self.streams.borrow_mut();
        streams.retain(|s| s.strong_count() > 0);
        (sockets.len() + streams.len()) as u64
    }

    fn subscribe_ws(
        self: &Rc<Self>,
        sql: &SqlStorage,
        q: String,
        filter: Rc<Filter>,
        cursor: i64,
        live: bool,
    ) -> ApiResult<Response> {
        let pair = WebSocketPair::new()?;
        let socket = Socket {
            ws: pair.server,
            id: socket_id(),
            q,
            filter,
            cursor,
            live,
            budget: Budget::full(&self.limits),
            dropped: 0,
            dead: false,
        };
        socket.keep()?;
        self.state
            .accept_websocket_with_tags(socket.ws.as_ref(), vec![socket.id.as_str().into()])
            .map_err(|e| ApiError::storage(format!("the socket was not accepted: {e:?}")))?;
        self.sockets.borrow_mut().insert(socket.id.clone(), socket);
        if !live {
            self.pump(sql);
        }
        Ok(Response::from_websocket(pair.client)?)
    }

    /// Offers the commit's events to every live subscriber whose cursor is before them.
    fn fan_out(self: &Rc<Self>, first: i64, bodies: &[String], now: i64) {
        let last = first + bodies.len() as i64 - 1;
        if bodies.is_empty() || self.load(|| Ok(first - 1)).is_err() {
            return;
        }
        let mut sockets = self.sockets.borrow_mut();
        let streams: Vec<Rc<RefCell<SseSub>>> = {
            let mut weak = self.streams.borrow_mut();
            weak.retain(|s| s.strong_count() > 0);
            weak.iter().filter_map(Weak::upgrade).collect()
        };
        let mut streams: Vec<_> = streams.iter().map(|s| s.borrow_mut()).collect();
        let mut sinks: Vec<&mut dyn Sink> = Vec::new();
        for s in sockets.values_mut().filter(|s| s.live && s.cursor < last) {
            sinks.push(s);
        }
        for s in streams.iter_mut().filter(|s| s.live && s.cursor < last) {
            sinks.push(&mut **s);
        }
        if !sinks.is_empty() {
            offer(&mut sinks, first, bodies, now, &self.limits);
            for sink in &mut sinks {
                sink.settle(last);
            }
        }
        drop(sinks);
        prune(&mut sockets);
    }

    /// Moves the WebSocket subscribers that catch up along, each as far as its budget
    /// allows, and schedules itself again for those still behind.
    fn pump(self: &Rc<Self>, sql: &SqlStorage) {
        let now = now_ms();
        let mut wait: Option<u64> = None;
        let mut sockets = self.sockets.borrow_mut();
        for s in sockets.values_mut().filter(|s| !s.live && !s.dead) {
            match s.catch_up(sql, now, &self.limits) {
                Ok(Step::Live) => s.live = true,
                Ok(Step::Full) => {
                    let ms = s.budget.wait_ms(&self.limits, now);
                    wait = Some(wait.map_or(ms, |w| w.min(ms)));
                }
                Ok(Step::More) => wait = Some(0),
                Err(_) => s.dead = true,
            }
            s.dead = s.dead || s.keep().is_err();
        }
        prune(&mut sockets);
        drop(sockets);
        if let Some(ms) = wait {
            self.schedule_pump(ms);
        }
    }

    fn schedule_pump(self: &Rc<Self>, ms: u64) {
        if self.pump_due.replace(true) {
            return;
        }
        let inner = Rc::clone(self);
        worker::wasm_bindgen_futures::spawn_local(async move {
            Delay::from(Duration::from_millis(ms)).await;
            inner.pump_due.set(false);
            inner.pump(&inner.sql);
        });
    }
}

impl Socket {
    /// Writes where this subscriber stands into its attachment, for after hibernation.
    fn keep(&self) -> worker::Result<()> {
        self.ws.serialize_attachment(Attachment {
            id: self.id.clone(),
            q: self.q.clone(),
            cursor: (!self.live).then_some(self.cursor),
        })
    }

    /// Sends stored matches after the cursor while the budget lasts.
    fn catch_up(&mut self, sql: &SqlStorage, now: i64, limits: &Limits) -> ApiResult<Step> {
        let (ws, budget) = (&self.ws, &mut self.budget);
        let mut failed = false;
        let step = read_after(
            sql,
            &self.filter,
            &mut self.cursor,
            now,
            CATCH_UP_ROWS,
            &mut |_, body| {
                if failed || !budget.take(limits, now) {
                    return false;
                }
                failed = ws.send_with_str(body).is_err();
                !failed
            },
        )?;
        if failed {
            return Err(ApiError::storage("the socket refused a message"));
        }
        Ok(step)
    }
}

/// Forgets the sockets that failed, closing them in case they are still open.
fn prune(sockets: &mut HashMap<String, Socket>) {
    sockets.retain(|_, s| {
        if s.dead {
            let _ = s.ws.close(Some(1011), Some("the subscription failed"));
        }
        !s.dead
    });
}

/// A subscriber as the fan-out sees it.
trait Sink {
    fn filter(&self) -> &Rc<Filter>;
    fn cursor(&mut self) -> &mut i64;
    /// Takes one matching event, or counts it as dropped.
    fn offer(&mut self, seq: i64, body: &str, now: i64, limits: &Limits);
    /// The commit is done: the cursor moves to its end, and a drop count goes out.
    fn settle(&mut self, last: i64);
}

impl Sink for Socket {
    fn filter(&self) -> &Rc<Filter> {
        &self.filter
    }
    fn cursor(&mut self) -> &mut i64 {
        &mut self.cursor
    }
    fn offer(&mut self, _seq: i64, body: &str, now: i64, limits: &Limits) {
        if self.dead {
            return;
        }
        if self.budget.take(limits, now) {
            self.dead = self.ws.send_with_str(body).is_err();
        } else {
            self.dropped += 1;
        }
    }
    fn settle(&mut self, last: i64) {
        self.cursor = self.cursor.max(last);
        if self.dropped > 0 && !self.dead {
            self.dead = self.ws.send_with_str(dropped_json(self.dropped)).is_err();
        }
        self.dropped = 0;
        self.dead |= self.ws.as_ref().ready_state() != OPEN;
    }
}

/// Offers the events of a commit (`bodies[i]` has sequence number `first + i`) to
/// `sinks`, each in order; the filter of each distinct query is decided once on the batch.
fn offer(sinks: &mut [&mut dyn Sink], first: i64, bodies: &[String], now: i64, limits: &Limits) {
    let mut group_of: HashMap<*const Filter, usize> = HashMap::new();
    let mut filters: Vec<Rc<Filter>> = Vec::new();
    let groups: Vec<usize> = sinks
        .iter()
        .map(|sink| {
            let filter = sink.filter();
            *group_of.entry(Rc::as_ptr(filter)).or_insert_with(|| {
                filters.push(Rc::clone(filter));
                filters.len() - 1
            })
        })
        .collect();
    let lines: Vec<&[u8]> = bodies.iter().map(|b| b.as_bytes()).collect();
    let filters: Vec<&Filter> = filters.iter().map(|f| &**f).collect();
    let matches = batch::decide(&filters, &lines, now);
    for (sink, &group) in sinks.iter_mut().zip(&groups) {
        let rows = matches.get(group).map_or(&[][..], Vec::as_slice);
        for &row in rows {
            let seq = first + i64::from(row);
            let Some(body) = bodies.get(row as usize) else {
                continue;
            };
            if *sink.cursor() < seq {
                *sink.cursor() = seq;
                sink.offer(seq, body, now, limits);
            }
        }
    }
}

/// How far one catch-up step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// It read the last stored event: the subscriber is live.
    Live,
    /// The subscriber took no more.
    Full,
    /// It read its share of rows; more are stored.
    More,
}

/// Reads stored events after `cursor` and hands each match to `take`, until `take` refuses
/// one (the cursor stays before it), `max_rows` are read, or storage has no more.
fn read_after(
    sql: &SqlStorage,
    filter: &Filter,
    cursor: &mut i64,
    now: i64,
    max_rows: usize,
    take: &mut dyn FnMut(i64, &str) -> bool,
) -> ApiResult<Step> {
    let mut read = 0usize;
    while read < max_rows {
        let binds = vec![
            SqlStorageValue::Integer(*cursor),
            SqlStorageValue::Integer(CHUNK),
        ];
        let mut rows = 0i64;
        for row in sql::rows(
            sql,
            "SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            binds,
        )? {
            let mut cols = row?.into_iter();
            rows += 1;
            read += 1;
            let seq = int(cols.next());
            let body = text(cols.next()).unwrap_or_default();
            if keeps(Some(filter), &body, now) && !take(seq, &body) {
                return Ok(Step::Full);
            }
            *cursor = seq;
        }
        if rows < CHUNK {
            return Ok(Step::Live);
        }
    }
    Ok(Step::More)
}

/// The account's last sequence number (0 before the first event).
fn head(sql: &SqlStorage) -> ApiResult<i64> {
    let mut head = 0;
    for row in sql::rows(sql, "SELECT max(seq) FROM events", Vec::new())? {
        head = int(row?.into_iter().next());
    }
    Ok(head)
}

/// A random tag for a socket (not a secret: it only tells sockets apart).
fn socket_id() -> String {
    let half = || (js_sys::Math::random() * 4_294_967_296.0) as u64;
    format!("{:08x}{:08x}", half(), half())
}

/// A WebSocket's allowance: [`Limits::buffer`] events at once, refilled at [`Limits::rate`]
/// a second. Kept in thousandths of an event, so that whole numbers stay exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Budget {
    milli: u64,
    at: Option<i64>,
}

impl Budget {
    fn full(limits: &Limits) -> Budget {
        Budget {
            milli: limits.buffer as u64 * 1000,
            at: None,
        }
    }

    fn refill(&mut self, limits: &Limits, now: i64) {
        if let Some(then) = self.at {
            // `rate` events a second are `rate` thousandths of an event a millisecond.
            let elapsed = u64::try_from(now.saturating_sub(then)).unwrap_or(0);
            self.milli = self
                .milli
                .saturating_add(elapsed.saturating_mul(limits.rate as u64))
                .min(limits.buffer as u64 * 1000);
        }
        self.at = Some(now);
    }

    /// Takes one event's worth, if there is one.
    fn take(&mut self, limits: &Limits, now: i64) -> bool {
        self.refill(limits, now);
        match self.milli.checked_sub(1000) {
            Some(left) => {
                self.milli = left;
                true
            }
            None => false,
        }
    }

    /// Milliseconds until one event's worth is back (at least 1).
    fn wait_ms(&mut self, limits: &Limits, now: i64) -> u64 {
        self.refill(limits, now);
        let missing = 1000u64.saturating_sub(self.milli);
        missing.div_ceil(limits.rate as u64).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_holds_its_buffer_and_refills_at_its_rate() {
        let limits = Limits { buffer: 4, rate: 2 };
        let mut b = Budget::full(&limits);
        assert!((0..4).all(|_| b.take(&limits, 1_000)));
        assert!(!b.take(&limits, 1_000));
        assert_eq!(b.wait_ms(&limits, 1_000), 500);
        assert!(!b.take(&limits, 1_499));
        assert!(b.take(&limits, 1_500));
        // An hour idle fills it to its buffer, no more.
        assert!((0..4).all(|_| b.take(&limits, 3_600_000)));
        assert!(!b.take(&limits, 3_600_000));
        // A clock that goes backwards refills nothing.
        assert!(!b.take(&limits, 0));
    }

    #[test]
    fn messages_read_back_as_written() {
        let sub = Subscribe {
            q: "action:create".into(),
            after: Some(12),
            transport: Transport::Sse,
        };
        let text = serde_json::to_string(&sub).unwrap();
        assert_eq!(
            text,
            r#"{"q":"action:create","after":12,"transport":"sse"}"#
        );
        assert_eq!(serde_json::from_str::<Subscribe>(&text).unwrap(), sub);
        let redeem = serde_json::to_value(TailRequest::Redeem {
            digest: "ab".into(),
            now: 5,
        })
        .unwrap();
        assert_eq!(
            redeem,
            serde_json::json!({"redeem": {"digest": "ab", "now": 5}})
        );
        assert_eq!(dropped_json(20), r#"{"dropped":20}"#);
        let att = Attachment {
            id: "a1".into(),
            q: "x".into(),
            cursor: None,
        };
        let back: Attachment = serde_json::from_str(r#"{"id":"a1","q":"x"}"#).unwrap();
        assert_eq!(back, att);
    }
}
