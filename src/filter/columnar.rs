//! Filters over events held by column (a viewer's table): fields read from lines exactly as
//! the filter reads them, and the compiled program evaluated over column values, each
//! distinct value of a column tested once per term.

use serde_json::Number;

use super::error::FilterError;
use super::eval::{eval, test, Leaf, Source};
use super::line::{bad_json, read_slots, Captured};
use super::program::{Node, PathTree, Pred, Program, Slots};
use super::Filter;

/// A field value read from a line (see [`FieldReader`]).
pub use super::line::Captured as FieldValue;

/// Reads a fixed set of fields from JSON lines the way every filter reads them (the plain
/// reader, else serde_json), so that values kept from a line answer a filter as the line
/// does.
#[derive(Debug, Clone)]
pub struct FieldReader {
    tree: PathTree,
    n: usize,
}

impl FieldReader {
    /// A reader of the canonical dotted `paths` (no path may lie inside another).
    pub fn new(paths: &[&str]) -> FieldReader {
        let slots: Vec<Vec<String>> = paths
            .iter()
            .map(|p| p.split('.').map(str::to_string).collect())
            .collect();
        FieldReader {
            tree: PathTree::build(&slots),
            n: slots.len(),
        }
    }

    /// The values of one line, in the order of the paths (`None`: absent). A line that is
    /// not JSON is a `bad_json` error; a line that is JSON but not an object has no fields.
    pub fn read<'a>(&self, line: &'a [u8]) -> Result<Vec<Option<FieldValue<'a>>>, FilterError> {
        let text = crate::plain::utf8(line).map_err(bad_json)?;
        read_slots(&self.tree, self.n, text)
    }
}

/// One distinct value of a column; absent and `null` values are no cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Str(Box<str>),
    Num(Number),
    Bool(bool),
    /// An object or an array.
    Other,
}

impl Cell {
    /// The cell of a value read from a line; `None` for `null`.
    pub fn of(v: FieldValue<'_>) -> Option<Cell> {
        Some(match v {
            Captured::Str(s) => Cell::Str(s.into()),
            Captured::Num(n) => Cell::Num(n),
            Captured::Bool(b) => Cell::Bool(b),
            Captured::Null => return None,
            Captured::Other => Cell::Other,
        })
    }

    fn leaf(&self) -> Leaf<'_> {
        match self {
            Cell::Str(s) => Leaf::Str(s),
            Cell::Num(n) => Leaf::Num(n),
            Cell::Bool(b) => Leaf::Bool(*b),
            Cell::Other => Leaf::Other,
        }
    }
}

/// A time column's value for a row without one (absent or `null`).
pub const NO_TIME: i64 = i64::MIN;
/// A time column's value for a row whose value is not a time.
pub const NOT_A_TIME: i64 = i64::MIN + 1;

/// How a table holds one field, for [`Filter::on_columns`].
#[derive(Debug, Clone, Copy)]
pub enum Column<'a> {
    /// The distinct values (index 0: absent or `null`) and each row's index into them.
    Cells {
        values: &'a [Option<Cell>],
        ids: &'a [u32],
    },
    /// The time field: each row's time in epoch milliseconds, [`NO_TIME`] or [`NOT_A_TIME`].
    Times(&'a [i64]),
}

/// A filter bound to the columns of a table (see [`Filter::on_columns`]).
pub struct ColumnFilter<'a> {
    root: &'a Node,
    now: i64,
    /// The column of each slot of the program.
    columns: Vec<Column<'a>>,
    /// For each test on a column of cells: its answer for each distinct value.
    answers: Vec<Answers<'a>>,
    /// When the filter reads only columns of cells with few combinations of values.
    combined: Option<Combined<'a>>,
}

/// The answer for each combination of values, and each slot's ids with its stride in that
/// list.
struct Combined<'a> {
    answers: Vec<bool>,
    dims: Vec<(&'a [u32], usize)>,
}

/// The most combinations of values answered ahead (more: each row is evaluated).
const MAX_COMBINATIONS: usize = 1 << 16;

/// A test's answer for each distinct value of a column: 0 no value, 1 false, 2 true.
struct Answers<'a> {
    pred: &'a Pred,
    slot: usize,
    by_value: Vec<u8>,
}

impl Filter {
    /// The filter bound to a table's columns, `column(path)` giving the column of a
    /// canonical path (split at its dots); `None` when the filter reads a field the table
    /// does not hold or has free text (decide on the lines then). Rows answer as their
    /// lines would.
    pub fn on_columns<'a>(
        &'a self,
        column: &dyn Fn(&[String]) -> Option<Column<'a>>,
        now_ms: i64,
    ) -> Option<ColumnFilter<'a>> {
        let program: &Program = &self.program;
        if program.text {
            return None;
        }
        let columns = program
            .slots
            .iter()
            .map(|path| column(path))
            .collect::<Option<Vec<_>>>()?;
        let mut answers = Vec::new();
        collect_answers(&program.root, &columns, now_ms, &mut answers);
        let mut f = ColumnFilter {
            root: &program.root,
            now: now_ms,
            columns,
            answers,
            combined: None,
        };
        f.combined = f.combine();
        Some(f)
    }
}

/// Tests every distinct value of the cell columns once for each test that reads them.
fn collect_answers<'a>(
    node: &'a Node,
    columns: &[Column<'_>],
    now: i64,
    out: &mut Vec<Answers<'a>>,
) {
    match node {
        Node::And(ts) | Node::Or(ts) => ts
            .iter()
            .for_each(|t| collect_answers(t, columns, now, out)),
        Node::Not(t) => collect_answers(t, columns, now, out),
        Node::Test { slots, pred, .. } => {
            let (a, b) = match *slots {
                Slots::One(a) => (a, None),
                Slots::Either(a, b) => (a, Some(b)),
            };
            for slot in std::iter::once(a).chain(b) {
                if let Some(Column::Cells { values, .. }) = columns.get(slot) {
                    let by_value = values
                        .iter()
                        .map(|v| {
                            v.as_ref()
                                .map_or(0, |c| 1 + u8::from(test(pred, c.leaf(), now)))
                        })
                        .collect();
                    out.push(Answers {
                        pred,
                        slot,
                        by_value,
                    });
                }
            }
        }
        Node::All | Node::Exists(_) | Node::Text(_) => {}
    }
}

impl<'a> ColumnFilter<'a> {
    /// Whether row `row` matches (a row past the end of a column has no value there).
    pub fn matches(&self, row: usize) -> bool {
        match &self.combined {
            Some(Combined { answers, dims }) => {
                let at: usize = dims
                    .iter()
                    .map(|(ids, stride)| ids.get(row).map_or(0, |&id| id as usize) * stride)
                    .sum();
                answers.get(at).copied().unwrap_or(false)
            }
            None => eval(self.root, &Row { f: self, row }, self.now),
        }
    }

    /// The answer for every combination of values of the slots, when they are all columns
    /// of cells and the combinations are few: a row then costs one lookup. Each answer is
    /// the evaluator's, on a row holding that combination.
    fn combine(&self) -> Option<Combined<'a>> {
        let mut dims = Vec::new();
        let mut sizes = Vec::new();
        let mut total = 1usize;
        for column in &self.columns {
            let Column::Cells { values, ids } = *column else {
                return None;
            };
            dims.push((ids, total));
            sizes.push(values.len());
            total = total
                .checked_mul(values.len())
                .filter(|&t| t <= MAX_COMBINATIONS)?;
        }
        let mut combination = Combination {
            f: self,
            ids: vec![0; sizes.len()],
        };
        let mut answers = Vec::with_capacity(total);
        for at in 0..total {
            let mut rest = at;
            for (id, size) in combination.ids.iter_mut().zip(&sizes) {
                *id = rest % size;
                rest /= size;
            }
            answers.push(eval(self.root, &combination, self.now));
        }
        Some(Combined { answers, dims })
    }
}

/// A row holding given values (an index into each slot's column).
struct Combination<'f, 'a> {
    f: &'f ColumnFilter<'a>,
    ids: Vec<usize>,
}

impl Source for Combination<'_, '_> {
    fn leaf(&self, slot: usize) -> Option<Leaf<'_>> {
        match self.f.columns.get(slot)? {
            Column::Cells { values, .. } => {
                values.get(*self.ids.get(slot)?)?.as_ref().map(Cell::leaf)
            }
            Column::Times(_) => None,
        }
    }

    // Filters with free text are never bound to columns.
    fn has_text(&self, _: &str) -> bool {
        false
    }
}

/// One row of the table, as the evaluator reads it.
struct Row<'f, 'a> {
    f: &'f ColumnFilter<'a>,
    row: usize,
}

impl Row<'_, '_> {
    fn id(&self, ids: &[u32]) -> usize {
        ids.get(self.row).map_or(0, |&id| id as usize)
    }
}

impl Source for Row<'_, '_> {
    fn leaf(&self, slot: usize) -> Option<Leaf<'_>> {
        match self.f.columns.get(slot)? {
            Column::Cells { values, ids } => values.get(self.id(ids))?.as_ref().map(Cell::leaf),
            Column::Times(times) => match times.get(self.row).copied().unwrap_or(NO_TIME) {
                NO_TIME => None,
                NOT_A_TIME => Some(Leaf::Other),
                t => Some(Leaf::Time(t)),
            },
        }
    }

    // Filters with free text are never bound to columns.
    fn has_text(&self, _: &str) -> bool {
        false
    }

    fn test(&self, slot: usize, pred: &Pred, now: i64) -> Option<bool> {
        let known = self
            .f
            .answers
            .iter()
            .find(|a| a.slot == slot && std::ptr::eq(a.pred, pred));
        match (known, self.f.columns.get(slot)) {
            (Some(a), Some(Column::Cells { ids, .. })) => {
                match a.by_value.get(self.id(ids)).copied().unwrap_or(0) {
                    0 => None,
                    answer => Some(answer == 2),
                }
            }
            _ => self.leaf(slot).map(|l| test(pred, l, now)),
        }
    }
}
