//! `countPath`: which field a count per value of a named field counts, as the Worker's
//! `GET /v1/stats?by=` counts it, so that a page adding events to the server's counts
//! reads the same field.

use wasm_bindgen::prelude::*;

/// The canonical path whose values stand for field `name` (a filter-language name or path)
/// when events are counted per value: `user` counts the principal's identifier.
/// `undefined` when `name` is not a field.
#[wasm_bindgen(js_name = countPath)]
pub fn count_path(name: &str) -> Option<String> {
    crate::filter::fields::count_path(name)
}
