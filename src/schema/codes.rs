//! The stable codes of validation errors and warnings.
//!
//! Codes are part of the public contract (CLI `--json`, npm `validate`, Worker ingest):
//! never rename one, only add.

/// A required field is absent. Example: no `auditResource.identifier`.
pub const MISSING: &str = "missing";
/// A field has the wrong JSON type. Example: `"auditModule": 5`.
pub const WRONG_TYPE: &str = "wrong_type";
/// A field that must be a non-empty string is `""`.
pub const EMPTY: &str = "empty";
/// `auditEventTime` is neither epoch milliseconds nor RFC 3339, or out of range.
pub const BAD_TIME: &str = "bad_time";
/// `auditHttpRequestInfo.clientIP` is not an IPv4 or IPv6 address.
pub const BAD_IP: &str = "bad_ip";
/// A field the schema does not name (strict mode only).
pub const UNKNOWN_FIELD: &str = "unknown_field";
/// The event nests objects or arrays deeper than `Options::max_depth`.
pub const TOO_DEEP: &str = "too_deep";
/// The event is bigger than `Options::max_size` bytes.
pub const TOO_LARGE: &str = "too_large";
/// More than `Options::max_errors` violations; the rest are not listed.
pub const TOO_MANY_ERRORS: &str = "too_many_errors";
/// A record of the input is not JSON (reported by batch readers, path `""`).
pub const BAD_JSON: &str = "bad_json";
/// The event belongs to another account than the expected one (`Options::account`), e.g.
/// the Worker token's account.
pub const WRONG_ACCOUNT: &str = "wrong_account";

/// Warning: `auditModule` is not a module of the known vocabulary.
pub const UNKNOWN_MODULE: &str = "unknown_module";
/// Warning: `auditResource.type` is not a resource type of the known vocabulary.
pub const UNKNOWN_RESOURCE_TYPE: &str = "unknown_resource_type";
/// Warning: `auditAction` is unknown, or not an action of the event's resource type.
pub const UNKNOWN_ACTION: &str = "unknown_action";

/// Every error code.
pub const ERRORS: &[&str] = &[
    MISSING,
    WRONG_TYPE,
    EMPTY,
    BAD_TIME,
    BAD_IP,
    UNKNOWN_FIELD,
    TOO_DEEP,
    TOO_LARGE,
    TOO_MANY_ERRORS,
    BAD_JSON,
    WRONG_ACCOUNT,
];

/// Every warning code.
pub const WARNINGS: &[&str] = &[UNKNOWN_MODULE, UNKNOWN_RESOURCE_TYPE, UNKNOWN_ACTION];
