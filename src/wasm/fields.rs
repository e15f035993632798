//! `fieldCatalog` and `parseTime`: what a page's form, query bar, table and histogram
//! need to read fields and times exactly as the core does.

use wasm_bindgen::prelude::*;

use super::{fail, to_js, Options, Result, Time};

/// The field table: the event's fields, the filter language's names for them, and the
/// known vocabulary of values.
#[wasm_bindgen(js_name = fieldCatalog, unchecked_return_type = "FieldCatalog")]
pub fn field_catalog() -> Result<JsValue> {
    to_js(&crate::filter::fields::catalog())
}

/// A time in any form the filter language takes (RFC 3339 with an offset, `YYYY-MM-DD`,
/// epoch milliseconds, `now`, `now-7d`) as epoch milliseconds; a date is its midnight UTC,
/// or its last millisecond with `end: true`. Throws `bad_time` for anything else.
#[wasm_bindgen(js_name = parseTime)]
pub fn parse_time(
    #[wasm_bindgen(unchecked_param_type = "string | number")] time: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "ParseTimeOptions")] options: JsValue,
) -> Result<f64> {
    let opts = Options::read(&options, "parseTime options", &["now", "end"])?;
    let clock = js_sys::Date::now() as i64;
    let now = match opts.time("now")? {
        Some(now) => now.resolve("bad_option", "now", clock, false)?,
        None => clock,
    };
    let time = match (time.as_string(), time.as_f64()) {
        (Some(text), _) => Time::Text(text),
        (None, Some(ms)) => Time::Ms(ms),
        _ => return fail("bad_time", "a time is a string or a number"),
    };
    Ok(time.resolve("bad_time", "time", now, opts.bool("end")?)? as f64)
}
