//! The object's counts of events for facets and the histogram: per value of a field (top
//! 100) or per time bucket, over a time range and a filter.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::{SqlStorage, SqlStorageValue};

use super::events::{keeps, scan_filter, scan_statement, Position, SCAN_CHUNK};
use super::sql::{self, int, text};
use crate::edge::codes;
use crate::edge::error::{ApiError, ApiResult};
use crate::edge::filtering::FilterSource;
use crate::filter::fields;
use crate::time::{DAY_MS, HOUR_MS};

/// The field names `by` accepts, as the HTTP API lists them; their paths come from the
/// filter's field table.
pub const FACETS: &[&str] = &[
    "action",
    "module",
    "resource.type",
    "user",
    "principal.type",
];
/// Values listed per field, the most frequent first.
const TOP: usize = 100;

/// What events are counted by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatsBy {
    /// Per value of the field at this canonical path.
    Field(String),
    /// Per time bucket of this many milliseconds.
    Bucket(i64),
}

impl StatsBy {
    /// Reads the `by` parameter: a name of [`FACETS`], `hour` or `day`.
    pub fn from_name(name: &str) -> ApiResult<StatsBy> {
        let by = match name {
            "hour" => Some(StatsBy::Bucket(HOUR_MS)),
            "day" => Some(StatsBy::Bucket(DAY_MS)),
            _ if FACETS.contains(&name) => fields::count_path(name).map(StatsBy::Field),
            _ => None,
        };
        by.ok_or_else(|| {
            ApiError::bad_request(
                codes::BAD_PARAMETER,
                format!(
                    "`by` must be one of {}, hour, day (got `{name}`)",
                    FACETS.join(", ")
                ),
            )
        })
    }
}

/// Counts the events in `[from, to]` that match `filter`. Answers [`Counts`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatsRequest {
    pub filter: FilterSource,
    pub by: StatsBy,
    pub from: i64,
    pub to: i64,
    /// Resolves relative times of the filter (`now-1d`).
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Every matching event, also those beyond the listed values.
    pub total: u64,
    pub counts: Vec<Count>,
}

/// One value and how many events have it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Count {
    pub value: CountKey,
    /// A bucket's start as RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CountKey {
    /// A bucket's start, epoch milliseconds.
    Time(i64),
    /// A field's value as text (`""` when the event lacks it).
    Value(String),
}

impl Count {
    fn value(value: String, count: u64) -> Count {
        Count {
            value: CountKey::Value(value),
            time: None,
            count,
        }
    }

    fn bucket(start: i64, count: u64) -> Count {
        Count {
            value: CountKey::Time(start),
            time: Some(crate::time::format_ms(start)),
            count,
        }
    }
}

pub fn count(sql: &SqlStorage, req: &StatsRequest) -> ApiResult<Counts> {
    let Some(filter) = scan_filter(&req.filter)? else {
        // Without a filter SQLite counts by itself.
        return count_in_sql(sql, req);
    };
    let mut values: HashMap<String, u64> = HashMap::new();
    let mut buckets: HashMap<i64, u64> = HashMap::new();
    let mut total = 0u64;
    let mut after: Option<Position> = None;
    loop {
        let (stmt, binds) = scan_statement(req.from, req.to, false, after, SCAN_CHUNK);
        let mut rows = 0;
        for row in sql::rows(sql, &stmt, binds)? {
            let mut cols = row?.into_iter();
            rows += 1;
            let seq = int(cols.next());
            let time = int(cols.next());
            after = Some((time, seq));
            let Some(body) = text(cols.next()) else {
                continue;
            };
            if !keeps(Some(&filter), &body, req.now) {
                continue;
            }
            match &req.by {
                StatsBy::Field(path) => {
                    let Ok(Value::Object(event)) = serde_json::from_str::<Value>(&body) else {
                        continue;
                    };
                    let key = crate::event::get_path(&event, path)
                        .map(|v| match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .unwrap_or_default();
                    *values.entry(key).or_default() += 1;
                }
                StatsBy::Bucket(width) => {
                    *buckets.entry(time.div_euclid(*width) * width).or_default() += 1;
                }
            }
            total += 1;
        }
        if rows < SCAN_CHUNK {
            break;
        }
    }
    let counts = match req.by {
        StatsBy::Field(_) => {
            let mut v: Vec<(String, u64)> = values.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v.truncate(TOP);
            v.into_iter()
                .map(|(value, n)| Count::value(value, n))
                .collect()
        }
        StatsBy::Bucket(_) => {
            let mut v: Vec<(i64, u64)> = buckets.into_iter().collect();
            v.sort();
            v.into_iter().map(|(t, n)| Count::bucket(t, n)).collect()
        }
    };
    Ok(Counts { total, counts })
}

/// Counts of every event in `[from, to]`, grouped by SQLite (the unfiltered case).
fn count_in_sql(sql: &SqlStorage, req: &StatsRequest) -> ApiResult<Counts> {
    let range = || {
        vec![
            SqlStorageValue::Integer(req.from),
            SqlStorageValue::Integer(req.to),
        ]
    };
    let mut total = 0;
    for row in sql::rows(
        sql,
        "SELECT count(*) FROM events WHERE time >= ? AND time <= ?",
        range(),
    )? {
        total = int(row?.into_iter().next());
    }
    let mut counts = Vec::new();
    match &req.by {
        StatsBy::Field(path) => {
            // The path is a canonical one of the field table (no quotes), never client text.
            let stmt = format!(
                "SELECT coalesce(CAST(json_extract(body, '$.{path}') AS TEXT), '') AS v, count(*) AS c \
                 FROM events WHERE time >= ? AND time <= ? GROUP BY v ORDER BY c DESC, v LIMIT {TOP}"
            );
            for row in sql::rows(sql, &stmt, range())? {
                let mut cols = row?.into_iter();
                let value = text(cols.next()).unwrap_or_default();
                counts.push(Count::value(value, count_of(int(cols.next()))));
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
                SqlStorageValue::Integer(req.from),
                SqlStorageValue::Integer(req.to),
            ];
            for row in sql::rows(sql, stmt, binds)? {
                let mut cols = row?.into_iter();
                let start = int(cols.next());
                counts.push(Count::bucket(start, count_of(int(cols.next()))));
            }
        }
    }
    Ok(Counts {
        total: count_of(total),
        counts,
    })
}

fn count_of(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::field;

    #[test]
    fn by_names_take_their_paths_from_the_field_table() {
        let paths: Vec<StatsBy> = FACETS
            .iter()
            .map(|n| StatsBy::from_name(n).unwrap())
            .collect();
        assert_eq!(
            paths,
            [
                StatsBy::Field(field::ACTION.into()),
                StatsBy::Field(field::MODULE.into()),
                StatsBy::Field(field::RESOURCE_TYPE.into()),
                StatsBy::Field(field::PRINCIPAL_ID.into()),
                StatsBy::Field(field::PRINCIPAL_TYPE.into()),
            ]
        );
        assert_eq!(StatsBy::from_name("day").unwrap(), StatsBy::Bucket(DAY_MS));
        // Aliases the filter knows are not facets of the API.
        for bad in ["colour", "resourceType", "Action", "org", "time", ""] {
            let e = StatsBy::from_name(bad).unwrap_err();
            assert_eq!(
                (e.status, e.code.as_str()),
                (400, codes::BAD_PARAMETER),
                "{bad}"
            );
        }
        assert_eq!(
            StatsBy::from_name("x").unwrap_err().message,
            "`by` must be one of action, module, resource.type, user, principal.type, hour, day (got `x`)"
        );
    }

    #[test]
    fn counts_write_values_and_buckets_as_the_api_shows_them() {
        let counts = Counts {
            total: 3,
            counts: vec![Count::value("CREATE".into(), 2), Count::bucket(0, 1)],
        };
        let text = serde_json::to_string(&counts).unwrap();
        assert_eq!(
            text,
            r#"{"total":3,"counts":[{"value":"CREATE","count":2},{"value":0,"time":"1970-01-01T00:00:00.000Z","count":1}]}"#
        );
        assert_eq!(serde_json::from_str::<Counts>(&text).unwrap(), counts);
    }
}
