//! The audit event's fields (formats.md §1): their dotted paths, in one table every part of
//! trailsift reads them from, and reading values at a path.

use serde_json::{Map, Value};

/// The dotted path of every field of formats.md §1, and the objects that hold them.
pub mod field {
    pub const ID: &str = "auditEventId";
    pub const AUTHOR: &str = "auditEventAuthor";
    pub const PRINCIPAL: &str = "auditEventAuthor.principal";
    pub const PRINCIPAL_TYPE: &str = "auditEventAuthor.principal.type";
    pub const PRINCIPAL_ID: &str = "auditEventAuthor.principal.identifier";
    pub const PRINCIPAL_EMAIL: &str = "auditEventAuthor.principal.email";
    pub const MODULE: &str = "auditModule";
    pub const RESOURCE: &str = "auditResource";
    pub const RESOURCE_TYPE: &str = "auditResource.type";
    pub const RESOURCE_ID: &str = "auditResource.identifier";
    pub const SCOPE: &str = "auditResourceScope";
    pub const ACCOUNT: &str = "auditResourceScope.accountIdentifier";
    pub const ORG: &str = "auditResourceScope.orgIdentifier";
    pub const PROJECT: &str = "auditResourceScope.projectIdentifier";
    pub const ACTION: &str = "auditAction";
    pub const TIME: &str = "auditEventTime";
    pub const HTTP: &str = "auditHttpRequestInfo";
    pub const METHOD: &str = "auditHttpRequestInfo.requestMethod";
    pub const CLIENT_IP: &str = "auditHttpRequestInfo.clientIP";
    pub const METADATA: &str = "auditEventMetadata";
}

/// What a field of formats.md §1 holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A string (non-empty when required).
    Text,
    /// Epoch milliseconds (number or digits) or RFC 3339.
    Time,
    /// An IPv4 or IPv6 address.
    Ip,
    /// An object holding other fields.
    Object,
    /// An object of any shape (`auditEventMetadata`), any JSON inside.
    Json,
}

/// One field of the event: its path, whether an event must have it (when its parent is
/// there), and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Field {
    pub path: &'static str,
    pub required: bool,
    pub kind: Kind,
}

const fn f(path: &'static str, required: bool, kind: Kind) -> Field {
    Field {
        path,
        required,
        kind,
    }
}

/// Every field of formats.md §1, parents before children, in the order of the spec's table
/// (which is also the order of the CSV columns).
pub const FIELDS: &[Field] = &[
    f(field::ID, true, Kind::Text),
    f(field::TIME, true, Kind::Time),
    f(field::AUTHOR, true, Kind::Object),
    f(field::PRINCIPAL, true, Kind::Object),
    f(field::PRINCIPAL_TYPE, true, Kind::Text),
    f(field::PRINCIPAL_ID, true, Kind::Text),
    f(field::PRINCIPAL_EMAIL, false, Kind::Text),
    f(field::MODULE, true, Kind::Text),
    f(field::RESOURCE, true, Kind::Object),
    f(field::RESOURCE_TYPE, true, Kind::Text),
    f(field::RESOURCE_ID, true, Kind::Text),
    f(field::SCOPE, true, Kind::Object),
    f(field::ACCOUNT, true, Kind::Text),
    f(field::ORG, false, Kind::Text),
    f(field::PROJECT, false, Kind::Text),
    f(field::ACTION, true, Kind::Text),
    f(field::HTTP, false, Kind::Object),
    f(field::METHOD, true, Kind::Text),
    f(field::CLIENT_IP, true, Kind::Ip),
    f(field::METADATA, false, Kind::Json),
];

/// The last key of a dotted path: `type` of `auditResource.type`.
pub fn key_of(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

/// The value at a dotted path inside a JSON object.
pub fn get_path<'a>(fields: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut current = fields.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

/// What kind of JSON value `v` is, for messages: "null", "a boolean", "a number",
/// "a string", "an array" or "an object".
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_parents_before_children() {
        for (i, f) in FIELDS.iter().enumerate() {
            if let Some((parent, _)) = f.path.rsplit_once('.') {
                let at = FIELDS.iter().position(|p| p.path == parent);
                assert!(at.is_some_and(|p| p < i), "{} before its parent", f.path);
                assert_eq!(FIELDS[at.unwrap_or(0)].kind, Kind::Object);
            }
        }
        assert_eq!(key_of(field::RESOURCE_TYPE), "type");
        assert_eq!(key_of(field::ID), "auditEventId");
    }
}
