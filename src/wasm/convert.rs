//! `detectFormat`, `convert` and the push/finish object behind `createConvertStream`.

use wasm_bindgen::prelude::*;

use super::{to_js, Input, Result};
use crate::convert::{Format, ReadOptions, Reader};

/// Bytes of the input looked at to detect its format.
const DETECT_BYTES: usize = 256 * 1024;

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
    let all = input.bytes();
    let head = &all[..all.len().min(DETECT_BYTES)];
    let mut reader = Reader::detecting(file_name.as_deref(), ReadOptions::default());
    let mut sink = Vec::new();
    reader.push(head, &mut sink);
    if head.len() == all.len() {
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
