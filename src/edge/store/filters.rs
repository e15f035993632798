//! The object's saved filters: private to their owner or visible to the whole account;
//! changing another owner's filter needs `admin`. The Worker checks definitions before
//! they get here.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use worker::{SqlStorage, SqlStorageValue};

use super::encode;
use super::sql::{self, int, text};
use crate::edge::codes;
use crate::edge::error::{ApiError, ApiResult};
use crate::edge::filtering::FilterSource;
use crate::edge::now_ms;

pub const SCHEMA: &[&str] = &["CREATE TABLE IF NOT EXISTS filters (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        query TEXT,
        structured TEXT,
        visibility TEXT NOT NULL,
        owner TEXT NOT NULL,
        created INTEGER NOT NULL,
        updated INTEGER NOT NULL)"];

const COLUMNS: &str = "id, name, query, structured, visibility, owner, created, updated";

/// One operation on saved filters, for a caller.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FilterRequest {
    pub caller: Requester,
    pub op: FilterOp,
}

/// Who asks: the owner name of its token, and whether the token has `admin`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Requester {
    pub owner: String,
    pub admin: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    /// The filters the caller sees. Answers [`FilterList`].
    List,
    /// Answers [`SavedFilter`], or 404 when the caller does not see it.
    Get { id: String },
    /// Answers the new [`SavedFilter`]; 409 when `id` is taken. Without an id the object
    /// makes one.
    Create {
        id: Option<String>,
        definition: Definition,
    },
    /// Changes what `patch` gives; answers the [`SavedFilter`].
    Update { id: String, patch: Patch },
    /// Answers [`Deleted`].
    Delete { id: String },
    /// Answers `null` when the caller may change filter `id`, and 404 or 403 as `Update`
    /// would. The Worker asks it before telling a caller its patch is invalid.
    MayChange { id: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Only the owner sees it.
    Private,
    /// Every `read` token of the account sees it.
    Account,
}

impl Visibility {
    pub fn from_name(name: &str) -> Option<Visibility> {
        [Visibility::Private, Visibility::Account]
            .into_iter()
            .find(|v| v.name() == name)
    }

    fn name(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Account => "account",
        }
    }
}

/// A new filter, checked: it compiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    pub name: String,
    pub visibility: Visibility,
    pub filter: FilterSource,
}

/// The parts of a filter a change gives, checked; the others stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Patch {
    pub name: Option<String>,
    pub visibility: Option<Visibility>,
    pub filter: Option<FilterSource>,
}

/// A saved filter as the API shows it: `query` or `structured`, whichever it was made with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedFilter {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured: Option<Box<RawValue>>,
    pub visibility: Visibility,
    pub owner: String,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FilterList {
    pub filters: Vec<SavedFilter>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deleted {
    pub deleted: String,
}

pub fn handle(sql: &SqlStorage, request: FilterRequest) -> ApiResult<Vec<u8>> {
    let FilterRequest { caller, op } = request;
    match op {
        FilterOp::List => encode(&list(sql, &caller)?),
        FilterOp::Get { id } => encode(&load(sql, &id, &caller.owner)?),
        FilterOp::Create { id, definition } => encode(&create(sql, &caller, id, definition)?),
        FilterOp::Update { id, patch } => encode(&update(sql, &caller, &id, patch)?),
        FilterOp::Delete { id } => {
            load_for_change(sql, &caller, &id)?;
            sql::exec(
                sql,
                "DELETE FROM filters WHERE id = ?",
                vec![SqlStorageValue::String(id.clone())],
            )?;
            encode(&Deleted { deleted: id })
        }
        FilterOp::MayChange { id } => {
            load_for_change(sql, &caller, &id)?;
            encode(&())
        }
    }
}

fn saved_filter(row: Vec<SqlStorageValue>) -> ApiResult<SavedFilter> {
    let mut cols = row.into_iter();
    let id = text(cols.next()).unwrap_or_default();
    let name = text(cols.next()).unwrap_or_default();
    let query = text(cols.next());
    let structured = text(cols.next()).and_then(|s| RawValue::from_string(s).ok());
    let visibility = text(cols.next())
        .as_deref()
        .and_then(Visibility::from_name)
        .ok_or_else(|| ApiError::storage(format!("filter `{id}` has no visibility")))?;
    Ok(SavedFilter {
        id,
        name,
        query,
        structured,
        visibility,
        owner: text(cols.next()).unwrap_or_default(),
        created: int(cols.next()),
        updated: int(cols.next()),
    })
}

fn list(sql: &SqlStorage, caller: &Requester) -> ApiResult<FilterList> {
    let stmt = format!(
        "SELECT {COLUMNS} FROM filters WHERE visibility = 'account' OR owner = ? ORDER BY created, id"
    );
    let filters = sql::rows(
        sql,
        &stmt,
        vec![SqlStorageValue::String(caller.owner.clone())],
    )?
    .map(|row| saved_filter(row?))
    .collect::<ApiResult<_>>()?;
    Ok(FilterList { filters })
}

/// A filter `owner` sees: an account filter, or one of its own.
fn load(sql: &SqlStorage, id: &str, owner: &str) -> ApiResult<SavedFilter> {
    let stmt = format!(
        "SELECT {COLUMNS} FROM filters WHERE id = ? AND (visibility = 'account' OR owner = ?)"
    );
    let binds = vec![
        SqlStorageValue::String(id.into()),
        SqlStorageValue::String(owner.into()),
    ];
    match sql::rows(sql, &stmt, binds)?.next() {
        Some(row) => saved_filter(row?),
        None => Err(ApiError::not_found("filter")),
    }
}

/// A filter the caller may change: visible to it, and its own unless it is admin.
fn load_for_change(sql: &SqlStorage, caller: &Requester, id: &str) -> ApiResult<SavedFilter> {
    let existing = load(sql, id, &caller.owner)?;
    if existing.owner != caller.owner && !caller.admin {
        return Err(ApiError::new(
            403,
            codes::FORBIDDEN,
            "changing another owner's filter needs the `admin` scope",
        ));
    }
    Ok(existing)
}

/// The `query` and `structured` columns of a filter.
fn columns(filter: FilterSource) -> (SqlStorageValue, SqlStorageValue) {
    match filter {
        FilterSource::Query(q) => (SqlStorageValue::String(q), SqlStorageValue::Null),
        FilterSource::Structured(s) => (SqlStorageValue::Null, SqlStorageValue::String(s)),
    }
}

fn new_filter_id() -> String {
    let r = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    format!("flt_{:x}{:08x}", now_ms(), r)
}

fn create(
    sql: &SqlStorage,
    caller: &Requester,
    id: Option<String>,
    def: Definition,
) -> ApiResult<SavedFilter> {
    let id = id.unwrap_or_else(new_filter_id);
    let binds = vec![SqlStorageValue::String(id.clone())];
    if sql::rows(sql, "SELECT 1 FROM filters WHERE id = ?", binds)?
        .next()
        .is_some()
    {
        return Err(ApiError::new(
            409,
            codes::CONFLICT,
            format!("a filter with id `{id}` exists"),
        ));
    }
    let now = now_ms();
    let (query, structured) = columns(def.filter);
    sql::exec(
        sql,
        &format!("INSERT INTO filters ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?)"),
        vec![
            SqlStorageValue::String(id.clone()),
            SqlStorageValue::String(def.name),
            query,
            structured,
            SqlStorageValue::String(def.visibility.name().into()),
            SqlStorageValue::String(caller.owner.clone()),
            SqlStorageValue::Integer(now),
            SqlStorageValue::Integer(now),
        ],
    )?;
    load(sql, &id, &caller.owner)
}

fn update(sql: &SqlStorage, caller: &Requester, id: &str, patch: Patch) -> ApiResult<SavedFilter> {
    let existing = load_for_change(sql, caller, id)?;
    let (query, structured) = match patch.filter {
        Some(filter) => columns(filter),
        None => (
            existing
                .query
                .map_or(SqlStorageValue::Null, SqlStorageValue::String),
            existing.structured.map_or(SqlStorageValue::Null, |s| {
                SqlStorageValue::String(s.get().into())
            }),
        ),
    };
    sql::exec(
        sql,
        "UPDATE filters SET name = ?, query = ?, structured = ?, visibility = ?, updated = ? WHERE id = ?",
        vec![
            SqlStorageValue::String(patch.name.unwrap_or(existing.name)),
            query,
            structured,
            SqlStorageValue::String(patch.visibility.unwrap_or(existing.visibility).name().into()),
            SqlStorageValue::Integer(now_ms()),
            SqlStorageValue::String(id.into()),
        ],
    )?;
    load(sql, id, &existing.owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_filter_shows_the_form_it_was_made_with() {
        let structured = RawValue::from_string(r#"{"actions":["CREATE"]}"#.into()).unwrap();
        let f = SavedFilter {
            id: "f".into(),
            name: "n".into(),
            query: None,
            structured: Some(structured),
            visibility: Visibility::Account,
            owner: "bob".into(),
            created: 1,
            updated: 2,
        };
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"id":"f","name":"n","structured":{"actions":["CREATE"]},"visibility":"account","owner":"bob","created":1,"updated":2}"#
        );
    }

    #[test]
    fn visibilities_are_stored_by_their_names_on_the_wire() {
        for v in [Visibility::Private, Visibility::Account] {
            assert_eq!(serde_json::to_value(v).unwrap(), v.name());
            assert_eq!(Visibility::from_name(v.name()), Some(v));
        }
        assert_eq!(Visibility::from_name("public"), None);
    }
}
