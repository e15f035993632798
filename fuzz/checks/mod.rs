//! The properties the fuzz targets check, one module per input surface: shared by the
//! targets (fuzz/fuzz_targets/, on nightly) and the native replay of their seeds
//! (tests/fuzz_corpus.rs, on stable), so that a crash found by either is the other's too.
//!
//! A check takes the raw fuzz input. Most read a few leading bytes as choices (format,
//! options, chunking; see [`input::Input`]) and the rest as the data, so that every choice
//! is the fuzzer's to make and a seed file is the whole case.

pub mod convert;
pub mod filter;
pub mod ingest;
pub mod input;
pub mod read;
pub mod time;
pub mod transform;
pub mod validate;
pub mod verify;
