//! `compileFilter`, the `Filter` class and its NDJSON stream object.

use std::ops::Range;
use std::rc::Rc;

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

use super::{fail, parse, stringify, to_js, Error, Input, Options, Result};
use crate::filter::Filter as CoreFilter;
use crate::input::{LineEvent, LineReader};

/// Compiles a text query, a structured filter (form JSON) or a Logpush filter (an object
/// with `where`). Throws a `FilterError` on a bad filter.
#[wasm_bindgen(js_name = compileFilter)]
pub fn compile_filter(
    #[wasm_bindgen(unchecked_param_type = "string | StructuredFilter | LogpushFilter")]
    query: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "CompileOptions")] options: JsValue,
) -> Result<Filter> {
    let opts = Options::read(&options, "compileFilter options", &["now"])?;
    let now = match opts.time("now")? {
        None => None,
        Some(now) => Some(now.resolve("bad_option", "now", js_sys::Date::now() as i64, false)?),
    };
    let compiled = if let Some(text) = query.as_string() {
        CoreFilter::parse(&text).map_err(|e| Error::Filter(e, text))?
    } else if query.is_object() && !js_sys::Array::is_array(&query) {
        let json = stringify(&query)?;
        let logpush = js_sys::Reflect::has(&query, &"where".into()).unwrap_or(false);
        let compiled = if logpush {
            CoreFilter::from_logpush(&json)
        } else {
            CoreFilter::from_structured(&json)
        };
        compiled.map_err(|e| Error::Filter(e, json))?
    } else {
        return fail(
            "bad_input",
            "a filter is a query string, a structured filter object or a Logpush filter object",
        );
    };
    Ok(Filter {
        inner: Rc::new(compiled),
        now,
    })
}

/// A compiled filter. Call `free()` when done with it (or rely on the finalizer).
#[wasm_bindgen]
pub struct Filter {
    inner: Rc<CoreFilter>,
    /// The fixed "now" of `compileFilter`'s options, else the clock at each call.
    now: Option<i64>,
}

impl Filter {
    pub(super) fn now(&self) -> i64 {
        self.now.unwrap_or_else(|| js_sys::Date::now() as i64)
    }

    pub(super) fn core(&self) -> &CoreFilter {
        &self.inner
    }
}

#[wasm_bindgen(module = "/src/wasm/package/gather.js")]
extern "C" {
    /// The bytes of `input` in `ranges` (`[start, end)` pairs) joined, then `\n` if
    /// `newline`.
    fn gather(input: &Uint8Array, ranges: &[u32], newline: bool) -> Uint8Array;
}

/// JSON text of an event handed in as an object or as JSON text.
fn event_json(event: &JsValue) -> Result<String> {
    match event.as_string() {
        Some(text) => Ok(text),
        None if event.is_object() => stringify(event),
        None => fail("bad_input", "an event is an object or its JSON text"),
    }
}

/// Appends a matching line (`block[r]`) to `out`, its ending kept (`\n` added to a last
/// line that has none).
fn keep(out: &mut Vec<u8>) -> impl FnMut(&[u8], u64, Range<usize>) + '_ {
    move |block, _, r| {
        let with_end = &block[r];
        out.extend_from_slice(with_end);
        if !matches!(with_end.last(), Some(b'\n')) {
            out.push(b'\n');
        }
    }
}

/// Calls `f(block, byte, range)` for each matching line of a whole input (plain or gzip):
/// `block[range]` is the line with its ending, `byte` the offset of `block` in the
/// decoded input. Lines that are not JSON or longer than [`crate::input::MAX_LINE_BYTES`]
/// do not match.
fn whole_matching(
    filter: &CoreFilter,
    now: i64,
    input: &Input,
    mut f: impl FnMut(&[u8], u64, Range<usize>),
) {
    let mut lines = new_lines();
    let mut on = |ev: LineEvent| {
        if let LineEvent::Block { bytes, byte, .. } = ev {
            matching(filter, now, bytes, &mut |r| f(bytes, byte, r));
        }
    };
    // A broken gzip stream ends the input: the lines read before it are answered.
    let mut failed = false;
    input.pieces(|piece| failed = failed || lines.push(piece, &mut on).is_err());
    let _ = lines.end_input(&mut on);
    lines.end_lines(&mut on);
}

/// The matching lines of bytes that are not gzip, as `[start, end)` offsets into them
/// (each line with its ending; neighbours joined into one range), and whether the last
/// one lacks its `\n`.
fn matching_ranges(filter: &CoreFilter, now: i64, input: &Input) -> (Vec<u32>, bool) {
    let mut ranges: Vec<u32> = Vec::new();
    let mut newline = false;
    whole_matching(filter, now, input, |block, byte, r| {
        newline = !matches!(block[..r.end].last(), Some(b'\n'));
        let (start, end) = ((byte + r.start as u64) as u32, (byte + r.end as u64) as u32);
        match ranges.last_mut() {
            Some(last) if *last == start => *last = end,
            _ => ranges.extend([start, end]),
        }
    });
    (ranges, newline)
}

/// The line reader of the package's filters: any input size, lines up to the filter's
/// longest line.
fn new_lines() -> LineReader {
    LineReader::new(u64::MAX, crate::input::MAX_LINE_BYTES)
}

/// Calls `f(range)` for each matching line of a block of whole lines, the range taking in
/// the line's `\n`.
fn matching(filter: &CoreFilter, now: i64, block: &[u8], f: &mut dyn FnMut(Range<usize>)) {
    filter.decide_lines(block, now, &mut |r, answer| {
        if let Ok(true) = answer {
            f(r.start..block.len().min(r.end + 1));
        }
    });
}

#[wasm_bindgen]
impl Filter {
    /// Whether one event (an object or its JSON text) matches. Throws on JSON text that
    /// does not parse.
    pub fn matches(
        &self,
        #[wasm_bindgen(unchecked_param_type = "object | string")] event: JsValue,
    ) -> Result<bool> {
        let json = event_json(&event)?;
        // A bad event is the caller's data, not the filter: a plain error, not FilterError.
        self.inner
            .matches_line(json.as_bytes(), self.now())
            .or_else(|e| fail(e.code, e.message))
    }

    /// The NDJSON lines that match, unchanged, as the same type as the input (`\r\n`
    /// endings are kept; a last line without one gets `\n`). Lines that are not JSON
    /// events never match.
    #[wasm_bindgen(js_name = filterNdjson, unchecked_return_type = "string | Uint8Array")]
    pub fn filter_ndjson(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] input: JsValue,
    ) -> Result<JsValue> {
        let input = Input::from_js(&input, "filterNdjson input")?;
        if let Input::Bytes(bytes) = &input {
            // Plain bytes pass the decoder unchanged, so the lines' offsets are the input's.
            if !crate::format::is_gzip(&input.head(2).0) {
                let (ranges, newline) = matching_ranges(&self.inner, self.now(), &input);
                return Ok(gather(bytes, &ranges, newline).into());
            }
        }
        let mut out = Vec::new();
        whole_matching(&self.inner, self.now(), &input, keep(&mut out));
        Ok(input.same_kind(out))
    }

    /// How many NDJSON lines match.
    pub fn count(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] input: JsValue,
    ) -> Result<f64> {
        let input = Input::from_js(&input, "count input")?;
        let now = self.now();
        let mut n = 0u64;
        whole_matching(&self.inner, now, &input, |_, _, _| n += 1);
        Ok(n as f64)
    }

    /// Which leaf terms matched one event: `{ matched, terms: [{ term, matched }] }`.
    #[wasm_bindgen(unchecked_return_type = "Explanation")]
    pub fn explain(
        &self,
        #[wasm_bindgen(unchecked_param_type = "object | string")] event: JsValue,
    ) -> Result<JsValue> {
        let json = event_json(&event)?;
        let value: serde_json::Value = serde_json::from_str(&json)
            .or_else(|e| fail("bad_json", format!("the event is not JSON: {e}")))?;
        to_js(&self.inner.explain(&value, self.now()))
    }

    /// Canonical expression text; compiling it gives the same filter.
    #[wasm_bindgen(js_name = toQuery)]
    pub fn to_query(&self) -> String {
        self.inner.to_query()
    }

    /// The canonical IR (as parsed JSON).
    #[wasm_bindgen(js_name = toIR, unchecked_return_type = "FilterIR")]
    pub fn to_ir(&self) -> Result<JsValue> {
        parse(&self.inner.to_ir_json())
    }

    /// The filter as a structured filter (the form JSON, filter-language.md §4): the
    /// terms the form's fields express exactly, the rest as canonical text in `query`;
    /// `null` when no form field can hold any of it. Compiling the answer gives the same
    /// filter.
    #[wasm_bindgen(js_name = toStructured, unchecked_return_type = "StructuredFilter | null")]
    pub fn to_structured(&self) -> Result<JsValue> {
        match self.inner.to_structured() {
            Some(json) => parse(&json),
            None => Ok(JsValue::NULL),
        }
    }

    /// The filter as a Logpush filter; throws a `FilterError` (`logpush_unsupported`)
    /// naming the first construct Logpush cannot express.
    #[wasm_bindgen(js_name = toLogpush, unchecked_return_type = "LogpushFilter")]
    pub fn to_logpush(&self) -> Result<JsValue> {
        match self.inner.to_logpush() {
            Ok(json) => parse(&json),
            Err(e) => Err(Error::Filter(e, self.inner.to_query()).into()),
        }
    }

    /// The push/finish object behind `createFilterStream`.
    #[wasm_bindgen(js_name = ndjsonStream)]
    pub fn ndjson_stream(&self) -> FilterStream {
        FilterStream {
            filter: Rc::clone(&self.inner),
            now: self.now(),
            lines: new_lines(),
        }
    }
}

/// Filters NDJSON pushed in chunks of any size (plain or gzip); holds at most one
/// partial line.
#[wasm_bindgen]
pub struct FilterStream {
    filter: Rc<CoreFilter>,
    now: i64,
    lines: LineReader,
}

impl FilterStream {
    /// Runs `read` on the line reader; the matching lines it completed, or the first line
    /// that is too long (`too_large`) or a broken gzip stream as an error.
    fn take(
        &mut self,
        read: impl FnOnce(
            &mut LineReader,
            &mut dyn FnMut(LineEvent),
        ) -> std::result::Result<(), crate::input::InputError>,
    ) -> Result<Uint8Array> {
        let mut out = Vec::new();
        let mut long = None;
        let (filter, now) = (&self.filter, self.now);
        let result = read(&mut self.lines, &mut |ev| match ev {
            LineEvent::Block { bytes, byte, .. } => {
                let mut keep = keep(&mut out);
                matching(filter, now, bytes, &mut |r| keep(bytes, byte, r));
            }
            LineEvent::TooLong { line, .. } => {
                long.get_or_insert(line);
            }
        });
        if let Some(line) = long {
            let max = self.lines.max_line();
            return Err(Error::Plain {
                code: "too_large",
                message: format!("line {line} is longer than {max} bytes"),
                details: vec![("line", line as f64)],
            }
            .into());
        }
        if let Err(e) = result {
            return fail(e.code(), e.to_string());
        }
        Ok(Uint8Array::from(out.as_slice()))
    }
}

#[wasm_bindgen]
impl FilterStream {
    /// Takes the next chunk; returns the matching lines it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Uint8Array> {
        self.take(|lines, f| lines.push(chunk, f))
    }

    /// Ends the input; returns the last line if it matches. A stream found broken at its
    /// end is reported before that line, as every reader orders them.
    pub fn finish(&mut self) -> Result<Uint8Array> {
        self.take(|lines, f| {
            lines.end_input(f)?;
            lines.end_lines(f);
            Ok(())
        })
    }
}
