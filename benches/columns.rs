//! Reading a file's columns for a viewer's table (`BlockColumns::read` and `to_bytes`, what
//! the page's shard workers do with each block): 1 MiB blocks of NDJSON. Run
//! with `cargo bench --bench columns`; best of several rounds, MB per second of the
//! thread's CPU time (see `common`).

mod common;

use trailsift::columns::BlockColumns;
use trailsift::sample::{self, SampleOptions};

const EVENTS: u64 = 100_000;
const RUNS: usize = 7;
const BLOCK: usize = 1 << 20;

/// `input` cut into blocks of about [`BLOCK`] bytes, each of whole lines.
fn blocks(input: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let cut = rest.len().min(BLOCK);
        let end = memchr::memrchr(b'\n', &rest[..cut]).map_or(rest.len(), |i| i + 1);
        let (block, tail) = rest.split_at(end);
        out.push(block);
        rest = tail;
    }
    out
}

fn main() {
    let input = sample::ndjson(SampleOptions {
        seed: 42,
        count: EVENTS,
        ..SampleOptions::default()
    });
    let blocks = blocks(&input);
    let mb = input.len() as f64 / 1e6;
    let rows: usize = blocks.iter().map(|b| BlockColumns::read(b, 1).len()).sum();
    let (wall, cpu) = common::best(RUNS, || {
        blocks
            .iter()
            .map(|b| BlockColumns::read(b, 1).to_bytes().len())
            .sum::<usize>()
    });
    println!(
        "BlockColumns::read and to_bytes: {rows} rows, {mb:.1} MB (`trailsift gen --seed 42`) in {} blocks, \
         best of {RUNS}: {:.1} ms wall, {:.1} ms CPU, {:.0} MB per CPU-second",
        blocks.len(),
        wall.as_secs_f64() * 1e3,
        cpu.as_secs_f64() * 1e3,
        mb / cpu.as_secs_f64()
    );
}
