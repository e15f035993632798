//! Fuzzes the format readers in random chunkings; the property is in fuzz/checks/read.rs.
#![no_main]

#[path = "../checks/mod.rs"]
pub mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::read::check(data));
