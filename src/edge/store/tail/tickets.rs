//! One-use tickets: a browser cannot put a bearer token on a WebSocket or an `EventSource`,
//! so a token asks for a ticket that stands for its account and scopes, once, briefly. The
//! object keeps only the digest of a ticket's secret.

use serde::{Deserialize, Serialize};
use worker::{SqlStorage, SqlStorageValue};

use super::super::sql::{self, int, text};
use crate::edge::codes;
use crate::edge::error::{ApiError, ApiResult};

pub const SCHEMA: &[&str] = &["CREATE TABLE IF NOT EXISTS tail_tickets (
        digest TEXT PRIMARY KEY,
        scopes TEXT NOT NULL,
        owner TEXT NOT NULL,
        expires INTEGER NOT NULL)"];

/// A ticket as the object keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ticket {
    pub digest: String,
    pub scopes: Vec<String>,
    pub owner: String,
    /// Epoch milliseconds.
    pub expires: i64,
}

/// What a redeemed ticket stands for: the scopes and owner of the token that asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub scopes: Vec<String>,
    pub owner: String,
}

/// Keeps a ticket, and forgets the expired ones (so the table stays small).
pub fn issue(sql: &SqlStorage, ticket: &Ticket, now: i64) -> ApiResult<()> {
    sql::exec(
        sql,
        "DELETE FROM tail_tickets WHERE expires < ?",
        vec![SqlStorageValue::Integer(now)],
    )?;
    sql::exec(
        sql,
        "INSERT INTO tail_tickets (digest, scopes, owner, expires) VALUES (?, ?, ?, ?)",
        vec![
            SqlStorageValue::String(ticket.digest.clone()),
            SqlStorageValue::String(ticket.scopes.join(" ")),
            SqlStorageValue::String(ticket.owner.clone()),
            SqlStorageValue::Integer(ticket.expires),
        ],
    )?;
    Ok(())
}

/// Takes a ticket out of the table, so that a second use finds nothing: `401` for a ticket
/// that is unknown, used or expired.
pub fn redeem(sql: &SqlStorage, digest: &str, now: i64) -> ApiResult<Grant> {
    let binds = vec![SqlStorageValue::String(digest.to_string())];
    let mut found = None;
    for row in sql::rows(
        sql,
        "DELETE FROM tail_tickets WHERE digest = ? RETURNING scopes, owner, expires",
        binds,
    )? {
        let mut cols = row?.into_iter();
        let scopes = text(cols.next()).unwrap_or_default();
        let owner = text(cols.next()).unwrap_or_default();
        found = Some((scopes, owner, int(cols.next())));
    }
    match found {
        Some((scopes, owner, expires)) if expires >= now => Ok(Grant {
            scopes: scopes.split_whitespace().map(str::to_string).collect(),
            owner,
        }),
        _ => Err(ApiError::new(
            401,
            codes::UNAUTHORIZED,
            "the ticket is unknown, used or expired; ask for a new one",
        )),
    }
}
