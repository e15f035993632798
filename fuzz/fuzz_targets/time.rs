//! Fuzzes the time parser; the property is in fuzz/checks/time.rs.
#![no_main]

#[path = "../checks/mod.rs"]
pub mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::time::check(data));
