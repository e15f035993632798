//! The object's API tokens: made, listed and revoked by the account's admins, and looked up
//! by the Worker for a presented token that is not one of `TRAILSIFT_TOKENS`.
//!
//! Only the SHA-256 digest of a token's secret is kept. The Worker finds this object from
//! the token itself, which carries its account in clear (`ts_<account>_<secret>`, see
//! `edge::tokens`), so one lookup reaches the one object that holds the digest: no
//! Worker-wide index to keep in step, and a revocation is a single delete here, in force
//! for the next request. The lookup is by digest: its timing can tell at most how a guess's
//! digest compares with stored digests, which gives nothing towards a secret of 256 random
//! bits.

use serde::{Deserialize, Serialize};
use worker::{SqlStorage, SqlStorageValue};

use super::encode;
use super::sql::{self, int, text};
use crate::edge::codes;
use crate::edge::error::{ApiError, ApiResult};
use crate::time::format_ms;

pub const SCHEMA: &[&str] = &["CREATE TABLE IF NOT EXISTS tokens (
        id TEXT PRIMARY KEY,
        digest TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        owner TEXT NOT NULL,
        scopes TEXT NOT NULL,
        created INTEGER NOT NULL,
        expires INTEGER,
        last_used INTEGER)"];

const COLUMNS: &str = "id, name, owner, scopes, created, expires, last_used";

/// The most tokens an account may hold (each is a row the object reads on use).
pub const MAX_TOKENS: i64 = 1000;

/// `lastUsedAt` moves at most this often per token, so that a busy token does not write
/// on every request.
const LAST_USED_EVERY_MS: i64 = 60_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenRequest {
    /// Keeps a new token; answers its [`TokenInfo`]. 409 when the account holds
    /// [`MAX_TOKENS`].
    Create(NewToken),
    /// Answers [`TokenList`], oldest first.
    List,
    /// Deletes token `id`; answers [`Revoked`], or 404.
    Revoke { id: String },
    /// The holder of the token whose secret has SHA-256 `digest` (hex), at `now`: answers
    /// [`Holder`], or 401 for a digest not kept or a token expired; the request is taken
    /// from the account's budget too (`429 rate_limited` over it).
    Authenticate { digest: String, now: i64 },
}

/// A token the Worker made, checked; its secret is known only by its digest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewToken {
    pub id: String,
    pub digest: String,
    pub name: String,
    pub owner: String,
    pub scopes: Vec<String>,
    pub created: i64,
    pub expires: Option<i64>,
}

/// A token as the API lists it: never its secret nor its digest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenList {
    pub tokens: Vec<TokenInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Revoked {
    pub revoked: String,
}

/// Who a token stands for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    pub id: String,
    pub owner: String,
    pub scopes: Vec<String>,
}

pub fn handle(sql: &SqlStorage, request: TokenRequest) -> ApiResult<Vec<u8>> {
    match request {
        TokenRequest::Create(token) => encode(&create(sql, token)?),
        TokenRequest::List => {
            let stmt = format!("SELECT {COLUMNS} FROM tokens ORDER BY created, id");
            let tokens = sql::rows(sql, &stmt, vec![])?
                .map(|row| info(row?))
                .collect::<ApiResult<_>>()?;
            encode(&TokenList { tokens })
        }
        TokenRequest::Revoke { id } => {
            let binds = || vec![SqlStorageValue::String(id.clone())];
            let stmt = "SELECT 1 FROM tokens WHERE id = ?";
            if sql::rows(sql, stmt, binds())?.next().is_none() {
                return Err(ApiError::not_found("token"));
            }
            sql::exec(sql, "DELETE FROM tokens WHERE id = ?", binds())?;
            encode(&Revoked { revoked: id })
        }
        TokenRequest::Authenticate { digest, now } => authenticate(sql, &digest, now),
    }
}

fn create(sql: &SqlStorage, token: NewToken) -> ApiResult<TokenInfo> {
    let held = sql::rows(sql, "SELECT count(*) FROM tokens", vec![])?
        .next()
        .transpose()?
        .map_or(0, |row| int(row.into_iter().next()));
    if held >= MAX_TOKENS {
        return Err(ApiError::new(
            409,
            codes::TOO_MANY_TOKENS,
            format!("the account holds {held} tokens, the most it may; revoke one first"),
        ));
    }
    let scopes = serde_json::to_string(&token.scopes)
        .map_err(|e| ApiError::storage(format!("encoding scopes: {e}")))?;
    sql::exec(
        sql,
        &format!("INSERT INTO tokens ({COLUMNS}, digest) VALUES (?,?,?,?,?,?,NULL,?)"),
        vec![
            SqlStorageValue::String(token.id.clone()),
            SqlStorageValue::String(token.name.clone()),
            SqlStorageValue::String(token.owner.clone()),
            SqlStorageValue::String(scopes),
            SqlStorageValue::Integer(token.created),
            token
                .expires
                .map_or(SqlStorageValue::Null, SqlStorageValue::Integer),
            SqlStorageValue::String(token.digest),
        ],
    )?;
    Ok(TokenInfo {
        id: token.id,
        name: token.name,
        owner: token.owner,
        scopes: token.scopes,
        created_at: format_ms(token.created),
        expires_at: token.expires.map(format_ms),
        last_used_at: None,
    })
}

/// Answers the [`Holder`] of the token with `digest`, or 401.
pub fn authenticate(sql: &SqlStorage, digest: &str, now: i64) -> ApiResult<Vec<u8>> {
    let stmt = "SELECT id, owner, scopes, expires, last_used FROM tokens WHERE digest = ?";
    let row = sql::rows(sql, stmt, vec![SqlStorageValue::String(digest.into())])?
        .next()
        .transpose()?
        .ok_or_else(ApiError::unauthorized)?;
    let mut cols = row.into_iter();
    let id = text(cols.next()).unwrap_or_default();
    let owner = text(cols.next()).unwrap_or_default();
    let scopes = scopes(text(cols.next()));
    let expires = optional(cols.next());
    let last_used = optional(cols.next());
    if expires.is_some_and(|at| at <= now) {
        return Err(ApiError::unauthorized());
    }
    if last_used.is_none_or(|at| now - at >= LAST_USED_EVERY_MS) {
        sql::exec(
            sql,
            "UPDATE tokens SET last_used = ? WHERE id = ?",
            vec![
                SqlStorageValue::Integer(now),
                SqlStorageValue::String(id.clone()),
            ],
        )?;
    }
    encode(&Holder { id, owner, scopes })
}

fn info(row: Vec<SqlStorageValue>) -> ApiResult<TokenInfo> {
    let mut cols = row.into_iter();
    Ok(TokenInfo {
        id: text(cols.next()).unwrap_or_default(),
        name: text(cols.next()).unwrap_or_default(),
        owner: text(cols.next()).unwrap_or_default(),
        scopes: scopes(text(cols.next())),
        created_at: format_ms(int(cols.next())),
        expires_at: optional(cols.next()).map(format_ms),
        last_used_at: optional(cols.next()).map(format_ms),
    })
}

/// Scopes as kept (a JSON array); a row that does not read grants nothing.
fn scopes(column: Option<String>) -> Vec<String> {
    column
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

/// A column that may be null, as an integer.
fn optional(v: Option<SqlStorageValue>) -> Option<i64> {
    match v {
        None | Some(SqlStorageValue::Null) => None,
        v => Some(int(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_token_shows_no_secret_and_camel_case_times() {
        let info = TokenInfo {
            id: "tok_1".into(),
            name: "ci".into(),
            owner: "alice".into(),
            scopes: vec!["ingest".into()],
            created_at: format_ms(0),
            expires_at: None,
            last_used_at: Some(format_ms(60_000)),
        };
        assert_eq!(
            serde_json::to_string(&info).unwrap(),
            r#"{"id":"tok_1","name":"ci","owner":"alice","scopes":["ingest"],"createdAt":"1970-01-01T00:00:00.000Z","expiresAt":null,"lastUsedAt":"1970-01-01T00:01:00.000Z"}"#
        );
    }

    #[test]
    fn unreadable_scopes_grant_nothing() {
        assert_eq!(
            scopes(Some(r#"["read","admin"]"#.into())),
            ["read", "admin"]
        );
        for bad in [None, Some("read".to_string()), Some("{}".to_string())] {
            assert!(scopes(bad).is_empty());
        }
        assert_eq!(optional(Some(SqlStorageValue::Null)), None);
        assert_eq!(optional(Some(SqlStorageValue::Integer(5))), Some(5));
    }
}
