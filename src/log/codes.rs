//! The stable codes of the verifiable log: verification failures (integrity.md) and errors.
//!
//! Codes are part of the public contract (CLI, npm `verifyEvidence`, the page, the Worker):
//! never rename one, only add.

/// A signature of a known key does not verify (the checkpoint was changed or forged).
pub const BAD_SIGNATURE: &str = "bad_signature";
/// No signature of the checkpoint is by a key the verifier was given.
pub const UNKNOWN_KEY: &str = "unknown_key";
/// The checkpoint is not a signed note of `<origin>\n<size>\n<root hash>\n`.
pub const BAD_CHECKPOINT: &str = "bad_checkpoint";
/// The event, its position or the proof does not give the signed root.
pub const BAD_PROOF: &str = "bad_proof";
/// The entry's seq is 0 or beyond the checkpoint's tree size.
pub const SEQ_OUT_OF_RANGE: &str = "seq_out_of_range";
/// A sidecar bundle and its object file have different numbers of events.
pub const COUNT_MISMATCH: &str = "count_mismatch";
/// The checkpoint's origin is not of its key (`<key name>/<account>`), or two checkpoints
/// compared for consistency have different origins.
pub const ORIGIN_MISMATCH: &str = "origin_mismatch";
/// The older checkpoint's tree is not a prefix of the newer one's.
pub const NOT_CONSISTENT: &str = "not_consistent";

/// Not in integrity.md: the bundle is not JSON of the bundle's shape.
pub const BAD_BUNDLE: &str = "bad_bundle";
/// Not in integrity.md: an entry has no `event` and no object file was given (a sidecar
/// verified alone).
pub const MISSING_EVENT: &str = "missing_event";
/// Not in integrity.md: the object file's record at an entry's position is not an event
/// (not JSON, too large, too deep).
pub const BAD_EVENT: &str = "bad_event";
/// Not in integrity.md: a verifier key or signing key is malformed (usage error, not a
/// verification failure).
pub const BAD_KEY: &str = "bad_key";
/// Not in integrity.md: the node store failed or answered with the wrong number of hashes
/// (the Worker's error, never a verifier's).
pub const STORE: &str = "log_store";

/// Every code a verification can report in its failures.
pub const FAILURES: &[&str] = &[
    BAD_SIGNATURE,
    UNKNOWN_KEY,
    BAD_CHECKPOINT,
    BAD_PROOF,
    SEQ_OUT_OF_RANGE,
    COUNT_MISMATCH,
    ORIGIN_MISMATCH,
    NOT_CONSISTENT,
    BAD_BUNDLE,
    MISSING_EVENT,
    BAD_EVENT,
];

/// Every code of the module.
pub const CODES: &[&str] = &[
    BAD_SIGNATURE,
    UNKNOWN_KEY,
    BAD_CHECKPOINT,
    BAD_PROOF,
    SEQ_OUT_OF_RANGE,
    COUNT_MISMATCH,
    ORIGIN_MISMATCH,
    NOT_CONSISTENT,
    BAD_BUNDLE,
    MISSING_EVENT,
    BAD_EVENT,
    BAD_KEY,
    STORE,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_codes() {
        for f in FAILURES {
            assert!(CODES.contains(f), "{f} is not in CODES");
        }
    }
}
