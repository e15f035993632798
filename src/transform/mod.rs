//! Transforms (formats.md §4): sampling, projection, redaction, pseudonyms, IP truncation
//! and time format, applied to each event before it is written.
//!
//! A transform is compiled once from its JSON ([`Transform::from_json`]); every fault
//! (unknown key, wrong type, bad path, bad regex, number out of range, `exclude` of a
//! required field, a limit) is a [`TransformError`] with a stable code from [`CODES`] and
//! the key at fault. The pseudonymisation key never belongs to the transform: it is bound
//! afterwards ([`Transform::bind`]), which fails with `missing_key` when `pseudonymize` is
//! set and no key is given, so no event ever passes with its values in clear. The
//! [`BoundTransform`] applies to events the caller already holds, without re-parsing
//! them: a `serde_json::Value` ([`BoundTransform::apply`]) or the conversion's borrowed
//! [`Node`] ([`BoundTransform::apply_node`]). Every writer applies it when
//! [`WriteOptions::transform`](crate::convert::WriteOptions::transform) is set.
//!
//! ```
//! use serde_json::json;
//! use trailsift::convert::{Format, WriteOptions, Writer};
//! use trailsift::transform::Transform;
//!
//! let transform = Transform::from_json(r#"{
//!     "include": ["auditAction", "auditEventAuthor", "auditHttpRequestInfo"],
//!     "pseudonymize": ["auditEventAuthor.principal.email"],
//!     "truncateIp": {"v4": 24},
//!     "timeFormat": "rfc3339"}"#).unwrap();
//! // `pseudonymize` needs a key: without one, binding fails.
//! assert_eq!(transform.clone().bind(None).unwrap_err().code, "missing_key");
//! let transform = transform.bind(Some(b"secret key")).unwrap();
//!
//! let event = json!({"auditEventId": "ev-1", "auditEventTime": 1763719530123u64,
//!     "auditAction": "CREATE", "auditModule": "CORE",
//!     "auditEventAuthor": {"principal": {"type": "USER", "email": "alice@example.com"}},
//!     "auditHttpRequestInfo": {"requestMethod": "POST", "clientIP": "203.0.113.77"}});
//! let out = transform.apply(&event).unwrap();
//! assert_eq!(out["auditEventTime"], "2025-11-21T10:05:30.123Z");
//! assert_eq!(out["auditHttpRequestInfo"]["clientIP"], "203.0.113.0");
//! assert!(out.get("auditModule").is_none());
//! let email = out["auditEventAuthor"]["principal"]["email"].as_str().unwrap();
//! assert!(email.starts_with("ps_") && email.len() == 35);
//!
//! // The same through a writer, as every adapter does it:
//! let opts = WriteOptions { transform: Some(transform.clone()), ..WriteOptions::default() };
//! let mut w = Writer::new(Format::Ndjson, opts, Vec::new());
//! w.write(&event).unwrap();
//! assert_eq!(w.finish().unwrap(), format!("{out}\n").into_bytes());
//!
//! // What a destination shows of it (never the key):
//! assert_eq!(transform.transform().to_json(),
//!     r#"{"include":["auditAction","auditEventAuthor","auditHttpRequestInfo"],"pseudonymize":["auditEventAuthor.principal.email"],"truncateIp":{"v4":24},"timeFormat":"rfc3339"}"#);
//! ```

mod apply;
mod compile;
pub mod error;

use std::fmt;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use serde::{Serialize, Serializer};
use serde_json::Value;
use sha2::Sha256;

use crate::convert::node::Node;

pub use apply::REDACTED;
pub use error::{TransformError, CODES};

/// Longest transform text accepted by [`Transform::from_json`], in bytes.
pub const MAX_BYTES: usize = 64 * 1024;
/// Most entries of one list of paths (`include`, `exclude`, `redact`, `pseudonymize`).
pub const MAX_PATHS: usize = 256;
/// Longest dotted path, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;
/// Most entries of `redactPatterns`: each pattern is a search of every string of every
/// event, and each may compile to up to the filter's regex size limit.
pub const MAX_PATTERNS: usize = 16;
/// Longest pattern of `redactPatterns`, in bytes.
pub const MAX_PATTERN_BYTES: usize = 1024;

/// A compiled transform, without a key. Serialises as its canonical JSON.
#[derive(Debug, Clone)]
pub struct Transform {
    spec: compile::Spec,
    program: compile::Program,
}

impl Transform {
    /// Compiles a transform from its JSON text.
    pub fn from_json(text: &str) -> Result<Transform, TransformError> {
        if text.len() > MAX_BYTES {
            return Err(TransformError::new(
                error::TOO_LARGE,
                "",
                format!(
                    "the transform is {} bytes long; at most {MAX_BYTES} are allowed",
                    text.len()
                ),
            ));
        }
        let value: Value = serde_json::from_str(text).map_err(|e| {
            TransformError::new(
                error::BAD_JSON,
                "",
                format!("the transform is not valid JSON: {e}"),
            )
        })?;
        Transform::from_value(&value)
    }

    /// Compiles a transform from its parsed JSON.
    pub fn from_value(value: &Value) -> Result<Transform, TransformError> {
        let (spec, program) = compile::spec(value)?;
        Ok(Transform { spec, program })
    }

    /// Whether the transform pseudonymises, so that [`bind`](Transform::bind) needs a key.
    pub fn needs_key(&self) -> bool {
        !self.program.pseudonymize.is_empty()
    }

    /// Binds the pseudonymisation key (bytes, exactly as given: a key file's content, a
    /// string's UTF-8). Fails with `missing_key` when the transform pseudonymises and `key`
    /// is `None` or empty; a key is ignored when it does not.
    pub fn bind(self, key: Option<&[u8]>) -> Result<BoundTransform, TransformError> {
        let key = match key {
            _ if !self.needs_key() => None,
            Some(key) if !key.is_empty() => Hmac::<Sha256>::new_from_slice(key).ok(),
            _ => None,
        };
        if self.needs_key() && key.is_none() {
            return Err(TransformError::new(
                error::MISSING_KEY,
                "pseudonymize",
                "\"pseudonymize\" needs a key (a non-empty key file, the pseudonymizeKey option or credential); none was given",
            ));
        }
        Ok(BoundTransform(Arc::new(Bound {
            transform: self,
            key,
        })))
    }

    /// The canonical JSON: keys in the order of formats.md §4, path lists sorted without
    /// duplicates, patterns in their order. Compiling it gives the same transform.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.spec).unwrap_or_default()
    }

    /// The canonical JSON as a value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(&self.spec).unwrap_or_default()
    }
}

impl PartialEq for Transform {
    fn eq(&self, other: &Self) -> bool {
        self.spec == other.spec
    }
}

impl Serialize for Transform {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.spec.serialize(s)
    }
}

/// A transform with its key, ready to apply; cheap to clone (shared).
#[derive(Clone)]
pub struct BoundTransform(Arc<Bound>);

struct Bound {
    transform: Transform,
    /// Set exactly when the transform pseudonymises.
    key: Option<Hmac<Sha256>>,
}

impl BoundTransform {
    /// The transform (for its canonical JSON); the key is not reachable from it.
    pub fn transform(&self) -> &Transform {
        &self.0.transform
    }

    /// Transforms one event; `None` when `sample` drops it.
    pub fn apply(&self, event: &Value) -> Option<Value> {
        let mut node = Node::from(event);
        self.apply_node(&mut node).then(|| node.to_value())
    }

    /// Transforms one event in place; false when `sample` drops it (it is then left as it
    /// was).
    pub fn apply_node(&self, event: &mut Node<'_>) -> bool {
        apply::apply(&self.0.transform.program, self.0.key.as_ref(), event)
    }
}

impl fmt::Debug for BoundTransform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundTransform")
            .field("transform", &self.transform().to_json())
            .field("key", &self.0.key.as_ref().map(|_| "(set)"))
            .finish()
    }
}

#[cfg(test)]
mod tests;
