//! The evidence-bundle verifier on arbitrary bytes and on mutated valid bundles, object
//! files and consistency proofs: no input panics, and nothing verifies that the log does
//! not hold. An entry that passes proves an event the log holds at that seq; a checkpoint
//! that passes is the one signed; a consistency proof that passes is the true one.

use std::sync::OnceLock;

use serde_json::Value;
use trailsift::convert::{read_all, ReadOptions};
use trailsift::log::{
    self, open_checkpoint, verify_consistency_json, verify_evidence, Bundle, Checkpoint,
    CheckpointInfo, ConsistencyProof, Entry, Hash, MemoryTree, SigningKey, Verification,
    VerifierKey,
};
use trailsift::sample::{SampleOptions, Sampler};

const SIZE: u64 = 8;
const OLD: u64 = 5;
const SEQS: [u64; 3] = [2, 5, 8];

/// A signed log and the evidence it gives, made once.
struct Fixture {
    keys: Vec<VerifierKey>,
    /// The log's leaf hashes, seq 1 first.
    leaves: Vec<Hash>,
    /// What a checkpoint that verifies must say: the log's at `SIZE` or at `OLD`.
    heads: [CheckpointInfo; 2],
    bundle: Vec<u8>,
    sidecar: Vec<u8>,
    object: Vec<u8>,
    old: String,
    new: String,
    proof: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut sampler = Sampler::new(SampleOptions {
            seed: 3,
            count: SIZE,
            accounts: vec!["acme".into()],
            ..SampleOptions::default()
        });
        let events: Vec<Value> = std::iter::from_fn(|| sampler.next_value()).collect();
        let leaves: Vec<Hash> = events.iter().map(log::event_leaf_hash).collect();
        let mut tree = MemoryTree::new();
        tree.extend(&leaves).expect("a tree in memory");
        let key = SigningKey::from_seed("trailsift.local", &[9; 32]).expect("a key");
        let other = SigningKey::from_seed("other.example", &[4; 32]).expect("a key");
        let head = |size| Checkpoint {
            origin: "trailsift.local/acme".into(),
            size,
            root: log::root(&tree, size).expect("a root"),
        };
        let sign = |size| head(size).sign(&key).expect("a signed checkpoint");
        let bundle = |inline: bool| Bundle {
            checkpoint: sign(SIZE),
            entries: SEQS
                .iter()
                .map(|&s| {
                    Entry::prove(
                        &tree,
                        SIZE,
                        s,
                        inline.then(|| events[s as usize - 1].clone()),
                    )
                })
                .collect::<Result<_, _>>()
                .expect("proofs"),
        };
        let mut object = Vec::new();
        for s in SEQS {
            serde_json::to_writer(&mut object, &events[s as usize - 1]).expect("JSON");
            object.push(b'\n');
        }
        let keys = vec![other.verifier(), key.verifier()];
        let info = |size: u64| {
            let note = sign(size);
            let opened = open_checkpoint(&note, &keys).expect("a checkpoint that verifies");
            CheckpointInfo {
                origin: opened.checkpoint.origin,
                size: opened.checkpoint.size,
                root_hash: opened.checkpoint.root,
                key: opened.key.label(),
            }
        };
        let proof = ConsistencyProof {
            first: OLD,
            second: SIZE,
            proof: log::consistency_proof(&tree, OLD, SIZE).expect("a proof"),
        };
        Fixture {
            heads: [info(SIZE), info(OLD)],
            leaves,
            bundle: serde_json::to_vec(&bundle(true)).expect("JSON"),
            sidecar: serde_json::to_vec(&bundle(false)).expect("JSON"),
            object,
            old: sign(OLD),
            new: sign(SIZE),
            proof: serde_json::to_vec(&proof).expect("JSON"),
            keys,
        }
    })
}

/// The `verify` target: the first byte picks what the rest is.
pub fn check(input: &[u8]) {
    let Some((&mode, data)) = input.split_first() else {
        return;
    };
    let f = fixture();
    match mode % 5 {
        // Arbitrary bytes as every input of a verification.
        0 => {
            inline(data);
            sidecar(&f.sidecar, data);
            sidecar(data, &f.object);
            consistency(&f.old, &f.new, data);
            let text = String::from_utf8_lossy(data);
            consistency(&text, &f.new, &f.proof);
            let _ = open_checkpoint(&text, &f.keys);
            let _ = Checkpoint::parse(&text);
            let _ = VerifierKey::parse_lines(&text);
        }
        // A valid bundle, object file, proof or checkpoint, changed by the rest.
        1 => inline(&mutate(&f.bundle, data)),
        2 => sidecar(&mutate(&f.sidecar, data), &f.object),
        3 => sidecar(&f.sidecar, &mutate(&f.object, data)),
        _ => {
            let proof = mutate(&f.proof, data);
            let old = String::from_utf8_lossy(&mutate(f.old.as_bytes(), data)).into_owned();
            consistency(&f.old, &f.new, &proof);
            consistency(&old, &f.new, &f.proof);
        }
    }
}

/// A bundle with its events inline.
fn inline(bundle: &[u8]) {
    let result = verify_evidence(bundle, &fixture().keys, None);
    let events: Vec<Option<Value>> = Bundle::from_json(bundle)
        .map(|b| b.entries.into_iter().map(|e| e.event).collect())
        .unwrap_or_default();
    sound(bundle, &events, &result);
}

/// A sidecar bundle and its object file.
fn sidecar(bundle: &[u8], object: &[u8]) {
    let result = verify_evidence(bundle, &fixture().keys, Some(object));
    let opts = ReadOptions {
        keep_raw: false,
        ..ReadOptions::default()
    };
    let events: Vec<Option<Value>> = read_all(None, None, object, opts)
        .into_iter()
        .map(|item| item.ok().map(|r| r.value))
        .collect();
    sound(bundle, &events, &result);
}

/// Every entry the verification passes proves its event at its seq in the log, and the
/// count of those is the count reported.
fn sound(bundle: &[u8], events: &[Option<Value>], result: &Verification) {
    let f = fixture();
    if let Some(head) = &result.checkpoint {
        assert!(f.heads.contains(head), "{head:?} verified");
    }
    let Ok(bundle) = Bundle::from_json(bundle) else {
        assert!(!result.ok && result.verified == 0);
        return;
    };
    let mut passed = 0;
    for (i, entry) in bundle.entries.iter().enumerate() {
        if result.checkpoint.is_none() || result.failures.iter().any(|x| x.index == Some(i as u64))
        {
            continue;
        }
        // Entries past the object file's end are one count_mismatch, at the first of them.
        let Some(event) = events.get(i) else {
            continue;
        };
        let event = event.as_ref().expect("a passed entry has its event");
        let leaf = entry
            .seq
            .checked_sub(1)
            .and_then(|i| f.leaves.get(i as usize));
        assert_eq!(
            leaf,
            Some(&log::event_leaf_hash(event)),
            "entry {i} proves {event} at seq {}",
            entry.seq
        );
        passed += 1;
    }
    assert_eq!(result.verified, passed, "{:?}", result.failures);
    assert_eq!(result.ok, result.failures.is_empty());
}

/// A consistency check passes only for the log's own checkpoints and the true proof.
fn consistency(old: &str, new: &str, proof: &[u8]) {
    let f = fixture();
    let result = verify_consistency_json(old, new, proof, &f.keys);
    if result.ok {
        assert_eq!(result.old.as_ref(), Some(&f.heads[1]));
        assert_eq!(result.new.as_ref(), Some(&f.heads[0]));
        let expected = ConsistencyProof::from_json(&f.proof).expect("the true proof");
        assert_eq!(
            ConsistencyProof::from_json(proof),
            Ok(expected),
            "a changed proof passed"
        );
    }
}

/// `bytes` changed by `ops`, three bytes an operation: the position (its top two bits
/// choose: replace, insert, delete or flip bits) and a byte.
fn mutate(bytes: &[u8], ops: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for op in ops.chunks_exact(3) {
        let at = usize::from(u16::from_be_bytes([op[0] & 0x3f, op[1]]));
        let byte = op[2];
        let at = at % (out.len() + 1);
        match op[0] >> 6 {
            0 if at < out.len() => out[at] = byte,
            1 => out.insert(at, byte),
            2 if at < out.len() => {
                out.remove(at);
            }
            3 if at < out.len() => out[at] ^= byte,
            _ => {}
        }
    }
    out
}
