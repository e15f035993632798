//! Evidence fixtures shared by the core and CLI tests of the verifiable log: a signed log
//! of sample events, and every tampering case with the failures it must give.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;
use trailsift::log::{
    self, Bundle, Checkpoint, ConsistencyProof, Entry, MemoryTree, SigningKey, VerifierKey,
};
use trailsift::sample::{SampleOptions, Sampler};

pub const NAME: &str = "trailsift.local";
pub const ORIGIN: &str = "trailsift.local/acme_prod";
/// The events every bundle proves: a query's matches, not a range.
pub const SEQS: [u64; 5] = [3, 4, 7, 8, 15];
pub const SIZE: u64 = 20;
/// The size of the older checkpoint in the consistency cases.
pub const OLD: u64 = 12;

/// An expected failure: entry index, seq and code.
pub type Expect = (Option<u64>, Option<u64>, &'static str);

pub fn events(count: u64, seed: u64) -> Vec<Value> {
    let mut sampler = Sampler::new(SampleOptions {
        seed,
        count,
        accounts: vec!["acme_prod".into()],
        ..SampleOptions::default()
    });
    std::iter::from_fn(|| sampler.next_value()).collect()
}

pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_seed(NAME, &[seed; 32]).unwrap()
}

/// A log of events and its signing key.
pub struct Log {
    pub events: Vec<Value>,
    pub tree: MemoryTree,
    pub key: SigningKey,
}

impl Log {
    pub fn new(events: Vec<Value>, key: SigningKey) -> Log {
        let mut tree = MemoryTree::new();
        let leaves: Vec<_> = events.iter().map(log::event_leaf_hash).collect();
        tree.extend(&leaves).unwrap();
        Log { events, tree, key }
    }

    pub fn head(&self, size: u64) -> Checkpoint {
        Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: log::root(&self.tree, size).unwrap(),
        }
    }

    pub fn checkpoint(&self, size: u64) -> String {
        self.head(size).sign(&self.key).unwrap()
    }

    pub fn event(&self, seq: u64) -> Value {
        self.events[seq as usize - 1].clone()
    }

    /// The bundle of `seqs` at `SIZE`, with the events inline or as a sidecar.
    pub fn bundle(&self, seqs: &[u64], inline: bool) -> Bundle {
        Bundle {
            checkpoint: self.checkpoint(SIZE),
            entries: seqs
                .iter()
                .map(|&s| Entry::prove(&self.tree, SIZE, s, inline.then(|| self.event(s))))
                .collect::<Result<_, _>>()
                .unwrap(),
        }
    }

    /// A sidecar's object file: the events of `seqs` as NDJSON.
    pub fn object(&self, seqs: &[u64]) -> Vec<u8> {
        let mut out = Vec::new();
        for &s in seqs {
            serde_json::to_writer(&mut out, &self.event(s)).unwrap();
            out.push(b'\n');
        }
        out
    }

    pub fn consistency(&self, old: u64, new: u64) -> ConsistencyProof {
        ConsistencyProof {
            first: old,
            second: new,
            proof: log::consistency_proof(&self.tree, old, new).unwrap(),
        }
    }
}

pub fn the_log() -> Log {
    Log::new(events(SIZE, 7), key(1))
}

/// Changes one byte of the `n`-th `auditEventId` value in `json` (still valid JSON).
pub fn change_one_byte(json: &mut [u8], n: usize) {
    let needle = b"\"auditEventId\":\"";
    let at = json
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .nth(n)
        .map(|(i, _)| i + needle.len())
        .unwrap();
    json[at] = if json[at] == b'0' { b'1' } else { b'0' };
}

/// A bundle case: the bundle's and object file's bytes, the keys the verifier is given
/// and the failures it must report (none: every entry verifies).
pub struct Case {
    pub name: &'static str,
    pub bundle: Vec<u8>,
    pub object: Option<Vec<u8>>,
    pub keys: Vec<VerifierKey>,
    pub expect: Vec<Expect>,
}

fn json(bundle: &Bundle) -> Vec<u8> {
    serde_json::to_vec(bundle).unwrap()
}

fn entry(i: u64, code: &'static str) -> Expect {
    (Some(i), Some(SEQS[i as usize]), code)
}

fn whole(code: &'static str) -> Expect {
    (None, None, code)
}

pub fn cases() -> Vec<Case> {
    let log = the_log();
    let other = key(2);
    let keys = vec![log.key.verifier()];
    let inline = log.bundle(&SEQS, true);
    let sidecar = log.bundle(&SEQS, false);
    let object = log.object(&SEQS);
    let case = |name, bundle: Bundle, expect| Case {
        name,
        bundle: json(&bundle),
        object: None,
        keys: keys.clone(),
        expect,
    };
    let with_checkpoint = |checkpoint: String| Bundle {
        checkpoint,
        ..inline.clone()
    };
    let mut cases = vec![case("valid", inline.clone(), vec![])];

    let mut bytes = json(&inline);
    change_one_byte(&mut bytes, 1);
    cases.push(Case {
        name: "an event changed by one byte",
        bundle: bytes,
        ..case("", inline.clone(), vec![entry(1, "bad_proof")])
    });

    let mut b = inline.clone();
    b.entries[2].event = None;
    cases.push(case("an event removed", b, vec![entry(2, "missing_event")]));

    let mut b = inline.clone();
    let (one, three) = (b.entries[1].event.take(), b.entries[3].event.take());
    (b.entries[1].event, b.entries[3].event) = (three, one);
    let expect = vec![entry(1, "bad_proof"), entry(3, "bad_proof")];
    cases.push(case("two events swapped", b, expect));

    let mut b = inline.clone();
    let mut fake = log.event(5);
    fake["auditAction"] = "DELETE".into();
    b.entries
        .insert(2, Entry::prove(&log.tree, SIZE, 5, Some(fake)).unwrap());
    let expect = vec![(Some(2), Some(5), "bad_proof")];
    cases.push(case("an event inserted", b, expect));

    let mut b = inline.clone();
    b.entries[0].seq = 2;
    let expect = vec![(Some(0), Some(2), "bad_proof")];
    cases.push(case("a seq changed", b, expect));

    let mut b = inline.clone();
    b.entries[4].seq = SIZE + 1;
    let expect = vec![(Some(4), Some(SIZE + 1), "seq_out_of_range")];
    cases.push(case("a seq beyond the tree", b, expect));

    let mut b = inline.clone();
    b.entries[3].proof[0].0[5] ^= 1;
    cases.push(case("a proof hash changed", b, vec![entry(3, "bad_proof")]));

    let signed = log.checkpoint(SIZE);
    let b = with_checkpoint(signed.replacen("\n20\n", "\n21\n", 1));
    cases.push(case(
        "the checkpoint's size changed",
        b,
        vec![whole("bad_signature")],
    ));

    let (root, other_root) = (log.head(SIZE).root, log.head(SIZE - 1).root);
    let b = with_checkpoint(signed.replacen(&root.to_base64(), &other_root.to_base64(), 1));
    cases.push(case(
        "the checkpoint's root changed",
        b,
        vec![whole("bad_signature")],
    ));

    let b = with_checkpoint(log.head(SIZE).sign(&other).unwrap());
    cases.push(case("signed by another key", b, vec![whole("unknown_key")]));

    // Another key's signature under the known key's name and id.
    let theirs = log.head(SIZE).sign(&other).unwrap();
    let ours_line = signed.lines().last().unwrap();
    let theirs_line = theirs.lines().last().unwrap();
    let (ours_sig, theirs_sig) = (
        ours_line.rsplit(' ').next().unwrap(),
        theirs_line.rsplit(' ').next().unwrap(),
    );
    let mut forged = STANDARD.decode(theirs_sig).unwrap();
    forged[..4].copy_from_slice(&STANDARD.decode(ours_sig).unwrap()[..4]);
    let b = with_checkpoint(signed.replacen(ours_sig, &STANDARD.encode(&forged), 1));
    cases.push(case("a forged signature", b, vec![whole("bad_signature")]));

    cases.push(Case {
        name: "a wrong verifier key",
        keys: vec![other.verifier()],
        ..case("", inline.clone(), vec![whole("unknown_key")])
    });

    let head = Checkpoint {
        origin: "elsewhere.example/acme_prod".into(),
        ..log.head(SIZE)
    };
    let b = with_checkpoint(head.sign(&log.key).unwrap());
    cases.push(case(
        "an origin of another key",
        b,
        vec![whole("origin_mismatch")],
    ));

    let two_lines = format!("{ORIGIN}\n{SIZE}\n");
    let b = with_checkpoint(log::sign_note(&two_lines, &[&log.key]).unwrap());
    cases.push(case(
        "a malformed checkpoint",
        b,
        vec![whole("bad_checkpoint")],
    ));

    cases.push(Case {
        name: "a malformed bundle",
        bundle: br#"{"checkpoint": 5, "entries": []}"#.to_vec(),
        ..case("", inline.clone(), vec![whole("bad_bundle")])
    });

    // The same bundle written differently: JCS leaves do not depend on key order,
    // whitespace or how a number is spelled.
    let mut value = serde_json::to_value(&inline).unwrap();
    let mut times = Vec::new();
    for e in value["entries"].as_array_mut().unwrap() {
        let event = e["event"].as_object().unwrap();
        times.extend(event["auditEventTime"].as_u64());
        let reversed: serde_json::Map<_, _> = event
            .iter()
            .rev()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        e["event"] = Value::Object(reversed);
    }
    let mut pretty = serde_json::to_string_pretty(&value).unwrap();
    assert!(!times.is_empty());
    for t in times {
        let spelled = format!("{}.{:03}e3", t / 1000, t % 1000);
        pretty = pretty.replace(&format!(": {t}"), &format!(": {spelled}"));
    }
    cases.push(Case {
        name: "the bundle rewritten (key order, whitespace, number spelling)",
        bundle: pretty.into_bytes(),
        ..case("", inline.clone(), vec![])
    });

    let sidecar_case = |name, object: Vec<u8>, expect| Case {
        name,
        object: Some(object),
        ..case(name, sidecar.clone(), expect)
    };
    cases.push(sidecar_case("a valid sidecar", object.clone(), vec![]));

    let mut o = object.clone();
    change_one_byte(&mut o, 2);
    let expect = vec![entry(2, "bad_proof")];
    cases.push(sidecar_case(
        "an object event changed by one byte",
        o,
        expect,
    ));

    let expect = vec![
        entry(1, "bad_proof"),
        entry(2, "bad_proof"),
        entry(3, "bad_proof"),
        entry(4, "count_mismatch"),
    ];
    let o = log.object(&[3, 7, 8, 15]);
    cases.push(sidecar_case("an object event removed", o, expect));

    let expect = vec![entry(0, "bad_proof"), entry(4, "bad_proof")];
    let o = log.object(&[15, 4, 7, 8, 3]);
    cases.push(sidecar_case("two object events swapped", o, expect));

    let expect = vec![
        entry(3, "bad_proof"),
        entry(4, "bad_proof"),
        (Some(5), None, "count_mismatch"),
    ];
    let o = log.object(&[3, 4, 7, 10, 8, 15]);
    cases.push(sidecar_case("an object event inserted", o, expect));

    let mut lines: Vec<&[u8]> = object.split(|&b| b == b'\n').collect();
    lines[2] = b"{\"auditEventId\": ";
    let o = lines.join(&b'\n');
    let expect = vec![entry(2, "bad_event")];
    cases.push(sidecar_case("an object record that is not JSON", o, expect));

    cases.push(case(
        "a sidecar without its object",
        sidecar.clone(),
        (0..5).map(|i| entry(i, "missing_event")).collect(),
    ));
    cases
}

/// A consistency case: two signed checkpoints, the proof file and the codes expected.
pub struct ConsistencyCase {
    pub name: &'static str,
    pub old: String,
    pub new: String,
    pub proof: Vec<u8>,
    pub keys: Vec<VerifierKey>,
    pub expect: Vec<&'static str>,
}

pub fn consistency_cases() -> Vec<ConsistencyCase> {
    let log = the_log();
    let keys = vec![log.key.verifier()];
    let proof = serde_json::to_vec(&log.consistency(OLD, SIZE)).unwrap();
    let case = |name, old: String, new: String, proof: Vec<u8>, expect| ConsistencyCase {
        name,
        old,
        new,
        proof,
        keys: keys.clone(),
        expect,
    };
    let (old, new) = (log.checkpoint(OLD), log.checkpoint(SIZE));
    let mut cases = vec![case(
        "consistent",
        old.clone(),
        new.clone(),
        proof.clone(),
        vec![],
    )];

    // A fork: the same log with leaf 5 rewritten, signed with the same key.
    let mut forked = log.events.clone();
    forked[4]["auditAction"] = "DELETE".into();
    let fork = Log::new(forked, key(1));
    let expect = vec!["not_consistent"];
    cases.push(case(
        "an old checkpoint that is not a prefix",
        fork.checkpoint(OLD),
        new.clone(),
        proof.clone(),
        expect,
    ));

    let backwards = serde_json::to_vec(&ConsistencyProof {
        first: SIZE,
        second: OLD,
        proof: vec![],
    })
    .unwrap();
    let expect = vec!["not_consistent"];
    cases.push(case(
        "old and new swapped",
        new.clone(),
        old.clone(),
        backwards,
        expect,
    ));

    let elsewhere = Checkpoint {
        origin: format!("{NAME}/other"),
        ..log.head(SIZE)
    };
    let elsewhere = elsewhere.sign(&log.key).unwrap();
    let expect = vec!["origin_mismatch"];
    cases.push(case(
        "two origins",
        old.clone(),
        elsewhere,
        proof.clone(),
        expect,
    ));

    let mut p = log.consistency(OLD, SIZE);
    p.first = OLD - 1;
    let expect = vec!["bad_proof"];
    cases.push(case(
        "a proof for other sizes",
        old.clone(),
        new.clone(),
        serde_json::to_vec(&p).unwrap(),
        expect,
    ));

    let mut p = log.consistency(OLD, SIZE);
    p.proof[1].0[0] ^= 0x80;
    let expect = vec!["not_consistent"];
    cases.push(case(
        "a proof hash changed",
        old.clone(),
        new.clone(),
        serde_json::to_vec(&p).unwrap(),
        expect,
    ));

    let by_other = log.head(OLD).sign(&key(2)).unwrap();
    let expect = vec!["unknown_key"];
    cases.push(case(
        "an old checkpoint by another key",
        by_other,
        new.clone(),
        proof.clone(),
        expect,
    ));

    let expect = vec!["bad_proof"];
    cases.push(case(
        "a malformed proof file",
        old,
        new,
        b"[1, 2]".to_vec(),
        expect,
    ));
    cases
}
