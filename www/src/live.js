// The page's live view: an EventSource on the Worker's `/v1/stream` with the current filter,
// opened with a one-use ticket. Messages are handed on as they came (their text; the engine
// reads them), in batches. A dropped connection, and a `dropped` notice (the server let
// events go because the page fell behind), both end in a new subscription with a fresh
// ticket that resumes after the last event received, so that nothing is missed or repeated.

import { streamTicket, streamUrl } from './api.js';

// Messages are handed on at most this often (each batch redraws the view once).
const BATCH_MS = 150;
// Waits between attempts to subscribe again, growing to the last.
const RETRY_MS = [250, 500, 1000, 2000, 5000];

export class LiveTail {
  // `onEvents(texts)` (awaited; batches are handed on one at a time, in order),
  // `onDropped(n)`, and `onState(state, message)` with state off | connecting | live |
  // reconnecting | failed.
  constructor({ conn, onEvents, onDropped, onState }) {
    this.conn = conn;
    this.onEvents = onEvents;
    this.onDropped = onDropped;
    this.onState = onState;
    this.on = false;
    this.gen = 0; // the subscription that messages must belong to
    this.session = 0; // from a start to a stop: batches of an ended one are not handed on
    this.es = null;
    this.timer = 0;
    this.pending = [];
    this.delivering = Promise.resolve();
    // For the tests: subscriptions opened and the sequence number resumed after.
    this.stats = { connections: 0, resumedAfter: [], received: 0 };
  }

  // Subscribes with `query` to the events committed from now on.
  start(query) {
    this.stop();
    this.on = true;
    this.query = query;
    this.lastId = null;
    this.retries = 0;
    this.connect(this.gen, 'connecting');
  }

  // Ends the subscription. Messages not handed on yet are let go: the rows are about to be
  // replaced (a new filter), or the user asked for no more.
  stop() {
    this.gen++;
    this.session++;
    this.close();
    clearTimeout(this.timer);
    clearTimeout(this.batchTimer);
    this.batchTimer = 0;
    this.pending = [];
    if (this.on) this.onState('off');
    this.on = false;
  }

  close() {
    if (this.es) this.es.close();
    this.es = null;
  }

  async connect(gen, state) {
    this.onState(state);
    let ticket;
    try {
      ({ ticket } = await streamTicket(this.conn()));
    } catch (e) {
      if (gen !== this.gen) return;
      // Refused (no read scope, bad token): trying again would not help.
      if (e.status === 401 || e.status === 403) {
        this.on = false;
        this.onState('failed', `${e.data.code}: ${e.message}`);
        return;
      }
      this.retry(gen, `${e.data ? e.data.code : 'network'}: ${e.message}`);
      return;
    }
    if (gen !== this.gen) return;
    this.stats.connections++;
    if (this.lastId !== null) this.stats.resumedAfter.push(this.lastId);
    const es = new EventSource(streamUrl(this.conn(), { q: this.query, ticket, after: this.lastId }));
    this.es = es;
    es.onopen = () => {
      if (gen !== this.gen) return;
      this.retries = 0;
      this.onState('live');
    };
    es.onmessage = (m) => {
      if (gen !== this.gen) return;
      this.lastId = m.lastEventId;
      this.stats.received++;
      this.pending.push(m.data);
      if (!this.batchTimer) this.batchTimer = setTimeout(() => this.flush(), BATCH_MS);
    };
    // The subscription's starting point: resuming from it misses nothing even when the
    // connection drops before the first event.
    es.addEventListener('ready', (m) => {
      if (gen !== this.gen) return;
      this.lastId = m.lastEventId;
    });
    es.addEventListener('dropped', (m) => {
      if (gen !== this.gen) return;
      let n = 0;
      try { n = JSON.parse(m.data).dropped; } catch { /* the count is only shown */ }
      this.onDropped(n);
      // What was dropped is still stored: read it again from the last event received.
      this.resubscribe(0);
    });
    // The browser would reconnect with the same ticket, which is used up: a new
    // subscription takes its place.
    es.onerror = () => {
      if (gen !== this.gen) return;
      this.retry(gen, 'the connection was lost');
    };
  }

  retry(gen, message) {
    if (gen !== this.gen) return;
    this.onState('reconnecting', message);
    this.resubscribe(RETRY_MS[Math.min(this.retries++, RETRY_MS.length - 1)]);
  }

  resubscribe(delay) {
    const gen = ++this.gen;
    this.close();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(gen, 'reconnecting'), delay);
  }

  // Hands the messages received so far on, after the batches before them.
  flush() {
    this.batchTimer = 0;
    if (!this.pending.length) return;
    const texts = this.pending;
    const session = this.session;
    this.pending = [];
    this.delivering = this.delivering.then(() => session === this.session && this.onEvents(texts)).catch(() => {});
  }
}
