//! Server-Sent Events subscribers: a bounded queue of matching sequence numbers between the
//! fan-out and the response stream, which reads the events' text from storage as the
//! client takes it, and writes the `id:`/`data:` and `event: dropped` messages.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::stream::Stream;
use worker::{Delay, Headers, Response, SqlStorage, SqlStorageValue};

use super::super::sql::{self, int, text};
use super::{dropped_json, read_after, Limits, Sink, Step};
use crate::edge::error::{ApiError, ApiResult};
use crate::edge::filtering::Filter;
use crate::edge::now_ms;

/// Bytes of messages handed to the response stream at once.
const CHUNK_BYTES: usize = 64 * 1024;
/// Stored rows read per step while catching up.
const CATCH_UP_ROWS: usize = 500;
/// Sequence numbers per `IN (...)` read: SQLite takes at most 100 bound parameters.
const READ_BATCH: usize = 99;
/// An idle stream sends a comment this often, so that proxies keep it open, and so that
/// workerd notices a client that is gone (it learns that only from a write).
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub struct SseSub {
    pub filter: Rc<Filter>,
    pub cursor: i64,
    pub live: bool,
    queue: Queue,
    waker: Option<Waker>,
}

impl SseSub {
    pub fn new(filter: Rc<Filter>, cursor: i64, live: bool, limits: &Limits) -> SseSub {
        SseSub {
            filter,
            cursor,
            live,
            queue: Queue::new(limits.buffer),
            waker: None,
        }
    }
}

impl Sink for SseSub {
    fn filter(&self) -> &Rc<Filter> {
        &self.filter
    }
    fn cursor(&mut self) -> &mut i64 {
        &mut self.cursor
    }
    fn offer(&mut self, seq: i64, _body: &str, _now: i64, _limits: &Limits) {
        self.queue.push(seq);
    }
    fn settle(&mut self, last: i64) {
        self.cursor = self.cursor.max(last);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// The response of an SSE subscription, whose body the subscriber feeds.
pub fn response(sub: Rc<RefCell<SseSub>>, sql: SqlStorage) -> Response {
    let stream = SseStream {
        sub,
        sql,
        opened: false,
        keep_alive: None,
    };
    let headers = Headers::new();
    let _ = headers.set("content-type", "text/event-stream; charset=utf-8");
    let _ = headers.set("cache-control", "no-store");
    match Response::from_stream(stream) {
        Ok(resp) => resp.with_headers(headers),
        Err(e) => ApiError::storage(format!("stream: {e}")).into_response(),
    }
}

/// What an SSE subscriber has waiting: the sequence numbers of matching events, and in
/// place of the events that found it full, how many there were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Event(i64),
    Dropped(u64),
}

#[derive(Debug)]
struct Queue {
    items: VecDeque<Item>,
    events: usize,
    cap: usize,
}

impl Queue {
    fn new(cap: usize) -> Queue {
        Queue {
            items: VecDeque::new(),
            events: 0,
            cap,
        }
    }

    /// Adds an event, or counts it as dropped when `cap` events wait already. The count
    /// sits where the events would have been, so the client learns of the gap in order.
    fn push(&mut self, seq: i64) {
        if self.events < self.cap {
            self.items.push_back(Item::Event(seq));
            self.events += 1;
        } else if let Some(Item::Dropped(n)) = self.items.back_mut() {
            *n += 1;
        } else {
            self.items.push_back(Item::Dropped(1));
        }
    }

    fn pop(&mut self) -> Option<Item> {
        let item = self.items.pop_front()?;
        if matches!(item, Item::Event(_)) {
            self.events -= 1;
        }
        Some(item)
    }

    /// The events at the front, up to `n`, in order (a `Dropped` ends the run).
    fn take_events(&mut self, n: usize) -> Vec<i64> {
        let mut seqs = Vec::new();
        while seqs.len() < n {
            match self.items.front() {
                Some(Item::Event(seq)) => {
                    seqs.push(*seq);
                    self.pop();
                }
                _ => break,
            }
        }
        seqs
    }

    /// Writes waiting messages into `out` until it holds about [`CHUNK_BYTES`], reading
    /// the events' text from storage (an event deleted meanwhile by retention is skipped).
    fn drain_into(&mut self, sql: &SqlStorage, out: &mut String) -> ApiResult<()> {
        while out.len() < CHUNK_BYTES {
            match self.items.front().copied() {
                None => break,
                Some(Item::Dropped(n)) => {
                    self.pop();
                    write_dropped(out, n);
                }
                Some(Item::Event(_)) => {
                    let seqs = self.take_events(READ_BATCH);
                    let marks = vec!["?"; seqs.len()].join(",");
                    let stmt =
                        format!("SELECT seq, body FROM events WHERE seq IN ({marks}) ORDER BY seq");
                    let binds = seqs.into_iter().map(SqlStorageValue::Integer).collect();
                    for row in sql::rows(sql, &stmt, binds)? {
                        let mut cols = row?.into_iter();
                        let seq = int(cols.next());
                        write_event(out, seq, &text(cols.next()).unwrap_or_default());
                    }
                }
            }
        }
        Ok(())
    }
}

/// One event as an SSE message. A stored event's text may span lines (a pretty array
/// element): each line becomes a `data:` line, which the client joins with `\n`.
fn write_event(out: &mut String, seq: i64, body: &str) {
    out.push_str("id: ");
    out.push_str(&seq.to_string());
    out.push('\n');
    for line in body.split(['\r', '\n']).filter(|l| !l.is_empty()) {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
}

/// The first message: `event: ready` whose id (and `after`) is the sequence number the
/// subscription starts after, so a client that resumes with it misses nothing even when no
/// event has arrived yet. Clients that know only unnamed messages ignore it (SSE's rules).
fn write_ready(out: &mut String, cursor: i64) {
    out.push_str("event: ready\nid: ");
    out.push_str(&cursor.to_string());
    out.push_str("\ndata: {\"after\":");
    out.push_str(&cursor.to_string());
    out.push_str("}\n\n");
}

fn write_dropped(out: &mut String, n: u64) {
    out.push_str("event: dropped\ndata: ");
    out.push_str(&dropped_json(n));
    out.push_str("\n\n");
}

/// The body of an SSE response. While the subscriber catches up it reads storage whenever
/// the client has taken what was written; once live it drains the queue the fan-out fills.
struct SseStream {
    sub: Rc<RefCell<SseSub>>,
    sql: SqlStorage,
    opened: bool,
    keep_alive: Option<Delay>,
}

impl Stream for SseStream {
    type Item = Result<Vec<u8>, worker::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let mut out = String::new();
        let mut sub = this.sub.borrow_mut();
        if !this.opened {
            // At once, so that the client knows the subscription stands and where it starts:
            // a connection lost before the first event resumes after that, not after "now".
            write_ready(&mut out, sub.cursor);
            this.opened = true;
        }
        let written = if sub.queue.items.is_empty() && !sub.live {
            let SseSub { filter, cursor, .. } = &mut *sub;
            let step = read_after(
                &this.sql,
                filter,
                cursor,
                now_ms(),
                CATCH_UP_ROWS,
                &mut |seq, body| {
                    out.len() < CHUNK_BYTES && {
                        write_event(&mut out, seq, body);
                        true
                    }
                },
            );
            step.map(|step| sub.live = step == Step::Live)
        } else {
            sub.queue.drain_into(&this.sql, &mut out)
        };
        if let Err(e) = written {
            return Poll::Ready(Some(Err(worker::Error::RustError(e.message))));
        }
        if !out.is_empty() {
            this.keep_alive = None;
            return Poll::Ready(Some(Ok(out.into_bytes())));
        }
        if !sub.live {
            // Storage holds more to read: come back at once.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        sub.waker = Some(cx.waker().clone());
        drop(sub);
        let timer = this
            .keep_alive
            .get_or_insert_with(|| Delay::from(KEEP_ALIVE));
        if Pin::new(timer).poll(cx).is_ready() {
            this.keep_alive = None;
            return Poll::Ready(Some(Ok(b": keep-alive\n\n".to_vec())));
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_counts_drops_in_place() {
        let mut q = Queue::new(2);
        for seq in 1..=5 {
            q.push(seq);
        }
        assert_eq!(q.pop(), Some(Item::Event(1)));
        // Room for one again: it goes after the count of those dropped before it, and the
        // next one that finds the queue full starts a new count.
        q.push(6);
        q.push(7);
        let rest: Vec<Item> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            rest,
            [
                Item::Event(2),
                Item::Dropped(3),
                Item::Event(6),
                Item::Dropped(1)
            ]
        );
        assert_eq!(q.events, 0);
    }

    #[test]
    fn a_run_of_events_stops_at_a_drop_count() {
        let mut q = Queue::new(3);
        for seq in [4, 8, 9, 10, 11] {
            q.push(seq);
        }
        assert_eq!(q.take_events(99), [4, 8, 9]);
        assert_eq!(q.take_events(99), Vec::<i64>::new());
        assert_eq!(q.pop(), Some(Item::Dropped(2)));
        q.push(12);
        q.push(13);
        assert_eq!(q.take_events(1), [12]);
        assert_eq!(q.take_events(1), [13]);
    }

    #[test]
    fn messages_are_sse() {
        let mut out = String::new();
        write_ready(&mut out, 5);
        write_event(&mut out, 7, "{\"a\":\r\n 1,\n\"b\":2}");
        write_dropped(&mut out, 3);
        assert_eq!(
            out,
            "event: ready\nid: 5\ndata: {\"after\":5}\n\nid: 7\ndata: {\"a\":\ndata:  1,\ndata: \"b\":2}\n\nevent: dropped\ndata: {\"dropped\":3}\n\n"
        );
        // What a client joins back together is the same JSON.
        let first = out.split("\n\n").nth(1).unwrap_or_default();
        let data: Vec<&str> = first
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .collect();
        let joined: serde_json::Value = serde_json::from_str(&data.join("\n")).unwrap();
        assert_eq!(joined, serde_json::json!({"a": 1, "b": 2}));
    }
}
