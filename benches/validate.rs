//! Validation throughput on 100,000 generated events (plain `std::time`, no harness).
//!
//! Prints one Markdown table row per case: events/s and MB/s of NDJSON input, best of
//! several runs. `scripts/bench.sh` copies the table into BENCHMARKS.md. Rates are of the
//! thread's CPU time (see `common`).

mod common;

use std::time::Duration;

use serde_json::Value;
use trailsift::convert::{Format, ReadOptions, Reader};
use trailsift::sample::{self, SampleOptions};
use trailsift::schema::{check_into, BatchValidator, Options, Validator, Violation};

const EVENTS: u64 = 100_000;
const RUNS: usize = 7;

fn best<T, F: FnMut() -> T>(f: F) -> (Duration, Duration) {
    common::best(RUNS, f)
}

fn row(name: &str, bytes: usize, (wall, cpu): (Duration, Duration)) {
    let secs = cpu.as_secs_f64().max(1e-9);
    println!(
        "| {name} | {:.0} | {:.1} | {:.1} | {:.1} |",
        EVENTS as f64 / secs,
        bytes as f64 / secs / 1e6,
        secs * 1e3,
        wall.as_secs_f64() * 1e3
    );
}

fn main() {
    let text = sample::ndjson(SampleOptions {
        seed: 42,
        count: EVENTS,
        ..SampleOptions::default()
    });
    let lines: Vec<&[u8]> = text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let values: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_slice(l).expect("generated events are JSON"))
        .collect();
    assert_eq!(values.len() as u64, EVENTS);

    let default = Options::default();
    let strict_voc = Options {
        strict: true,
        vocabulary: true,
        ..Options::default()
    };

    println!(
        "{} events, {:.1} MB of NDJSON (`trailsift gen --seed 42`), best of {RUNS} runs",
        EVENTS,
        text.len() as f64 / 1e6
    );
    println!();
    println!(
        "Rates are events (and MB of input) per second of the thread's CPU time, i.e. of one \
         core; wall time is shown beside because the machine is shared. Target for \
         \"validate only\": at least 1,000,000 events/s."
    );
    println!();
    println!("| case | events/s (one core) | MB/s | CPU ms | wall ms |");
    println!("|---|---:|---:|---:|---:|");

    let mut errors: Vec<Violation> = Vec::new();
    let mut warnings: Vec<Violation> = Vec::new();
    for (name, opts) in [("", &default), (", strict + vocabulary", &strict_voc)] {
        let d = best(|| {
            let mut bad = 0;
            for v in &values {
                errors.clear();
                warnings.clear();
                check_into(v, opts, &mut errors, &mut warnings);
                bad += errors.len() + warnings.len();
            }
            bad
        });
        row(
            &format!("validate only (parsed values){name}"),
            text.len(),
            d,
        );
    }

    for (name, opts) in [("", &default), (", strict + vocabulary", &strict_voc)] {
        let d = best(|| {
            let mut batch = BatchValidator::new(opts.clone());
            for (i, l) in lines.iter().enumerate() {
                match serde_json::from_slice::<Value>(l) {
                    Ok(v) => {
                        batch.push(i as u64, i as u64 + 1, &v);
                    }
                    Err(e) => batch.push_bad_json(i as u64, i as u64 + 1, e.to_string()),
                }
            }
            batch.finish().rejected.len()
        });
        row(
            &format!("parse + validate (serde_json){name}"),
            text.len(),
            d,
        );
    }

    for (name, opts) in [("", &default), (", strict + vocabulary", &strict_voc)] {
        let d = best(|| {
            let mut batch = BatchValidator::new(opts.clone());
            for (i, l) in lines.iter().enumerate() {
                if let Err(e) = batch.push_json(i as u64, i as u64 + 1, l) {
                    batch.push_bad_json(i as u64, i as u64 + 1, e.to_string());
                }
            }
            batch.finish().rejected.len()
        });
        row(
            &format!("check from bytes (`BatchValidator::push_json`){name}"),
            text.len(),
            d,
        );
    }

    for (name, opts) in [("", &default), (", strict + vocabulary", &strict_voc)] {
        let d = best(|| {
            let read = ReadOptions {
                keep_raw: false,
                ..ReadOptions::default()
            };
            let reader = Reader::new(Format::Ndjson, read).expect("NDJSON is readable");
            let mut validator = Validator::new(reader, opts.clone());
            for chunk in text.chunks(1 << 20) {
                validator.push(chunk, &mut |_| {});
            }
            validator.finish(&mut |_| {});
            validator.into_report().rejected.len()
        });
        row(
            &format!("the validation entry (`schema::Validator`, NDJSON){name}"),
            text.len(),
            d,
        );
    }

    let d = best(|| {
        let mut n = 0;
        for l in &lines {
            n += serde_json::from_slice::<Value>(l).map(|_| 1).unwrap_or(0);
        }
        n
    });
    row("parse only (serde_json, for reference)", text.len(), d);

    let d = best(|| {
        sample::ndjson(SampleOptions {
            seed: 42,
            count: EVENTS,
            ..SampleOptions::default()
        })
        .len()
    });
    row("generate (`sample::ndjson`)", text.len(), d);
}
