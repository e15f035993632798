// The Worker's HTTP API (/v1), used by the page in online mode: events, stats and saved
// filters. Errors become {code, message} from the API's error body.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.data = { code, message, status };
  }
}

export async function api(conn, path, { method = 'GET', params, body, raw = false } = {}) {
  const url = new URL(conn.url + path);
  if (params) for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  const headers = { Authorization: `Bearer ${conn.token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) {
    let code = `http_${res.status}`;
    let message = res.statusText || `HTTP ${res.status}`;
    try {
      const j = await res.json();
      if (j && j.error) { code = j.error.code || code; message = j.error.message || message; }
    } catch { /* not a JSON error body */ }
    throw new ApiError(res.status, code, message);
  }
  if (raw) return res;
  if (res.status === 204) return null;
  return res.json();
}

export function fetchEventsPage(conn, params) {
  return api(conn, '/v1/events', { params: { ...params, format: 'json' } });
}

export function fetchStats(conn, params) {
  return api(conn, '/v1/stats', { params });
}

export async function downloadExport(conn, params) {
  const res = await api(conn, '/v1/events', { params, raw: true });
  const cd = res.headers.get('Content-Disposition') || '';
  const m = /filename="?([^";]+)"?/.exec(cd);
  return { blob: await res.blob(), fileName: m ? m[1] : `trailsift-export.${params.format}` };
}

export const filtersApi = {
  list: (conn) => api(conn, '/v1/filters'),
  create: (conn, f) => api(conn, '/v1/filters', { method: 'POST', body: f }),
  remove: (conn, id) => api(conn, `/v1/filters/${encodeURIComponent(id)}`, { method: 'DELETE' }),
};

// --- live tail and destinations (issue 15) -------------------------------------------------

// A one-use ticket for `GET /v1/stream` (an EventSource cannot send the bearer token).
export function streamTicket(conn) {
  return api(conn, '/v1/stream/tickets', { method: 'POST' });
}

// The URL of a live tail with the filter `q`, a ticket, and the sequence number to resume after.
export function streamUrl(conn, { q, ticket, after }) {
  const url = new URL(`${conn.url}/v1/stream`);
  if (q) url.searchParams.set('q', q);
  url.searchParams.set('ticket', ticket);
  if (after !== null && after !== undefined && after !== '') url.searchParams.set('after', after);
  return url.toString();
}

const dest = (id, rest = '') => `/v1/destinations/${encodeURIComponent(id)}${rest}`;
export const destinationsApi = {
  list: (conn) => api(conn, '/v1/destinations'),
  create: (conn, d) => api(conn, '/v1/destinations', { method: 'POST', body: d }),
  update: (conn, id, patch) => api(conn, dest(id), { method: 'PATCH', body: patch }),
  status: (conn, id) => api(conn, dest(id, '/status')),
  test: (conn, id) => api(conn, dest(id, '/test'), { method: 'POST' }),
  flush: (conn, id) => api(conn, dest(id, '/flush'), { method: 'POST' }),
  replay: (conn, id, batches) => api(conn, dest(id, '/replay'), { method: 'POST', body: batches ? { batches } : {} }),
  discard: (conn, id, batch) => api(conn, dest(id, `/dead-letters/${encodeURIComponent(batch)}`), { method: 'DELETE' }),
};

// API tokens of the account (admin): the secret comes back once, from create.
export const tokensApi = {
  list: (conn) => api(conn, '/v1/tokens'),
  create: (conn, t) => api(conn, '/v1/tokens', { method: 'POST', body: t }),
  revoke: (conn, id) => api(conn, `/v1/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' }),
};
