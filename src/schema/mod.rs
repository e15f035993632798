//! Schema validation of audit events (formats.md §1).
//!
//! [`validate_value`] reports every violation of one event, each with a JSON path, a stable
//! code ([`codes`]) and a message. [`BatchValidator`] validates a stream of events and
//! builds the machine-readable [`Report`] that the CLI (`--json`), the npm package and the
//! Worker share. The happy path allocates nothing: paths and messages are only built for
//! violations.

pub mod codes;
mod fast;
#[cfg(not(target_arch = "wasm32"))]
pub mod parallel;
mod report;
mod validator;
pub mod vocabulary;

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::event::{field, json_kind};
use crate::time::{parse_time_value, TimeError};

pub use report::{BatchValidator, Rejected, Report, Warning};
pub use validator::{ingest, Accepted, BodyFault, IngestLimits, Ingested, Seen, Validator};

/// One problem with an event: where (JSON path), what (stable code) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// Dotted JSON path (`auditResource.identifier`, `auditEventMetadata.tags[2]`); `""`
    /// is the event itself.
    pub path: String,
    pub code: String,
    pub message: String,
}

impl Violation {
    pub fn new(path: &str, code: &str, message: impl Into<String>) -> Self {
        Violation {
            path: path.to_string(),
            code: code.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{} ({})", self.message, self.code)
        } else {
            write!(f, "{}: {} ({})", self.path, self.message, self.code)
        }
    }
}

/// Default of [`Options::max_depth`].
pub const DEFAULT_MAX_DEPTH: usize = 32;
/// Default of [`Options::max_size`]: 1 MiB.
pub const DEFAULT_MAX_SIZE: usize = 1 << 20;
/// Default of [`Options::max_errors`].
pub const DEFAULT_MAX_ERRORS: usize = 100;

/// Validation options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Options {
    /// Reject fields the schema does not name (`unknown_field`). By default they are kept:
    /// new Harness fields must not break ingestion. `auditEventMetadata` has no schema, so
    /// its contents are never unknown.
    pub strict: bool,
    /// Warn about modules, resource types and actions outside the vocabulary of seed 000.
    pub vocabulary: bool,
    /// Deepest nesting of objects and arrays; the event object is depth 1 (`too_deep`).
    pub max_depth: usize,
    /// Largest event in bytes of compact JSON, strings counted unescaped (`too_large`).
    pub max_size: usize,
    /// Most violations listed per event; one `too_many_errors` stands for the rest.
    pub max_errors: usize,
    /// The account every event must belong to (`auditResourceScope.accountIdentifier`);
    /// another account is a `wrong_account` error. `None`: any account.
    pub account: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            strict: false,
            vocabulary: false,
            max_depth: DEFAULT_MAX_DEPTH,
            max_size: DEFAULT_MAX_SIZE,
            max_errors: DEFAULT_MAX_ERRORS,
            account: None,
        }
    }
}

/// Every violation of one event (errors only; see [`check_value`] for warnings too).
pub fn validate_value(value: &Value, options: &Options) -> Vec<Violation> {
    let mut errors = Vec::new();
    let mut sink = Sink::new(&mut errors, options.max_errors);
    check_event(value, options, &mut sink);
    errors
}

/// Errors and vocabulary warnings of one event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    pub errors: Vec<Violation>,
    pub warnings: Vec<Violation>,
}

impl Checked {
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Errors and (with `options.vocabulary`) warnings of one event.
pub fn check_value(value: &Value, options: &Options) -> Checked {
    let mut checked = Checked::default();
    check_into(value, options, &mut checked.errors, &mut checked.warnings);
    checked
}

/// Appends the errors and warnings of one event to `errors` and `warnings`; lets a caller
/// reuse the vectors across events.
pub fn check_into(
    value: &Value,
    options: &Options,
    errors: &mut Vec<Violation>,
    warnings: &mut Vec<Violation>,
) {
    let mut sink = Sink::new(errors, options.max_errors);
    check_event(value, options, &mut sink);
    if options.vocabulary {
        if let Value::Object(map) = value {
            check_vocabulary(map, warnings);
        }
    }
}

/// Errors and (with `options.vocabulary`) warnings of the event in `bytes` (JSON text),
/// exactly as [`check_value`] gives them for the parsed event; an error when `bytes` is not
/// JSON. Valid events are checked straight from the bytes without building a `Value`
/// (several times faster); any other event is parsed and checked by [`check_value`].
pub fn check_json(bytes: &[u8], options: &Options) -> Result<Checked, serde_json::Error> {
    let mut checked = Checked::default();
    if fast::check(bytes, options, &mut checked.warnings).is_some() {
        return Ok(checked);
    }
    let value: Value = serde_json::from_str(crate::plain::utf8(bytes)?)?;
    Ok(check_value(&value, options))
}

/// Whether the event in `bytes` is certainly valid, checked without building a `Value`;
/// when true and `options.vocabulary` is set, its warnings are appended to `warnings`.
/// False means "not known": the event may still be valid (a duplicate field, say) and
/// must then be checked with [`check_value`].
pub fn is_certainly_valid(bytes: &[u8], options: &Options, warnings: &mut Vec<Violation>) -> bool {
    fast::check(bytes, options, warnings).is_some()
}

/// Vocabulary warnings of one event object (fields that are not non-empty strings are
/// skipped: they are errors already).
pub fn vocabulary_warnings(value: &Value) -> Vec<Violation> {
    let mut warnings = Vec::new();
    if let Value::Object(map) = value {
        check_vocabulary(map, &mut warnings);
    }
    warnings
}

/// A non-empty string value.
fn text(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn check_vocabulary(map: &Map<String, Value>, warnings: &mut Vec<Violation>) {
    let resource_type = match map.get(field::RESOURCE) {
        Some(Value::Object(r)) => text(r.get("type")),
        _ => None,
    };
    vocabulary_of(
        text(map.get(field::MODULE)),
        resource_type,
        text(map.get(field::ACTION)),
        warnings,
    );
}

/// Vocabulary warnings of an event's module, resource type and action (non-empty strings
/// or None).
fn vocabulary_of(
    module: Option<&str>,
    resource_type: Option<&str>,
    action: Option<&str>,
    warnings: &mut Vec<Violation>,
) {
    if let Some(module) = module {
        if !vocabulary::is_known_module(module) {
            warnings.push(Violation::new(
                field::MODULE,
                codes::UNKNOWN_MODULE,
                format!("{} is not a known module", quote(module)),
            ));
        }
    }
    let known_type = resource_type.is_some_and(vocabulary::is_known_resource_type);
    if let Some(t) = resource_type {
        if !known_type {
            warnings.push(Violation::new(
                field::RESOURCE_TYPE,
                codes::UNKNOWN_RESOURCE_TYPE,
                format!("{} is not a known resource type", quote(t)),
            ));
        }
    }
    if let Some(action) = action {
        if !vocabulary::is_known_action(action) {
            warnings.push(Violation::new(
                field::ACTION,
                codes::UNKNOWN_ACTION,
                format!("{} is not a known action", quote(action)),
            ));
        } else if let Some(t) = resource_type {
            if !vocabulary::action_applies(action, t, known_type) {
                warnings.push(Violation::new(
                    field::ACTION,
                    codes::UNKNOWN_ACTION,
                    format!(
                        "{} is not an action of resource type {}",
                        quote(action),
                        quote(t)
                    ),
                ));
            }
        }
    }
}

/// Collects violations up to a limit, then one `too_many_errors`.
struct Sink<'a> {
    out: &'a mut Vec<Violation>,
    left: usize,
    overflowed: bool,
}

impl<'a> Sink<'a> {
    fn new(out: &'a mut Vec<Violation>, max: usize) -> Self {
        Sink {
            out,
            left: max.max(1),
            overflowed: false,
        }
    }

    fn push(
        &mut self,
        path: impl FnOnce() -> String,
        code: &str,
        message: impl FnOnce() -> String,
    ) {
        if self.left > 0 {
            self.left -= 1;
            self.out.push(Violation {
                path: path(),
                code: code.to_string(),
                message: message(),
            });
        } else if !self.overflowed {
            self.overflowed = true;
            self.out.push(Violation::new(
                "",
                codes::TOO_MANY_ERRORS,
                "too many violations; the rest are not listed",
            ));
        }
    }

    fn at(&mut self, path: &str, code: &str, message: impl FnOnce() -> String) {
        self.push(|| path.to_string(), code, message);
    }
}

/// A JSON path built on the stack while descending, rendered only for a violation.
#[derive(Clone, Copy)]
enum Path<'a> {
    /// An already rendered path (`auditEventAuthor.principal`).
    Prefix(&'a str),
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn render(&self) -> String {
        let mut s = String::new();
        self.render_into(&mut s);
        s
    }

    fn render_into(&self, s: &mut String) {
        match self {
            Path::Prefix(p) => s.push_str(p),
            Path::Key(parent, key) => {
                parent.render_into(s);
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(key);
            }
            Path::Index(parent, i) => {
                parent.render_into(s);
                s.push('[');
                s.push_str(&i.to_string());
                s.push(']');
            }
        }
    }
}

/// A short, quoted rendering of user text for messages (bounded length).
fn quote(s: &str) -> String {
    const MAX: usize = 64;
    if s.len() <= MAX {
        format!("{s:?}")
    } else {
        let mut end = MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{:?}…", &s[..end])
    }
}

/// Size (bytes of compact JSON, strings unescaped) and depth of an event, gathered while
/// its fields are checked so that each object is walked once.
struct Measure {
    max_depth: usize,
    max_size: usize,
    size: usize,
    deep: Option<Violation>,
}

impl Measure {
    fn new(options: &Options) -> Self {
        Measure {
            max_depth: options.max_depth,
            max_size: options.max_size,
            size: 0,
            deep: None,
        }
    }

    /// Size of a scalar; containers are measured by `value`.
    #[inline]
    fn scalar(v: &Value) -> Option<usize> {
        match v {
            Value::Null => Some(4),
            Value::Bool(_) => Some(5),
            // A bound, not the exact length of the number's text.
            Value::Number(_) => Some(20),
            Value::String(s) => Some(s.len() + 2),
            Value::Array(_) | Value::Object(_) => None,
        }
    }

    /// Counts a container at `depth`; false when its contents are not to be walked.
    #[inline]
    fn enter(&mut self, len: usize, path: &Path, depth: usize) -> bool {
        self.size += 2 + len;
        if depth > self.max_depth {
            self.too_deep(path);
            return false;
        }
        self.size <= self.max_size
    }

    /// Measures any value (its own depth is `depth`).
    fn value(&mut self, value: &Value, path: &Path, depth: usize) {
        match value {
            Value::Array(items) => {
                if !self.enter(items.len(), path, depth) {
                    return;
                }
                for (i, item) in items.iter().enumerate() {
                    match Self::scalar(item) {
                        Some(n) => self.size += n,
                        None => self.value(item, &Path::Index(path, i), depth + 1),
                    }
                }
            }
            Value::Object(map) => {
                if !self.enter(map.len(), path, depth) {
                    return;
                }
                for (k, v) in map {
                    self.entry(k, v, path, depth);
                }
            }
            scalar => self.size += Self::scalar(scalar).unwrap_or(0),
        }
    }

    /// Measures one entry of an object at `depth`.
    #[inline]
    fn entry(&mut self, k: &str, v: &Value, parent: &Path, depth: usize) {
        self.size += k.len() + 3;
        match Self::scalar(v) {
            Some(n) => self.size += n,
            None => {
                if self.size <= self.max_size {
                    self.value(v, &Path::Key(parent, k), depth + 1)
                }
            }
        }
    }

    fn too_deep(&mut self, path: &Path) {
        // One too_deep per event is enough to say why.
        if self.deep.is_none() {
            self.deep = Some(Violation {
                path: path.render(),
                code: codes::TOO_DEEP.to_string(),
                message: format!("nested deeper than {} levels", self.max_depth),
            });
        }
    }

    /// Reports the limits that were passed.
    fn report(self, sink: &mut Sink) {
        if let Some(v) = self.deep {
            sink.push(|| v.path, codes::TOO_DEEP, || v.message);
        }
        if self.size > self.max_size {
            let max = self.max_size;
            sink.at("", codes::TOO_LARGE, || {
                format!("the event is larger than {max} bytes")
            });
        }
    }
}

/// Gathers the values of the named fields of an object (at `depth`, path `parent`) in one
/// pass over its entries, reports unknown ones in strict mode and measures the entries.
/// Entries named in `objects` (a bit per name) that are objects are left for the caller,
/// which descends into them with `fields` again.
#[allow(clippy::too_many_arguments)]
fn fields<'v, const N: usize>(
    map: &'v Map<String, Value>,
    names: &[&str; N],
    objects: u32,
    parent: &str,
    depth: usize,
    strict: bool,
    measure: &mut Measure,
    sink: &mut Sink,
) -> [Option<&'v Value>; N] {
    let mut slots = [None; N];
    let path = Path::Prefix(parent);
    let walk = measure.enter(map.len(), &path, depth);
    for (k, v) in map {
        let slot = names.iter().position(|n| *n == k.as_str());
        match slot {
            Some(i) => {
                slots[i] = Some(v);
                if objects & (1 << i) != 0 && v.is_object() {
                    measure.size += k.len() + 3;
                } else if walk {
                    measure.entry(k, v, &path, depth);
                }
            }
            None => {
                if walk {
                    measure.entry(k, v, &path, depth);
                }
                if strict {
                    sink.push(
                        || {
                            if parent.is_empty() {
                                k.clone()
                            } else {
                                format!("{parent}.{k}")
                            }
                        },
                        codes::UNKNOWN_FIELD,
                        || format!("unknown field {} (strict mode)", quote(k)),
                    )
                }
            }
        }
    }
    slots
}

fn required_string(v: Option<&Value>, path: &str, sink: &mut Sink) {
    match v {
        None => missing(path, sink),
        Some(Value::String(s)) if s.is_empty() => {
            sink.at(path, codes::EMPTY, || "must not be empty".to_string())
        }
        Some(Value::String(_)) => {}
        Some(other) => wrong_type(path, "a string", other, sink),
    }
}

fn optional_string(v: Option<&Value>, path: &str, sink: &mut Sink) {
    match v {
        None | Some(Value::String(_)) => {}
        Some(other) => wrong_type(path, "a string", other, sink),
    }
}

fn missing(path: &str, sink: &mut Sink) {
    sink.at(path, codes::MISSING, || {
        "required field is missing".to_string()
    });
}

fn wrong_type(path: &str, expected: &str, found: &Value, sink: &mut Sink) {
    sink.at(path, codes::WRONG_TYPE, || {
        format!("expected {expected}, found {}", json_kind(found))
    });
}

/// A required object: Some(map) when present and an object.
fn required_object<'v>(
    v: Option<&'v Value>,
    path: &str,
    sink: &mut Sink,
) -> Option<&'v Map<String, Value>> {
    match v {
        None => {
            missing(path, sink);
            None
        }
        Some(Value::Object(m)) => Some(m),
        Some(other) => {
            wrong_type(path, "an object", other, sink);
            None
        }
    }
}

const TOP: [&str; 9] = [
    field::ID,
    field::AUTHOR,
    field::MODULE,
    field::RESOURCE,
    field::SCOPE,
    field::ACTION,
    field::TIME,
    field::HTTP,
    field::METADATA,
];

fn check_event(value: &Value, options: &Options, sink: &mut Sink) {
    let map = match value {
        Value::Object(map) => map,
        other => {
            sink.at("", codes::WRONG_TYPE, || {
                format!(
                    "an audit event must be a JSON object, found {}",
                    json_kind(other)
                )
            });
            return;
        }
    };
    let strict = options.strict;
    let mut measure = Measure::new(options);
    let m = &mut measure;
    const TOP_OBJECTS: u32 = 1 << 1 | 1 << 3 | 1 << 4 | 1 << 7;
    let [id, author, module, resource, scope, action, time, http, metadata] =
        fields(map, &TOP, TOP_OBJECTS, "", 1, strict, m, sink);

    required_string(id, field::ID, sink);

    if let Some(author) = required_object(author, field::AUTHOR, sink) {
        let [principal] = fields(author, &["principal"], 1, field::AUTHOR, 2, strict, m, sink);
        if let Some(p) = required_object(principal, field::PRINCIPAL, sink) {
            let [ptype, ident, email] = fields(
                p,
                &["type", "identifier", "email"],
                0,
                field::PRINCIPAL,
                3,
                strict,
                m,
                sink,
            );
            required_string(ptype, field::PRINCIPAL_TYPE, sink);
            required_string(ident, field::PRINCIPAL_ID, sink);
            optional_string(email, field::PRINCIPAL_EMAIL, sink);
        }
    }

    required_string(module, field::MODULE, sink);

    if let Some(r) = required_object(resource, field::RESOURCE, sink) {
        let [rtype, ident] = fields(
            r,
            &["type", "identifier"],
            0,
            field::RESOURCE,
            2,
            strict,
            m,
            sink,
        );
        required_string(rtype, field::RESOURCE_TYPE, sink);
        required_string(ident, field::RESOURCE_ID, sink);
    }

    if let Some(s) = required_object(scope, field::SCOPE, sink) {
        let [account, org, project] = fields(
            s,
            &["accountIdentifier", "orgIdentifier", "projectIdentifier"],
            0,
            field::SCOPE,
            2,
            strict,
            m,
            sink,
        );
        required_string(account, field::ACCOUNT, sink);
        check_account(account, options.account.as_deref(), sink);
        optional_string(org, field::ORG, sink);
        optional_string(project, field::PROJECT, sink);
    }

    required_string(action, field::ACTION, sink);

    check_time(time, sink);

    match http {
        None => {}
        Some(Value::Object(h)) => {
            let [method, ip] = fields(
                h,
                &["requestMethod", "clientIP"],
                0,
                field::HTTP,
                2,
                strict,
                m,
                sink,
            );
            match method {
                None => missing(field::METHOD, sink),
                Some(Value::String(_)) => {}
                Some(other) => wrong_type(field::METHOD, "a string", other, sink),
            }
            match ip {
                None => missing(field::CLIENT_IP, sink),
                Some(Value::String(s)) => {
                    if s.parse::<IpAddr>().is_err() {
                        sink.at(field::CLIENT_IP, codes::BAD_IP, || {
                            format!("{} is not an IPv4 or IPv6 address", quote(s))
                        });
                    }
                }
                Some(other) => wrong_type(field::CLIENT_IP, "a string", other, sink),
            }
        }
        Some(other) => wrong_type(field::HTTP, "an object", other, sink),
    }

    match metadata {
        None | Some(Value::Object(_)) => {}
        Some(other) => wrong_type(field::METADATA, "an object", other, sink),
    }

    measure.report(sink);
}

/// With an expected account, an event of another one is `wrong_account`.
fn check_account(account: Option<&Value>, expected: Option<&str>, sink: &mut Sink) {
    if let (Some(Value::String(a)), Some(expected)) = (account, expected) {
        if !a.is_empty() && a != expected {
            sink.at(field::ACCOUNT, codes::WRONG_ACCOUNT, || {
                format!(
                    "the event belongs to account {}, not to {}",
                    quote(a),
                    quote(expected)
                )
            });
        }
    }
}

fn check_time(time: Option<&Value>, sink: &mut Sink) {
    const PATH: &str = field::TIME;
    match time {
        None => missing(PATH, sink),
        Some(v @ (Value::Number(_) | Value::String(_))) => match parse_time_value(v) {
            Ok(_) => {}
            Err(e) => sink.at(PATH, codes::BAD_TIME, || match e {
                TimeError::Unparseable(s) => format!(
                    "{} is neither epoch milliseconds nor an RFC 3339 time",
                    quote(&s)
                ),
                other => other.to_string(),
            }),
        },
        Some(other) => wrong_type(
            PATH,
            "epoch milliseconds (a number or a string of digits) or an RFC 3339 string",
            other,
            sink,
        ),
    }
}

#[cfg(test)]
mod tests;
