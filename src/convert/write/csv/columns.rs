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
use crate::event::parse_time_value;
use crate::plain::{Num, Plain, Text};

/// Columns arranged by the parts of their paths.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    children: Vec<(String, Tree)>,
    /// A column ends here: it holds the value at this path, whole (fixed text and time
    /// columns only the values their cells give back, see [`holds`]).
    kind: Option<ColumnKind>,
    /// By member position, the child that member matched last time: events of one
    /// producer share their key order, so this is where to look first.
    slots: Vec<usize>,
}

impl Tree {
    /// The tree of `columns` (the rest column left out).
    pub(crate) fn of<'a>(columns: impl IntoIterator<Item = &'a str>) -> Tree {
        let mut tree = Tree::default();
        for name in columns {
            let kind = super::column_kind(name);
            if kind == ColumnKind::Rest {
                continue;
            }
            let mut node = &mut tree;
            for part in name.split('.') {
                let i = match node.children.iter().position(|(k, _)| k == part) {
                    Some(i) => i,
                    None => {
                        node.children.push((part.to_string(), Tree::default()));
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[i].1;
            }
            node.kind.get_or_insert(kind);
        }
        tree
    }

    /// The child for `key`, the member at `position` of its object.
    fn child(&mut self, position: usize, key: &str) -> Option<&mut Tree> {
        let hit = self
            .slots
            .get(position)
            .copied()
            .filter(|&i| self.children.get(i).is_some_and(|(k, _)| k == key));
        let i = match hit {
            Some(i) => i,
            None => {
                let i = self.children.iter().position(|(k, _)| k == key)?;
                if self.slots.len() <= position {
                    self.slots.resize(position + 1, usize::MAX);
                }
                if let Some(s) = self.slots.get_mut(position) {
                    *s = i;
                }
                i
            }
        };
        self.children.get_mut(i).map(|(_, t)| t)
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
    let mut position = 0;
    object.for_each_member(&mut |key, value| {
        let held = match tree.child(position, key) {
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
        position += 1;
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
        Layout {
            tree: Tree::of(FIXED_COLUMNS),
            columns: FIXED_COLUMNS.iter().map(|c| c.to_string()).collect(),
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
        found.known(&mut self.tree, event, true);
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
    /// Walks the members of `object`, which sits at `self.path` in the tree.
    fn known<T: CellSource>(&mut self, tree: &mut Tree, object: &T, nameable: bool) {
        let mut position = 0;
        object.for_each_member(&mut |key, value| {
            let len = self.path.len();
            match tree.child(position, key) {
                Some(child) => match child.kind {
                    Some(kind) => *self.unheld |= !holds(kind, value),
                    None if value.has_members() => {
                        let nameable = self.push(key) && nameable;
                        self.known(child, value, nameable);
                    }
                    None => *self.unheld = true,
                },
                None => {
                    let nameable = self.push(key) && nameable;
                    let mut child = Tree::default();
                    if self.unknown(&mut child, value, nameable) {
                        tree.children.push((key.to_string(), child));
                    }
                }
            }
            self.path.truncate(len);
            position += 1;
        });
    }

    /// Gives `value`, new at `self.path`, columns in `tree` (its own, empty); whether it
    /// got any.
    fn unknown<T: CellSource>(&mut self, tree: &mut Tree, value: &T, nameable: bool) -> bool {
        if value.has_members() {
            value.for_each_member(&mut |key, value| {
                let len = self.path.len();
                let nameable = self.push(key) && nameable;
                let mut child = Tree::default();
                if self.unknown(&mut child, value, nameable) {
                    tree.children.push((key.to_string(), child));
                }
                self.path.truncate(len);
            });
            !tree.children.is_empty()
        } else if nameable
            && !self.path.ends_with(char::is_whitespace)
            && self.path.as_str() != REST_COLUMN
        {
            tree.kind = Some(ColumnKind::Typed);
            self.columns.push(self.path.clone());
            true
        } else {
            *self.unheld = true;
            false
        }
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
    let mut position = 0;
    p.object(depth, |p, key| {
        let child = tree.child(position, key)?;
        position += 1;
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
    (position > 0).then_some(())
}
