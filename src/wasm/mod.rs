//! The npm package API (feature `wasm`): type conversion only, no audit logic.
//!
//! Bulk data crosses the boundary as strings or bytes and results come back as JSON text
//! parsed on the JS side (architecture rule 2); serde-wasm-bindgen only carries options.
//! Every error leaves through [`Error::into_js`], the one place errors become JS values.

use js_sys::{Array, Uint8Array, JSON};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::schema;

mod convert;
mod count;
mod fields;
mod filter;
mod table;
mod types;

// Parsing events allocates many small strings and maps; talc does that markedly faster
// than the default dlmalloc on wasm32 (see BENCHMARKS.md, "npm package").
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[wasm_bindgen(module = "/src/wasm/package/filter-error.js")]
extern "C" {
    type FilterError;
    #[wasm_bindgen(constructor)]
    fn new(
        code: &str,
        message: &str,
        span: Array,
        line: u32,
        column: u32,
        rendered: &str,
    ) -> FilterError;

    type TrailsiftError;
    #[wasm_bindgen(constructor)]
    fn new(code: &str, message: &str, details: JsValue) -> TrailsiftError;
}

/// An error on its way to JS.
enum Error {
    /// A filter error and the text its span points into.
    Filter(crate::filter::FilterError, String),
    /// Any other error: a stable code, a message, optional position fields.
    Plain {
        code: &'static str,
        message: String,
        details: Vec<(&'static str, f64)>,
    },
    /// An error whose details the core wrote (a transform's key, path or pattern).
    Detailed {
        code: &'static str,
        message: String,
        details: JsValue,
    },
}

impl Error {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Error::Plain {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// The one mapping of errors to JS values: `FilterError` or `TrailsiftError`.
    fn into_js(self) -> JsValue {
        match self {
            Error::Filter(e, source) => {
                let span = Array::of2(&(e.span.0 as f64).into(), &(e.span.1 as f64).into());
                let rendered = e.render(&source);
                FilterError::new(
                    e.code,
                    &e.message,
                    span,
                    e.line as u32,
                    e.column as u32,
                    &rendered,
                )
                .into()
            }
            Error::Plain {
                code,
                message,
                details,
            } => {
                let extra = if details.is_empty() {
                    JsValue::UNDEFINED
                } else {
                    let obj = js_sys::Object::new();
                    for (key, value) in details {
                        let _ = js_sys::Reflect::set(&obj, &key.into(), &value.into());
                    }
                    obj.into()
                };
                TrailsiftError::new(code, &message, extra).into()
            }
            Error::Detailed {
                code,
                message,
                details,
            } => TrailsiftError::new(code, &message, details).into(),
        }
    }
}

impl From<Error> for JsValue {
    fn from(e: Error) -> JsValue {
        e.into_js()
    }
}

/// The package's own error codes (beside the core's, which errors carry through: a
/// record's `bad_json`, `too_large`, a filter's codes, `bad_time`).
pub const CODES: &[&str] = &[
    // An argument of the wrong type: not a string, bytes, an event or a filter.
    "bad_input",
    // An options object with an unknown key or a value of the wrong type.
    "bad_option",
    // Writing the output failed.
    "write_failed",
    // A result the core wrote could not be turned into a JS value.
    "internal",
];

type Result<T> = std::result::Result<T, JsValue>;

fn fail<T>(code: &'static str, message: impl Into<String>) -> Result<T> {
    Err(Error::new(code, message).into_js())
}

/// Text or bytes handed in by JS, read in pieces so that a large input never has to fit
/// in the module's memory at once; results go back in the same kind.
enum Input {
    Text(js_sys::JsString),
    Bytes(Uint8Array),
    /// Text made on this side (events handed in as objects).
    Owned(String),
}

/// Size of the pieces an input is read in: bytes, or UTF-16 units of a string.
const PIECE: u32 = 1 << 20;

impl Input {
    /// A `string` or a `Uint8Array` (any other `ArrayBufferView` is viewed as bytes).
    fn from_js(value: &JsValue, what: &str) -> Result<Input> {
        if let Some(text) = value.dyn_ref::<js_sys::JsString>() {
            return Ok(Input::Text(text.clone()));
        }
        if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
            return Ok(Input::Bytes(bytes.clone()));
        }
        if let Some(buffer) = value.dyn_ref::<js_sys::ArrayBuffer>() {
            return Ok(Input::Bytes(Uint8Array::new(buffer)));
        }
        fail(
            "bad_input",
            format!("{what} must be a string or a Uint8Array"),
        )
    }

    /// Calls `f` with the input's bytes (UTF-8 for a string) in consecutive pieces; a
    /// string is cut between UTF-16 units, never inside a surrogate pair.
    fn pieces(&self, mut f: impl FnMut(&[u8])) {
        match self {
            Input::Owned(text) => text.as_bytes().chunks(PIECE as usize).for_each(f),
            Input::Bytes(bytes) => {
                let len = bytes.length();
                let mut buf = vec![0; len.min(PIECE) as usize];
                let mut at = 0;
                while at < len {
                    let end = len.min(at + PIECE);
                    let piece = &mut buf[..(end - at) as usize];
                    bytes.subarray(at, end).copy_to(piece);
                    f(piece);
                    at = end;
                }
            }
            Input::Text(text) => {
                let len = text.length();
                let mut at = 0;
                while at < len {
                    let mut end = len.min(at + PIECE);
                    let unit = text.char_code_at(end - 1) as u32;
                    if end < len && end - 1 > at && (0xD800..0xDC00).contains(&unit) {
                        end -= 1;
                    }
                    f(String::from(text.slice(at, end)).as_bytes());
                    at = end;
                }
            }
        }
    }

    /// The first `n` bytes of the input (fewer if it is shorter), and whether that is all
    /// of it.
    fn head(&self, n: usize) -> (Vec<u8>, bool) {
        let mut head = match self {
            Input::Owned(text) => text.as_bytes()[..text.len().min(n)].to_vec(),
            Input::Bytes(bytes) => bytes.subarray(0, bytes.length().min(n as u32)).to_vec(),
            // `n` UTF-16 units are at least `n` bytes of UTF-8.
            Input::Text(text) => String::from(text.slice(0, n as u32)).into_bytes(),
        };
        let whole = match self {
            Input::Owned(text) => text.len() <= n,
            Input::Bytes(bytes) => bytes.length() as usize <= n,
            Input::Text(text) => text.length() as usize <= n && head.len() <= n,
        };
        head.truncate(n);
        (head, whole)
    }

    /// `out` as the same kind of value as the input was. `out` is UTF-8 whenever the
    /// input was a string (the core only slices or writes UTF-8 text).
    fn same_kind(&self, out: Vec<u8>) -> JsValue {
        match self {
            Input::Text(_) | Input::Owned(_) => match String::from_utf8(out) {
                Ok(text) => JsValue::from_str(&text),
                Err(e) => Uint8Array::from(e.as_bytes()).into(),
            },
            Input::Bytes(_) => Uint8Array::from(out.as_slice()).into(),
        }
    }
}

/// A time option: epoch milliseconds, or text in any time form of the core
/// (`crate::time`: RFC 3339, a date, digits, `now-7d`).
enum Time {
    Ms(f64),
    Text(String),
}

impl Time {
    /// The instant, with relative times against `now` and a date as its midnight (or the
    /// end of that day when `end`); an error has `code` and names `what`.
    fn resolve(self, code: &'static str, what: &str, now: i64, end: bool) -> Result<i64> {
        match self {
            Time::Ms(ms) if ms.is_finite() && ms.fract() == 0.0 => {
                crate::time::check_range(ms as i64).or_else(|e| fail(code, format!("{what}: {e}")))
            }
            Time::Ms(_) => fail(code, format!("{what}: not whole epoch milliseconds")),
            Time::Text(text) => crate::time::parse_time_arg(&text, now, end)
                .or_else(|_| fail(code, format!("{what}: {}", crate::time::arg_help(&text)))),
        }
    }
}

/// A small options object (booleans and times), read as JSON with its keys checked, so
/// that a typo is an error. One reader for these instead of a derived deserializer each
/// keeps the module small.
struct Options {
    map: serde_json::Map<String, serde_json::Value>,
    what: &'static str,
}

impl Options {
    /// `undefined`/`null` give the defaults; `known` are the keys taken.
    fn read(value: &JsValue, what: &'static str, known: &[&str]) -> Result<Options> {
        if value.is_undefined() || value.is_null() {
            return Ok(Options {
                map: serde_json::Map::new(),
                what,
            });
        }
        let map: serde_json::Map<String, serde_json::Value> = read_required(value, what)?;
        if let Some(key) = map.keys().find(|k| !known.contains(&k.as_str())) {
            let expected = known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>();
            return fail(
                "bad_option",
                format!(
                    "{what}: unknown field `{key}`, expected one of {}",
                    expected.join(", ")
                ),
            );
        }
        Ok(Options { map, what })
    }

    fn bool(&self, key: &str) -> Result<bool> {
        match self.map.get(key) {
            None | Some(serde_json::Value::Null) => Ok(false),
            Some(serde_json::Value::Bool(b)) => Ok(*b),
            Some(_) => fail(
                "bad_option",
                format!("{}: {key} must be a boolean", self.what),
            ),
        }
    }

    fn time(&self, key: &str) -> Result<Option<Time>> {
        match self.map.get(key) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(Time::Text(s.clone()))),
            Some(serde_json::Value::Number(n)) => Ok(n.as_f64().map(Time::Ms)),
            Some(_) => fail(
                "bad_option",
                format!("{}: {key} must be a time (a number or a string)", self.what),
            ),
        }
    }
}

/// An options object, through `JSON.stringify` and serde_json (smaller than a second
/// deserializer in the bundle); the structs deny unknown keys, so typos are errors.
fn read_required<T: DeserializeOwned>(value: &JsValue, what: &str) -> Result<T> {
    if !value.is_object() || Array::is_array(value) {
        return fail("bad_option", format!("{what} must be an object"));
    }
    let json = stringify(value)?;
    serde_json::from_str(&json).or_else(|e| {
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message);
        fail("bad_option", format!("{what}: {message}"))
    })
}

/// JSON text of a JS value, as `JSON.stringify` writes it. Its own failures (a cycle, a
/// BigInt, nesting deeper than the JS stack) become `bad_input` errors.
fn stringify(value: &JsValue) -> Result<String> {
    match JSON::stringify(value) {
        Ok(text) => match text.as_string() {
            Some(text) => Ok(text),
            None => fail("bad_input", "the value has no JSON form"),
        },
        Err(e) => {
            let why = js_sys::Reflect::get(&e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
                .unwrap_or_default();
            fail(
                "bad_input",
                format!("the value cannot be written as JSON: {why}"),
            )
        }
    }
}

/// A JS value from JSON text the core wrote.
fn parse(json: &str) -> Result<JsValue> {
    JSON::parse(json)
}

/// The JSON text of events handed in as a string, bytes, one object or an array of
/// objects (written as NDJSON, one line per element, so lines number the elements).
fn events_text(input: &JsValue) -> Result<Input> {
    if input.is_string() || input.is_instance_of::<Uint8Array>() {
        return Input::from_js(input, "input");
    }
    if Array::is_array(input) {
        let mut text = String::new();
        for item in Array::from(input).iter() {
            text.push_str(&stringify(&item)?);
            text.push('\n');
        }
        return Ok(Input::Owned(text));
    }
    if input.is_object() {
        return Ok(Input::Owned(stringify(input)?));
    }
    fail(
        "bad_input",
        "input must be a string, a Uint8Array, an event object or an array of events",
    )
}

/// Validates events (JSON, NDJSON, or any readable format, gzipped or not); returns the
/// report of formats.md §1.
#[wasm_bindgen]
pub fn validate(
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object | object[]")]
    input: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "ValidateOptions")] options: JsValue,
) -> Result<ValidationReport> {
    let opts = Options::read(&options, "validate options", &["strict", "vocabulary"])?;
    let input = events_text(&input)?;
    let read = crate::convert::ReadOptions {
        keep_raw: false,
        ..Default::default()
    };
    let reader = crate::convert::Reader::detecting(None, read);
    let mut validator = schema::Validator::new(
        reader,
        schema::Options {
            strict: opts.bool("strict")?,
            vocabulary: opts.bool("vocabulary")?,
            ..Default::default()
        },
    );
    input.pieces(|piece| validator.push(piece, &mut |_| {}));
    validator.finish(&mut |_| {});
    to_js(&validator.into_report())
}

/// A JS value of a core result, through JSON text (faster than serde-wasm-bindgen).
fn to_js<T: serde::Serialize, R: JsCast>(value: &T) -> Result<R> {
    let json = serde_json::to_string(value).or_else(|e| fail("internal", e.to_string()))?;
    Ok(parse(&json)?.unchecked_into())
}

#[wasm_bindgen]
extern "C" {
    /// `ValidationReport` in TypeScript.
    #[wasm_bindgen(typescript_type = "ValidationReport")]
    pub type ValidationReport;
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_unique_snake_case() {
        crate::codes::check("the npm package (wasm::CODES)", super::CODES);
    }
}
