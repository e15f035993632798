//! The verifier's own WebAssembly module (feature `verify`, npm `trailsift/verify`): only
//! evidence and consistency verification, so the main module does not carry it.
//!
//! Results leave as JSON text parsed on the JS side; bad verifier keys are the one error,
//! returned as `{"error": {"code", "message"}}` for the JS wrapper to throw.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::log::{self, codes, VerifierKey};

fn json<T: Serialize>(value: &T) -> String {
    // Plain data of strings and numbers: serializing cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

fn error(code: &str, message: &str) -> String {
    json(&serde_json::json!({ "error": { "code": code, "message": message } }))
}

/// The verifier keys of `text`, one a line; at least one.
fn keys(text: &str) -> Result<Vec<VerifierKey>, String> {
    match VerifierKey::parse_lines(text) {
        Ok(keys) if keys.is_empty() => Err(error(codes::BAD_KEY, "no verifier keys given")),
        Ok(keys) => Ok(keys),
        Err(e) => Err(error(e.code, &e.message)),
    }
}

/// `log::verify_evidence` of a bundle's bytes, verifier keys (lines of text) and, for a
/// sidecar, its object file's bytes.
#[wasm_bindgen(js_name = verifyEvidenceJson)]
pub fn verify_evidence_json(bundle: &[u8], keys_text: &str, object: Option<Vec<u8>>) -> String {
    match keys(keys_text) {
        Ok(keys) => json(&log::verify_evidence(bundle, &keys, object.as_deref())),
        Err(e) => e,
    }
}

/// `log::verify_consistency_json` of two signed checkpoints, the proof's JSON and verifier
/// keys (lines of text).
#[wasm_bindgen(js_name = verifyConsistencyJson)]
pub fn verify_consistency_json(old: &str, new: &str, proof: &[u8], keys_text: &str) -> String {
    match keys(keys_text) {
        Ok(keys) => json(&log::verify_consistency_json(old, new, proof, &keys)),
        Err(e) => e,
    }
}
