//! Fuzzes structured filters (the form JSON); the property is in fuzz/checks/filter.rs.
#![no_main]

#[path = "../checks/mod.rs"]
pub mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::filter::structured(data));
