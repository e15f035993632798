//! Many filters decided on one batch of events together (a live tail's subscribers after a
//! commit): the fields the filters read are read from each event once, and each distinct
//! string of a field is tested once per term, however many filters read it. Every answer
//! is the one [`Filter::matches_line`] gives.

use std::collections::HashMap;

use super::columnar::{Cell, Column, FieldReader, FieldValue};
use super::Filter;

/// Up to this many filters are decided line by line: a filter's literal pre-check mostly
/// rules a line out for less than reading the line's fields costs.
const BY_LINES: usize = 2;

/// For each of `filters`, the indexes of the `lines` it matches (those for which
/// [`Filter::matches_line`] answers `Ok(true)`), in order. A filter with free text, or one
/// that reads a field inside a field another reads, is decided line by line, and so are
/// all when they are few.
pub fn decide(filters: &[&Filter], lines: &[&[u8]], now_ms: i64) -> Vec<Vec<u32>> {
    let mut paths: Vec<String> = Vec::new();
    let mut on_columns = Vec::with_capacity(filters.len());
    for f in filters {
        let fields = f.fields();
        let fits = filters.len() > BY_LINES
            && !f.has_free_text()
            && fields.iter().all(|p| {
                paths
                    .iter()
                    .chain(&fields)
                    .all(|q| !inside(p, q) && !inside(q, p))
            });
        if fits {
            for p in fields {
                if !paths.contains(&p) {
                    paths.push(p);
                }
            }
        }
        on_columns.push(fits);
    }
    let columns = on_columns
        .contains(&true)
        .then(|| Columns::read(&paths, lines));
    filters
        .iter()
        .zip(on_columns)
        .map(|(f, fits)| {
            let by_line = |row: usize| f.matches_line(lines[row], now_ms) == Ok(true);
            let columns = columns.as_ref().filter(|_| fits);
            let bound = columns.and_then(|c| f.on_columns(&|path| c.column(path), now_ms));
            (0..lines.len())
                .filter(|&row| match (&bound, columns) {
                    (Some(b), Some(c)) if !c.unread.contains(&row) => b.matches(row),
                    _ => by_line(row),
                })
                .map(|row| row as u32)
                .collect()
        })
        .collect()
}

/// Whether dotted path `p` lies inside `q` (`a.b.c` inside `a.b`).
fn inside(p: &str, q: &str) -> bool {
    p.len() > q.len() && p.starts_with(q) && p.as_bytes()[q.len()] == b'.'
}

/// The values of the fields read from each line of a batch.
struct Columns {
    paths: Vec<String>,
    fields: Vec<Values>,
    /// Lines that are not JSON: decided on the line.
    unread: Vec<usize>,
}

/// One field: its distinct values (index 0: absent or `null`) and each line's index.
#[derive(Default)]
struct Values {
    cells: Vec<Option<Cell>>,
    ids: Vec<u32>,
    strings: HashMap<Box<str>, u32>,
}

impl Columns {
    fn read(paths: &[String], lines: &[&[u8]]) -> Columns {
        let dotted: Vec<&str> = paths.iter().map(String::as_str).collect();
        let reader = FieldReader::new(&dotted);
        let mut fields: Vec<Values> = paths
            .iter()
            .map(|_| Values {
                cells: vec![None],
                ids: Vec::with_capacity(lines.len()),
                ..Values::default()
            })
            .collect();
        let mut unread = Vec::new();
        for (row, line) in lines.iter().enumerate() {
            match reader.read(line) {
                Ok(values) => {
                    for (field, v) in fields.iter_mut().zip(values) {
                        field.push(v);
                    }
                }
                Err(_) => {
                    unread.push(row);
                    fields.iter_mut().for_each(|f| f.ids.push(0));
                }
            }
        }
        Columns {
            paths: paths.to_vec(),
            fields,
            unread,
        }
    }

    fn column(&self, path: &[String]) -> Option<Column<'_>> {
        let at = self
            .paths
            .iter()
            .position(|p| p.split('.').eq(path.iter().map(String::as_str)))?;
        let field = self.fields.get(at)?;
        Some(Column::Cells {
            values: &field.cells,
            ids: &field.ids,
        })
    }
}

impl Values {
    /// Strings are kept once each; other values (rare in the fields filters read) each get
    /// a cell of their own.
    fn push(&mut self, v: Option<FieldValue<'_>>) {
        let id = match v {
            None | Some(FieldValue::Null) => 0,
            Some(FieldValue::Str(s)) => match self.strings.get(&*s) {
                Some(&id) => id,
                None => {
                    let id = self.cells.len() as u32;
                    self.strings.insert(Box::from(&*s), id);
                    self.cells.push(Some(Cell::Str(s.into())));
                    id
                }
            },
            Some(v) => {
                self.cells.push(Cell::of(v));
                self.cells.len() as u32 - 1
            }
        };
        self.ids.push(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_261_600_000;

    /// Every filter's answers over the batch, one line at a time.
    fn by_lines(filters: &[&Filter], lines: &[&[u8]]) -> Vec<Vec<u32>> {
        filters
            .iter()
            .map(|f| {
                (0..lines.len() as u32)
                    .filter(|&i| f.matches_line(lines[i as usize], NOW) == Ok(true))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn many_filters_answer_as_each_does_alone() {
        let lines: &[&str] = &[
            r#"{"auditAction":"CREATE","auditModule":"CD","auditEventTime":1767261500000,"auditEventMetadata":{"a":{"b":1},"n":2.5}}"#,
            r#"{"auditAction":"delete","auditModule":"CI","auditEventTime":"2026-01-01T09:00:00Z","auditEventAuthor":{"principal":{"type":"USER","identifier":"alice","email":"a@x.io"}}}"#,
            r#"{"auditAction":"CREATE","auditModule":"C\u0044","auditEventMetadata":{"a":"b","n":true}}"#,
            r#"{"auditAction":"UPDATE","auditModule":null,"resource":{"type":"PIPELINE"},"auditEventMetadata":{"a":{"b":"1"}}}"#,
            r#"{"auditAction":"CREATE","auditAction":"LOGIN","auditModule":"CD"}"#,
            r#"{"auditAction":"CREATE", "auditModule" : "cd" }"#,
            r#"not json "auditAction":"CREATE""#,
            r#"[1,2]"#,
        ];
        let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
        let queries = [
            "",
            "action:create",
            "action:create module:cd",
            "module:CD or module:ci",
            "-action:create",
            "module:nothing",
            "user:alice",
            "alice",
            "time > now-1d",
            "metadata.a.b:1",
            "metadata.a:*",
            "metadata.n > 2",
            "metadata.n exists and action:create",
            "action:create,update -module:ci",
            "action == \"CREATE\"",
        ];
        let filters: Vec<Filter> = queries.iter().map(|q| Filter::parse(q).unwrap()).collect();
        let all: Vec<&Filter> = filters.iter().collect();
        let together = decide(&all, &lines, NOW);
        assert_eq!(together, by_lines(&all, &lines));
        // Something matched and something did not, so the comparison says something.
        assert!(together.iter().any(|rows| rows.is_empty()));
        assert!(together.iter().any(|rows| rows.len() > 1));
        // Each alone, and in another order, answers the same.
        for (i, f) in all.iter().enumerate() {
            assert_eq!(
                decide(&[f], &lines, NOW),
                [together[i].clone()],
                "{}",
                queries[i]
            );
        }
        let reversed: Vec<&Filter> = all.iter().rev().copied().collect();
        let mut back = decide(&reversed, &lines, NOW);
        back.reverse();
        assert_eq!(back, together);
    }

    #[test]
    fn no_filters_or_no_lines_decide_nothing() {
        let f = Filter::parse("action:create").unwrap();
        assert_eq!(decide(&[], &[b"{}"], NOW), Vec::<Vec<u32>>::new());
        assert_eq!(decide(&[&f], &[], NOW), [Vec::<u32>::new()]);
    }
}
