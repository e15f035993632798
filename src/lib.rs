//! trailsift: validate, filter and convert audit-trail events.
//!
//! The same core runs natively (library and CLI), as an npm package (feature `wasm`),
//! in a web page and in a Cloudflare Worker (feature `worker`). The core modules
//! (`event`, `schema`, `filter`, `convert`, `transform`) know nothing of JavaScript or
//! Workers.
//!
//! ```
//! use trailsift::AuditEvent;
//!
//! let line = r#"{"auditEventId":"ev-1","auditEventAuthor":{"principal":{"type":"USER","identifier":"alice"}},
//!   "auditModule":"CORE","auditResource":{"type":"SECRET","identifier":"db_password"},
//!   "auditResourceScope":{"accountIdentifier":"acct"},"auditAction":"CREATE",
//!   "auditEventTime":"1763719530123"}"#;
//! let event = AuditEvent::from_json(line.as_bytes()).unwrap();
//! assert_eq!(event.id(), "ev-1");
//! assert_eq!(event.time_ms(), 1_763_719_530_123);
//! ```

pub mod convert;
pub mod event;
pub mod filter;
mod plain;
pub mod sample;
pub mod schema;
pub mod transform;

#[cfg(feature = "worker")]
pub mod edge;
#[cfg(feature = "wasm")]
pub mod wasm;

pub use event::{parse_time, parse_time_value, AuditEvent, TimeError};
