//! Fuzzes validation from bytes; the property is in fuzz/checks/validate.rs.
#![no_main]

#[path = "../checks/mod.rs"]
pub mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::validate::check(data));
