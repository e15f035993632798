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
pub(super) enum TimeFormat {
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

/// Reads and checks a transform given as JSON; the first fault, in the transform's key
/// order, is the error.
pub(super) fn spec(value: &Value) -> Result<(Spec, Program), TransformError> {
    let map = value
        .as_object()
        .ok_or_else(|| wrong_type("", None, "a JSON object", value))?;
    let mut spec = Spec::default();
    let mut program = Program::default();
    for (key, value) in map {
        let key = key.as_str();
        match key {
            "include" | "exclude" | "redact" | "pseudonymize" => {
                let (texts, paths) = paths(key, value)?;
                let tree = || {
                    let mut tree = Tree::default();
                    if key == "include" {
                        for required in REQUIRED {
                            tree.insert(&[required.into()]);
                        }
                    }
                    for path in &paths {
                        tree.insert(path);
                    }
                    tree
                };
                let slot = match key {
                    "include" => {
                        program.include = Some(tree());
                        &mut spec.include
                    }
                    "exclude" => {
                        program.exclude = Some(tree());
                        &mut spec.exclude
                    }
                    "redact" => {
                        program.redact = paths;
                        &mut spec.redact
                    }
                    _ => {
                        program.pseudonymize = paths;
                        &mut spec.pseudonymize
                    }
                };
                *slot = Some(texts);
            }
            "redactPatterns" => {
                let texts = strings(key, value, MAX_PATTERNS, MAX_PATTERN_BYTES)?;
                for (i, text) in texts.iter().enumerate() {
                    let regex = crate::filter::regex(text).map_err(|e| {
                        fault(error::BAD_REGEX, key, Some(i), format_args!(" {text:?}: {}", e.message))
                            .at_pattern(text)
                    })?;
                    let literal = literal_prefix(text);
                    program.patterns.push(Pattern {
                        regex,
                        anchor: crate::filter::rarest(&literal),
                        literal,
                    });
                }
                spec.redact_patterns = Some(texts.into_iter().map(String::from).collect());
            }
            "truncateIp" => {
                let families = value
                    .as_object()
                    .ok_or_else(|| wrong_type(key, None, "an object like {\"v4\": 24, \"v6\": 48}", value))?;
                let mut t = TruncateIp::default();
                for (family, bits) in families {
                    let (slot, max) = match family.as_str() {
                        "v4" => (&mut t.v4, 32),
                        "v6" => (&mut t.v6, 128),
                        _ => {
                            return Err(unknown_key(
                                &format!("truncateIp.{family}"),
                                "truncateIp",
                                "v4, v6",
                            ))
                        }
                    };
                    *slot = Some(prefix(&format!("truncateIp.{family}"), bits, max)?);
                }
                program.truncate_ip = t;
                spec.truncate_ip = Some(t);
            }
            "sample" => {
                let s = value
                    .as_f64()
                    .ok_or_else(|| wrong_type(key, None, "a number in (0, 1]", value))?;
                if !(s > 0.0 && s <= 1.0) {
                    return Err(out_of_range(key, value, "greater than 0 and at most 1"));
                }
                // Keep when h < s × 2^64 for the integer h, that is when h < ⌈s × 2^64⌉;
                // s × 2^64 is exact (a power of two) and, below 1, less than 2^64.
                program.sample_below =
                    (s < 1.0).then(|| (s * 18_446_744_073_709_551_616.0).ceil() as u64);
                spec.sample = Some(s);
            }
            "timeFormat" => {
                let format = match value.as_str() {
                    Some("epoch_ms") => TimeFormat::EpochMs,
                    Some("rfc3339") => TimeFormat::Rfc3339,
                    Some(other) => {
                        return Err(fault(
                            error::BAD_VALUE,
                            key,
                            None,
                            format_args!(" is {other:?}; it must be \"epoch_ms\" or \"rfc3339\""),
                        ))
                    }
                    None => return Err(wrong_type(key, None, "\"epoch_ms\" or \"rfc3339\"", value)),
                };
                program.time_format = Some(format);
                spec.time_format = Some(format);
            }
            _ => {
                return Err(unknown_key(
                    key,
                    "the transform",
                    "include, exclude, redact, redactPatterns, pseudonymize, truncateIp, sample, timeFormat",
                ))
            }
        }
    }
    Ok((spec, program))
}

/// An error about `key` (entry `index` of its list): the message is the key (and entry),
/// then `detail`.
fn fault(
    code: &'static str,
    key: &str,
    index: Option<usize>,
    detail: std::fmt::Arguments,
) -> TransformError {
    let message = match index {
        Some(i) => format!("\"{key}\"[{i}]{detail}"),
        None if key.is_empty() => format!("the transform{detail}"),
        None => format!("\"{key}\"{detail}"),
    };
    let e = TransformError::new(code, key, message);
    match index {
        Some(i) => e.with_index(i),
        None => e,
    }
}

fn wrong_type(key: &str, index: Option<usize>, expected: &str, found: &Value) -> TransformError {
    let found = crate::event::json_kind(found);
    fault(
        error::WRONG_TYPE,
        key,
        index,
        format_args!(" must be {expected}, found {found}"),
    )
}

fn unknown_key(key: &str, of: &str, known: &str) -> TransformError {
    fault(
        error::UNKNOWN_KEY,
        key,
        None,
        format_args!(" is not a key of {of} (known: {known})"),
    )
}

fn out_of_range(key: &str, value: &Value, range: &str) -> TransformError {
    fault(
        error::OUT_OF_RANGE,
        key,
        None,
        format_args!(" is {value}; it must be {range}"),
    )
}

/// The entries of a list of strings, within `max` entries of at most `max_bytes` each.
fn strings<'v>(
    key: &str,
    value: &'v Value,
    max: usize,
    max_bytes: usize,
) -> Result<Vec<&'v str>, TransformError> {
    let items = value
        .as_array()
        .ok_or_else(|| wrong_type(key, None, "a list of strings", value))?;
    if items.len() > max {
        let n = items.len();
        return Err(fault(
            error::TOO_MANY,
            key,
            None,
            format_args!(" has {n} entries; at most {max} are allowed"),
        ));
    }
    let mut texts = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let text = item
            .as_str()
            .ok_or_else(|| wrong_type(key, Some(i), "a string", item))?;
        if text.len() > max_bytes {
            let n = text.len();
            let e = fault(
                error::TOO_LONG,
                key,
                Some(i),
                format_args!(" is {n} bytes long; at most {max_bytes} are allowed"),
            );
            return Err(if key == "redactPatterns" {
                e.at_pattern(text)
            } else {
                e.at_path(text)
            });
        }
        texts.push(text);
    }
    Ok(texts)
}

/// A list of dotted paths: their texts in canonical order (sorted, without duplicates)
/// and their segments, in the same order, which is the order they apply in whatever
/// order they were given (so a transform and its canonical JSON do the same: a path
/// comes before the paths inside it, which then find the string `pseudonymize` left and
/// are left alone). `exclude` may not name the required fields.
fn paths(key: &str, value: &Value) -> Result<(Vec<String>, Vec<Path>), TransformError> {
    let texts = strings(key, value, MAX_PATHS, MAX_PATH_BYTES)?;
    let mut sorted: Vec<&str> = Vec::with_capacity(texts.len());
    for (i, text) in texts.into_iter().enumerate() {
        let (code, why) = if text.split('.').any(str::is_empty) {
            (
                error::BAD_PATH,
                "is not a dotted path: no segment between dots may be empty",
            )
        } else if key == "exclude" && REQUIRED.contains(&text.split('.').next().unwrap_or_default())
        {
            (
                error::REQUIRED_FIELD,
                "cannot be excluded: every event keeps auditEventId and auditEventTime",
            )
        } else {
            // Kept sorted as they come (lists are short; a sort costs kilobytes of wasm).
            if let Err(at) = sorted.binary_search(&text) {
                sorted.insert(at, text);
            }
            continue;
        };
        return Err(fault(code, key, Some(i), format_args!(" {text:?} {why}")).at_path(text));
    }
    let paths = sorted
        .iter()
        .map(|text| text.split('.').map(Box::from).collect())
        .collect();
    Ok((sorted.into_iter().map(String::from).collect(), paths))
}

/// A prefix length in bits, `0..=max`.
fn prefix(key: &str, bits: &Value, max: u8) -> Result<u8, TransformError> {
    if !(bits.is_i64() || bits.is_u64()) {
        return Err(wrong_type(key, None, "a number of bits (an integer)", bits));
    }
    bits.as_u64()
        .and_then(|n| u8::try_from(n).ok())
        .filter(|n| *n <= max)
        .ok_or_else(|| {
            out_of_range(
                key,
                bits,
                if max == 32 {
                    "from 0 to 32"
                } else {
                    "from 0 to 128"
                },
            )
        })
}
