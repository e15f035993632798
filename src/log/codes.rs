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

/// What a failure means, in one sentence for a compliance reviewer: the CLI prints it
/// and the npm package and the page show it, so all three say the same. `None` for a code
/// that is not a failure.
pub fn explain(code: &str) -> Option<&'static str> {
    Some(match code {
        BAD_SIGNATURE => "The checkpoint's signature does not match its text: the checkpoint was changed after it was signed, or the signature was forged.",
        UNKNOWN_KEY => "The checkpoint is not signed by any of the verifier keys given: it comes from another log or another key, or the wrong key was given.",
        BAD_CHECKPOINT => "The checkpoint is not a signed checkpoint (origin, tree size and root hash, then signatures).",
        BAD_PROOF => "The proof does not match the signed checkpoint: the event, its sequence number or the proof was changed (or, between two checkpoints, the proof is for other tree sizes).",
        SEQ_OUT_OF_RANGE => "The entry's sequence number is not in the signed tree, so it cannot have been recorded there.",
        COUNT_MISMATCH => "The evidence file and the exported object hold different numbers of events: events were added to or removed from the object.",
        ORIGIN_MISMATCH => "The checkpoint names another log than its key signs for, or the two checkpoints are of different logs.",
        NOT_CONSISTENT => "The older checkpoint's log is not a prefix of the newer one's: the log's past was rewritten between them (or the proof is wrong).",
        BAD_BUNDLE => "The file is not an evidence bundle (a JSON object with a checkpoint and entries).",
        MISSING_EVENT => "The entry carries no event and no exported object was given to pair it with.",
        BAD_EVENT => "The exported object's record at this position is not a readable event.",
        _ => return None,
    })
}

/// The codes that are errors, never failures of a verification.
pub const ERRORS: &[&str] = &[BAD_KEY, STORE];

/// Every code of the module.
pub fn codes() -> Vec<&'static str> {
    [FAILURES, ERRORS].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_is_explained_and_nothing_else() {
        for code in codes() {
            assert_eq!(
                explain(code).is_some(),
                FAILURES.contains(&code),
                "{code}: a failure needs a sentence, another code none"
            );
        }
    }
}
