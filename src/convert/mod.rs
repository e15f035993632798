//! Format conversion (formats.md §2-3): streaming readers, writers, gzip, batching.
