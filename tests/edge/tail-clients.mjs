// Live-tail clients for the edge tests and the tail benchmark: a WebSocket subscriber (the
// `ws` package: Node 20 has no global WebSocket) and a Server-Sent Events subscriber
// (node:http, so that a test can stop reading). Both collect what arrives.
import http from 'node:http';
import WebSocket from 'ws';

function streamUrl(base, { q, after, ticket }, scheme) {
  const u = new URL('/v1/stream', base);
  if (scheme) u.protocol = scheme;
  if (q !== undefined) u.searchParams.set('q', q);
  if (after !== undefined) u.searchParams.set('after', String(after));
  if (ticket !== undefined) u.searchParams.set('ticket', ticket);
  return u;
}

/** What a subscriber has received: events (parsed), dropped counts, and a way to wait. */
class Inbox {
  constructor() {
    this.events = [];   // the events' JSON, parsed
    this.seqs = [];     // SSE only: the id of each event
    this.dropped = [];  // the N of each {"dropped": N}
    this.ready = [];    // SSE only: [id, after] of each `ready` message
    this.arrivals = []; // performance.now() at each event
    this.waiters = [];
  }
  add(kind, value, seq) {
    if (kind === 'dropped') this.dropped.push(value);
    else if (kind === 'ready') this.ready.push([seq, value]);
    else {
      this.events.push(value);
      this.arrivals.push(performance.now());
      if (seq !== undefined) this.seqs.push(seq);
    }
    this.waiters = this.waiters.filter((w) => !w());
  }
  get droppedTotal() { return this.dropped.reduce((a, b) => a + b, 0); }
  ids() { return this.events.map((e) => e.auditEventId); }
  /** Resolves once `pred(this)` holds; fails with `what` after `ms`. */
  until(pred, what = 'the expected messages', ms = 120_000) {
    if (pred(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`waited ${ms} ms for ${what}; have ${this.events.length} events, dropped ${JSON.stringify(this.dropped)}`));
      }, ms);
      const check = () => {
        if (!pred(this)) return false;
        clearTimeout(timer);
        resolve();
        return true;
      };
      this.waiters.push(check);
    });
  }
}

function refusal(res, resolve) {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (d) => { body += d; });
  res.on('end', () => {
    let json;
    try { json = JSON.parse(body); } catch { json = undefined; }
    resolve({ status: res.statusCode, json, text: body });
  });
}

/**
 * Opens a WebSocket subscription. Resolves with {status: 101, inbox, ws, close()} once open,
 * or {status, json} when the Worker refuses the upgrade.
 */
export function wsTail(base, { token, headers = {}, ...params } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  const ws = new WebSocket(streamUrl(base, params, 'ws:'), { headers: h });
  const inbox = new Inbox();
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    if (Object.keys(msg).length === 1 && typeof msg.dropped === 'number') inbox.add('dropped', msg.dropped);
    else inbox.add('event', msg);
  });
  return new Promise((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => refusal(res, resolve));
    ws.on('open', () => resolve({
      status: 101, inbox, ws,
      close: () => new Promise((r) => { ws.once('close', r); ws.close(); }),
    }));
    ws.on('error', reject);
  });
}

/**
 * Opens a Server-Sent Events subscription. Resolves with {status: 200, inbox, pause(),
 * resume(), close()} once the answer's head arrived (the subscription stands), or with
 * {status, json} for a refusal. `reading: false` leaves the body unread until `resume()`.
 */
export function sseTail(base, { token, lastEventId, headers = {}, reading = true, ...params } = {}) {
  const h = { accept: 'text/event-stream', ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (lastEventId !== undefined) h['last-event-id'] = String(lastEventId);
  return new Promise((resolve, reject) => {
    const req = http.get(streamUrl(base, params), { headers: h, agent: false }, (res) => {
      if (res.statusCode !== 200) return refusal(res, resolve);
      const inbox = new Inbox();
      let buf = '';
      const onData = (chunk) => {
        buf += chunk;
        let end;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          let id; let event = 'message'; const data = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const at = line.indexOf(':');
            const name = at < 0 ? line : line.slice(0, at);
            const value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '');
            if (name === 'id') id = Number(value);
            else if (name === 'event') event = value;
            else if (name === 'data') data.push(value);
          }
          if (!data.length) continue;
          const msg = JSON.parse(data.join('\n'));
          if (event === 'dropped') inbox.add('dropped', msg.dropped);
          else if (event === 'ready') inbox.add('ready', msg.after, id);
          else inbox.add('event', msg, id);
        }
      };
      res.setEncoding('utf8');
      const client = {
        status: 200, inbox, res,
        headers: res.headers,
        resume() { res.on('data', onData); res.resume(); },
        pause() { res.pause(); },
        close() { req.destroy(); },
      };
      if (reading) client.resume();
      resolve(client);
    });
    req.on('error', reject);
  });
}
