//! Evidence bundles and their verification: the same answer in the CLI, npm and the page.
//!
//! A bundle is `{"checkpoint": "<signed checkpoint>", "entries": [{"seq", "event",
//! "proof"}]}`; a sidecar bundle's entries leave out `event` and pair, in order, with the
//! events of an object file given separately. Verification checks the checkpoint's
//! signature, then each entry's inclusion proof against the signed root, and reports every
//! failure with the entry's position, its seq and a stable code.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use super::checkpoint::{open_checkpoint, Verified};
use super::note::{NoteError, VerifierKey};
use super::tree::{self, Hash, NodeStore, TreeError};
use super::{codes, event_leaf_hash};
use crate::convert::{read_all, ReadOptions};

/// An evidence bundle: events and their inclusion proofs against one signed checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bundle {
    /// The signed checkpoint (a signed note).
    pub checkpoint: String,
    pub entries: Vec<Entry>,
}

/// One event of a bundle: its sequence number, the event (absent in a sidecar) and the
/// inclusion proof of leaf `seq - 1`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<Value>,
    pub proof: Vec<Hash>,
}

// Bundles and proofs are read through `Value` rather than derived deserializers: about
// 12 kB less wasm, and messages that name the path of what is wrong.

impl Bundle {
    /// Reads a bundle's JSON; the error names what is wrong and where
    /// (`entries[3].proof[1]: ...`). An entry's `"event": null` counts as no event.
    pub fn from_json(json: &[u8]) -> Result<Bundle, String> {
        let value = serde_json::from_slice(json).map_err(|e| format!("not JSON: {e}"))?;
        let mut fields = object(value)?;
        let checkpoint = match fields.remove("checkpoint") {
            Some(Value::String(text)) => text,
            _ => return Err("checkpoint: not a string".into()),
        };
        let Some(Value::Array(entries)) = fields.remove("entries") else {
            return Err("entries: not an array".into());
        };
        let entries = entries
            .into_iter()
            .enumerate()
            .map(|(i, e)| Entry::from_value(e, i))
            .collect::<Result<_, _>>()?;
        Ok(Bundle {
            checkpoint,
            entries,
        })
    }
}

fn object(value: Value) -> Result<Map<String, Value>, String> {
    match value {
        Value::Object(fields) => Ok(fields),
        _ => Err("not an object".into()),
    }
}

/// A whole number field of `fields`.
fn number(fields: &Map<String, Value>, name: &str) -> Result<u64, String> {
    fields
        .get(name)
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("{name}: not a whole number"))
}

/// A list of hashes in standard base64.
fn hashes(value: Option<Value>) -> Result<Vec<Hash>, String> {
    let Some(Value::Array(items)) = value else {
        return Err("proof: not an array".into());
    };
    items
        .iter()
        .enumerate()
        .map(|(i, h)| {
            h.as_str()
                .and_then(Hash::from_base64)
                .ok_or_else(|| format!("proof[{i}]: not a SHA-256 hash in standard base64"))
        })
        .collect()
}

impl Entry {
    /// Entry `i` of a bundle's JSON.
    fn from_value(value: Value, i: usize) -> Result<Entry, String> {
        let mut fields = object(value).map_err(|why| format!("entries[{i}]: {why}"))?;
        let at = |why: String| format!("entries[{i}].{why}");
        Ok(Entry {
            seq: number(&fields, "seq").map_err(at)?,
            event: fields.remove("event").filter(|e| !e.is_null()),
            proof: hashes(fields.remove("proof")).map_err(at)?,
        })
    }

    /// The entry of the event with sequence number `seq`, proved in the tree of `size`
    /// leaves.
    pub fn prove<S: NodeStore>(
        store: &S,
        size: u64,
        seq: u64,
        event: Option<Value>,
    ) -> Result<Entry, TreeError<S::Error>> {
        let index = seq.checked_sub(1).ok_or(TreeError::OutOfRange)?;
        Ok(Entry {
            seq,
            event,
            proof: tree::inclusion_proof(store, index, size)?,
        })
    }
}

/// `GET /v1/log/proof/inclusion`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    pub leaf_index: u64,
    pub tree_size: u64,
    pub proof: Vec<Hash>,
}

/// `GET /v1/log/proof/consistency`, and the proof file of `trailsift verify-consistency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsistencyProof {
    pub first: u64,
    pub second: u64,
    pub proof: Vec<Hash>,
}

impl ConsistencyProof {
    /// Reads `{"first": M, "second": N, "proof": [...]}`; the error names what is wrong.
    pub fn from_json(json: &[u8]) -> Result<ConsistencyProof, String> {
        let value = serde_json::from_slice(json).map_err(|e| format!("not JSON: {e}"))?;
        let mut fields = object(value)?;
        Ok(ConsistencyProof {
            first: number(&fields, "first")?,
            second: number(&fields, "second")?,
            proof: hashes(fields.remove("proof"))?,
        })
    }
}

/// The checkpoint a verification checked against, and the key that verified it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointInfo {
    pub origin: String,
    pub size: u64,
    pub root_hash: Hash,
    /// `<key name>+<key id>`.
    pub key: String,
}

impl CheckpointInfo {
    fn of(v: &Verified) -> CheckpointInfo {
        CheckpointInfo {
            origin: v.checkpoint.origin.clone(),
            size: v.checkpoint.size,
            root_hash: v.checkpoint.root,
            key: v.key.label(),
        }
    }
}

/// What failed, and where: the entry's position in the bundle (from 0) and its seq, or
/// neither when the bundle or checkpoint as a whole failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub index: Option<u64>,
    pub seq: Option<u64>,
    pub code: &'static str,
    /// What the code means, for a reader who does not know the codes
    /// ([`codes::explain`]).
    pub explanation: &'static str,
    /// What exactly was found.
    pub message: String,
}

impl Failure {
    fn whole(code: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            index: None,
            seq: None,
            code,
            explanation: codes::explain(code).unwrap_or_default(),
            message: message.into(),
        }
    }

    fn entry(index: usize, seq: Option<u64>, code: &'static str, message: String) -> Failure {
        Failure {
            index: Some(index as u64),
            seq,
            code,
            explanation: codes::explain(code).unwrap_or_default(),
            message,
        }
    }
}

impl From<NoteError> for Failure {
    fn from(e: NoteError) -> Failure {
        Failure::whole(e.code, e.message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.index, self.seq) {
            (Some(i), Some(s)) => write!(f, "entry {i}, seq {s}: ")?,
            (Some(i), None) => write!(f, "entry {i}: ")?,
            (None, _) => {}
        }
        write!(f, "{}: {} ({})", self.code, self.explanation, self.message)
    }
}

/// The result of verifying a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// No failures.
    pub ok: bool,
    /// The signed checkpoint, when its signature verified.
    pub checkpoint: Option<CheckpointInfo>,
    /// How many entries proved their event.
    pub verified: u64,
    pub failures: Vec<Failure>,
}

impl Verification {
    fn failed(failure: Failure) -> Verification {
        Verification {
            ok: false,
            checkpoint: None,
            verified: 0,
            failures: vec![failure],
        }
    }
}

/// The result of checking that one checkpoint's tree is a prefix of another's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsistencyCheck {
    pub ok: bool,
    pub old: Option<CheckpointInfo>,
    pub new: Option<CheckpointInfo>,
    pub failures: Vec<Failure>,
}

/// Verifies a bundle against verifier keys. With `events` (the events of an object file,
/// in order), entry `i` proves `events[i]` and the entries' own events are not used;
/// without, each entry proves its own event.
pub fn verify_bundle(
    bundle: &Bundle,
    keys: &[VerifierKey],
    events: Option<&[Value]>,
) -> Verification {
    let events: Option<Vec<Result<&Value, String>>> = events.map(|e| e.iter().map(Ok).collect());
    verify_entries(bundle, keys, events.as_deref())
}

/// Verifies a bundle given as JSON, with, for a sidecar, the bytes of its object file
/// (JSON or NDJSON, plain or gzip, read as the rest of trailsift reads events). A bundle
/// that cannot be read is one `bad_bundle` failure; an object record that is not an event
/// fails its entry with `bad_event`.
pub fn verify_evidence(bundle: &[u8], keys: &[VerifierKey], object: Option<&[u8]>) -> Verification {
    let bundle = match Bundle::from_json(bundle) {
        Ok(b) => b,
        Err(why) => {
            return Verification::failed(Failure::whole(
                codes::BAD_BUNDLE,
                format!("bundle: {why}"),
            ))
        }
    };
    let Some(object) = object else {
        return verify_entries(&bundle, keys, None);
    };
    let options = ReadOptions {
        keep_raw: false,
        ..ReadOptions::default()
    };
    let records: Vec<Result<Value, String>> = read_all(None, None, object, options)
        .into_iter()
        .map(|item| item.map(|r| r.value).map_err(|e| e.message))
        .collect();
    let events: Vec<Result<&Value, String>> = records
        .iter()
        .map(|r| r.as_ref().map_err(Clone::clone))
        .collect();
    verify_entries(&bundle, keys, Some(&events))
}

fn verify_entries(
    bundle: &Bundle,
    keys: &[VerifierKey],
    events: Option<&[Result<&Value, String>]>,
) -> Verification {
    let verified = match open_checkpoint(&bundle.checkpoint, keys) {
        Ok(v) => v,
        Err(e) => return Verification::failed(e.into()),
    };
    let (size, root) = (verified.checkpoint.size, verified.checkpoint.root);
    let mut failures = Vec::new();
    let mut count = 0;
    for (i, entry) in bundle.entries.iter().enumerate() {
        let seq = Some(entry.seq);
        let event = match events.map(|e| e.get(i)) {
            // Past the object's end: one count_mismatch below says so.
            Some(None) => continue,
            Some(Some(Ok(event))) => *event,
            Some(Some(Err(why))) => {
                let why = format!("the object's record {i} is not an event: {why}");
                failures.push(Failure::entry(i, seq, codes::BAD_EVENT, why));
                continue;
            }
            None => match &entry.event {
                Some(event) => event,
                None => {
                    let why = "the entry has no event and no object file was given".to_string();
                    failures.push(Failure::entry(i, seq, codes::MISSING_EVENT, why));
                    continue;
                }
            },
        };
        if entry.seq == 0 || entry.seq > size {
            let why = format!(
                "seq {} is not in the checkpoint's tree of {size} events",
                entry.seq
            );
            failures.push(Failure::entry(i, seq, codes::SEQ_OUT_OF_RANGE, why));
            continue;
        }
        let leaf = event_leaf_hash(event);
        if tree::verify_inclusion(&leaf, entry.seq - 1, size, &entry.proof, &root) {
            count += 1;
        } else {
            let why = "the event, its seq or its proof does not give the checkpoint's root hash";
            failures.push(Failure::entry(i, seq, codes::BAD_PROOF, why.to_string()));
        }
    }
    if let Some(events) = events {
        let entries = bundle.entries.len();
        if events.len() != entries {
            let at = events.len().min(entries);
            let why = format!(
                "the bundle has {entries} entries, the object file {} events",
                events.len()
            );
            let seq = bundle.entries.get(at).map(|e| e.seq);
            failures.push(Failure::entry(at, seq, codes::COUNT_MISMATCH, why));
        }
    }
    Verification {
        ok: failures.is_empty(),
        checkpoint: Some(CheckpointInfo::of(&verified)),
        verified: count,
        failures,
    }
}

/// Checks that the tree of the `old` signed checkpoint is a prefix of the `new` one's:
/// both signed by a known key, of the same origin, and `proof` going from one size to the
/// other.
pub fn verify_consistency(
    old: &str,
    new: &str,
    proof: &ConsistencyProof,
    keys: &[VerifierKey],
) -> ConsistencyCheck {
    let mut failures = Vec::new();
    let mut open = |which: &str, note: &str| match open_checkpoint(note, keys) {
        Ok(v) => Some(v),
        Err(e) => {
            failures.push(Failure::whole(
                e.code,
                format!("{which} checkpoint: {}", e.message),
            ));
            None
        }
    };
    let (old, new) = (open("old", old), open("new", new));
    let (Some(old), Some(new)) = (&old, &new) else {
        return ConsistencyCheck {
            ok: false,
            old: old.as_ref().map(CheckpointInfo::of),
            new: new.as_ref().map(CheckpointInfo::of),
            failures,
        };
    };
    let (o, n) = (&old.checkpoint, &new.checkpoint);
    if o.origin != n.origin {
        let why = format!(
            "the checkpoints are of two logs, {:?} and {:?}",
            o.origin, n.origin
        );
        failures.push(Failure::whole(codes::ORIGIN_MISMATCH, why));
    } else if (proof.first, proof.second) != (o.size, n.size) {
        let why = format!(
            "the proof goes from size {} to {}, the checkpoints are at {} and {}",
            proof.first, proof.second, o.size, n.size
        );
        failures.push(Failure::whole(codes::BAD_PROOF, why));
    } else if o.size > n.size {
        let why = format!(
            "the old checkpoint ({}) is larger than the new one ({})",
            o.size, n.size
        );
        failures.push(Failure::whole(codes::NOT_CONSISTENT, why));
    } else if !tree::verify_consistency(o.size, n.size, &o.root, &n.root, &proof.proof) {
        let why = format!(
            "the tree at size {} is not a prefix of the tree at size {} (or the proof is wrong)",
            o.size, n.size
        );
        failures.push(Failure::whole(codes::NOT_CONSISTENT, why));
    }
    ConsistencyCheck {
        ok: failures.is_empty(),
        old: Some(CheckpointInfo::of(old)),
        new: Some(CheckpointInfo::of(new)),
        failures,
    }
}

/// [`verify_consistency`] with the proof as JSON (`{"first", "second", "proof"}`); a proof
/// that cannot be read is one `bad_proof` failure.
pub fn verify_consistency_json(
    old: &str,
    new: &str,
    proof: &[u8],
    keys: &[VerifierKey],
) -> ConsistencyCheck {
    match ConsistencyProof::from_json(proof) {
        Ok(proof) => verify_consistency(old, new, &proof, keys),
        Err(why) => ConsistencyCheck {
            ok: false,
            old: None,
            new: None,
            failures: vec![Failure::whole(codes::BAD_PROOF, format!("proof: {why}"))],
        },
    }
}
