//! trailsift: validate, filter and convert audit-trail events.
//!
//! The same core runs natively (library and CLI), as an npm package (feature `wasm`),
//! in a web page and in a Cloudflare Worker (feature `worker`). The core modules
//! (`event`, `time`, `input`, `schema`, `filter`, `convert`, `transform`, `log`, and
//! natively `parallel`) know nothing of JavaScript or Workers.
//!
//! ```
//! use trailsift::filter::Filter;
//! use trailsift::schema::{self, Options};
//!
//! let line = br#"{"auditEventId":"ev-1","auditEventAuthor":{"principal":{"type":"USER","identifier":"alice"}},
//!   "auditModule":"CORE","auditResource":{"type":"SECRET","identifier":"db_password"},
//!   "auditResourceScope":{"accountIdentifier":"acct"},"auditAction":"CREATE",
//!   "auditEventTime":"1763719530123"}"#;
//! assert!(schema::check_json(line, &Options::default()).unwrap().is_valid());
//! let filter = Filter::parse("action:create resource.type:SECRET").unwrap();
//! assert_eq!(filter.matches_line(line, 0), Ok(true));
//! ```

pub mod codes;
pub mod columns;
pub mod convert;
pub mod event;
pub mod filter;
pub mod format;
pub mod input;
pub mod log;
#[cfg(not(target_arch = "wasm32"))]
pub mod parallel;
mod plain;
mod quotes;
pub mod sample;
pub mod schema;
pub mod time;
pub mod transform;

#[cfg(feature = "worker")]
pub mod edge;
#[cfg(feature = "wasm")]
pub mod wasm;
#[cfg(feature = "verify")]
#[path = "wasm/verify.rs"]
mod wasm_verify;

pub use time::{parse_time, parse_time_value, TimeError};
