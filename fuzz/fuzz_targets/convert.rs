//! Fuzzes conversion from any format to every format; the property is in fuzz/checks/convert.rs.
#![no_main]

#[path = "../checks/mod.rs"]
pub mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::convert::check(data));
