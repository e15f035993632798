//! Fuzzes the Worker's ingest decoding; the property is in fuzz/checks/ingest.rs.
#![no_main]

#[path = "../checks/mod.rs"]
pub mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::ingest::check(data));
