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

// API tokens of the account (admin): the secret comes back once, from create.
export const tokensApi = {
  list: (conn) => api(conn, '/v1/tokens'),
  create: (conn, t) => api(conn, '/v1/tokens', { method: 'POST', body: t }),
  revoke: (conn, id) => api(conn, `/v1/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' }),
};
