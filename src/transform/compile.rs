//! Reading a transform's JSON into its checked, canonical [`Spec`] and compiling that once
//! into what [`apply`](super::apply) runs: path trees, regexes, the sampling threshold.

use serde::Serialize;
use serde_json::Value;

use super::error::{self, TransformError};
use super::{MAX_PATHS, MAX_PATH_BYTES, MAX_PATTERNS, MAX_PATTERN_BYTES};

/// The fields every event keeps: `include` adds them, `exclude` may not name them.
pub(super) const REQUIRED: [&str; 2] = ["auditEventId", "auditEventTime"];

/// A transform as written, checked and in canonical form: path lists sorted without
/// duplicates, patterns in their order, keys in the order of formats.md §4.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Spec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redact: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redact_patterns: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pseudonymize: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncate_ip: Option<TruncateIp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_format: Option<TimeFormat>,
}

/// Prefix lengths of `truncateIp`; a family without one is left as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(super) struct TruncateIp {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v4: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v6: Option<u8>,
}

/// How `timeFormat` writes `auditEventTime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TimeFormat {
    /// Epoch milliseconds, a JSON number.
    #[serde(rename = "epoch_ms")]
    EpochMs,
    /// RFC 3339 UTC with milliseconds: `2026-11-21T10:15:30.123Z`.
    #[serde(rename = "rfc3339")]
    Rfc3339,
}

/// A dotted path split into its segments.
pub(super) type Path = Box<[Box<str>]>;

/// Paths as a tree: `whole` marks a named path (its whole subtree), `children` the next
/// segments of longer paths.
#[derive(Debug, Clone, Default)]
pub(super) struct Tree {
    pub whole: bool,
    pub children: Vec<(Box<str>, Tree)>,
}

impl Tree {
    fn insert(&mut self, path: &[Box<str>]) {
        let Some((head, rest)) = path.split_first() else {
            self.whole = true;
            self.children.clear();
            return;
        };
        if self.whole {
            return;
        }
        let at = match self.children.iter().position(|(k, _)| k == head) {
            Some(at) => at,
            None => {
                self.children.push((head.clone(), Tree::default()));
                self.children.len() - 1
            }
        };
        if let Some((_, child)) = self.children.get_mut(at) {
            child.insert(rest);
        }
    }

    pub fn child(&self, key: &str) -> Option<&Tree> {
        self.children
            .iter()
            .find(|(k, _)| k.as_ref() == key)
            .map(|(_, t)| t)
    }
}

/// A `redactPatterns` entry compiled with the filter language's regex builder.
#[derive(Debug, Clone)]
pub(super) struct Pattern {
    pub regex: regex_lite::Regex,
    /// ASCII text (lowercase) that every match begins with, ASCII case-insensitively;
    /// empty when the pattern does not tell. regex-lite has no literal prefilter and
    /// costs tens of nanoseconds a byte, so a string without this text skips the regex.
    pub literal: Vec<u8>,
    /// Where the search for `literal` anchors: its rarest byte.
    pub anchor: usize,
}

/// The literal text every match of `pattern` begins with, read only from patterns plain
/// enough to be sure: no `|` anywhere, at most one leading group of the flags `imsU`,
/// then literal characters up to the first other one (a quantifier that may repeat the
/// last character zero times takes it back). Empty when nothing is certain.
pub(super) fn literal_prefix(pattern: &str) -> Vec<u8> {
    let mut literal = Vec::new();
    if pattern.contains('|') {
        return literal;
    }
    let mut rest = pattern.as_bytes();
    if let Some(group) = rest.strip_prefix(b"(?") {
        let Some(end) = group.iter().position(|&b| b == b')') else {
            return literal;
        };
        if !group.iter().take(end).all(|b| b"imsU".contains(b)) {
            return literal;
        }
        rest = group.get(end + 1..).unwrap_or_default();
    }
    let mut bytes = rest.iter().copied().peekable();
    while let Some(b) = bytes.next() {
        match b {
            // `\<` and `\>` are word boundaries; other escaped punctuation is itself.
            b'\\' => match bytes.peek() {
                Some(&e) if e.is_ascii_punctuation() && e != b'<' && e != b'>' => {
                    literal.push(e);
                    bytes.next();
                }
                _ => break,
            },
            b'?' | b'*' | b'{' => {
                literal.pop();
                break;
            }
            _ if b.is_ascii_alphanumeric() || b" _-:/=@,'\"%&!~<>;#".contains(&b) => {
                literal.push(b.to_ascii_lowercase())
            }
            _ => break,
        }
    }
    literal
}

/// What `apply` runs, built once from a [`Spec`].
#[derive(Debug, Clone, Default)]
pub(super) struct Program {
    /// Keep an event when the head of its id's SHA-256 is below this; `None` keeps all.
    pub sample_below: Option<u64>,
    /// `include`, with the required fields added.
    pub include: Option<Tree>,
    pub exclude: Option<Tree>,
    pub redact: Vec<Path>,
    pub patterns: Vec<Pattern>,
    pub pseudonymize: Vec<Path>,
    pub truncate_ip: TruncateIp,
    pub time_format: Option<TimeFormat>,
}

/// Reads and checks a transform given as JSON.
pub(super) fn spec(value: &Value) -> Result<(Spec, Program), TransformError> {
    let Value::Object(map) = value else {
        return Err(TransformError::new(
            error::WRONG_TYPE,
            "",
            format!(
                "a transform is a JSON object, found {}",
                crate::event::json_kind(value)
            ),
        ));
    };
    let mut spec = Spec::default();
    let mut program = Program::default();
    for (key, value) in map {
        match key.as_str() {
            "include" => {
                let (texts, paths) = paths(key, value, false)?;
                let mut tree = Tree::default();
                for required in REQUIRED {
                    tree.insert(&[required.into()]);
                }
                for path in &paths {
                    tree.insert(path);
                }
                program.include = Some(tree);
                spec.include = Some(texts);
            }
            "exclude" => {
                let (texts, paths) = paths(key, value, true)?;
                let mut tree = Tree::default();
                for path in &paths {
                    tree.insert(path);
                }
                program.exclude = Some(tree);
                spec.exclude = Some(texts);
            }
            "redact" => {
                let (texts, paths) = paths(key, value, false)?;
                program.redact = paths;
                spec.redact = Some(texts);
            }
            "pseudonymize" => {
                let (texts, paths) = paths(key, value, false)?;
                program.pseudonymize = paths;
                spec.pseudonymize = Some(texts);
            }
            "redactPatterns" => {
                let (texts, patterns) = patterns(key, value)?;
                program.patterns = patterns;
                spec.redact_patterns = Some(texts);
            }
            "truncateIp" => {
                let t = truncate_ip(value)?;
                program.truncate_ip = t;
                spec.truncate_ip = Some(t);
            }
            "sample" => {
                let s = sample(value)?;
                // Keep when h < s × 2^64 for the integer h, that is when h < ⌈s × 2^64⌉;
                // s × 2^64 is exact (a power of two) and, below 1, less than 2^64.
                program.sample_below = (s < 1.0).then(|| (s * 18_446_744_073_709_551_616.0).ceil() as u64);
                spec.sample = Some(s);
            }
            "timeFormat" => {
                let f = time_format(value)?;
                program.time_format = Some(f);
                spec.time_format = Some(f);
            }
            _ => {
                return Err(TransformError::new(
                    error::UNKNOWN_KEY,
                    key,
                    format!("unknown key {key:?} in the transform (known: include, exclude, redact, redactPatterns, pseudonymize, truncateIp, sample, timeFormat)"),
                ))
            }
        }
    }
    Ok((spec, program))
}

/// The entries of a list of strings, within `max` entries of at most `max_bytes` each.
fn strings<'v>(
    key: &str,
    value: &'v Value,
    max: usize,
    max_bytes: usize,
    what: &str,
) -> Result<Vec<&'v str>, TransformError> {
    let Value::Array(items) = value else {
        return Err(TransformError::new(
            error::WRONG_TYPE,
            key,
            format!(
                "{key:?} is a list of {what}s, found {}",
                crate::event::json_kind(value)
            ),
        ));
    };
    if items.len() > max {
        return Err(TransformError::new(
            error::TOO_MANY,
            key,
            format!(
                "{key:?} has {} entries; at most {max} are allowed",
                items.len()
            ),
        ));
    }
    let mut texts = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::String(text) = item else {
            return Err(TransformError::new(
                error::WRONG_TYPE,
                key,
                format!(
                    "{key:?}[{i}] must be a {what} (a string), found {}",
                    crate::event::json_kind(item)
                ),
            )
            .with_index(i));
        };
        if text.len() > max_bytes {
            let e = TransformError::new(
                error::TOO_LONG,
                key,
                format!(
                    "{key:?}[{i}] is {} bytes long; at most {max_bytes} are allowed",
                    text.len()
                ),
            );
            return Err(if what == "path" {
                e.at_path(i, text)
            } else {
                e.at_pattern(i, text)
            });
        }
        texts.push(text.as_str());
    }
    Ok(texts)
}

/// A list of dotted paths: their texts in canonical order (sorted, without duplicates)
/// and their segments sorted, the order they apply in whatever order they were given
/// (so a transform and its canonical JSON do the same: a path comes before the paths
/// inside it, which then find the string `pseudonymize` left and are left alone).
/// `exclude` may not name the required fields.
fn paths(
    key: &str,
    value: &Value,
    exclude: bool,
) -> Result<(Vec<String>, Vec<Path>), TransformError> {
    let mut texts = strings(key, value, MAX_PATHS, MAX_PATH_BYTES, "path")?;
    let mut paths = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        let path: Path = text.split('.').map(Box::from).collect();
        if path.iter().any(|segment| segment.is_empty()) {
            return Err(TransformError::new(
                error::BAD_PATH,
                key,
                format!("{key:?}[{i}] {text:?} is not a dotted path: every segment between dots must be non-empty"),
            )
            .at_path(i, text));
        }
        if exclude
            && path
                .first()
                .is_some_and(|head| REQUIRED.contains(&head.as_ref()))
        {
            return Err(TransformError::new(
                error::REQUIRED_FIELD,
                key,
                format!("\"exclude\"[{i}] {text:?}: auditEventId and auditEventTime are always kept and cannot be excluded"),
            )
            .at_path(i, text));
        }
        paths.push(path);
    }
    texts.sort_unstable();
    texts.dedup();
    paths.sort_unstable();
    paths.dedup();
    Ok((texts.into_iter().map(String::from).collect(), paths))
}

/// The regexes of `redactPatterns`, in their order.
fn patterns(key: &str, value: &Value) -> Result<(Vec<String>, Vec<Pattern>), TransformError> {
    let texts = strings(key, value, MAX_PATTERNS, MAX_PATTERN_BYTES, "pattern")?;
    let mut patterns = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        let regex = crate::filter::regex(text).map_err(|e| {
            TransformError::new(
                error::BAD_REGEX,
                key,
                format!("{key:?}[{i}] {text:?}: {}", e.message),
            )
            .at_pattern(i, text)
        })?;
        let literal = literal_prefix(text);
        patterns.push(Pattern {
            regex,
            anchor: crate::filter::rarest(&literal),
            literal,
        });
    }
    Ok((texts.into_iter().map(String::from).collect(), patterns))
}

fn truncate_ip(value: &Value) -> Result<TruncateIp, TransformError> {
    let Value::Object(map) = value else {
        return Err(TransformError::new(
            error::WRONG_TYPE,
            "truncateIp",
            format!(
                "\"truncateIp\" is an object like {{\"v4\": 24, \"v6\": 48}}, found {}",
                crate::event::json_kind(value)
            ),
        ));
    };
    let mut t = TruncateIp::default();
    for (family, bits) in map {
        let (slot, max) = match family.as_str() {
            "v4" => (&mut t.v4, 32),
            "v6" => (&mut t.v6, 128),
            _ => {
                return Err(TransformError::new(
                    error::UNKNOWN_KEY,
                    &format!("truncateIp.{family}"),
                    format!("unknown key {family:?} in \"truncateIp\" (known: v4, v6)"),
                ))
            }
        };
        *slot = Some(prefix(family, bits, max)?);
    }
    Ok(t)
}

/// A prefix length in bits, `0..=max`.
fn prefix(family: &str, bits: &Value, max: u8) -> Result<u8, TransformError> {
    let key = format!("truncateIp.{family}");
    let n = match bits {
        Value::Number(n) if n.is_i64() || n.is_u64() => n.as_i64(),
        _ => {
            return Err(TransformError::new(
                error::WRONG_TYPE,
                &key,
                format!(
                    "{key:?} is a number of bits (an integer), found {}",
                    describe(bits)
                ),
            ))
        }
    };
    match n.and_then(|n| u8::try_from(n).ok()).filter(|n| *n <= max) {
        Some(n) => Ok(n),
        None => Err(TransformError::new(
            error::OUT_OF_RANGE,
            &key,
            format!("{key:?} is {bits}; it must be from 0 to {max} bits"),
        )),
    }
}

fn sample(value: &Value) -> Result<f64, TransformError> {
    let Some(s) = value.as_f64() else {
        return Err(TransformError::new(
            error::WRONG_TYPE,
            "sample",
            format!(
                "\"sample\" is a number in (0, 1], found {}",
                crate::event::json_kind(value)
            ),
        ));
    };
    if s > 0.0 && s <= 1.0 {
        Ok(s)
    } else {
        Err(TransformError::new(
            error::OUT_OF_RANGE,
            "sample",
            format!("\"sample\" is {value}; it must be greater than 0 and at most 1"),
        ))
    }
}

fn time_format(value: &Value) -> Result<TimeFormat, TransformError> {
    match value.as_str() {
        Some("epoch_ms") => Ok(TimeFormat::EpochMs),
        Some("rfc3339") => Ok(TimeFormat::Rfc3339),
        Some(other) => Err(TransformError::new(
            error::BAD_VALUE,
            "timeFormat",
            format!("\"timeFormat\" is {other:?}; it must be \"epoch_ms\" or \"rfc3339\""),
        )),
        None => Err(TransformError::new(
            error::WRONG_TYPE,
            "timeFormat",
            format!(
                "\"timeFormat\" is \"epoch_ms\" or \"rfc3339\", found {}",
                crate::event::json_kind(value)
            ),
        )),
    }
}

/// A value for a message: its kind, and its text when it is a number.
fn describe(v: &Value) -> String {
    match v {
        Value::Number(n) => format!("{n}"),
        _ => crate::event::json_kind(v).to_string(),
    }
}
