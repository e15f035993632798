//! `detectFormat`, `convert` and the push/finish object behind `createConvertStream`.

use std::io;

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

use super::{fail, read_required, to_js, Error, Input, Result};
use crate::convert::write::HecOptions;
use crate::convert::{
    ColumnScan, Converter, Format, Output, ReadError, ReadOptions, Reader, WriteOptions, Writer,
};
use crate::transform::{Transform, TransformError};

/// Bytes of the input looked at to detect its format.
const DETECT_BYTES: usize = 256 * 1024;
/// Input is handed to the reader in slices of this size so that the records of one slice
/// are written and dropped before the next is read.
const SLICE: usize = 1 << 20;

#[derive(serde::Serialize)]
struct Detected {
    format: Option<&'static str>,
    gzip: bool,
}

/// The format of an input from its first bytes (gzip looked through) and, if given, its
/// file name (`.json`, `.ndjson`, `.jsonl`, `.csv`, optionally `.gz`), which wins.
#[wasm_bindgen(js_name = detectFormat, unchecked_return_type = "DetectedFormat")]
pub fn detect_format(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] bytes: JsValue,
    #[wasm_bindgen(js_name = fileName)] file_name: Option<String>,
) -> Result<JsValue> {
    let input = Input::from_js(&bytes, "detectFormat input")?;
    let (head, whole) = input.head(DETECT_BYTES);
    let mut reader = Reader::detecting(file_name.as_deref(), ReadOptions::default());
    let mut sink = Vec::new();
    reader.push(&head, &mut sink);
    if whole {
        reader.finish(&mut sink);
    }
    let (_, name_gzip) = file_name
        .as_deref()
        .map_or((None, false), Format::from_file_name);
    to_js(&Detected {
        format: reader.format().map(Format::name),
        gzip: reader.is_gzip().unwrap_or(false) || name_gzip,
    })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConvertOptions {
    #[serde(default)]
    from: Option<String>,
    to: String,
    #[serde(default)]
    columns: Option<Vec<String>>,
    #[serde(default)]
    csv_safety: Option<bool>,
    #[serde(default)]
    gzip: bool,
    #[serde(default)]
    hec: Option<JsHecOptions>,
    #[serde(default)]
    stop_on_error: bool,
    /// formats.md §4, compiled by the core.
    #[serde(default)]
    transform: Option<Box<serde_json::value::RawValue>>,
    /// Read from the options object itself (a string or bytes; bytes do not survive
    /// `JSON.stringify`): only its presence is seen here.
    #[serde(default, rename = "pseudonymizeKey")]
    _pseudonymize_key: Option<serde::de::IgnoredAny>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsHecOptions {
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    sourcetype: Option<String>,
    #[serde(default)]
    index: Option<String>,
    /// Name → dotted path, in the caller's key order.
    #[serde(default)]
    fields: Option<serde_json::Map<String, serde_json::Value>>,
}

fn format(name: &str, what: &str) -> Result<Format> {
    name.parse::<Format>()
        .or_else(|e| fail("bad_option", format!("{what}: {e}")))
}

/// The core's converter: the push/finish object behind `convert` and
/// `createConvertStream`. Bad records are skipped, passed to `onError`, or (with
/// `stopOnError`) thrown.
#[wasm_bindgen]
pub struct ConvertStream {
    converter: Converter<Output<Vec<u8>>>,
    errors: Vec<ReadError>,
    stop_on_error: bool,
    on_error: Option<js_sys::Function>,
}

pub(super) fn record_error(e: &ReadError) -> Error {
    Error::Plain {
        code: e.code.as_str(),
        message: e.to_string(),
        details: vec![
            ("record", e.index as f64),
            ("line", e.line as f64),
            ("offset", e.byte as f64),
        ],
    }
}

/// A transform that is not valid: its code, message and where (key, entry, path, pattern).
fn transform_error(e: TransformError) -> JsValue {
    match super::to_js::<_, JsValue>(&e) {
        Ok(details) => Error::Detailed {
            code: e.code,
            message: e.message,
            details,
        }
        .into(),
        Err(js) => js,
    }
}

/// The `pseudonymizeKey` option: a string (its UTF-8 bytes) or bytes.
fn pseudonymize_key(options: &JsValue) -> Result<Option<Vec<u8>>> {
    if !options.is_object() {
        return Ok(None);
    }
    let key = js_sys::Reflect::get(options, &"pseudonymizeKey".into())?;
    if key.is_undefined() || key.is_null() {
        return Ok(None);
    }
    if let Some(text) = key.as_string() {
        return Ok(Some(text.into_bytes()));
    }
    match key.dyn_into::<Uint8Array>() {
        Ok(bytes) => Ok(Some(bytes.to_vec())),
        Err(_) => fail(
            "bad_option",
            "pseudonymizeKey must be a string or a Uint8Array",
        ),
    }
}

fn write_error(e: io::Error) -> JsValue {
    Error::new("write_failed", e.to_string()).into()
}

#[wasm_bindgen]
impl ConvertStream {
    /// A converter with the options of `convert`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "ConvertOptions")] options: JsValue,
    ) -> Result<ConvertStream> {
        ConvertStream::open(options, None)
    }

    /// With `whole`, the whole input: a CSV whose columns are not chosen then gets a column
    /// for every field of every event (a first pass over it).
    fn open(options: JsValue, whole: Option<&Input>) -> Result<ConvertStream> {
        // `onError` is a function: JSON.stringify leaves it out of what serde reads.
        let mut on_error = None;
        if options.is_object() {
            let callback = js_sys::Reflect::get(&options, &"onError".into())?;
            if !callback.is_undefined() {
                match callback.dyn_into::<js_sys::Function>() {
                    Ok(f) => on_error = Some(f),
                    Err(_) => return fail("bad_option", "onError must be a function"),
                }
            }
        }
        let key = pseudonymize_key(&options)?;
        let opts: ConvertOptions = read_required(&options, "convert options")?;
        let to = format(&opts.to, "to")?;
        let read = ReadOptions {
            keep_raw: false,
            ..ReadOptions::default()
        };
        let from = opts
            .from
            .as_deref()
            .map(|f| format(f, "from"))
            .transpose()?;
        let mut write = WriteOptions {
            columns: opts.columns,
            ..WriteOptions::default()
        };
        if let Some(safety) = opts.csv_safety {
            write.csv_safety = safety;
        }
        if let Some(hec) = opts.hec {
            let defaults = HecOptions::default();
            let fields = match hec.fields {
                None => defaults.fields,
                Some(map) => {
                    let mut fields = Vec::with_capacity(map.len());
                    for (name, path) in map {
                        match path {
                            serde_json::Value::String(path) => fields.push((name, path)),
                            _ => return fail("bad_option", "hec.fields values are dotted paths"),
                        }
                    }
                    fields
                }
            };
            write.hec = HecOptions {
                host: hec.host,
                source: hec.source,
                sourcetype: hec.sourcetype.or(defaults.sourcetype),
                index: hec.index,
                fields,
            };
        }
        write.transform = match &opts.transform {
            Some(raw) => {
                // An object, or its JSON text as a string.
                let text = match serde_json::from_str::<String>(raw.get()) {
                    Ok(text) => text,
                    Err(_) => raw.get().to_string(),
                };
                let bound = Transform::from_json(&text).and_then(|t| t.bind(key.as_deref()));
                Some(bound.map_err(transform_error)?)
            }
            None if key.is_some() => {
                return fail("bad_option", "pseudonymizeKey needs a transform");
            }
            None => None,
        };
        if let Some(input) = whole.filter(|_| write.wants_column_scan(to)) {
            let mut scan =
                ColumnScan::new(from, None, read.clone(), &write).map_err(|e| record_error(&e))?;
            input.pieces(|piece| scan.push(piece));
            write.columns = Some(scan.finish());
        }
        let writer = Writer::new(to, write, Output::new(Vec::new(), opts.gzip));
        let converter = Converter::new(from, None, read, writer)
            .map_err(|e| record_error(&e))?
            .stop_on_error(opts.stop_on_error);
        Ok(ConvertStream {
            converter,
            errors: Vec::new(),
            stop_on_error: opts.stop_on_error,
            on_error,
        })
    }

    /// Reports the bad records read so far, or throws the first one with `stopOnError`.
    fn report(&mut self) -> Result<()> {
        for e in self.errors.drain(..) {
            if self.stop_on_error {
                return Err(record_error(&e).into());
            }
            if let Some(f) = &self.on_error {
                f.call1(&JsValue::NULL, &record_error(&e).into())?;
            }
        }
        Ok(())
    }

    /// Converts a piece of input; returns the output it completed.
    fn step(&mut self, chunk: &[u8]) -> Result<Vec<u8>> {
        for slice in chunk.chunks(SLICE) {
            self.converter
                .push(slice, &mut self.errors)
                .map_err(write_error)?;
            self.report()?;
        }
        Ok(self.converter.writer_mut().get_mut().take())
    }

    /// Takes the next chunk; returns the output it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Uint8Array> {
        Ok(Uint8Array::from(self.step(chunk)?.as_slice()))
    }

    /// Ends the input; returns the rest of the output.
    pub fn finish(&mut self) -> Result<Uint8Array> {
        Ok(Uint8Array::from(self.finish_bytes()?.as_slice()))
    }

    fn finish_bytes(&mut self) -> Result<Vec<u8>> {
        self.converter.end(&mut self.errors).map_err(write_error)?;
        self.report()?;
        let out = self.converter.writer_mut().get_mut();
        out.end().map_err(write_error)?;
        Ok(out.take())
    }
}

/// Converts a whole input (any readable format, gzip detected) to another format. The
/// result is a string when the input was and the output is not gzip, else a Uint8Array.
#[wasm_bindgen(unchecked_return_type = "string | Uint8Array")]
pub fn convert(
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ConvertOptions")] options: JsValue,
) -> Result<JsValue> {
    let input = Input::from_js(&input, "convert input")?;
    let mut stream = ConvertStream::open(options, Some(&input))?;
    let gzip = matches!(stream.converter.writer_mut().get_mut(), Output::Gzip(_));
    let mut out = Vec::new();
    let mut failed = Ok(());
    input.pieces(|piece| {
        if failed.is_ok() {
            failed = stream
                .step(piece)
                .map(|bytes| out.extend_from_slice(&bytes));
        }
    });
    failed?;
    out.extend_from_slice(&stream.finish_bytes()?);
    Ok(if gzip {
        Uint8Array::from(out.as_slice()).into()
    } else {
        input.same_kind(out)
    })
}
