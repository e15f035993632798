//! Fuzzes the evidence-bundle verifier; the property is in fuzz/checks/verify.rs.
#![no_main]

#[path = "../checks/mod.rs"]
pub mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::verify::check(data));
