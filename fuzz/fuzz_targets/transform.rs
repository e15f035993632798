//! Fuzzes the transform compiler and its application; the property is in
//! fuzz/checks/transform.rs.
#![no_main]

#[path = "../checks/mod.rs"]
pub mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::transform::check(data));
