//! The one place where errors become HTTP responses: `{"error": {"code", "message", "details"}}`.

use serde::Serialize;
use serde_json::{json, Value};
use worker::{Headers, Response};

use super::codes;
use crate::filter::FilterError;
use crate::transform::TransformError;

/// An error answer: HTTP status, stable code, message and optional details.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// Boxed so that `Result<T, ApiError>` stays small on every target.
    pub details: Box<Value>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            details: Box::new(Value::Null),
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Box::new(details);
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            401,
            codes::UNAUTHORIZED,
            "a valid bearer token is required (Authorization: Bearer <token>)",
        )
    }

    pub fn forbidden(scope: &str) -> Self {
        Self::new(
            403,
            codes::FORBIDDEN,
            format!("the token lacks the `{scope}` scope"),
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(404, codes::NOT_FOUND, format!("{what} not found"))
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(413, codes::TOO_LARGE, message)
    }

    /// The account made more requests than its limit allows; `retry_after_seconds` says
    /// when the next one will be admitted (`Retry-After` header and `details`).
    pub fn rate_limited(retry_after_seconds: u64) -> Self {
        Self::new(
            429,
            codes::RATE_LIMITED,
            format!(
                "too many requests for this account; retry after {retry_after_seconds} seconds"
            ),
        )
        .with_details(json!({"retryAfterSeconds": retry_after_seconds}))
    }

    pub fn storage(message: impl Into<String>) -> Self {
        Self::new(503, codes::STORAGE_UNAVAILABLE, message)
    }

    /// Rebuilds an error from a status and an error body (as the account store answers).
    pub fn from_body(status: u16, body: &Value) -> Self {
        let err = body.get("error");
        let text = |k: &str| {
            err.and_then(|e| e.get(k))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let code = text("code");
        ApiError {
            status,
            code: if code.is_empty() {
                codes::STORAGE_UNAVAILABLE.into()
            } else {
                code
            },
            message: text("message"),
            details: Box::new(
                err.and_then(|e| e.get("details"))
                    .cloned()
                    .unwrap_or(Value::Null),
            ),
        }
    }

    /// The JSON body of this error.
    pub fn body(&self) -> Value {
        json!({"error": {"code": self.code, "message": self.message, "details": self.details}})
    }

    /// The HTTP response for this error. Never fails: a response that cannot be built
    /// falls back to a plain-text one.
    /// A `429` also carries `Retry-After` (from `details.retryAfterSeconds`).
    pub fn into_response(self) -> Response {
        let resp = json_response(self.status, &self.body());
        match self.retry_after() {
            Some(secs) => {
                let _ = resp.headers().set("retry-after", &secs.to_string());
                resp
            }
            None => resp,
        }
    }

    /// Seconds to wait before retrying, for a `429`.
    pub fn retry_after(&self) -> Option<u64> {
        if self.status != 429 {
            return None;
        }
        Some(
            self.details
                .get("retryAfterSeconds")
                .and_then(Value::as_u64)
                .unwrap_or(1),
        )
    }
}

/// A filter that does not compile: `400 bad_filter`, with the filter error (its own code,
/// span, line and column) as the details.
impl From<FilterError> for ApiError {
    fn from(e: FilterError) -> Self {
        let details = serde_json::to_value(&e).unwrap_or(Value::Null);
        ApiError::bad_request(codes::BAD_FILTER, e.message).with_details(details)
    }
}

/// A transform that is not valid: `400 bad_transform`, with the transform error (its own
/// code, the key at fault, the entry's index, path or pattern) as the details.
impl From<TransformError> for ApiError {
    fn from(e: TransformError) -> Self {
        let details = serde_json::to_value(&e).unwrap_or(Value::Null);
        ApiError::bad_request(codes::BAD_TRANSFORM, e.message).with_details(details)
    }
}

impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        ApiError::storage(format!("the account store did not answer: {e}"))
    }
}

/// A JSON response with a status; never fails.
pub fn json_response<T: Serialize + ?Sized>(status: u16, body: &T) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_string());
    text_response(status, text, "application/json")
}

/// A response with a body and content type; never fails.
pub fn text_response(status: u16, body: String, content_type: &str) -> Response {
    bytes_response(status, body.into_bytes(), content_type)
}

/// A response with a body of bytes and a content type; never fails.
pub fn bytes_response(status: u16, body: Vec<u8>, content_type: &str) -> Response {
    let headers = Headers::new();
    let _ = headers.set("content-type", content_type);
    match Response::from_bytes(body) {
        Ok(r) => r.with_status(status).with_headers(headers),
        Err(_) => Response::empty()
            .map(|r| r.with_status(500))
            .unwrap_or_else(|_| Response::builder().with_status(500).empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limited_carries_retry_after_in_details() {
        let e = ApiError::rate_limited(12);
        assert_eq!(e.status, 429);
        assert_eq!(
            e.body()["error"]["details"],
            json!({"retryAfterSeconds": 12})
        );
        assert_eq!(e.body()["error"]["code"], "rate_limited");
        assert_eq!(e.retry_after(), Some(12));
        // Rebuilt from the account store's answer, it keeps the same wait.
        let back = ApiError::from_body(429, &e.body());
        assert_eq!(back.retry_after(), Some(12));
        assert_eq!(ApiError::storage("x").retry_after(), None);
    }

    #[test]
    fn a_filter_error_is_bad_filter_with_its_position() {
        let e = crate::filter::Filter::parse("acton:x").unwrap_err();
        let api = ApiError::from(e.clone());
        assert_eq!((api.status, api.code.as_str()), (400, codes::BAD_FILTER));
        assert_eq!(api.message, e.message);
        let details = &api.body()["error"]["details"];
        assert_eq!(details["code"], e.code);
        assert_eq!(details["span"], json!([e.span.0, e.span.1]));
        assert_eq!(
            (details["line"].as_u64(), details["column"].as_u64()),
            (Some(1), Some(1))
        );
    }
}
