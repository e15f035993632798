//! The verifiable log natively: leaves (JCS + SHA-256), appends, evidence verification
//! and proof sizes, on generated events (plain `std::time`, no harness).
//!
//! Prints Markdown tables; rates are per second of the thread's CPU time (one core), best
//! of several runs, because the machine is shared.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde_json::Value;
use trailsift::log::{self, Bundle, Checkpoint, Entry, Hash, MemoryTree, SigningKey};
use trailsift::sample::{self, SampleOptions};

const EVENTS: u64 = 100_000;
const RUNS: usize = 5;

fn cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Best CPU time of several runs.
fn best<F: FnMut() -> usize>(mut f: F) -> Duration {
    let mut cpu = Duration::MAX;
    for _ in 0..RUNS {
        let c0 = cpu_time();
        let start = Instant::now();
        black_box(f());
        let w = start.elapsed();
        cpu = cpu.min(match (c0, cpu_time()) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => w,
        });
    }
    cpu
}

fn row(name: &str, count: u64, bytes: usize, cpu: Duration) {
    let secs = cpu.as_secs_f64().max(1e-9);
    println!(
        "| {name} | {:.0} | {:.1} | {:.1} |",
        count as f64 / secs,
        bytes as f64 / secs / 1e6,
        secs * 1e3
    );
}

fn main() {
    let text = sample::ndjson(SampleOptions {
        seed: 42,
        count: EVENTS,
        accounts: vec!["acme_prod".into()],
        ..SampleOptions::default()
    });
    let events: Vec<Value> = text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("generated events are JSON"))
        .collect();
    let leaves: Vec<Hash> = events.iter().map(log::event_leaf_hash).collect();
    let mut tree = MemoryTree::new();
    tree.extend(&leaves)
        .expect("a memory tree takes every leaf");
    let key = SigningKey::from_seed("trailsift.local", &[1; 32]).expect("a valid name");
    let checkpoint = Checkpoint {
        origin: "trailsift.local/acme_prod".into(),
        size: tree.size(),
        root: tree.root().expect("a whole tree"),
    }
    .sign(&key)
    .expect("a valid origin");
    let entries: Vec<Entry> = (1..=EVENTS)
        .map(|s| Entry::prove(&tree, EVENTS, s, Some(events[s as usize - 1].clone())))
        .collect::<Result<_, _>>()
        .expect("every seq is in the tree");
    let inline = serde_json::to_vec(&Bundle {
        checkpoint: checkpoint.clone(),
        entries: entries.clone(),
    })
    .expect("a bundle serializes");
    let sidecar = serde_json::to_vec(&Bundle {
        checkpoint,
        entries: entries
            .iter()
            .map(|e| Entry {
                event: None,
                ..e.clone()
            })
            .collect(),
    })
    .expect("a bundle serializes");
    let keys = [key.verifier()];

    println!(
        "{EVENTS} events, {:.1} MB of NDJSON (`trailsift gen --seed 42`), best of {RUNS} runs",
        text.len() as f64 / 1e6
    );
    println!();
    println!("| case | events/s (one core) | MB/s | CPU ms |");
    println!("|---|---:|---:|---:|");
    let d = best(|| {
        let mut n = 0;
        for e in &events {
            n += log::canonical_json(e).len();
        }
        n
    });
    row("JCS bytes of parsed events", EVENTS, text.len(), d);
    let d = best(|| {
        let mut n = 0;
        for e in &events {
            n += usize::from(log::event_leaf_hash(e).0[0]);
        }
        n
    });
    row(
        "leaf hash (JCS + SHA-256) of parsed events",
        EVENTS,
        text.len(),
        d,
    );
    let d = best(|| {
        let mut t = MemoryTree::new();
        for chunk in leaves.chunks(100) {
            t.extend(chunk).expect("a memory tree takes every leaf");
        }
        t.size() as usize
    });
    row(
        "append leaf hashes in batches of 100 (memory tree)",
        EVENTS,
        0,
        d,
    );
    let d = best(|| {
        let b = Bundle::from_json(&inline).expect("a bundle");
        b.entries.len()
    });
    row(
        "read an inline bundle (JSON to Bundle)",
        EVENTS,
        inline.len(),
        d,
    );
    let bundle = Bundle::from_json(&inline).expect("a bundle");
    let d = best(|| {
        let r = log::verify_bundle(&bundle, &keys, None);
        assert!(r.ok);
        r.verified as usize
    });
    row("verify a read bundle (JCS + proofs)", EVENTS, 0, d);
    let d = best(|| {
        let r = log::verify_evidence(&inline, &keys, None);
        assert!(r.ok);
        r.verified as usize
    });
    row(
        "verify an inline bundle of every event (parse + JCS + proofs)",
        EVENTS,
        inline.len(),
        d,
    );
    let d = best(|| {
        let r = log::verify_evidence(&sidecar, &keys, Some(&text));
        assert!(r.ok);
        r.verified as usize
    });
    row(
        "verify a sidecar bundle with its NDJSON object file",
        EVENTS,
        sidecar.len() + text.len(),
        d,
    );

    println!();
    println!(
        "Bundle size: inline {:.1} MB ({} bytes per event, the NDJSON is {}), sidecar {:.1} MB \
         ({} bytes per event); gzip shrinks proofs little (hashes are random).",
        inline.len() as f64 / 1e6,
        inline.len() as u64 / EVENTS,
        text.len() as u64 / EVENTS,
        sidecar.len() as f64 / 1e6,
        sidecar.len() as u64 / EVENTS
    );
    println!();
    println!(
        "Proof sizes in hashes (46 bytes of JSON each: a quoted base64 string and a comma), \
         and the stored nodes a proof reads, over every 7th leaf of trees that a store \
         answering any node stands for:"
    );
    println!();
    println!("| tree size | inclusion proof, hashes | nodes read | consistency from half, hashes | nodes read |");
    println!("|---:|---:|---:|---:|---:|");
    for n in [1_000u64, EVENTS, 1_000_000_000] {
        let store = Counting::default();
        let (mut lo, mut hi, mut reads) = (usize::MAX, 0, 0);
        for i in (0..n).step_by(if n > EVENTS { 7_000_001 } else { 7 }) {
            let len = log::inclusion_proof(&store, i, n).expect("in range").len();
            (lo, hi) = (lo.min(len), hi.max(len));
            reads = reads.max(store.read.take());
        }
        let c = log::consistency_proof(&store, n / 2 + 1, n)
            .expect("in range")
            .len();
        println!(
            "| {n} | {lo}-{hi} | at most {reads} | {c} | {} |",
            store.read.take()
        );
    }
}

/// A store that has every node (all zero) and counts what it is asked for.
#[derive(Default)]
struct Counting {
    read: std::cell::Cell<usize>,
}

impl log::NodeStore for Counting {
    type Error = ();
    fn nodes(&self, ids: &[log::NodeId]) -> Result<Vec<Hash>, ()> {
        self.read.set(self.read.get() + ids.len());
        Ok(vec![Hash::default(); ids.len()])
    }
}
