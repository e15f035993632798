//! Standard base64 with padding (RFC 4648 section 4), strict: the one encoding of hashes,
//! keys and signatures in checkpoints, notes and proofs.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// The bytes, or `None` unless `text` is canonical padded standard base64.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}
