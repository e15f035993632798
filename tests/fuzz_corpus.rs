//! Replays every fuzz target's checked-in seeds (fuzz/seeds/<target>/) through the target's
//! own check (fuzz/checks/), natively on stable: a regression any fuzz target found fails
//! here without nightly.

#[path = "../fuzz/checks/mod.rs"]
mod checks;

/// Runs `check` on every seed of `target`, naming the seed that fails.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = format!("fuzz/seeds/{target}");
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| entry.expect("a seed").path())
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 5, "{dir} holds {} seeds", seeds.len());
    for seed in seeds {
        let bytes = std::fs::read(&seed).expect("a seed");
        if std::panic::catch_unwind(|| check(&bytes)).is_err() {
            panic!("{} fails its check", seed.display());
        }
    }
}

#[test]
fn parse() {
    replay("parse", checks::filter::text);
}

#[test]
fn filter_structured() {
    replay("filter_structured", checks::filter::structured);
}

#[test]
fn filter_logpush() {
    replay("filter_logpush", checks::filter::logpush);
}

#[test]
fn read() {
    replay("read", checks::read::check);
}

#[test]
fn validate() {
    replay("validate", checks::validate::check);
}

#[test]
fn convert() {
    replay("convert", checks::convert::check);
}

#[test]
fn ingest() {
    replay("ingest", checks::ingest::check);
}

#[test]
fn verify() {
    replay("verify", checks::verify::check);
}

#[test]
fn time() {
    replay("time", checks::time::check);
}

#[test]
fn transform() {
    replay("transform", checks::transform::check);
}
