//! Which fields of an event get a CSV column of their own, and what of an event no column
//! holds (the rest column's part).
//!
//! A field gets a column named by its dotted path unless no such name can give it back: a
//! key that is empty or holds a `.`, a path that begins or ends with white space (readers
//! trim header cells) or is the rest column's name, a value where other events have an
//! object with columns inside (`x` after `x.a`), or something below a fixed column. Those
//! fields, and values that a fixed column's cell cannot give back (a number in a text
//! column), are what the rest column is for.

use serde_json::{Map, Value};

use super::{CellSource, ColumnKind, FIXED_COLUMNS, REST_COLUMN};
use crate::plain::{Num, Plain, Text};
use crate::time::parse_time_value;

/// Columns arranged by the parts of their paths.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    children: Vec<(String, Tree)>,
    /// A column ends here: it holds the value at this path, whole (fixed text and time
    /// columns only the values their cells give back, see [`holds`]).
    kind: Option<ColumnKind>,
}

impl Tree {
    /// The tree of `columns` (the rest column left out).
    pub(crate) fn of(columns: &[String]) -> Tree {
        let mut tree = Tree::default();
        for name in columns {
            let kind = super::column_kind(name);
            if kind == ColumnKind::Rest {
                continue;
            }
            let node = name
                .split('.')
                .fold(&mut tree, |node, part| node.child_or_new(part));
            node.kind.get_or_insert(kind);
        }
        tree
    }

    fn child(&mut self, key: &str) -> Option<&mut Tree> {
        self.children
            .iter_mut()
            .find_map(|(k, t)| (k == key).then_some(t))
    }

    /// The child for `key`, made if there is none.
    fn child_or_new(&mut self, key: &str) -> &mut Tree {
        let i = match self.children.iter().position(|(k, _)| k == key) {
            Some(i) => i,
            None => {
                self.children.push((key.to_string(), Tree::default()));
                self.children.len() - 1
            }
        };
        &mut self.children[i].1
    }
}

/// Whether a cell of `kind` gives `value` back when read.
fn holds<T: CellSource + ?Sized>(kind: ColumnKind, value: &T) -> bool {
    match kind {
        ColumnKind::Text => value.str_value().is_some(),
        // A time comes back as epoch milliseconds (formats.md); an empty string would come
        // back as an absent field, and a number that is not a time as a string.
        ColumnKind::Time => match value.str_value() {
            Some(s) => !s.is_empty(),
            None => value.is_number() && value.time_ms().is_some(),
        },
        ColumnKind::Metadata | ColumnKind::Typed => true,
        ColumnKind::Rest => false,
    }
}

/// Adds to `rest` what of `object` no column of `tree` holds, as a partial event (objects
/// on the way kept, so that merging it into what the cells give restores the event).
pub(crate) fn rest_of<T: CellSource>(tree: &mut Tree, object: &T, rest: &mut Map<String, Value>) {
    object.for_each_member(&mut |key, value| {
        let held = match tree.child(key) {
            None => false,
            Some(child) => match child.kind {
                Some(kind) => holds(kind, value),
                None if value.has_members() => {
                    let mut inner = Map::new();
                    rest_of(child, value, &mut inner);
                    if !inner.is_empty() {
                        rest.insert(key.to_string(), Value::Object(inner));
                    }
                    true
                }
                // A value where the columns expect an object (or an empty object).
                None => false,
            },
        };
        if !held {
            rest.insert(key.to_string(), value.to_value());
        }
    });
}

/// The columns found so far: the fixed ones, then one per unknown field in first-seen
/// order; and whether some field can have no column.
#[derive(Debug)]
pub(crate) struct Layout {
    tree: Tree,
    columns: Vec<String>,
    unheld: bool,
    /// The path being walked (a scratch buffer).
    path: String,
}

impl Layout {
    pub(crate) fn new() -> Layout {
        let columns: Vec<String> = FIXED_COLUMNS.iter().map(|c| c.to_string()).collect();
        Layout {
            tree: Tree::of(&columns),
            columns,
            unheld: false,
            path: String::new(),
        }
    }

    /// Gives the unknown fields of `event` columns.
    pub(crate) fn add<T: CellSource>(&mut self, event: &T) {
        let mut found = Found {
            columns: &mut self.columns,
            unheld: &mut self.unheld,
            path: &mut self.path,
        };
        found.walk(&mut self.tree, event, true);
    }

    /// Whether the columns hold every member of the event in `text` already, found by
    /// reading it as plain JSON without building it (see [`crate::plain`]). `false` says
    /// only that [`add`](Layout::add) has to look at the parsed event.
    pub(crate) fn holds_text(&mut self, text: &str) -> bool {
        let mut p = Plain::new(text);
        holds_plain(&mut self.tree, &mut p, 0).is_some() && p.at_end()
    }

    /// The columns; the rest column last when `rest` or when some field had no column.
    pub(crate) fn columns(self, rest: bool) -> Vec<String> {
        let mut columns = self.columns;
        if rest || self.unheld {
            columns.push(REST_COLUMN.to_string());
        }
        columns
    }
}

struct Found<'a> {
    columns: &'a mut Vec<String>,
    unheld: &'a mut bool,
    path: &'a mut String,
}

impl Found<'_> {
    /// Walks the members of `object`, which sits at `self.path` in the tree; a member
    /// without a node gets one (a field seen for the first time).
    fn walk<T: CellSource>(&mut self, tree: &mut Tree, object: &T, nameable: bool) {
        object.for_each_member(&mut |key, value| {
            let len = self.path.len();
            let child = tree.child_or_new(key);
            match child.kind {
                Some(kind) => *self.unheld |= !holds(kind, value),
                None if value.has_members() => {
                    let nameable = self.push(key) && nameable;
                    self.walk(child, value, nameable);
                }
                // A new leaf (or one that never got a column): its column, if a name
                // can give it back.
                None if child.children.is_empty() => {
                    let nameable = self.push(key) && nameable;
                    if nameable
                        && !self.path.ends_with(char::is_whitespace)
                        && self.path.as_str() != REST_COLUMN
                    {
                        child.kind = Some(ColumnKind::Typed);
                        self.columns.push(self.path.clone());
                    } else {
                        *self.unheld = true;
                    }
                }
                // A value where other events have an object with columns inside.
                None => *self.unheld = true,
            }
            self.path.truncate(len);
        });
    }

    /// Appends `key` to the path; whether a dotted name can still spell the path.
    fn push(&mut self, key: &str) -> bool {
        let first = self.path.is_empty();
        if !first {
            self.path.push('.');
        }
        self.path.push_str(key);
        let leading_space = first && key.starts_with(char::is_whitespace);
        !(key.is_empty() || key.contains('.') || leading_space)
    }
}

/// [`Layout::holds_text`] for one object of the tree (`None`: not held, or not plain).
fn holds_plain(tree: &mut Tree, p: &mut Plain<'_>, depth: u32) -> Option<()> {
    let mut members = 0;
    p.object(depth, |p, key| {
        let child = tree.child(key)?;
        members += 1;
        match child.kind {
            Some(ColumnKind::Typed | ColumnKind::Metadata) => p.skip(depth + 1),
            Some(ColumnKind::Text) => p.text().map(drop),
            Some(ColumnKind::Time) => match p.peek()? {
                b'"' => match p.text()? {
                    Text::Plain("") | Text::Escaped(0) => None,
                    _ => Some(()),
                },
                _ => match p.number()? {
                    Num::Int(n) => parse_time_value(&Value::Number(n)).ok().map(drop),
                    Num::Other => None,
                },
            },
            Some(ColumnKind::Rest) => None,
            None => holds_plain(child, p, depth + 1),
        }
    })?;
    // An empty object is not held: it has no column below it.
    (members > 0).then_some(())
}
