//! The per-account Durable Object: SQLite storage of events (sequence numbers, idempotency
//! by `auditEventId`, retention alarm) and saved filters.
//!
//! The Worker talks to it with small JSON requests (`POST https://store/<op>`). Every
//! write of one request happens without an intervening `await`, so the runtime commits it
//! atomically, and the answer leaves the object only once the write is durable.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use worker::{
    durable_object, DurableObject, Env, Request, Response, SqlStorage, SqlStorageValue, State,
};

use super::error::{json_response, ApiError, ApiResult};
use super::filtering::{self, Filter};
use super::ratelimit::{self, TokenBucket};

/// Rows per multi-row insert: 3 bound parameters each, under the 100-parameter limit.
const INSERT_CHUNK: usize = 33;
/// Rows read from SQLite per scan step.
const SCAN_CHUNK: i64 = 500;
/// Rows examined per query call before answering with a cursor.
const SCAN_BUDGET: usize = 20_000;
const DAY_MS: i64 = 86_400_000;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        time INTEGER NOT NULL,
        body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS events_time ON events (time, seq)",
    "CREATE TABLE IF NOT EXISTS filters (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        query TEXT,
        structured TEXT,
        visibility TEXT NOT NULL,
        owner TEXT NOT NULL,
        created INTEGER NOT NULL,
        updated INTEGER NOT NULL)",
];

#[durable_object]
pub struct AccountStore {
    state: State,
    env: Env,
    ready: Cell<bool>,
    alarm_checked: Cell<bool>,
    /// The account's request budget (in memory: the object sees every request of its
    /// account; a restarted object starts with a full bucket).
    limiter: RefCell<TokenBucket>,
}

impl DurableObject for AccountStore {
    fn new(state: State, env: Env) -> Self {
        AccountStore {
            state,
            env,
            ready: Cell::new(false),
            alarm_checked: Cell::new(false),
            limiter: RefCell::new(TokenBucket::new()),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let op = req.path().trim_start_matches('/').to_string();
        if op == "ratelimit" {
            return Ok(self.admit().map_or_else(ApiError::into_response, |()| {
                json_response(200, &json!({"ok": true}))
            }));
        }
        let bytes = match req.bytes().await {
            Ok(b) => b,
            Err(e) => return Ok(ApiError::from(e).into_response()),
        };
        let body: Value = if op == "ingest" || bytes.is_empty() {
            Value::Null
        } else {
            match serde_json::from_slice(&bytes) {
                Ok(v) => v,
                Err(e) => {
                    return Ok(ApiError::bad_request("bad_request", e.to_string()).into_response())
                }
            }
        };
        if op == "ingest" {
            self.ensure_alarm().await;
        }
        let result = self.ensure_schema().and_then(|sql| match op.as_str() {
            "ingest" => self.in_transaction(move || ingest(&sql, &bytes)),
            "query" => query(&sql, &body),
            "get" => get_event(&sql, &body),
            "stats" => stats(&sql, &body),
            "count" => count(&sql),
            "filters/list" => filters_list(&sql, &body),
            "filters/create" => filters_create(&sql, &body),
            "filters/get" => filters_get(&sql, &body),
            "filters/update" => filters_update(&sql, &body),
            "filters/delete" => filters_delete(&sql, &body),
            _ => Err(ApiError::not_found("operation")),
        });
        Ok(match result {
            Ok(Reply::Json(v)) => json_response(200, &v),
            Ok(Reply::Text(t)) => super::error::text_response(200, t, "application/json"),
            Err(e) => e.into_response(),
        })
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let retention_days = self
            .env
            .var("RETENTION_DAYS")
            .ok()
            .and_then(|v| v.to_string().trim().parse::<i64>().ok())
            .filter(|d| *d > 0)
            .unwrap_or(730);
        if let Ok(sql) = self.ensure_schema() {
            let cutoff = now_ms() - retention_days.saturating_mul(DAY_MS);
            loop {
                let deleted = sql
                    .exec(
                        "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE time < ? LIMIT 5000)",
                        vec![SqlStorageValue::Integer(cutoff)],
                    )
                    .map(|c| c.rows_written())
                    .unwrap_or(0);
                if deleted < 5000 {
                    break;
                }
            }
        }
        self.state
            .storage()
            .set_alarm(self.retention_interval_ms())
            .await?;
        Response::ok("retention applied")
    }
}

enum Reply {
    Json(Value),
    Text(String),
}

impl AccountStore {
    /// Takes one request from the account's budget (`RATE_LIMIT_REQUESTS_PER_MINUTE`).
    fn admit(&self) -> ApiResult<()> {
        let limit = ratelimit::parse_limit(
            self.env
                .var(ratelimit::LIMIT_VAR)
                .ok()
                .map(|v| v.to_string())
                .as_deref(),
        );
        self.limiter
            .borrow_mut()
            .take(limit, now_ms())
            .map_err(ApiError::rate_limited)
    }

    /// How often the retention alarm runs: `RETENTION_INTERVAL_SECONDS`, default daily.
    fn retention_interval_ms(&self) -> i64 {
        self.env
            .var("RETENTION_INTERVAL_SECONDS")
            .ok()
            .and_then(|v| v.to_string().trim().parse::<i64>().ok())
            .filter(|s| *s > 0)
            .map_or(DAY_MS, |s| s.saturating_mul(1000))
    }

    fn ensure_schema(&self) -> ApiResult<SqlStorage> {
        let sql = self.state.storage().sql();
        if !self.ready.get() {
            for stmt in SCHEMA {
                sql.exec(stmt, None)
                    .map_err(|e| ApiError::storage(format!("schema: {e}")))?;
            }
            self.ready.set(true);
        }
        Ok(sql)
    }

    /// Runs `f` inside the storage's synchronous transaction: when it fails, none of its
    /// writes are kept (an error rolls the transaction back).
    fn in_transaction(&self, f: impl FnOnce() -> ApiResult<Reply> + 'static) -> ApiResult<Reply> {
        let storage = self.state.storage();
        let raw: &JsValue = storage.as_raw().as_ref();
        let func = js_sys::Reflect::get(raw, &JsValue::from_str("transactionSync"))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        let Some(func) = func else {
            return f();
        };
        let slot: Rc<RefCell<Option<ApiResult<Reply>>>> = Rc::new(RefCell::new(None));
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

    /// Makes sure the retention alarm is scheduled (once per object lifetime).
    async fn ensure_alarm(&self) {
        if self.alarm_checked.get() {
            return;
        }
        let storage = self.state.storage();
        if let Ok(None) = storage.get_alarm().await {
            let _ = storage.set_alarm(self.retention_interval_ms()).await;
        }
        self.alarm_checked.set(true);
    }
}

/// Epoch milliseconds from the host clock.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

fn storage_err(e: worker::Error) -> ApiError {
    ApiError::storage(format!("storage: {e}"))
}

fn int_of(v: Option<&SqlStorageValue>) -> i64 {
    match v {
        Some(SqlStorageValue::Integer(i)) => *i,
        Some(SqlStorageValue::Float(f)) => *f as i64,
        Some(SqlStorageValue::String(s)) => s.parse().unwrap_or_default(),
        _ => 0,
    }
}

fn text_of(v: Option<&SqlStorageValue>) -> Option<String> {
    match v {
        Some(SqlStorageValue::String(s)) => Some(s.clone()),
        Some(SqlStorageValue::Integer(i)) => Some(i.to_string()),
        Some(SqlStorageValue::Float(f)) => Some(f.to_string()),
        _ => None,
    }
}

#[derive(Deserialize)]
struct IngestRow<'a> {
    id: String,
    time: i64,
    #[serde(borrow)]
    body: &'a RawValue,
}

#[derive(Deserialize)]
struct IngestBody<'a> {
    #[serde(borrow)]
    rows: Vec<IngestRow<'a>>,
}

fn ingest(sql: &SqlStorage, bytes: &[u8]) -> ApiResult<Reply> {
    let parsed: IngestBody = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request("bad_request", e.to_string()))?;
    let mut accepted = 0u64;
    let mut first: Option<i64> = None;
    let mut last: Option<i64> = None;
    for chunk in parsed.rows.chunks(INSERT_CHUNK) {
        let mut stmt = String::from("INSERT INTO events (id, time, body) VALUES ");
        let mut binds = Vec::with_capacity(chunk.len() * 3);
        for (i, row) in chunk.iter().enumerate() {
            if i > 0 {
                stmt.push(',');
            }
            stmt.push_str("(?,?,?)");
            binds.push(SqlStorageValue::String(row.id.clone()));
            binds.push(SqlStorageValue::Integer(row.time));
            binds.push(SqlStorageValue::String(row.body.get().to_string()));
        }
        stmt.push_str(" ON CONFLICT(id) DO NOTHING RETURNING seq");
        let cursor = sql.exec(&stmt, binds).map_err(storage_err)?;
        for row in cursor.raw() {
            let row = row.map_err(storage_err)?;
            let seq = int_of(row.first());
            accepted += 1;
            first = Some(first.map_or(seq, |f| f.min(seq)));
            last = Some(last.map_or(seq, |l| l.max(seq)));
        }
    }
    let total = parsed.rows.len() as u64;
    Ok(Reply::Json(json!({
        "accepted": accepted,
        "duplicates": total.saturating_sub(accepted),
        "firstSeq": first,
        "lastSeq": last,
    })))
}

/// Compiles the filter of a request (`q` text or `structured` JSON).
fn compile_filter(body: &Value) -> ApiResult<Filter> {
    let result = match body.get("structured") {
        Some(s) if !s.is_null() => filtering::from_structured(s),
        _ => Filter::parse(body.get("q").and_then(Value::as_str).unwrap_or_default()),
    };
    result.map_err(|e| {
        let details = serde_json::to_value(&e).unwrap_or(Value::Null);
        ApiError::bad_request("bad_filter", e.message.clone()).with_details(details)
    })
}

/// Whether a stored event (its JSON text) passes the filter.
fn keep(filter: &Filter, match_all: bool, text: &str, now: i64) -> bool {
    match_all || filter.matches_line(text.as_bytes(), now).unwrap_or(false)
}

fn i64_field(body: &Value, key: &str) -> Option<i64> {
    body.get(key).and_then(Value::as_i64)
}

/// One page of a query: events matching the filter in `[from, to]`, in `order`, after the
/// position `after` (`[time, seq]`), at most `limit` of them.
fn query(sql: &SqlStorage, body: &Value) -> ApiResult<Reply> {
    let filter = compile_filter(body)?;
    let now = i64_field(body, "now").unwrap_or_else(now_ms);
    let from = i64_field(body, "from").unwrap_or(i64::MIN / 4);
    let to = i64_field(body, "to").unwrap_or(i64::MAX / 4);
    let limit = i64_field(body, "limit").unwrap_or(100).clamp(1, 10_000) as usize;
    let desc = body.get("order").and_then(Value::as_str) != Some("asc");
    let mut after: Option<(i64, i64)> = body
        .get("after")
        .and_then(Value::as_array)
        .and_then(|a| Some((a.first()?.as_i64()?, a.get(1)?.as_i64()?)));
    let match_all = filtering::is_match_all(&filter);
    let mut out = String::from("{\"events\":[");
    let mut found = 0usize;
    let mut scanned = 0usize;
    let mut exhausted = false;
    while found < limit && scanned < SCAN_BUDGET {
        let want = if match_all {
            (limit - found) as i64
        } else {
            SCAN_CHUNK
        };
        let (stmt, binds) = scan_statement(from, to, desc, after, want);
        let cursor = sql.exec(&stmt, binds).map_err(storage_err)?;
        let mut rows = 0i64;
        let mut full = false;
        for row in cursor.raw() {
            let row = row.map_err(storage_err)?;
            rows += 1;
            scanned += 1;
            let seq = int_of(row.first());
            let time = int_of(row.get(1));
            after = Some((time, seq));
            let Some(text) = text_of(row.get(2)) else {
                continue;
            };
            if keep(&filter, match_all, &text, now) {
                if found > 0 {
                    out.push(',');
                }
                out.push_str(&text);
                found += 1;
                if found >= limit {
                    full = true;
                    break;
                }
            }
        }
        if !full && rows < want {
            exhausted = true;
            break;
        }
    }
    out.push_str("],\"next\":");
    match after {
        Some((t, s)) if !exhausted => out.push_str(&format!("[{t},{s}]")),
        _ => out.push_str("null"),
    }
    out.push('}');
    Ok(Reply::Text(out))
}

fn scan_statement(
    from: i64,
    to: i64,
    desc: bool,
    after: Option<(i64, i64)>,
    limit: i64,
) -> (String, Vec<SqlStorageValue>) {
    let mut stmt = String::from("SELECT seq, time, body FROM events WHERE time >= ? AND time <= ?");
    let mut binds = vec![SqlStorageValue::Integer(from), SqlStorageValue::Integer(to)];
    if let Some((t, s)) = after {
        if desc {
            stmt.push_str(" AND (time < ? OR (time = ? AND seq < ?))");
        } else {
            stmt.push_str(" AND (time > ? OR (time = ? AND seq > ?))");
        }
        binds.push(SqlStorageValue::Integer(t));
        binds.push(SqlStorageValue::Integer(t));
        binds.push(SqlStorageValue::Integer(s));
    }
    if desc {
        stmt.push_str(" ORDER BY time DESC, seq DESC LIMIT ?");
    } else {
        stmt.push_str(" ORDER BY time ASC, seq ASC LIMIT ?");
    }
    binds.push(SqlStorageValue::Integer(limit));
    (stmt, binds)
}

fn get_event(sql: &SqlStorage, body: &Value) -> ApiResult<Reply> {
    let id = body.get("id").and_then(Value::as_str).unwrap_or_default();
    let cursor = sql
        .exec(
            "SELECT body FROM events WHERE id = ?",
            vec![SqlStorageValue::String(id.to_string())],
        )
        .map_err(storage_err)?;
    for row in cursor.raw() {
        let row = row.map_err(storage_err)?;
        if let Some(text) = text_of(row.first()) {
            return Ok(Reply::Text(text));
        }
    }
    Err(ApiError::not_found("event"))
}

fn count(sql: &SqlStorage) -> ApiResult<Reply> {
    let cursor = sql
        .exec("SELECT count(*), max(seq) FROM events", None)
        .map_err(storage_err)?;
    let mut n = 0;
    let mut last = 0;
    for row in cursor.raw() {
        let row = row.map_err(storage_err)?;
        n = int_of(row.first());
        last = int_of(row.get(1));
    }
    Ok(Reply::Json(json!({"count": n, "lastSeq": last})))
}

/// The dotted path a `by` facet counts, or the bucket width for time histograms.
enum StatsBy {
    Path(&'static str),
    Bucket(i64),
}

fn stats_by(by: &str) -> ApiResult<StatsBy> {
    Ok(match by {
        "action" => StatsBy::Path("auditAction"),
        "module" => StatsBy::Path("auditModule"),
        "resource.type" => StatsBy::Path("auditResource.type"),
        "user" => StatsBy::Path("auditEventAuthor.principal.identifier"),
        "principal.type" => StatsBy::Path("auditEventAuthor.principal.type"),
        "hour" => StatsBy::Bucket(3_600_000),
        "day" => StatsBy::Bucket(DAY_MS),
        other => {
            return Err(ApiError::bad_request(
                "bad_parameter",
                format!("`by` must be one of action, module, resource.type, user, principal.type, hour, day (got `{other}`)"),
            ))
        }
    })
}

fn stats(sql: &SqlStorage, body: &Value) -> ApiResult<Reply> {
    let filter = compile_filter(body)?;
    let by_name = body.get("by").and_then(Value::as_str).unwrap_or("action");
    let by = stats_by(by_name)?;
    let match_all = filtering::is_match_all(&filter);
    let now = i64_field(body, "now").unwrap_or_else(now_ms);
    let from = i64_field(body, "from").unwrap_or(i64::MIN / 4);
    let to = i64_field(body, "to").unwrap_or(i64::MAX / 4);
    if match_all {
        // Without a filter SQLite counts by itself.
        return stats_sql(sql, &by, by_name, from, to).map_err(storage_err);
    }
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut buckets: HashMap<i64, u64> = HashMap::new();
    let mut total = 0u64;
    let mut after: Option<(i64, i64)> = None;
    loop {
        let (stmt, binds) = scan_statement(from, to, false, after, SCAN_CHUNK);
        let cursor = sql.exec(&stmt, binds).map_err(storage_err)?;
        let mut rows = 0;
        for row in cursor.raw() {
            let row = row.map_err(storage_err)?;
            rows += 1;
            let seq = int_of(row.first());
            let time = int_of(row.get(1));
            after = Some((time, seq));
            let Some(text) = text_of(row.get(2)) else {
                continue;
            };
            if !keep(&filter, match_all, &text, now) {
                continue;
            }
            let Ok(Value::Object(event)) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            total += 1;
            match by {
                StatsBy::Path(path) => {
                    let key = crate::event::get_path(&event, path)
                        .map(|v| match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .unwrap_or_default();
                    *counts.entry(key).or_default() += 1;
                }
                StatsBy::Bucket(width) => {
                    *buckets.entry(time.div_euclid(width) * width).or_default() += 1;
                }
            }
        }
        if rows < SCAN_CHUNK {
            break;
        }
    }
    let entries: Vec<Value> = match by {
        StatsBy::Path(_) => {
            let mut v: Vec<(String, u64)> = counts.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v.truncate(100);
            v.into_iter()
                .map(|(value, count)| json!({"value": value, "count": count}))
                .collect()
        }
        StatsBy::Bucket(_) => {
            let mut v: Vec<(i64, u64)> = buckets.into_iter().collect();
            v.sort();
            v.into_iter()
                .map(|(t, count)| {
                    json!({"value": t, "time": crate::event::format_time_ms(t), "count": count})
                })
                .collect()
        }
    };
    Ok(Reply::Json(
        json!({"by": by_name, "total": total, "counts": entries}),
    ))
}

/// Counts of every event in `[from, to]`, grouped by SQLite (the unfiltered case).
fn stats_sql(
    sql: &SqlStorage,
    by: &StatsBy,
    by_name: &str,
    from: i64,
    to: i64,
) -> Result<Reply, worker::Error> {
    let range = || vec![SqlStorageValue::Integer(from), SqlStorageValue::Integer(to)];
    let total = sql
        .exec(
            "SELECT count(*) FROM events WHERE time >= ? AND time <= ?",
            range(),
        )?
        .raw()
        .next()
        .transpose()?
        .map_or(0, |row| int_of(row.first()));
    let mut entries = Vec::new();
    match by {
        StatsBy::Path(path) => {
            let stmt = format!(
                "SELECT coalesce(CAST(json_extract(body, '$.{path}') AS TEXT), '') AS v, count(*) AS c \
                 FROM events WHERE time >= ? AND time <= ? GROUP BY v ORDER BY c DESC, v LIMIT 100"
            );
            for row in sql.exec(&stmt, range())?.raw() {
                let row = row?;
                entries.push(json!({"value": text_of(row.first()).unwrap_or_default(), "count": int_of(row.get(1))}));
            }
        }
        StatsBy::Bucket(width) => {
            let stmt = "SELECT time - (((time % ?) + ?) % ?) AS b, count(*) AS c \
                 FROM events WHERE time >= ? AND time <= ? GROUP BY b ORDER BY b";
            let w = SqlStorageValue::Integer(*width);
            let binds = vec![
                w.clone(),
                w.clone(),
                w,
                SqlStorageValue::Integer(from),
                SqlStorageValue::Integer(to),
            ];
            for row in sql.exec(stmt, binds)?.raw() {
                let row = row?;
                let t = int_of(row.first());
                entries.push(json!({"value": t, "time": crate::event::format_time_ms(t), "count": int_of(row.get(1))}));
            }
        }
    }
    Ok(Reply::Json(
        json!({"by": by_name, "total": total, "counts": entries}),
    ))
}

// ---- saved filters ----

fn caller_owner(body: &Value) -> String {
    body.get("owner")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn caller_admin(body: &Value) -> bool {
    body.get("admin").and_then(Value::as_bool).unwrap_or(false)
}

fn filter_row(row: &[SqlStorageValue]) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(text_of(row.first())));
    m.insert("name".into(), json!(text_of(row.get(1))));
    if let Some(q) = text_of(row.get(2)) {
        m.insert("query".into(), Value::String(q));
    }
    if let Some(s) = text_of(row.get(3)) {
        m.insert(
            "structured".into(),
            serde_json::from_str(&s).unwrap_or(Value::Null),
        );
    }
    m.insert("visibility".into(), json!(text_of(row.get(4))));
    m.insert("owner".into(), json!(text_of(row.get(5))));
    m.insert("created".into(), json!(int_of(row.get(6))));
    m.insert("updated".into(), json!(int_of(row.get(7))));
    Value::Object(m)
}

const FILTER_COLUMNS: &str = "id, name, query, structured, visibility, owner, created, updated";

fn load_filter(sql: &SqlStorage, id: &str, owner: &str) -> ApiResult<Value> {
    let cursor = sql
        .exec(
            &format!("SELECT {FILTER_COLUMNS} FROM filters WHERE id = ? AND (visibility = 'account' OR owner = ?)"),
            vec![SqlStorageValue::String(id.into()), SqlStorageValue::String(owner.into())],
        )
        .map_err(storage_err)?;
    match cursor.raw().next() {
        Some(row) => Ok(filter_row(&row.map_err(storage_err)?)),
        None => Err(ApiError::not_found("filter")),
    }
}

fn filters_list(sql: &SqlStorage, body: &Value) -> ApiResult<Reply> {
    let owner = caller_owner(body);
    let cursor = sql
        .exec(
            &format!("SELECT {FILTER_COLUMNS} FROM filters WHERE visibility = 'account' OR owner = ? ORDER BY created, id"),
            vec![SqlStorageValue::String(owner)],
        )
        .map_err(storage_err)?;
    let mut list = Vec::new();
    for row in cursor.raw() {
        list.push(filter_row(&row.map_err(storage_err)?));
    }
    Ok(Reply::Json(json!({"filters": list})))
}

fn filters_get(sql: &SqlStorage, body: &Value) -> ApiResult<Reply> {
    let id = body.get("id").and_then(Value::as_str).unwrap_or_default();
    Ok(Reply::Json(load_filter(sql, id, &caller_owner(body))?))
}

/// The stored parts of a filter definition, checked: name, query or structured, visibility.
struct FilterDef {
    name: String,
    query: Option<String>,
    structured: Option<String>,
    visibility: String,
}

fn filter_def(def: &Value, existing: Option<&Value>) -> ApiResult<FilterDef> {
    let obj = def.as_object().ok_or_else(|| {
        ApiError::bad_request("bad_request", "a saved filter must be a JSON object")
    })?;
    let prev = |k: &str| existing.and_then(|e| e.get(k)).cloned();
    let name = match obj.get("name").or(prev("name").as_ref()) {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => {
            return Err(ApiError::bad_request(
                "bad_request",
                "`name` must be a non-empty string",
            ))
        }
    };
    let visibility = match obj.get("visibility").cloned().or(prev("visibility")) {
        None => "private".to_string(),
        Some(Value::String(s)) if s == "private" || s == "account" => s,
        _ => {
            return Err(ApiError::bad_request(
                "bad_request",
                "`visibility` must be \"private\" or \"account\"",
            ))
        }
    };
    let given_query = obj.get("query");
    let given_structured = obj.get("structured");
    let (query, structured) = match (given_query, given_structured) {
        (Some(_), Some(s)) if !s.is_null() => {
            return Err(ApiError::bad_request(
                "bad_request",
                "give either `query` or `structured`, not both",
            ))
        }
        (Some(Value::String(q)), _) => (Some(q.clone()), None),
        (Some(_), _) => {
            return Err(ApiError::bad_request(
                "bad_request",
                "`query` must be a string",
            ))
        }
        (None, Some(s)) if s.is_object() => (None, Some(s.clone())),
        (None, Some(_)) => {
            return Err(ApiError::bad_request(
                "bad_request",
                "`structured` must be an object",
            ))
        }
        (None, None) => match existing {
            Some(e) => (
                e.get("query").and_then(Value::as_str).map(str::to_string),
                e.get("structured").filter(|s| s.is_object()).cloned(),
            ),
            None => {
                return Err(ApiError::bad_request(
                    "bad_request",
                    "a saved filter needs `query` or `structured`",
                ))
            }
        },
    };
    // The filter must compile, whichever form it takes.
    let check = match (&query, &structured) {
        (Some(q), _) => Filter::parse(q),
        (None, Some(s)) => filtering::from_structured(s),
        (None, None) => Filter::parse(""),
    };
    if let Err(e) = check {
        let details = serde_json::to_value(&e).unwrap_or(Value::Null);
        return Err(ApiError::bad_request("bad_filter", e.message.clone()).with_details(details));
    }
    Ok(FilterDef {
        name,
        query,
        structured: structured.map(|s| s.to_string()),
        visibility,
    })
}

fn new_filter_id() -> String {
    let r = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    format!("flt_{:x}{:08x}", now_ms(), r)
}

fn filters_create(sql: &SqlStorage, body: &Value) -> ApiResult<Reply> {
    let owner = caller_owner(body);
    let def_value = body.get("filter").cloned().unwrap_or(Value::Null);
    let def = filter_def(&def_value, None)?;
    let id = match def_value.get("id") {
        Some(Value::String(s)) if valid_id(s) => s.clone(),
        Some(_) => {
            return Err(ApiError::bad_request(
                "bad_request",
                "`id` must be 1-64 characters of letters, digits, `-`, `_` or `.`",
            ))
        }
        None => new_filter_id(),
    };
    let exists = sql
        .exec(
            "SELECT 1 FROM filters WHERE id = ?",
            vec![SqlStorageValue::String(id.clone())],
        )
        .map_err(storage_err)?
        .raw()
        .next()
        .is_some();
    if exists {
        return Err(ApiError::new(
            409,
            "conflict",
            format!("a filter with id `{id}` exists"),
        ));
    }
    let now = now_ms();
    sql.exec(
        "INSERT INTO filters (id, name, query, structured, visibility, owner, created, updated) VALUES (?,?,?,?,?,?,?,?)",
        vec![
            SqlStorageValue::String(id.clone()),
            SqlStorageValue::String(def.name),
            def.query.map_or(SqlStorageValue::Null, SqlStorageValue::String),
            def.structured.map_or(SqlStorageValue::Null, SqlStorageValue::String),
            SqlStorageValue::String(def.visibility),
            SqlStorageValue::String(owner.clone()),
            SqlStorageValue::Integer(now),
            SqlStorageValue::Integer(now),
        ],
    )
    .map_err(storage_err)?;
    Ok(Reply::Json(load_filter(sql, &id, &owner)?))
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// Loads a filter the caller may change: visible to it, and its own unless it is admin.
fn load_for_change(sql: &SqlStorage, body: &Value) -> ApiResult<(String, Value)> {
    let id = body
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let owner = caller_owner(body);
    let existing = load_filter(sql, &id, &owner)?;
    let is_owner = existing.get("owner").and_then(Value::as_str) == Some(owner.as_str());
    if !is_owner && !caller_admin(body) {
        return Err(ApiError::new(
            403,
            "forbidden",
            "changing another owner's filter needs the `admin` scope",
        ));
    }
    Ok((id, existing))
}

fn filters_update(sql: &SqlStorage, body: &Value) -> ApiResult<Reply> {
    let (id, existing) = load_for_change(sql, body)?;
    let def_value = body.get("filter").cloned().unwrap_or(Value::Null);
    if let Some(given) = def_value.get("id") {
        if given.as_str() != Some(id.as_str()) {
            return Err(ApiError::bad_request(
                "bad_request",
                "`id` cannot be changed",
            ));
        }
    }
    let def = filter_def(&def_value, Some(&existing))?;
    sql.exec(
        "UPDATE filters SET name = ?, query = ?, structured = ?, visibility = ?, updated = ? WHERE id = ?",
        vec![
            SqlStorageValue::String(def.name),
            def.query.map_or(SqlStorageValue::Null, SqlStorageValue::String),
            def.structured.map_or(SqlStorageValue::Null, SqlStorageValue::String),
            SqlStorageValue::String(def.visibility),
            SqlStorageValue::Integer(now_ms()),
            SqlStorageValue::String(id.clone()),
        ],
    )
    .map_err(storage_err)?;
    let owner = existing
        .get("owner")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Ok(Reply::Json(load_filter(sql, &id, &owner)?))
}

fn filters_delete(sql: &SqlStorage, body: &Value) -> ApiResult<Reply> {
    let (id, _) = load_for_change(sql, body)?;
    sql.exec(
        "DELETE FROM filters WHERE id = ?",
        vec![SqlStorageValue::String(id.clone())],
    )
    .map_err(storage_err)?;
    Ok(Reply::Json(json!({"deleted": id})))
}
