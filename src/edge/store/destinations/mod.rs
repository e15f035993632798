//! The object's streaming destinations: their definitions (credentials sealed at rest),
//! cursors over the account's sequence numbers, batches in flight and dead letters, and
//! what the alarm needs to know to schedule delivery. The alarm's delivery engine is in
//! [`delivery`]; the receivers' protocols are in [`connectors`].
//!
//! A destination has at most one batch in flight: the events after its cursor, up to the
//! batch's end. The cursor moves past a batch in the transaction that records the
//! receiver's confirmation, or its move to the dead letters.

pub mod connectors;
pub mod crypto;
pub mod delivery;
pub mod evidence;

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use worker::{SqlStorage, SqlStorageValue};

use super::encode;
use super::events::{keeps, last_seq, scan_filter, Chunk, CHUNK_CHARS, PAST_EVERY_SEQ};
use super::sql::{self, int, text};
use crate::edge::codes;
use crate::edge::config::Config;
use crate::edge::error::{ApiError, ApiResult};
use crate::edge::filtering::FilterSource;
use crate::edge::now_ms;

pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS destinations (
        id TEXT PRIMARY KEY,
        definition TEXT NOT NULL,
        credentials TEXT NOT NULL,
        status TEXT NOT NULL,
        channel TEXT NOT NULL,
        created INTEGER NOT NULL,
        updated INTEGER NOT NULL,
        cursor INTEGER NOT NULL,
        delivered_events INTEGER NOT NULL DEFAULT 0,
        delivered_batches INTEGER NOT NULL DEFAULT 0,
        last_success INTEGER,
        last_error TEXT,
        checked_seq INTEGER,
        checked_events INTEGER NOT NULL DEFAULT 0,
        checked_bytes INTEGER NOT NULL DEFAULT 0,
        pending_bytes INTEGER NOT NULL DEFAULT 0,
        flush_seq INTEGER)",
    // One row per batch that is cut and not yet confirmed: `sending` (the destination's
    // one batch in flight, from its cursor), `dead` (a dead letter) or `replay` (a dead
    // letter being sent again). `render` is what fixed the batch's content when it was
    // cut: the filter, transform, format and compression of that moment.
    "CREATE TABLE IF NOT EXISTS destination_batches (
        destination TEXT NOT NULL,
        id TEXT NOT NULL,
        state TEXT NOT NULL,
        from_seq INTEGER NOT NULL,
        through_seq INTEGER NOT NULL,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        events INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        name TEXT NOT NULL,
        render TEXT NOT NULL,
        cut_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        parts_done INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        last_error TEXT,
        dead_at INTEGER,
        PRIMARY KEY (destination, id))",
    // When each commit happened (by its last sequence number), so that a batch can be cut
    // `intervalSeconds` after the oldest event a destination has pending. Kept only while
    // destinations exist, and only past the lowest cursor.
    "CREATE TABLE IF NOT EXISTS destination_commits (
        last_seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL)",
];

/// Destinations per account: each alarm run looks at every one of them.
pub const MAX_DESTINATIONS: usize = 50;
/// A batch also closes once it spans this many stored events (matching or not), so that
/// cutting or rendering one reads a bounded number of rows.
pub const MAX_BATCH_SPAN: i64 = 50_000;
/// Stored events read per step of a scan.
const SCAN_CHUNK: i64 = 500;
/// Stored events looked at by a status request's count of pending events; beyond it the
/// rest count without the filter.
const PENDING_COUNT_BUDGET: i64 = 100_000;

/// The receiver types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    S3,
    Gcs,
    SplunkHec,
    Sumo,
    Webhook,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::S3,
        Kind::Gcs,
        Kind::SplunkHec,
        Kind::Sumo,
        Kind::Webhook,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::S3 => "s3",
            Kind::Gcs => "gcs",
            Kind::SplunkHec => "splunk_hec",
            Kind::Sumo => "sumo",
            Kind::Webhook => "webhook",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Where a destination's batches go: its `type` and checked `config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "config", rename_all = "snake_case")]
pub enum Target {
    S3(S3Config),
    Gcs(GcsConfig),
    SplunkHec(HecConfig),
    Sumo(SumoConfig),
    Webhook(WebhookConfig),
}

impl Target {
    pub fn kind(&self) -> Kind {
        match self {
            Target::S3(_) => Kind::S3,
            Target::Gcs(_) => Kind::Gcs,
            Target::SplunkHec(_) => Kind::SplunkHec,
            Target::Sumo(_) => Kind::Sumo,
            Target::Webhook(_) => Kind::Webhook,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Config {
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub prefix: String,
    pub path_style: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GcsConfig {
    pub bucket: String,
    pub prefix: String,
    pub endpoint: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HecConfig {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sourcetype: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SumoConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Field names and their string values, in the order given.
    #[serde(default)]
    pub fields: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookConfig {
    pub url: String,
}

/// The write-only credentials of a destination, by their API names; which ones a type
/// needs is checked by the Worker. Its `Debug` form names the keys, never the values.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_key: Option<ServiceAccountKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hmac_access_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hmac_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The key of the transform's `pseudonymize` (formats.md section 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pseudonymize_key: Option<String>,
}

/// The parts of a Google service-account key that sign its token requests.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceAccountKey {
    pub client_email: String,
    pub private_key: String,
    pub token_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_id: Option<String>,
}

impl Credentials {
    /// The names of the credentials that are set (what a response may show of them).
    pub fn keys(&self) -> Vec<&'static str> {
        [
            ("accessKeyId", self.access_key_id.is_some()),
            ("secretAccessKey", self.secret_access_key.is_some()),
            ("serviceAccountKey", self.service_account_key.is_some()),
            ("hmacAccessId", self.hmac_access_id.is_some()),
            ("hmacSecret", self.hmac_secret.is_some()),
            ("token", self.token.is_some()),
            ("url", self.url.is_some()),
            ("secret", self.secret.is_some()),
            ("pseudonymizeKey", self.pseudonymize_key.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    /// Every secret value, for scrubbing them out of error texts.
    pub fn secrets(&self) -> Vec<&str> {
        let key = self.service_account_key.as_ref();
        [
            self.access_key_id.as_deref(),
            self.secret_access_key.as_deref(),
            key.map(|k| k.private_key.as_str()),
            self.hmac_access_id.as_deref(),
            self.hmac_secret.as_deref(),
            self.token.as_deref(),
            self.url.as_deref(),
            self.secret.as_deref(),
            self.pseudonymize_key.as_deref(),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect()
    }

    /// `text` with every credential value in it replaced.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in self.secrets() {
            if out.contains(secret) {
                out = out.replace(secret, "[credential]");
            }
        }
        out
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({})", self.keys().join(", "))
    }
}

impl fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServiceAccountKey(..)")
    }
}

/// The body format of a destination's batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyFormat {
    Json,
    Ndjson,
    SplunkHec,
    Sumo,
}

impl BodyFormat {
    pub fn format(self) -> crate::convert::Format {
        use crate::convert::Format;
        match self {
            BodyFormat::Json => Format::Json,
            BodyFormat::Ndjson => Format::Ndjson,
            BodyFormat::SplunkHec => Format::SplunkHec,
            BodyFormat::Sumo => Format::Sumo,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    None,
    Gzip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Inactive,
    Active,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Inactive => "inactive",
            Status::Active => "active",
        }
    }
}

/// When a batch is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchSettings {
    pub max_events: u64,
    pub max_bytes: u64,
    pub interval_seconds: u64,
}

/// How failed sends are retried.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetrySettings {
    pub max_attempts: u32,
    pub base_seconds: f64,
    pub max_seconds: f64,
}

/// A destination as checked, but for its status and credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Definition {
    pub name: String,
    pub description: String,
    pub tags: Map<String, Value>,
    #[serde(flatten)]
    pub target: Target,
    pub format: BodyFormat,
    pub compression: Compression,
    /// A query in the filter language's text syntax; empty matches every event.
    pub filter: String,
    pub transform: Option<Value>,
    /// S3 and GCS: an evidence sidecar beside each object (integrity.md).
    #[serde(default)]
    pub evidence: bool,
    pub batch: BatchSettings,
    pub retry: RetrySettings,
}

/// A destination as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    pub id: String,
    #[serde(flatten)]
    pub definition: Definition,
    pub status: Status,
    /// The names of the credentials that are set (never their values).
    pub credential_keys: Vec<String>,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DestinationList {
    pub destinations: Vec<Destination>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deleted {
    pub deleted: String,
}

/// One operation on the account's destinations.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DestinationRequest {
    /// Answers [`DestinationList`].
    List,
    /// Answers [`Destination`], or 404.
    Get { id: String },
    /// Answers the new [`Destination`]; 409 when `id` is taken or the account has
    /// [`MAX_DESTINATIONS`]; 400 when `start_after_seq` is past the last sequence number.
    Create {
        id: String,
        definition: Definition,
        credentials: Credentials,
        start_after_seq: Option<i64>,
    },
    /// Replaces the definition, and the credentials and status when given; 409 when the
    /// destination changed after `base_updated`. Answers [`Destination`].
    Update {
        id: String,
        base_updated: i64,
        definition: Definition,
        credentials: Option<Credentials>,
        status: Option<Status>,
    },
    /// Answers [`Deleted`]; 409 while the destination is active.
    Delete { id: String },
    /// Answers [`DestinationStatus`].
    Status { id: String },
    /// Checks the connection and credentials. Answers [`connectors::TestResult`].
    Test { id: String },
    /// Cuts what is pending now. Answers [`Flushed`].
    Flush { id: String },
    /// Sends dead letters again: all, or those named. Answers [`Replayed`]; 404 when a
    /// named batch is not a dead letter.
    Replay {
        id: String,
        batches: Option<Vec<String>>,
    },
    /// Discards one dead letter. Answers [`Deleted`].
    Discard { id: String, batch: String },
}

/// A destination's delivery state, as `GET .../status` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DestinationStatus {
    pub id: String,
    pub status: Status,
    /// The last sequence number delivered or dead-lettered.
    pub cursor: i64,
    /// Stored events after the cursor that match the filter.
    pub pending_events: i64,
    pub delivered_events: i64,
    pub delivered_batches: i64,
    pub last_success: Option<i64>,
    pub last_error: Option<ErrorRecord>,
    /// When the engine next sends: a retry, a replay or the next batch.
    pub next_attempt_at: Option<i64>,
    /// The batch being sent, if any.
    pub in_flight: Option<BatchInfo>,
    pub dead_letters: Vec<BatchInfo>,
}

/// The last failure of a destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorRecord {
    pub at: i64,
    pub message: String,
    pub stage: connectors::Stage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The batch it happened to, when it was a delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
}

/// A batch in flight or dead-lettered.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchInfo {
    /// `<firstSeq>-<lastSeq>`: the batch's name in the API.
    pub batch: String,
    pub first_seq: i64,
    pub last_seq: i64,
    pub events: i64,
    pub bytes: i64,
    /// The object name (S3, GCS) or `X-Trailsift-Batch` key it is sent under.
    pub name: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<i64>,
    pub cut_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_at: Option<i64>,
    /// A dead letter being sent again.
    pub replaying: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flushed {
    /// Events up to this sequence number are cut without waiting for the interval.
    pub flush_through_seq: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Replayed {
    pub replaying: Vec<String>,
}

/// What the object's destination code needs of the object.
pub struct Ctx<'a> {
    pub sql: SqlStorage,
    pub storage: worker::Storage,
    pub config: &'a Config,
    /// OAuth tokens of GCS destinations by destination id, with their expiry.
    pub tokens: &'a RefCell<HashMap<String, (String, i64)>>,
    /// Credentials opened for sending, by destination id, with the sealed text they came
    /// from (a change of credentials seals a new text).
    pub opened: &'a RefCell<HashMap<String, (String, Credentials)>>,
}

pub async fn handle(ctx: &Ctx<'_>, request: DestinationRequest) -> ApiResult<Vec<u8>> {
    let sql = &ctx.sql;
    match request {
        DestinationRequest::List => encode(&DestinationList {
            destinations: list(sql)?,
        }),
        DestinationRequest::Get { id } => encode(&load(sql, &id)?.view()),
        DestinationRequest::Create {
            id,
            definition,
            credentials,
            start_after_seq,
        } => {
            let sealed = crypto::seal(ctx.config, &id, &credentials).await?;
            let channel = crypto::uuid()?;
            encode(&create(
                sql,
                &id,
                &definition,
                sealed,
                channel,
                start_after_seq,
            )?)
        }
        DestinationRequest::Update {
            id,
            base_updated,
            definition,
            credentials,
            status,
        } => {
            let sealed = match &credentials {
                Some(c) => Some(crypto::seal(ctx.config, &id, c).await?),
                None => None,
            };
            ctx.tokens.borrow_mut().remove(&id);
            let update = Update {
                base_updated,
                definition,
                sealed,
                status,
            };
            encode(&update.apply(sql, &id)?)
        }
        DestinationRequest::Delete { id } => {
            let row = load(sql, &id)?;
            if row.status == Status::Active {
                return Err(ApiError::new(
                    409,
                    codes::DESTINATION_ACTIVE,
                    format!("destination `{id}` is active; set its status to inactive first"),
                ));
            }
            let binds = || vec![SqlStorageValue::String(id.clone())];
            sql::exec(
                sql,
                "DELETE FROM destination_batches WHERE destination = ?",
                binds(),
            )?;
            sql::exec(sql, "DELETE FROM destinations WHERE id = ?", binds())?;
            ctx.tokens.borrow_mut().remove(&id);
            ctx.opened.borrow_mut().remove(&id);
            encode(&Deleted { deleted: id })
        }
        DestinationRequest::Status { id } => encode(&status(sql, &load(sql, &id)?, now_ms())?),
        DestinationRequest::Test { id } => {
            let row = load(sql, &id)?;
            let credentials = crypto::open(ctx.config, &id, &row.credentials).await?;
            let sender = connectors::Sender::new(ctx, &row, &credentials, now_ms());
            encode(&connectors::test(&sender).await)
        }
        DestinationRequest::Flush { id } => {
            load(sql, &id)?;
            let through = last_seq(sql)?;
            sql::exec(
                sql,
                "UPDATE destinations SET flush_seq = ? WHERE id = ?",
                vec![
                    SqlStorageValue::Integer(through),
                    SqlStorageValue::String(id),
                ],
            )?;
            encode(&Flushed {
                flush_through_seq: through,
            })
        }
        DestinationRequest::Replay { id, batches } => {
            load(sql, &id)?;
            encode(&replay(sql, &id, batches, now_ms())?)
        }
        DestinationRequest::Discard { id, batch } => {
            load(sql, &id)?;
            let binds = vec![
                SqlStorageValue::String(id.clone()),
                SqlStorageValue::String(batch.clone()),
            ];
            let gone = sql::exec(
                sql,
                "DELETE FROM destination_batches WHERE destination = ? AND id = ? AND state IN ('dead', 'replay')",
                binds,
            )?
            .rows_written();
            if gone == 0 {
                return Err(ApiError::not_found("dead letter"));
            }
            encode(&Deleted { deleted: batch })
        }
    }
}

/// One stored destination with its delivery state.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub definition: Definition,
    pub credentials: String,
    pub credential_keys: Vec<String>,
    pub status: Status,
    pub channel: String,
    pub created: i64,
    pub updated: i64,
    pub cursor: i64,
    pub delivered_events: i64,
    pub delivered_batches: i64,
    pub last_success: Option<i64>,
    pub last_error: Option<ErrorRecord>,
    pub scan: ScanState,
}

/// What is known of a destination's pending events without reading them: see
/// [`cut_due`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScanState {
    pub cursor: i64,
    /// The last sequence number the previous scan (that cut nothing) reached; `None`
    /// when the events after the cursor are not looked at yet.
    pub checked_seq: Option<i64>,
    /// Matching events and their bytes between the cursor and `checked_seq`.
    pub checked_events: i64,
    pub checked_bytes: i64,
    /// Stored bytes committed after `checked_seq`.
    pub pending_bytes: i64,
    /// A flush asks to cut every event up to here now.
    pub flush_seq: Option<i64>,
}

const COLUMNS: &str = "id, definition, credentials, status, channel, created, updated, cursor, \
    delivered_events, delivered_batches, last_success, last_error, checked_seq, checked_events, \
    checked_bytes, pending_bytes, flush_seq";

impl Row {
    fn from_sql(row: Vec<SqlStorageValue>) -> ApiResult<Row> {
        let mut cols = row.into_iter();
        let id = text(cols.next()).unwrap_or_default();
        let broken = |what: &str| ApiError::storage(format!("destination `{id}`: {what}"));
        let definition: Definition = text(cols.next())
            .and_then(|d| serde_json::from_str(&d).ok())
            .ok_or_else(|| broken("unreadable definition"))?;
        let credentials = text(cols.next()).unwrap_or_default();
        let status = match text(cols.next()).as_deref() {
            Some("active") => Status::Active,
            _ => Status::Inactive,
        };
        let channel = text(cols.next()).unwrap_or_default();
        let created = int(cols.next());
        let updated = int(cols.next());
        let cursor = int(cols.next());
        let delivered_events = int(cols.next());
        let delivered_batches = int(cols.next());
        let last_success = optional_int(cols.next());
        let last_error = text(cols.next()).and_then(|e| serde_json::from_str(&e).ok());
        let checked_seq = optional_int(cols.next());
        let scan = ScanState {
            cursor,
            checked_seq,
            checked_events: int(cols.next()),
            checked_bytes: int(cols.next()),
            pending_bytes: int(cols.next()),
            flush_seq: optional_int(cols.next()),
        };
        let credential_keys = crypto::sealed_keys(&credentials);
        Ok(Row {
            id,
            definition,
            credentials,
            credential_keys,
            status,
            channel,
            created,
            updated,
            cursor,
            delivered_events,
            delivered_batches,
            last_success,
            last_error,
            scan,
        })
    }

    pub fn view(&self) -> Destination {
        Destination {
            id: self.id.clone(),
            definition: self.definition.clone(),
            status: self.status,
            credential_keys: self.credential_keys.clone(),
            created: self.created,
            updated: self.updated,
        }
    }
}

fn optional_int(v: Option<SqlStorageValue>) -> Option<i64> {
    match v {
        None | Some(SqlStorageValue::Null) => None,
        v => Some(int(v)),
    }
}

pub fn load(sql: &SqlStorage, id: &str) -> ApiResult<Row> {
    let stmt = format!("SELECT {COLUMNS} FROM destinations WHERE id = ?");
    match sql::rows(sql, &stmt, vec![SqlStorageValue::String(id.into())])?.next() {
        Some(row) => Row::from_sql(row?),
        None => Err(ApiError::not_found("destination")),
    }
}

pub fn rows(sql: &SqlStorage) -> ApiResult<Vec<Row>> {
    let stmt = format!("SELECT {COLUMNS} FROM destinations ORDER BY created, id");
    sql::rows(sql, &stmt, vec![])?
        .map(|row| Row::from_sql(row?))
        .collect()
}

fn list(sql: &SqlStorage) -> ApiResult<Vec<Destination>> {
    Ok(rows(sql)?.iter().map(Row::view).collect())
}

fn definition_text(definition: &Definition) -> ApiResult<String> {
    serde_json::to_string(definition).map_err(|e| ApiError::storage(format!("encoding: {e}")))
}

fn create(
    sql: &SqlStorage,
    id: &str,
    definition: &Definition,
    sealed: String,
    channel: String,
    start_after_seq: Option<i64>,
) -> ApiResult<Destination> {
    let binds = vec![SqlStorageValue::String(id.into())];
    if sql::rows(sql, "SELECT 1 FROM destinations WHERE id = ?", binds)?
        .next()
        .is_some()
    {
        return Err(ApiError::new(
            409,
            codes::CONFLICT,
            format!("a destination with id `{id}` exists"),
        ));
    }
    let count = sql::rows(sql, "SELECT COUNT(*) FROM destinations", vec![])?
        .next()
        .map(|row| row.map(|r| int(r.into_iter().next())))
        .transpose()?
        .unwrap_or(0);
    if count >= MAX_DESTINATIONS as i64 {
        return Err(ApiError::new(
            409,
            codes::TOO_MANY_DESTINATIONS,
            format!("the account has {MAX_DESTINATIONS} destinations, the most it may have"),
        ));
    }
    let last = last_seq(sql)?;
    let cursor = match start_after_seq {
        None => last,
        Some(s) if (0..=last).contains(&s) => s,
        Some(s) => {
            return Err(ApiError::bad_request(
                codes::BAD_DESTINATION,
                format!("`startAfterSeq` must be from 0 to the account's last sequence number {last} (got {s})"),
            )
            .with_details(serde_json::json!({"field": "startAfterSeq"})))
        }
    };
    let now = now_ms();
    sql::exec(
        sql,
        "INSERT INTO destinations (id, definition, credentials, status, channel, created, updated, cursor, checked_seq)
         VALUES (?, ?, ?, 'inactive', ?, ?, ?, ?, NULL)",
        vec![
            SqlStorageValue::String(id.into()),
            SqlStorageValue::String(definition_text(definition)?),
            SqlStorageValue::String(sealed),
            SqlStorageValue::String(channel),
            SqlStorageValue::Integer(now),
            SqlStorageValue::Integer(now),
            SqlStorageValue::Integer(cursor),
        ],
    )?;
    Ok(load(sql, id)?.view())
}

struct Update {
    base_updated: i64,
    definition: Definition,
    sealed: Option<String>,
    status: Option<Status>,
}

impl Update {
    fn apply(self, sql: &SqlStorage, id: &str) -> ApiResult<Destination> {
        let row = load(sql, id)?;
        if row.updated != self.base_updated {
            return Err(ApiError::new(
                409,
                codes::CONFLICT,
                format!("destination `{id}` changed while this change was made; try again"),
            ));
        }
        let status = self.status.unwrap_or(row.status);
        // A batch's content is fixed when it is cut; what comes after the cursor is looked
        // at again under the new definition.
        let rescan = row.definition.filter != self.definition.filter
            || row.definition.transform != self.definition.transform
            || row.definition.format != self.definition.format
            || row.definition.batch != self.definition.batch;
        let credentials = self.sealed.unwrap_or(row.credentials);
        let now = now_ms().max(row.updated + 1);
        sql::exec(
            sql,
            "UPDATE destinations SET definition = ?, credentials = ?, status = ?, updated = ?,
                checked_seq = CASE WHEN ? THEN NULL ELSE checked_seq END
             WHERE id = ?",
            vec![
                SqlStorageValue::String(definition_text(&self.definition)?),
                SqlStorageValue::String(credentials),
                SqlStorageValue::String(status.name().into()),
                SqlStorageValue::Integer(now),
                SqlStorageValue::Integer(i64::from(rescan)),
                SqlStorageValue::String(id.into()),
            ],
        )?;
        Ok(load(sql, id)?.view())
    }
}

/// Marks dead letters for sending again, at once.
fn replay(
    sql: &SqlStorage,
    id: &str,
    batches: Option<Vec<String>>,
    now: i64,
) -> ApiResult<Replayed> {
    let dead: Vec<String> = sql::rows(
        sql,
        "SELECT id FROM destination_batches WHERE destination = ? AND state IN ('dead', 'replay') ORDER BY first_seq",
        vec![SqlStorageValue::String(id.into())],
    )?
    .map(|row| row.map(|r| text(r.into_iter().next()).unwrap_or_default()))
    .collect::<ApiResult<_>>()?;
    let chosen = match batches {
        None => dead,
        Some(names) => {
            if let Some(missing) = names.iter().find(|n| !dead.contains(n)) {
                return Err(ApiError::not_found("dead letter")
                    .with_details(serde_json::json!({"batch": missing})));
            }
            names
        }
    };
    for batch in &chosen {
        sql::exec(
            sql,
            "UPDATE destination_batches SET state = 'replay', attempts = 0, parts_done = 0, next_attempt_at = ?
             WHERE destination = ? AND id = ?",
            vec![
                SqlStorageValue::Integer(now),
                SqlStorageValue::String(id.into()),
                SqlStorageValue::String(batch.clone()),
            ],
        )?;
    }
    Ok(Replayed { replaying: chosen })
}

fn status(sql: &SqlStorage, row: &Row, now: i64) -> ApiResult<DestinationStatus> {
    let batches = batches_of(sql, &row.id)?;
    let in_flight = batches
        .iter()
        .find(|(state, _)| state == "sending")
        .map(|(_, b)| b.clone());
    let dead_letters: Vec<BatchInfo> = batches
        .into_iter()
        .filter(|(state, _)| state != "sending")
        .map(|(_, b)| b)
        .collect();
    let next_attempt_at = if row.status == Status::Active {
        next_due_of(sql, row, last_seq(sql)?, now)?
    } else {
        None
    };
    Ok(DestinationStatus {
        id: row.id.clone(),
        status: row.status,
        cursor: row.cursor,
        pending_events: pending_events(sql, row, now)?,
        delivered_events: row.delivered_events,
        delivered_batches: row.delivered_batches,
        last_success: row.last_success,
        last_error: row.last_error.clone(),
        next_attempt_at,
        in_flight,
        dead_letters,
    })
}

/// The batches of a destination with their states, oldest first.
fn batches_of(sql: &SqlStorage, id: &str) -> ApiResult<Vec<(String, BatchInfo)>> {
    sql::rows(
        sql,
        "SELECT state, id, first_seq, last_seq, events, bytes, name, attempts, last_error,
                next_attempt_at, cut_at, dead_at
         FROM destination_batches WHERE destination = ? ORDER BY first_seq",
        vec![SqlStorageValue::String(id.into())],
    )?
    .map(|row| {
        let mut c = row?.into_iter();
        let state = text(c.next()).unwrap_or_default();
        let info = BatchInfo {
            batch: text(c.next()).unwrap_or_default(),
            first_seq: int(c.next()),
            last_seq: int(c.next()),
            events: int(c.next()),
            bytes: int(c.next()),
            name: text(c.next()).unwrap_or_default(),
            attempts: int(c.next()),
            last_error: text(c.next()),
            next_attempt_at: optional_int(c.next()),
            cut_at: int(c.next()),
            dead_at: optional_int(c.next()),
            replaying: state == "replay",
        };
        Ok((state, info))
    })
    .collect()
}

/// Stored events after the cursor that match the filter; past
/// [`PENDING_COUNT_BUDGET`] events the rest count unfiltered.
fn pending_events(sql: &SqlStorage, row: &Row, now: i64) -> ApiResult<i64> {
    let filter = scan_filter(&filter_source(&row.definition.filter))?;
    let mut after = row.cursor;
    let mut count = 0i64;
    let mut looked = 0i64;
    if filter.is_some() {
        while looked < PENDING_COUNT_BUDGET {
            let chunk = Chunk::read(sql, after, PAST_EVERY_SEQ, SCAN_CHUNK, CHUNK_CHARS)?;
            let rows = chunk.rows();
            for &(seq, _, body) in &rows {
                after = seq;
                if keeps(filter.as_ref(), body, now) {
                    count += 1;
                }
            }
            if rows.is_empty() {
                return Ok(count);
            }
            looked += rows.len() as i64;
        }
    }
    let rest = sql::rows(
        sql,
        "SELECT COUNT(*) FROM events WHERE seq > ?",
        vec![SqlStorageValue::Integer(after)],
    )?
    .next()
    .map(|r| r.map(|r| int(r.into_iter().next())))
    .transpose()?
    .unwrap_or(0);
    Ok(count + rest)
}

/// Records a commit for the destinations' interval clocks and size estimates, in the
/// commit's own transaction.
pub fn on_commit(sql: &SqlStorage, last: Option<i64>, bytes: i64, now: i64) -> ApiResult<()> {
    let Some(last) = last else {
        return Ok(());
    };
    let any = sql::rows(sql, "SELECT 1 FROM destinations LIMIT 1", vec![])?
        .next()
        .is_some();
    if !any {
        return Ok(());
    }
    sql::exec(
        sql,
        "INSERT OR REPLACE INTO destination_commits (last_seq, at) VALUES (?, ?)",
        vec![
            SqlStorageValue::Integer(last),
            SqlStorageValue::Integer(now),
        ],
    )?;
    sql::exec(
        sql,
        "UPDATE destinations SET pending_bytes = pending_bytes + ?",
        vec![SqlStorageValue::Integer(bytes)],
    )?;
    Ok(())
}

/// When the oldest event after `cursor` was committed, if the object knows.
pub fn oldest_pending(sql: &SqlStorage, cursor: i64) -> ApiResult<Option<i64>> {
    let row = sql::rows(
        sql,
        "SELECT at FROM destination_commits WHERE last_seq > ? ORDER BY last_seq LIMIT 1",
        vec![SqlStorageValue::Integer(cursor)],
    )?
    .next();
    Ok(match row {
        Some(row) => Some(int(row?.into_iter().next())),
        None => None,
    })
}

/// Forgets commit times no destination needs any more.
pub fn prune_commits(sql: &SqlStorage) -> ApiResult<()> {
    sql::exec(
        sql,
        "DELETE FROM destination_commits WHERE last_seq <= COALESCE((SELECT MIN(cursor) FROM destinations), 9223372036854775807)",
        vec![],
    )?;
    Ok(())
}

/// Sequence ranges that retention must keep: batches in flight and dead letters.
pub fn kept_ranges(sql: &SqlStorage) -> ApiResult<Vec<(i64, i64)>> {
    sql::rows(
        sql,
        "SELECT from_seq, through_seq FROM destination_batches ORDER BY from_seq",
        vec![],
    )?
    .map(|row| {
        let mut c = row?.into_iter();
        Ok((int(c.next()), int(c.next())))
    })
    .collect()
}

/// The earliest time any active destination has work due, if any.
pub fn next_due(sql: &SqlStorage, now: i64) -> ApiResult<Option<i64>> {
    let last = last_seq(sql)?;
    let mut due: Option<i64> = None;
    for row in rows(sql)? {
        if row.status != Status::Active {
            continue;
        }
        if let Some(t) = next_due_of(sql, &row, last, now)? {
            due = Some(due.map_or(t, |d| d.min(t)));
        }
    }
    Ok(due)
}

/// When one destination next has work: a retry or replay, or cutting its next batch.
fn next_due_of(sql: &SqlStorage, row: &Row, last: i64, now: i64) -> ApiResult<Option<i64>> {
    let mut due: Option<i64> = None;
    let mut sending = false;
    for r in sql::rows(
        sql,
        "SELECT state, MIN(next_attempt_at) FROM destination_batches
         WHERE destination = ? AND state IN ('sending', 'replay') GROUP BY state",
        vec![SqlStorageValue::String(row.id.clone())],
    )? {
        let mut c = r?.into_iter();
        sending |= text(c.next()).as_deref() == Some("sending");
        let t = optional_int(c.next()).unwrap_or(now);
        due = Some(due.map_or(t, |d| d.min(t)));
    }
    if !sending && last > row.cursor {
        let oldest = oldest_pending(sql, row.cursor)?;
        let t = cut_due(&row.scan, &row.definition.batch, last, oldest, now);
        due = Some(due.map_or(t, |d| d.min(t)));
    }
    Ok(due)
}

/// When the next batch of a destination with events after its cursor should be cut: now
/// when it may be full (by what the last scan found plus everything committed since, an
/// upper bound), when a flush asks or nothing is known yet; else `intervalSeconds` after
/// its oldest pending event was committed (at once when that time is unknown).
pub fn cut_due(
    scan: &ScanState,
    batch: &BatchSettings,
    last: i64,
    oldest_commit: Option<i64>,
    now: i64,
) -> i64 {
    let Some(checked) = scan.checked_seq else {
        return now;
    };
    let max_events = i64::try_from(batch.max_events).unwrap_or(i64::MAX);
    let max_bytes = i64::try_from(batch.max_bytes).unwrap_or(i64::MAX);
    let may_be_full = scan.checked_events.saturating_add(last - checked) >= max_events
        || scan.checked_bytes.saturating_add(scan.pending_bytes) >= max_bytes
        || last - scan.cursor >= MAX_BATCH_SPAN;
    if may_be_full || scan.flush_seq.is_some_and(|f| f > scan.cursor) {
        return now;
    }
    let interval = i64::try_from(batch.interval_seconds)
        .unwrap_or(i64::MAX)
        .saturating_mul(1000);
    oldest_commit.map_or(now, |t| t.saturating_add(interval))
}

/// A filter source for the destination's query text.
pub fn filter_source(query: &str) -> FilterSource {
    FilterSource::Query(query.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn batch() -> BatchSettings {
        BatchSettings {
            max_events: 100,
            max_bytes: 10_000,
            interval_seconds: 60,
        }
    }

    fn scanned(cursor: i64, checked: i64, events: i64, bytes: i64, pending: i64) -> ScanState {
        ScanState {
            cursor,
            checked_seq: Some(checked),
            checked_events: events,
            checked_bytes: bytes,
            pending_bytes: pending,
            flush_seq: None,
        }
    }

    #[test]
    fn a_batch_is_due_at_its_interval_unless_it_may_be_full() {
        let now = 1_000_000;
        // 10 matching events seen, 5 more committed since: not full, due a minute after
        // the oldest pending commit.
        let s = scanned(100, 110, 10, 2_000, 500);
        assert_eq!(cut_due(&s, &batch(), 115, Some(990_000), now), 1_050_000);
        // Unknown commit time: now.
        assert_eq!(cut_due(&s, &batch(), 115, None, now), now);
        // Enough events committed since the scan to fill it: now.
        assert_eq!(cut_due(&s, &batch(), 200, Some(990_000), now), now);
        // Enough bytes: now.
        let heavy = scanned(100, 110, 10, 2_000, 8_000);
        assert_eq!(cut_due(&heavy, &batch(), 115, Some(990_000), now), now);
        // Never scanned since the cursor moved: now.
        let fresh = ScanState {
            cursor: 100,
            ..ScanState::default()
        };
        assert_eq!(cut_due(&fresh, &batch(), 101, Some(990_000), now), now);
        // A flush past the cursor: now; one the cursor passed: the interval again.
        let flushed = ScanState {
            flush_seq: Some(105),
            ..s
        };
        assert_eq!(cut_due(&flushed, &batch(), 115, Some(990_000), now), now);
        let old_flush = ScanState {
            flush_seq: Some(100),
            ..s
        };
        assert_eq!(
            cut_due(&old_flush, &batch(), 115, Some(990_000), now),
            1_050_000
        );
        // A span of stored events too long for one batch: now.
        let sparse = scanned(100, 100 + MAX_BATCH_SPAN, 0, 0, 0);
        assert_eq!(
            cut_due(&sparse, &batch(), 100 + MAX_BATCH_SPAN, Some(990_000), now),
            now
        );
    }

    #[test]
    fn credentials_show_their_names_never_their_values() {
        let c = Credentials {
            access_key_id: Some("AKIDEXAMPLE".into()),
            secret_access_key: Some("wJalrXUtnFEMI".into()),
            ..Credentials::default()
        };
        assert_eq!(c.keys(), ["accessKeyId", "secretAccessKey"]);
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("AKIDEXAMPLE") && !debug.contains("wJalr"),
            "{debug}"
        );
        assert_eq!(
            c.scrub("denied for AKIDEXAMPLE with wJalrXUtnFEMI"),
            "denied for [credential] with [credential]"
        );
    }

    #[test]
    fn a_definition_reads_as_the_api_shows_it() {
        let d = Definition {
            name: "SIEM S3".into(),
            description: String::new(),
            tags: Map::new(),
            target: Target::S3(S3Config {
                endpoint: "https://s3.eu-west-1.amazonaws.com".into(),
                region: "eu-west-1".into(),
                bucket: "audit".into(),
                prefix: "trail/".into(),
                path_style: false,
            }),
            format: BodyFormat::Ndjson,
            compression: Compression::Gzip,
            filter: String::new(),
            transform: None,
            evidence: true,
            batch: batch(),
            retry: RetrySettings {
                max_attempts: 8,
                base_seconds: 2.0,
                max_seconds: 900.0,
            },
        };
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["type"], "s3");
        assert_eq!(v["config"]["pathStyle"], false);
        assert_eq!(v["format"], "ndjson");
        assert_eq!(v["evidence"], true);
        assert_eq!(
            v["batch"],
            json!({"maxEvents": 100, "maxBytes": 10000, "intervalSeconds": 60})
        );
        let back: Definition = serde_json::from_value(v).unwrap();
        assert_eq!(back, d);
    }
}
