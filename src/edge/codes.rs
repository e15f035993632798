//! The stable codes of the Worker's own error answers (`{"error": {"code": ...}}`).
//!
//! Codes are part of the HTTP API: never rename one, only add. Ingest also answers with
//! the reader's codes of a broken body (`truncated`, `bad_gzip`, `io`, `unsupported`, from
//! `convert::ErrorCode`), and a `bad_filter` error carries the filter's own code in its
//! details (`filter::error::CODES`).

/// No bearer token, or one that is not configured, not kept, expired or revoked (401).
pub const UNAUTHORIZED: &str = "unauthorized";
/// The token lacks the scope the endpoint needs (403).
pub const FORBIDDEN: &str = "forbidden";
/// No such endpoint, event, saved filter, destination, dead letter or API token, or one of
/// another account (404).
pub const NOT_FOUND: &str = "not_found";
/// The method is not one the endpoint takes (405).
pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
/// A saved filter or destination with the given id exists, or a destination changed
/// while a change to it was made (409).
pub const CONFLICT: &str = "conflict";
/// The body, an event or the batch is over its limit (413).
pub const TOO_LARGE: &str = "too_large";
/// An ingest body that is neither `application/json` nor NDJSON (415).
pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
/// An ingest body with a `Content-Encoding` other than `gzip` or `identity` (415).
pub const UNSUPPORTED_ENCODING: &str = "unsupported_encoding";
/// With `atomic=true`, at least one event of the batch is invalid (422).
pub const INVALID_EVENTS: &str = "invalid_events";
/// The account made more requests than its limit allows (429, with `Retry-After`).
pub const RATE_LIMITED: &str = "rate_limited";
/// Too many failed authentications from the client's address (429, with `Retry-After`):
/// every request from it is refused until then, whatever its token.
pub const TOO_MANY_AUTH_FAILURES: &str = "too_many_auth_failures";
/// A field of a new API token that is missing or of the wrong shape (`name`, `scopes`,
/// `owner`, `expiresAt`); `details.field` names it.
pub const BAD_TOKEN: &str = "bad_token";
/// The account holds as many API tokens as it may (409).
pub const TOO_MANY_TOKENS: &str = "too_many_tokens";
/// The account's Durable Object or its storage failed (503).
pub const STORAGE_UNAVAILABLE: &str = "storage_unavailable";
/// A request the endpoint cannot read: a bad URL, or a field of the wrong shape.
pub const BAD_REQUEST: &str = "bad_request";
/// The request body could not be read.
pub const BAD_BODY: &str = "bad_body";
/// The body is not the JSON it should be.
pub const BAD_JSON: &str = "bad_json";
/// The body is marked `Content-Encoding: gzip` but does not decode.
pub const BAD_GZIP: &str = "bad_gzip";
/// An ingest body that holds no events.
pub const EMPTY_BODY: &str = "empty_body";
/// The filter (`q`, a structured body or a saved filter) does not compile; the details
/// are the filter error with its code and position.
pub const BAD_FILTER: &str = "bad_filter";
/// A query parameter out of its range or vocabulary (`format`, `order`, `limit`, `by`), or
/// one given more than once.
pub const BAD_PARAMETER: &str = "bad_parameter";
/// `from` or `to` is not a time.
pub const BAD_TIME: &str = "bad_time";
/// `from` is after `to`.
pub const BAD_RANGE: &str = "bad_range";
/// The time range is longer than a query may cover.
pub const RANGE_TOO_LONG: &str = "range_too_long";
/// A `cursor` this service did not make, or made for the other order.
pub const BAD_CURSOR: &str = "bad_cursor";
/// A destination field that is missing or of the wrong shape; `details.field` names it.
pub const BAD_DESTINATION: &str = "bad_destination";
/// A destination `type` that is not one of s3, gcs, splunk_hec, sumo, webhook.
pub const UNKNOWN_DESTINATION_TYPE: &str = "unknown_destination_type";
/// A destination URL that does not parse, is not `https`/`http`, or holds user info;
/// `details.field` names it.
pub const BAD_DESTINATION_URL: &str = "bad_destination_url";
/// A plain `http` destination URL while `ALLOW_HTTP_DESTINATIONS` is not `true`.
pub const HTTP_NOT_ALLOWED: &str = "http_not_allowed";
/// A destination URL whose host is `localhost` or a loopback, private, link-local or
/// shared address, while `ALLOW_HTTP_DESTINATIONS` is not `true`; `details.field` names it.
pub const PRIVATE_DESTINATION: &str = "private_destination";
/// A `transform` (of an export or a destination) that is not valid (formats.md section 4);
/// the details carry its own code and the key at fault.
pub const BAD_TRANSFORM: &str = "bad_transform";
/// Deleting a destination that is active (409): deactivate it first.
pub const DESTINATION_ACTIVE: &str = "destination_active";
/// The account has as many destinations as it may (409).
pub const TOO_MANY_DESTINATIONS: &str = "too_many_destinations";
/// Destination credentials cannot be sealed or opened: `CREDENTIALS_KEY` is missing,
/// malformed or not the key they were sealed with (503).
pub const CREDENTIALS_UNAVAILABLE: &str = "credentials_unavailable";
/// `seq` of an inclusion proof is not from 1 to the tree size asked about (400).
pub const SEQ_OUT_OF_RANGE: &str = "seq_out_of_range";
/// A tree size asked about (`treeSize`, `second`) is larger than the account's log (400).
pub const TREE_SIZE_OUT_OF_RANGE: &str = "tree_size_out_of_range";
/// The log cannot sign: `LOG_SIGNING_KEY` is missing or malformed (503).
pub const LOG_KEY_UNAVAILABLE: &str = "log_key_unavailable";

/// Every code above.
pub const CODES: &[&str] = &[
    UNAUTHORIZED,
    FORBIDDEN,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    CONFLICT,
    TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    UNSUPPORTED_ENCODING,
    INVALID_EVENTS,
    RATE_LIMITED,
    TOO_MANY_AUTH_FAILURES,
    BAD_TOKEN,
    TOO_MANY_TOKENS,
    STORAGE_UNAVAILABLE,
    BAD_REQUEST,
    BAD_BODY,
    BAD_JSON,
    BAD_GZIP,
    EMPTY_BODY,
    BAD_FILTER,
    BAD_PARAMETER,
    BAD_TIME,
    BAD_RANGE,
    RANGE_TOO_LONG,
    BAD_CURSOR,
    BAD_DESTINATION,
    UNKNOWN_DESTINATION_TYPE,
    BAD_DESTINATION_URL,
    HTTP_NOT_ALLOWED,
    PRIVATE_DESTINATION,
    BAD_TRANSFORM,
    DESTINATION_ACTIVE,
    TOO_MANY_DESTINATIONS,
    CREDENTIALS_UNAVAILABLE,
    SEQ_OUT_OF_RANGE,
    TREE_SIZE_OUT_OF_RANGE,
    LOG_KEY_UNAVAILABLE,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        crate::codes::check("the Worker (edge::codes)", CODES);
    }

    /// Codes written as literals (ingest still writes its own) must be registered too.
    #[test]
    fn every_code_literal_of_the_worker_is_registered() {
        let sources = [
            include_str!("mod.rs"),
            include_str!("error.rs"),
            include_str!("auth.rs"),
            include_str!("ingest.rs"),
            include_str!("query.rs"),
            include_str!("filters.rs"),
            include_str!("stream.rs"),
            include_str!("store/mod.rs"),
            include_str!("store/events.rs"),
            include_str!("store/stats.rs"),
            include_str!("store/filters.rs"),
            include_str!("store/tail/mod.rs"),
            include_str!("store/tail/sse.rs"),
            include_str!("store/tail/tickets.rs"),
            include_str!("store/alarm.rs"),
            include_str!("store/log.rs"),
            include_str!("log.rs"),
            include_str!("store/destinations/mod.rs"),
            include_str!("store/destinations/delivery.rs"),
            include_str!("store/destinations/crypto.rs"),
            include_str!("destinations/mod.rs"),
            include_str!("destinations/validate.rs"),
            include_str!("tokens.rs"),
            include_str!("guard.rs"),
            include_str!("store/tokens.rs"),
        ];
        let mut found = 0;
        for source in sources {
            for call in ["bad_request(", "ApiError::new("] {
                for (at, _) in source.match_indices(call) {
                    // `ApiError::new(status, code, ..)` has the code second.
                    let mut args = source[at + call.len()..].splitn(3, ',');
                    let first = args.next().unwrap_or_default().trim();
                    let code = if call == "bad_request(" {
                        first
                    } else {
                        args.next().unwrap_or_default().trim()
                    };
                    if let Some(literal) = code.strip_prefix('"').and_then(|c| c.strip_suffix('"'))
                    {
                        found += 1;
                        assert!(CODES.contains(&literal), "{literal} is not in CODES");
                    }
                }
            }
        }
        assert!(found > 0, "the scan found no literal codes at all");
    }
}
