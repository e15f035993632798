//! Timing shared by the benchmarks: best wall and thread CPU time of several runs.
//!
//! The machines these run on are shared, so besides wall time the rate is computed from
//! the thread's own CPU time (Linux `/proc/thread-self/schedstat`): that is the figure of
//! one core, whatever else runs.

// Each benchmark uses part of this module.
#![allow(dead_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

/// CPU time of this thread so far, when the platform tells.
fn cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Wall and CPU time of one run of `f`.
pub fn time<T, F: FnOnce() -> T>(f: F) -> (Duration, Duration) {
    let c0 = cpu_time();
    let start = Instant::now();
    black_box(f());
    let wall = start.elapsed();
    let cpu = match (c0, cpu_time()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => wall,
    };
    (wall, cpu)
}

/// Best (wall, CPU) times of `runs` runs.
pub fn best<T, F: FnMut() -> T>(runs: usize, mut f: F) -> (Duration, Duration) {
    (0..runs)
        .map(|_| time(&mut f))
        .fold((Duration::MAX, Duration::MAX), |(w, c), (w1, c1)| {
            (w.min(w1), c.min(c1))
        })
}
