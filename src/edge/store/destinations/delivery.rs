//! The alarm's delivery engine. Per active destination and run, at most
//! [`SENDS_PER_RUN`] steps, each one of: a retry of the batch in flight, a replay of a
//! dead letter, or cutting the next batch (by `maxEvents`, `maxBytes`, `intervalSeconds`,
//! a flush, or [`MAX_BATCH_SPAN`]) and sending it. Destinations run side by side, so a
//! slow receiver delays only its own. Nothing here fails the alarm: every error is
//! recorded on its destination.
//!
//! A batch's events and name are fixed when it is cut (its row keeps the filter,
//! transform, format and compression of that moment), so a retry renders the same body
//! under the same name; where it goes is read when it is sent, so a fixed URL or key
//! applies to retries and replays.

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::{SqlStorage, SqlStorageValue};

use super::connectors::{self, Failure, Outgoing, Sender, Stage};
use super::{
    crypto, cut_due, evidence, filter_source, load, oldest_pending, prune_commits, rows,
    BodyFormat, Compression, Credentials, Ctx, ErrorRecord, Row, Status, Target, MAX_BATCH_SPAN,
    SCAN_CHUNK,
};
use crate::convert::batch::{Batch, BatchLimits, Batcher};
use crate::convert::{HecOptions, WriteOptions, Writer};
use crate::edge::error::{ApiError, ApiResult};
use crate::edge::now_ms;
use crate::edge::store::events::{
    keeps, last_seq, scan_filter, Chunk, CHUNK_CHARS, PAST_EVERY_SEQ,
};
use crate::edge::store::sql::{self, int, text};
use crate::edge::store::transaction;
use crate::transform::Transform;

/// Steps per destination in one alarm run.
pub const SENDS_PER_RUN: usize = 8;
/// No new step starts after this long in one run; the alarm is set again for the rest.
pub const RUN_BUDGET_MS: i64 = 20_000;
/// The longest wait a `Retry-After` can impose.
const MAX_RETRY_AFTER_MS: i64 = 24 * 3_600_000;

/// What fixed a batch's content when it was cut.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Render {
    pub filter: String,
    pub transform: Option<Value>,
    pub format: BodyFormat,
    pub compression: Compression,
    /// An evidence sidecar goes beside the object.
    #[serde(default)]
    pub evidence: bool,
}

/// A batch row.
#[derive(Debug, Clone)]
struct BatchRow {
    id: String,
    state: String,
    from_seq: i64,
    through_seq: i64,
    events: i64,
    name: String,
    render: Render,
    cut_at: i64,
    attempts: i64,
    parts_done: i64,
    next_attempt_at: Option<i64>,
}

const BATCH_COLUMNS: &str = "id, state, from_seq, through_seq, events, name, render, cut_at, \
    attempts, parts_done, next_attempt_at";

impl BatchRow {
    fn from_sql(row: Vec<SqlStorageValue>) -> ApiResult<BatchRow> {
        let mut c = row.into_iter();
        let id = text(c.next()).unwrap_or_default();
        let state = text(c.next()).unwrap_or_default();
        let from_seq = int(c.next());
        let through_seq = int(c.next());
        let events = int(c.next());
        let name = text(c.next()).unwrap_or_default();
        let render = text(c.next())
            .and_then(|r| serde_json::from_str(&r).ok())
            .ok_or_else(|| ApiError::storage(format!("batch `{id}` has no readable render")))?;
        Ok(BatchRow {
            id,
            state,
            from_seq,
            through_seq,
            events,
            name,
            render,
            cut_at: int(c.next()),
            attempts: int(c.next()),
            parts_done: int(c.next()),
            next_attempt_at: match c.next() {
                None | Some(SqlStorageValue::Null) => None,
                v => Some(int(v)),
            },
        })
    }
}

/// Delivers for every active destination with work due, within the run's budget.
pub async fn run(ctx: &Ctx<'_>, now: i64) {
    let _ = prune_commits(&ctx.sql);
    let Ok(rows) = rows(&ctx.sql) else {
        return;
    };
    let deadline = now + RUN_BUDGET_MS;
    let runs = rows
        .into_iter()
        .filter(|r| r.status == Status::Active)
        .map(|r| destination_run(ctx, r.id, deadline));
    join_all(runs).await;
}

async fn destination_run(ctx: &Ctx<'_>, id: String, deadline: i64) {
    for _ in 0..SENDS_PER_RUN {
        let now = now_ms();
        if now >= deadline {
            break;
        }
        match step(ctx, &id, now).await {
            Ok(true) => continue,
            Ok(false) => break,
            Err(e) => {
                let record = ErrorRecord {
                    at: now,
                    message: e.message,
                    stage: Stage::Http,
                    status: None,
                    batch: None,
                };
                let _ = record_error(&ctx.sql, &id, &record);
                break;
            }
        }
    }
}

/// One step of a destination's delivery; `Ok(true)` when it did something and another
/// may be due.
async fn step(ctx: &Ctx<'_>, id: &str, now: i64) -> ApiResult<bool> {
    let sql = &ctx.sql;
    let row = match load(sql, id) {
        Ok(row) if row.status == Status::Active => row,
        _ => return Ok(false),
    };
    let in_flight = batch(sql, id, "state = 'sending'", now)?;
    let due = |b: &BatchRow| b.next_attempt_at.unwrap_or(now) <= now;
    if let Some(b) = in_flight.as_ref().filter(|b| due(b)) {
        attempt(ctx, &row, b.clone(), None).await?;
        return Ok(true);
    }
    let replay = batch(
        sql,
        id,
        "state = 'replay' AND COALESCE(next_attempt_at, 0) <= ?",
        now,
    )?;
    if let Some(b) = replay {
        attempt(ctx, &row, b, None).await?;
        return Ok(true);
    }
    let last = last_seq(sql)?;
    if in_flight.is_some() || last <= row.cursor {
        return Ok(false);
    }
    let oldest = oldest_pending(sql, row.cursor)?;
    if cut_due(&row.scan, &row.definition.batch, last, oldest, now) > now {
        return Ok(false);
    }
    match cut(ctx, &row, oldest, now).await? {
        Cut::Wait {
            through,
            events,
            bytes,
        } => {
            sql::exec(
                sql,
                "UPDATE destinations SET checked_seq = ?, checked_events = ?, checked_bytes = ?, pending_bytes = 0
                 WHERE id = ? AND cursor = ?",
                vec![
                    SqlStorageValue::Integer(through),
                    SqlStorageValue::Integer(events),
                    SqlStorageValue::Integer(bytes),
                    SqlStorageValue::String(id.into()),
                    SqlStorageValue::Integer(row.cursor),
                ],
            )?;
            Ok(false)
        }
        Cut::Skip { through } => {
            let id = id.to_string();
            let sql = sql.clone();
            let cursor = row.cursor;
            transaction(&ctx.storage, move || {
                // The scan yielded: the cursor may have moved meanwhile.
                if load(&sql, &id)?.cursor == cursor {
                    advance(&sql, &id, through)?;
                }
                Ok(())
            })?;
            Ok(true)
        }
        Cut::Batch(cut) => {
            if let Some(batch) = insert(sql, &row, &cut)? {
                attempt(ctx, &row, batch, Some(cut.batch.body)).await?;
            }
            Ok(true)
        }
    }
}

/// The first batch of a destination in `condition` (which may bind `now` once).
fn batch(sql: &SqlStorage, id: &str, condition: &str, now: i64) -> ApiResult<Option<BatchRow>> {
    let stmt = format!(
        "SELECT {BATCH_COLUMNS} FROM destination_batches WHERE destination = ? AND {condition}
         ORDER BY first_seq LIMIT 1"
    );
    let mut binds = vec![SqlStorageValue::String(id.into())];
    if condition.contains('?') {
        binds.push(SqlStorageValue::Integer(now));
    }
    match sql::rows(sql, &stmt, binds)?.next() {
        Some(row) => Ok(Some(BatchRow::from_sql(row?)?)),
        None => Ok(None),
    }
}

fn batch_by_id(sql: &SqlStorage, id: &str, batch: &str) -> ApiResult<Option<BatchRow>> {
    let stmt =
        format!("SELECT {BATCH_COLUMNS} FROM destination_batches WHERE destination = ? AND id = ?");
    let binds = vec![
        SqlStorageValue::String(id.into()),
        SqlStorageValue::String(batch.into()),
    ];
    match sql::rows(sql, &stmt, binds)?.next() {
        Some(row) => Ok(Some(BatchRow::from_sql(row?)?)),
        None => Ok(None),
    }
}

/// What looking at a destination's pending events decided.
enum Cut {
    /// Not due yet: what the scan saw, for the scheduler's estimate.
    Wait {
        through: i64,
        events: i64,
        bytes: i64,
    },
    /// Nothing after the cursor matches up to `through`: the cursor moves there.
    Skip {
        through: i64,
    },
    Batch(Box<NewBatch>),
}

struct NewBatch {
    through: i64,
    first: i64,
    last: i64,
    batch: Batch,
    name: String,
    render: Render,
    now: i64,
}

/// The writer options of a destination's format (Splunk's envelope from its config) and
/// its transform, bound to the key of its credentials.
pub fn write_options(
    target: &Target,
    transform: Option<&Value>,
    credentials: Option<&Credentials>,
) -> ApiResult<WriteOptions> {
    let mut opts = WriteOptions::default();
    if let Some(spec) = transform {
        let key = credentials.and_then(|c| c.pseudonymize_key.as_deref());
        let bound = Transform::from_value(spec).and_then(|t| t.bind(key.map(str::as_bytes)))?;
        opts.transform = Some(bound);
    }
    if let Target::SplunkHec(c) = target {
        let defaults = HecOptions::default();
        opts.hec = HecOptions {
            host: c.host.clone(),
            source: c.source.clone(),
            sourcetype: c.sourcetype.clone().or(defaults.sourcetype),
            index: c.index.clone(),
            fields: defaults.fields,
        };
    }
    Ok(opts)
}

/// Lets requests waiting for the object run (a cut reads and writes for a while).
async fn yield_now() {
    worker::Delay::from(std::time::Duration::ZERO).await;
}

/// Reads the events after the cursor until a batch closes (by its limits or its span) or
/// none are left, and decides: a batch, a skip, or wait. Between chunks it lets waiting
/// requests (commits) run.
async fn cut(ctx: &Ctx<'_>, row: &Row, oldest: Option<i64>, now: i64) -> ApiResult<Cut> {
    let sql = &ctx.sql;
    let def = &row.definition;
    let credentials = match def.transform {
        Some(_) => Some(opened(ctx, row).await?),
        None => None,
    };
    let opts = write_options(&def.target, def.transform.as_ref(), credentials.as_ref())?;
    let filter = scan_filter(&filter_source(&def.filter))?;
    let limits = BatchLimits {
        max_bytes: usize::try_from(def.batch.max_bytes).unwrap_or(usize::MAX),
        max_events: usize::try_from(def.batch.max_events).unwrap_or(usize::MAX),
    };
    let mut batcher = Batcher::new(def.format.format(), opts, limits);
    let render = Render {
        filter: def.filter.clone(),
        transform: def.transform.clone(),
        format: def.format,
        compression: def.compression,
        evidence: def.evidence,
    };
    let mut first: Option<i64> = None;
    let mut last = row.cursor;
    let mut after = row.cursor;
    let mut scanned = 0i64;
    let make = |batch: Batch, first: Option<i64>, last: i64, through: i64| -> Cut {
        let first = first.unwrap_or(through);
        let name = match &def.target {
            Target::S3(c) => {
                batch.file_name(&c.prefix, now, def.format.format(), gzip(def.compression))
            }
            Target::Gcs(c) => {
                batch.file_name(&c.prefix, now, def.format.format(), gzip(def.compression))
            }
            _ => format!("{}:{first}-{last}", row.id),
        };
        Cut::Batch(Box::new(NewBatch {
            through,
            first,
            last,
            batch,
            name,
            render: render.clone(),
            now,
        }))
    };
    'scan: loop {
        // What the open batch can still take, and one event more to see it close.
        let room_events = def
            .batch
            .max_events
            .saturating_sub(batcher.open_events() as u64);
        let room_bytes = def
            .batch
            .max_bytes
            .saturating_sub(batcher.open_bytes() as u64);
        let limit = i64::try_from(room_events.saturating_add(1)).unwrap_or(SCAN_CHUNK);
        let chars = i64::try_from(room_bytes.saturating_add(1)).unwrap_or(CHUNK_CHARS);
        let chunk = Chunk::read(sql, after, PAST_EVERY_SEQ, limit.min(SCAN_CHUNK), chars)?;
        let rows = chunk.rows();
        for &(seq, time, body) in &rows {
            scanned += 1;
            if keeps(filter.as_ref(), body, now) {
                // Stored events are validated JSON on one line: written as they are.
                let closed = batcher
                    .push_raw(body.as_bytes(), Some(time))
                    .map_err(render_error)?;
                if let Some(batch) = closed {
                    return Ok(make(batch, first, last, seq - 1));
                }
                first.get_or_insert(seq);
                last = seq;
            }
            after = seq;
            if scanned >= MAX_BATCH_SPAN {
                break 'scan;
            }
        }
        if rows.is_empty() {
            break;
        }
        yield_now().await;
    }
    let events = batcher.open_events();
    let bytes = batcher.open_bytes();
    let full = events as u64 >= def.batch.max_events || bytes as u64 >= def.batch.max_bytes;
    let interval_ms = i64::try_from(def.batch.interval_seconds)
        .unwrap_or(i64::MAX)
        .saturating_mul(1000);
    let interval_due = oldest.is_none_or(|t| t.saturating_add(interval_ms) <= now);
    let flush = row.scan.flush_seq.is_some_and(|f| f > row.cursor);
    if !(full || scanned >= MAX_BATCH_SPAN || interval_due || flush) {
        return Ok(Cut::Wait {
            through: after,
            events: events as i64,
            bytes: bytes as i64,
        });
    }
    Ok(match batcher.finish().map_err(render_error)? {
        Some(batch) => make(batch, first, last, after),
        None => Cut::Skip { through: after },
    })
}

fn gzip(c: Compression) -> bool {
    c == Compression::Gzip
}

fn render_error(e: std::io::Error) -> ApiError {
    ApiError::storage(format!("rendering a batch: {e}"))
}

/// Records a cut batch as the destination's batch in flight, unless the destination
/// changed while the batch was cut (deleted, paused, or its cursor moved).
fn insert(sql: &SqlStorage, row: &Row, cut: &NewBatch) -> ApiResult<Option<BatchRow>> {
    let id = format!("{}-{}", cut.first, cut.last);
    let render =
        serde_json::to_string(&cut.render).map_err(|e| ApiError::storage(e.to_string()))?;
    let written = sql::exec(
        sql,
        "INSERT OR REPLACE INTO destination_batches
            (destination, id, state, from_seq, through_seq, first_seq, last_seq, events, bytes, name, render, cut_at, next_attempt_at)
         SELECT ?, ?, 'sending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
         WHERE EXISTS (SELECT 1 FROM destinations WHERE id = ? AND cursor = ? AND status = 'active')",
        vec![
            SqlStorageValue::String(row.id.clone()),
            SqlStorageValue::String(id.clone()),
            SqlStorageValue::Integer(row.cursor + 1),
            SqlStorageValue::Integer(cut.through),
            SqlStorageValue::Integer(cut.first),
            SqlStorageValue::Integer(cut.last),
            SqlStorageValue::Integer(cut.batch.count as i64),
            SqlStorageValue::Integer(cut.batch.body.len() as i64),
            SqlStorageValue::String(cut.name.clone()),
            SqlStorageValue::String(render),
            SqlStorageValue::Integer(cut.now),
            SqlStorageValue::Integer(cut.now),
            SqlStorageValue::String(row.id.clone()),
            SqlStorageValue::Integer(row.cursor),
        ],
    )?
    .rows_written();
    if written == 0 {
        return Ok(None);
    }
    Ok(Some(BatchRow {
        id,
        state: "sending".into(),
        from_seq: row.cursor + 1,
        through_seq: cut.through,
        events: cut.batch.count as i64,
        name: cut.name.clone(),
        render: cut.render.clone(),
        cut_at: cut.now,
        attempts: 0,
        parts_done: 0,
        next_attempt_at: Some(cut.now),
    }))
}

/// Calls `each` with the sequence number and stored text of every event of a batch, in
/// order: the events of its range that its filter kept when it was cut.
fn each_event(
    sql: &SqlStorage,
    batch: &BatchRow,
    mut each: impl FnMut(i64, &str) -> ApiResult<()>,
) -> ApiResult<()> {
    let filter = scan_filter(&filter_source(&batch.render.filter))?;
    let mut after = batch.from_seq - 1;
    loop {
        let chunk = Chunk::read(sql, after, batch.through_seq, SCAN_CHUNK, CHUNK_CHARS)?;
        let rows = chunk.rows();
        for &(seq, _, body) in &rows {
            after = seq;
            // Relative times of the filter resolve as they did when the batch was cut.
            if keeps(filter.as_ref(), body, batch.cut_at) {
                each(seq, body)?;
            }
        }
        if rows.is_empty() {
            return Ok(());
        }
    }
}

/// Renders a batch again from its range, as it was when cut.
fn render(
    sql: &SqlStorage,
    target: &Target,
    credentials: &Credentials,
    batch: &BatchRow,
) -> ApiResult<Vec<u8>> {
    let opts = write_options(target, batch.render.transform.as_ref(), Some(credentials))?;
    let mut writer = Writer::new(batch.render.format.format(), opts, Vec::new());
    each_event(sql, batch, |_, body| {
        writer.write_raw(body.as_bytes()).map_err(render_error)
    })?;
    writer.finish().map_err(render_error)
}

/// The evidence sidecar of a batch (signing a checkpoint that holds it if none does, in
/// its own transaction).
fn sidecar(ctx: &Ctx<'_>, batch: &BatchRow, now: i64) -> ApiResult<Vec<u8>> {
    let mut seqs = Vec::new();
    each_event(&ctx.sql, batch, |seq, _| {
        seqs.push(seq);
        Ok(())
    })?;
    let (sql, config, through) = (ctx.sql.clone(), ctx.config.clone(), batch.through_seq);
    transaction(&ctx.storage, move || {
        evidence::sidecar(&sql, &config, &seqs, through, now)
    })
}

/// A destination's credentials, opened once per sealed text.
async fn opened(ctx: &Ctx<'_>, row: &Row) -> ApiResult<Credentials> {
    if let Some((sealed, credentials)) = ctx.opened.borrow().get(&row.id) {
        if *sealed == row.credentials {
            return Ok(credentials.clone());
        }
    }
    let credentials = crypto::open(ctx.config, &row.id, &row.credentials).await?;
    ctx.opened.borrow_mut().insert(
        row.id.clone(),
        (row.credentials.clone(), credentials.clone()),
    );
    Ok(credentials)
}

/// Sends a batch once and records the outcome.
async fn attempt(
    ctx: &Ctx<'_>,
    row: &Row,
    batch: BatchRow,
    body: Option<Vec<u8>>,
) -> ApiResult<()> {
    let now = now_ms();
    let credentials = match opened(ctx, row).await {
        Ok(c) => c,
        Err(e) => {
            let failure = Failure::new(Stage::Auth, true, e.message);
            return record_outcome(ctx, row, &batch, Err(failure), now);
        }
    };
    let body = match body {
        Some(body) => body,
        None => render(&ctx.sql, &row.definition.target, &credentials, &batch)?,
    };
    // Made before anything is sent: a batch whose sidecar cannot be made is not written.
    let sidecar = if batch.render.evidence {
        match sidecar(ctx, &batch, now) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                let why = format!("the evidence sidecar: {}", e.message);
                let failure = Failure::new(Stage::Http, true, why);
                return record_outcome(ctx, row, &batch, Err(failure), now);
            }
        }
    } else {
        None
    };
    let sender = Sender::new(ctx, row, &credentials, now);
    let key = format!("{}:{}", row.id, batch.id);
    let out = Outgoing {
        key: &key,
        name: &batch.name,
        body: &body,
        format: batch.render.format,
        gzip: gzip(batch.render.compression),
        parts_done: usize::try_from(batch.parts_done).unwrap_or(0),
    };
    let sql = ctx.sql.clone();
    let mut on_part = |parts: usize| {
        let _ = sql.exec(
            "UPDATE destination_batches SET parts_done = ? WHERE destination = ? AND id = ?",
            vec![
                SqlStorageValue::Integer(parts as i64),
                SqlStorageValue::String(row.id.clone()),
                SqlStorageValue::String(batch.id.clone()),
            ],
        );
    };
    let mut result = connectors::deliver(&sender, &out, &mut on_part).await;
    if let (Ok(()), Some(bytes)) = (&result, &sidecar) {
        // After the object: a sidecar names an object that exists. Its failure fails the
        // batch, so a retry writes both again (the same bytes).
        let name = evidence::name(&batch.name);
        let side = Outgoing {
            key: out.key,
            name: &name,
            body: bytes,
            format: BodyFormat::Json,
            gzip: false,
            parts_done: 0,
        };
        result = connectors::deliver(&sender, &side, &mut |_| {})
            .await
            .map_err(|mut f| {
                f.message = format!("the evidence sidecar {name}: {}", f.message);
                f
            });
    }
    let result = result.map_err(|mut f| {
        f.message = credentials.scrub(&f.message);
        f
    });
    record_outcome(ctx, row, &batch, result, now_ms())
}

/// Records a send's outcome in one transaction: a success removes the batch and moves
/// the cursor past it; a failure schedules a retry, or makes the batch a dead letter
/// (moving the cursor past it too) when it is not worth retrying or out of attempts.
fn record_outcome(
    ctx: &Ctx<'_>,
    row: &Row,
    batch: &BatchRow,
    result: Result<(), Failure>,
    now: i64,
) -> ApiResult<()> {
    let sql = ctx.sql.clone();
    let id = row.id.clone();
    let batch = batch.clone();
    let retry = row.definition.retry;
    let random = js_sys::Math::random();
    transaction(&ctx.storage, move || {
        // The batch may have been discarded or its destination deleted meanwhile.
        let current = batch_by_id(&sql, &id, &batch.id)?;
        let Some(current) = current.filter(|c| c.state == batch.state && c.id == batch.id) else {
            return Ok(());
        };
        let keys = |extra: Vec<SqlStorageValue>| {
            let mut binds = extra;
            binds.push(SqlStorageValue::String(id.clone()));
            binds.push(SqlStorageValue::String(current.id.clone()));
            binds
        };
        match result {
            Ok(()) => {
                sql::exec(
                    &sql,
                    "DELETE FROM destination_batches WHERE destination = ? AND id = ?",
                    vec![
                        SqlStorageValue::String(id.clone()),
                        SqlStorageValue::String(current.id.clone()),
                    ],
                )?;
                if current.state == "sending" {
                    advance(&sql, &id, current.through_seq)?;
                }
                sql::exec(
                    &sql,
                    "UPDATE destinations SET delivered_events = delivered_events + ?,
                        delivered_batches = delivered_batches + 1, last_success = ? WHERE id = ?",
                    vec![
                        SqlStorageValue::Integer(current.events),
                        SqlStorageValue::Integer(now),
                        SqlStorageValue::String(id.clone()),
                    ],
                )?;
            }
            Err(failure) => {
                let attempts = current.attempts + 1;
                let record = ErrorRecord {
                    at: now,
                    message: failure.message.clone(),
                    stage: failure.stage,
                    status: failure.status,
                    batch: Some(current.id.clone()),
                };
                if failure.retry && attempts < i64::from(retry.max_attempts) {
                    let wait = backoff_ms(attempts, &retry, random, failure.retry_after_ms);
                    sql::exec(
                        &sql,
                        "UPDATE destination_batches SET attempts = ?, next_attempt_at = ?, last_error = ?
                         WHERE destination = ? AND id = ?",
                        keys(vec![
                            SqlStorageValue::Integer(attempts),
                            SqlStorageValue::Integer(now.saturating_add(wait)),
                            SqlStorageValue::String(failure.message),
                        ]),
                    )?;
                } else {
                    sql::exec(
                        &sql,
                        "UPDATE destination_batches SET state = 'dead', attempts = ?, next_attempt_at = NULL,
                            last_error = ?, dead_at = ? WHERE destination = ? AND id = ?",
                        keys(vec![
                            SqlStorageValue::Integer(attempts),
                            SqlStorageValue::String(failure.message),
                            SqlStorageValue::Integer(now),
                        ]),
                    )?;
                    if current.state == "sending" {
                        advance(&sql, &id, current.through_seq)?;
                    }
                }
                record_error(&sql, &id, &record)?;
            }
        }
        Ok(())
    })
}

fn record_error(sql: &SqlStorage, id: &str, record: &ErrorRecord) -> ApiResult<()> {
    let text = serde_json::to_string(record).map_err(|e| ApiError::storage(e.to_string()))?;
    sql::exec(
        sql,
        "UPDATE destinations SET last_error = ? WHERE id = ?",
        vec![
            SqlStorageValue::String(text),
            SqlStorageValue::String(id.into()),
        ],
    )?;
    Ok(())
}

/// Moves a destination's cursor to `through`; what comes after it is looked at anew.
fn advance(sql: &SqlStorage, id: &str, through: i64) -> ApiResult<()> {
    let nothing_after = last_seq(sql)? <= through;
    sql::exec(
        sql,
        "UPDATE destinations SET cursor = ?, checked_seq = ?, checked_events = 0, checked_bytes = 0,
            pending_bytes = 0, flush_seq = CASE WHEN flush_seq > ? THEN flush_seq ELSE NULL END
         WHERE id = ?",
        vec![
            SqlStorageValue::Integer(through),
            if nothing_after {
                SqlStorageValue::Integer(through)
            } else {
                SqlStorageValue::Null
            },
            SqlStorageValue::Integer(through),
            SqlStorageValue::String(id.into()),
        ],
    )?;
    Ok(())
}

/// The wait before attempt `attempts + 1`: exponential backoff with full jitter (a random
/// share of `baseSeconds × 2^(attempts-1)`, capped at `maxSeconds`), and never less than
/// the receiver's `Retry-After`.
pub fn backoff_ms(
    attempts: i64,
    retry: &super::RetrySettings,
    random: f64,
    retry_after_ms: Option<i64>,
) -> i64 {
    let exponent = i32::try_from(attempts.saturating_sub(1).clamp(0, 62)).unwrap_or(62);
    let window = (retry.base_seconds * 2f64.powi(exponent)).min(retry.max_seconds) * 1000.0;
    let jitter = (random.clamp(0.0, 1.0) * window.max(0.0)) as i64;
    jitter.max(retry_after_ms.unwrap_or(0).clamp(0, MAX_RETRY_AFTER_MS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::store::destinations::RetrySettings;

    #[test]
    fn backoff_grows_to_its_cap_with_full_jitter_and_honours_retry_after() {
        let retry = RetrySettings {
            max_attempts: 8,
            base_seconds: 2.0,
            max_seconds: 900.0,
        };
        assert_eq!(backoff_ms(1, &retry, 1.0, None), 2_000);
        assert_eq!(backoff_ms(2, &retry, 1.0, None), 4_000);
        assert_eq!(backoff_ms(5, &retry, 1.0, None), 32_000);
        assert_eq!(backoff_ms(20, &retry, 1.0, None), 900_000);
        assert_eq!(backoff_ms(3, &retry, 0.5, None), 4_000);
        assert_eq!(backoff_ms(3, &retry, 0.0, None), 0);
        assert_eq!(backoff_ms(3, &retry, 0.0, Some(30_000)), 30_000);
        assert_eq!(backoff_ms(3, &retry, 1.0, Some(1_000)), 8_000);
        assert_eq!(
            backoff_ms(1, &retry, 0.0, Some(i64::MAX)),
            MAX_RETRY_AFTER_MS
        );
        assert_eq!(backoff_ms(i64::MAX, &retry, 1.0, None), 900_000);
    }

    #[test]
    fn hec_destinations_write_their_envelope_options() {
        let target = Target::SplunkHec(super::super::HecConfig {
            url: "https://splunk:8088".into(),
            index: Some("audit".into()),
            source: None,
            sourcetype: None,
            host: Some("edge".into()),
        });
        let opts = write_options(&target, None, None).unwrap();
        assert_eq!(opts.hec.index.as_deref(), Some("audit"));
        assert_eq!(opts.hec.host.as_deref(), Some("edge"));
        assert_eq!(opts.hec.sourcetype.as_deref(), Some("harness:audit"));
        assert_eq!(opts.hec.fields.len(), 3);
    }

    #[test]
    fn a_destination_transform_is_bound_to_its_credential_key() {
        let target = Target::Webhook(super::super::WebhookConfig {
            url: "https://hooks.example/audit".into(),
        });
        let spec = serde_json::json!({"pseudonymize": ["auditEventAuthor.principal.email"]});
        let missing = write_options(&target, Some(&spec), Some(&Credentials::default()));
        assert_eq!(missing.err().map(|e| e.code), Some("bad_transform".into()));
        let credentials = Credentials {
            pseudonymize_key: Some("k".into()),
            ..Credentials::default()
        };
        let opts = write_options(&target, Some(&spec), Some(&credentials)).unwrap();
        let mut writer = Writer::new(crate::convert::Format::Ndjson, opts, Vec::new());
        let event =
            br#"{"auditEventId":"e1","auditEventAuthor":{"principal":{"email":"a@example.com"}}}"#;
        writer.write_raw(event).unwrap();
        let out = String::from_utf8(writer.finish().unwrap()).unwrap();
        assert!(out.contains("\"email\":\"ps_"), "{out}");
        assert!(!out.contains("a@example.com"), "{out}");
    }
}
